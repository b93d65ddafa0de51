"""The protected applications as a set: the entries' checks, ownership and the plan (pure logic)."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import (
    application_body,
    normalize_policy,
    policy_body,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set import (
    Ownership,
    desired_application,
    desired_policy,
    make_plan,
    name_tag,
    owner_mark,
    owner_tag,
    tag_owner,
    tags_after,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set_input import (
    check_entries,
    check_groups,
)

OWNER = "11111111-2222-3333-4444-555555555555"
OTHER = "99999999-2222-3333-4444-555555555555"
SUFFIX = " (idpbridge)"


def entry(name="Grafana", domain="grafana.example.com", **over):
    out = {"name": name, "domain": domain, "allow_groups": ["engineering"]}
    out.update(over)
    return out


def checked(*items):
    return check_entries(list(items), SUFFIX)


def problems(*items, suffix=SUFFIX):
    with pytest.raises(ValueError) as err:
        check_entries(list(items), suffix)
    return str(err.value)


# ---- checks before any request -----------------------------------------------------------------------
def test_a_good_entry_is_normalised():
    [one] = checked(entry(destinations=["grafana-ui.example.com"], allow_emails=["a@example.com"],
                          allow_email_domains=["example.org"], session_duration="8h", auto_redirect=False))
    assert one["auto_redirect"] is False and one["app_launcher_visible"] is None
    assert one["destinations"] == ["grafana-ui.example.com"] and one["session_duration"] == "8h"


@pytest.mark.parametrize("bad, words", [
    (entry(allow_groups="engineering, contractors"), "allow_groups must be a list, got the string"),
    (entry(allow_emails=["alice"]), "'alice' is not an e-mail address"),
    (entry(allow_email_domains=["@example.com"]), "without @"),
    (entry(domain="https://grafana.example.com"), "holds a scheme"),
    (entry(domain="grafana example.com"), "is not a host name"),
    (entry(name="Grafana\n"), "starts or ends with white space"),
    (entry(name=" Grafana"), "starts or ends with white space"),
    (entry(name="Gra\tfana"), "control character"),
    (entry(include=[{"email": {}}]), "include[0] (email) is empty"),
    (entry(include=[{}]), "include[0] must be one Access rule"),
    (entry(require="geo"), "require must be a list of Access rules"),
    (entry(allow_groups=[]), "says nobody may enter"),
    (entry(allow_group=["engineering"]), "unknown key 'allow_group' (did you mean allow_groups?)"),
    (entry(session_duration="8 hours"), "session_duration must be a duration"),
    (entry(app_launcher_visible="maybe"), "app_launcher_visible must be true or false"),
    ({"domain": "x.example.com", "allow_groups": ["a"]}, "name is required"),
    ("grafana", "must be a dict"),
])
def test_mistakes_name_the_entry(bad, words):
    text = problems(entry("Vault", "vault.example.com"), bad)
    assert words in text
    assert "applications[1]" in text and "applications[0]" not in text


def test_duplicates_are_found_before_any_request():
    text = problems(entry(), entry("grafana", "other.example.com"))
    assert "applications[1] (grafana): the name is also used by applications[0] (Grafana)" in text
    text = problems(entry(), entry("Other", "Grafana.example.com"))
    assert "Grafana.example.com is also protected by applications[0] (Grafana)" in text
    text = problems(entry(), entry("Other", "other.example.com", destinations=["grafana.example.com"]))
    assert "applications[1] (Other)" in text


def test_every_mistake_is_listed_at_once():
    text = problems(entry(allow_emails=["x"]), entry("B", "b.example.com", allow_groups="a,b"))
    assert "applications[0] (Grafana)" in text and "applications[1] (B)" in text


@pytest.mark.parametrize("suffix", ["", "   ", "\n"])
def test_an_empty_policy_suffix_is_refused(suffix):
    assert "policy_suffix" in problems(entry(), suffix=suffix)


def test_groups_must_exist_with_their_capitals():
    entries = checked(entry(allow_groups=["Engineering"]), entry("B", "b.example.com", allow_groups=["enginering"]))
    with pytest.raises(ValueError) as err:
        check_groups(entries, ["engineering", "contractors"])
    text = str(err.value)
    assert "applications[0] (Grafana): authentik has no group 'Engineering', but has 'engineering'" in text
    assert "applications[1] (B): authentik has no group 'enginering' (the closest is 'engineering')" in text
    check_groups(checked(entry()), ["engineering"])


# ---- desired objects -------------------------------------------------------------------------------------
def test_the_policy_carries_the_login_method_mark_and_defaults():
    [one] = checked(entry(allow_emails=["a@example.com"], require=[{"geo": {"country_code": "DE"}}]))
    pol = desired_policy(one, OWNER, SUFFIX, "groups")
    assert pol["name"] == "Grafana (idpbridge)" and pol["session_duration"] == "24h"
    assert owner_mark(OWNER) in pol["require"] and {"geo": {"country_code": "DE"}} in pol["require"]
    assert {"oidc": {"claim_name": "groups", "claim_value": "engineering", "identity_provider_id": OWNER}} in pol["include"]
    app = desired_application(one, OWNER, "p1")
    assert app["allowed_idps"] == [OWNER] and app["policies"] == ["p1"] and app["auto_redirect_to_identity"] is True
    assert app["destinations"] == ["grafana.example.com"] and app["session_duration"] == "24h"


def test_tags_name_their_login_method():
    assert tag_owner(owner_tag(OWNER)) == OWNER
    assert tag_owner("engineering") is None and tag_owner("idpbridge-") is None


def test_the_name_tag_is_short_hex_and_never_read_as_an_id():
    tag = name_tag("authentik (prod) é")
    assert tag.startswith("idpbridge-n-") and len(tag) == len("idpbridge-n-") + 16
    assert all(c in "0123456789abcdef" for c in tag[len("idpbridge-n-"):])
    assert name_tag("authentik") != name_tag("authentikk") and name_tag("a") == name_tag("a")
    assert tag_owner(tag) is None
    # a write keeps foreign tags, replaces a stale name tag of ours, adds both of ours
    before = {"tags": ["engineering", name_tag("old name"), owner_tag(OWNER)]}
    assert tags_after(before, OWNER, "new name") == sorted(["engineering", name_tag("new name"), owner_tag(OWNER)])


# ---- ownership and the plan ------------------------------------------------------------------------------
def policy(pid, name, owner=OWNER, **over):
    out = {"id": pid, "name": name, "decision": "allow", "include": [{"email": {"email": "a@example.com"}}],
           "exclude": [], "require": [owner_mark(owner)] if owner else [], "session_duration": "24h"}
    out.update(over)
    return out


def app(aid, name, domain, pids, tags=(), idp=OWNER, **over):
    out = {"id": aid, "name": name, "domain": domain, "type": "self_hosted", "allowed_idps": [idp],
           "auto_redirect_to_identity": True, "app_launcher_visible": True, "session_duration": "24h",
           "destinations": [{"type": "public", "uri": domain}], "tags": list(tags),
           "policies": [{"id": pid, "precedence": n + 1} for n, pid in enumerate(pids)]}
    out.update(over)
    return out


def converged(name="Grafana", domain="grafana.example.com", aid="a1", pid="p1"):
    [one] = checked(entry(name, domain))
    pol = dict(policy(pid, name + SUFFIX), **desired_policy(one, OWNER, SUFFIX, "groups"))
    return one, pol, app(aid, name, domain, [pid], tags=[owner_tag(OWNER)])


def test_a_converged_set_plans_nothing():
    one, pol, ours = converged()
    plan = make_plan([one], Ownership([ours], [pol], OWNER), SUFFIX, "groups")
    assert not plan.changed and plan.writes == 0 and not plan.errors
    assert plan.items[0].app is ours and plan.items[0].policy is pol


def test_lookalikes_and_other_login_methods_are_never_ours():
    one, pol, ours = converged()
    # hand-made: the marker name, our login method, but no tag
    hand_pol = policy("h1", "Wiki (idpbridge)", owner=None)
    hand_app = app("h2", "Wiki", "wiki.example.com", ["h1"])
    # our policy mark, but used by a hand-made application too
    shared = policy("s1", "Shared (idpbridge)")
    hand_user = app("h3", "Shared", "shared.example.com", ["s1"])
    # the same name for another login method
    theirs_pol = policy("o1", "Grafana (idpbridge)", owner=OTHER)
    theirs = app("o2", "Grafana", "grafana.other.example.com", ["o1"], tags=[owner_tag(OTHER)], idp=OTHER)
    ownership = Ownership([ours, hand_app, hand_user, theirs], [pol, hand_pol, shared, theirs_pol], OWNER)
    assert ownership.ours == [ours]
    assert [p["id"] for p in ownership.our_policies()] == ["p1"]
    plan = make_plan([one], ownership, SUFFIX, "groups")
    assert not plan.changed
    plan = make_plan([], ownership, SUFFIX, "groups")
    assert [a["id"] for a in plan.remove_apps] == ["a1"] and [p["id"] for p in plan.remove_policies] == ["p1"]


def test_a_rename_keeps_the_application_found_by_domain():
    _one, pol, ours = converged()
    [renamed] = checked(entry("Dashboards", "grafana.example.com"))
    plan = make_plan([renamed], Ownership([ours], [pol], OWNER), SUFFIX, "groups")
    item = plan.items[0]
    assert item.app is ours and item.action == "updated" and not plan.remove_apps and not plan.errors
    assert item.app_changes == ["name"] and item.policy_changes == ["name"]


def test_a_policy_left_without_its_application_is_adopted_or_removed():
    [one] = checked(entry())
    left = policy("p9", "Grafana (idpbridge)")
    stray = policy("p8", "Gone (idpbridge)")
    plan = make_plan([one], Ownership([], [left, stray], OWNER), SUFFIX, "groups")
    assert plan.items[0].policy is left and plan.items[0].action == "created"
    assert [p["id"] for p in plan.remove_policies] == ["p8"]
    assert plan.writes == 1 + 1 + 1  # policy update (rules differ), application create, stray policy removal
    # removing everything (an empty list, or state absent) removes the policies left behind too
    plan = make_plan([], Ownership([], [left, stray, policy("h1", "Hand (idpbridge)", owner=None)], OWNER), SUFFIX,
                     "groups", state="absent")
    assert sorted(p["id"] for p in plan.remove_policies) == ["p8", "p9"]


def test_a_domain_held_elsewhere_is_an_error_before_writing():
    [one] = checked(entry())
    hand = app("h1", "Grafana", "grafana.example.com", [], idp=OTHER)
    plan = make_plan([one], Ownership([hand], [], OWNER), SUFFIX, "groups")
    assert plan.errors and "which this module does not manage" in plan.errors[0]
    assert "applications[0] (Grafana)" in plan.errors[0]


def test_an_application_of_ours_linking_a_foreign_policy_gets_its_own():
    one, _pol, ours = converged()
    hand_pol = policy("h1", "Grafana (idpbridge)", owner=None)
    ours["policies"] = [{"id": "h1", "precedence": 1}]
    plan = make_plan([one], Ownership([ours], [hand_pol], OWNER), SUFFIX, "groups")
    item = plan.items[0]
    assert item.policy is None and "policies" in item.app_changes and not plan.remove_policies


# ---- bodies that carry what the module does not manage ---------------------------------------------------
def test_policy_updates_carry_every_field_the_api_returned():
    current = policy("p1", "G", approval_required=True, approval_groups=[{"email_addresses": ["boss@example.com"],
                                                                          "approvals_needed": 1}],
                     purpose_justification_required=True, purpose_justification_prompt="Why?",
                     isolation_required=True, mfa_config={"allowed_authenticators": ["totp"]},
                     app_count=1, reusable=True, created_at="t", updated_at="t")
    body = policy_body(current, {"session_duration": "8h"})
    for key in ("approval_required", "approval_groups", "purpose_justification_required",
                "purpose_justification_prompt", "isolation_required", "mfa_config"):
        assert body[key] == current[key]
    assert body["session_duration"] == "8h"
    assert not set(body) & {"id", "app_count", "reusable", "created_at", "updated_at"}
    assert normalize_policy(current)["approval_groups"] == current["approval_groups"]


def test_application_updates_carry_every_field_and_refuse_what_cannot_travel():
    current = app("a1", "G", "g.example.com", ["p1"], aud="x", cors_headers={"allow_all_origins": True},
                  allow_iframe=True, mfa_config={"allowed_authenticators": ["totp"]}, custom_pages=["c1"],
                  self_hosted_domains=["g.example.com"])
    current["destinations"].append({"type": "private", "cidr": "10.0.0.0/8"})
    body = application_body(current, {"session_duration": "8h", "destinations": ["g.example.com"]})
    for key in ("cors_headers", "allow_iframe", "mfa_config", "custom_pages", "tags"):
        assert body[key] == current[key]
    assert {"type": "private", "cidr": "10.0.0.0/8"} in body["destinations"]
    assert "aud" not in body and "self_hosted_domains" not in body
    current["scim_config"] = {"enabled": True, "authentication": {"scheme": "httpbasic", "user": "u"}}
    from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import NotCarried
    with pytest.raises(NotCarried):
        application_body(current, {"session_duration": "8h"})


# ---- pages ------------------------------------------------------------------------------------------------
class Lister:
    """A Cloudflare list that cuts per_page down to ``cap`` and reports only what ``report`` names."""

    def __init__(self, count, cap, report):
        self.items = [{"id": "i%d" % n} for n in range(count)]
        self.cap, self.report, self.asked = cap, report, []
        self.warn = lambda msg: None

    def call(self, method, path, params=None, what=None):
        self.asked.append(dict(params))
        size = min(params.get("per_page") or self.cap, self.cap)
        start = (params["page"] - 1) * size
        chunk = self.items[start:start + size]
        full = {"per_page": size, "count": len(chunk), "total_count": len(self.items),
                "total_pages": -(-len(self.items) // size)}
        return 200, chunk, dict((k, v) for k, v in full.items() if k in self.report)


@pytest.mark.parametrize("report, requests", [
    (("per_page", "count", "total_count", "total_pages"), 3),
    (("total_count",), 3),
    (("total_pages",), 3),
    (("per_page",), 3),
    ((), 4),  # nothing said: walk to the empty page
])
def test_pages_follow_a_server_that_cuts_the_page_size(report, requests):
    from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set_apply import list_all
    lister = Lister(5, 2, report)
    found = list_all(lister, "/x", "list x")
    assert [i["id"] for i in found] == ["i0", "i1", "i2", "i3", "i4"]
    assert len(lister.asked) == requests and lister.asked[0]["per_page"] == 1000


def test_writes_run_a_few_at_a_time_and_report_each_outcome():
    import threading
    import time
    from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set_apply import bounded
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def call(n):
        def work():
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            time.sleep(0.02)
            with lock:
                state["now"] -= 1
            if n == 3:
                raise RuntimeError("boom")
            return n
        return work

    outcomes = bounded([call(n) for n in range(10)], 3)
    assert state["most"] == 3
    assert [r for r, _e in outcomes] == [0, 1, 2, None, 4, 5, 6, 7, 8, 9]
    assert str(outcomes[3][1]) == "boom"


def test_keys_left_out_of_an_answer_count_as_the_defaults():
    from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set import changed_keys
    assert changed_keys({}, {"session_duration": "24h", "app_launcher_visible": True}) == []
    assert changed_keys({}, {"session_duration": "8h", "auto_redirect_to_identity": True}) == [
        "auto_redirect_to_identity", "session_duration"]
    assert changed_keys({"include": [{"b": {}}, {"a": {}}]}, {"include": [{"a": {}}, {"b": {}}]}) == []
