"""authentik_provider_oauth2 against the authentik test server, with real ansible-playbook runs."""

from __future__ import annotations

import pytest
from authentik_support import (
    CALLBACK,
    EXPLICIT,
    PROVIDER,
    assert_no_secret,
    counts,
    create_application,
    task,
    writes,
)

# part of the suite tests/run runs on every ansible-core (docs/development.md, "Test matrix")
pytestmark = pytest.mark.representative

BASE = {"name": "cf-access", "redirect_uris": [CALLBACK]}


def provider_state(api, name="cf-access"):
    return next(p for p in api.authentik.state()["providers"] if p["name"] == name)


def test_check_create_rerun_and_diff(api, play):
    # check mode on an empty server: changed predicted, nothing written
    checked = play(tasks=[task("create", PROVIDER, BASE)], check=True, diff=True)
    assert checked.rc == 0, checked.output
    predicted = checked.task("create")
    assert predicted["changed"] is True and predicted["msg"] == "authentik OAuth2 provider 'cf-access' would be created"
    assert predicted["end_state"]["pk"] is None and predicted["secret_changed"] is True
    assert writes(api) == []
    reads_check = counts(api.authentik.requests())

    api.authentik.clear_log()
    result = play(tasks=[task("create", PROVIDER, BASE), task("again", PROVIDER, BASE)], diff=True)
    assert result.rc == 0, result.output
    created, again = result.task("create"), result.task("again")
    assert created["changed"] is True and again["changed"] is False
    assert created["diff"] == predicted["diff"], "--check --diff shows what the real run shows"
    after = created["diff"]["after"]
    assert after["name"] == "cf-access" and after["redirect_uris"] == [
        {"matching_mode": "strict", "url": CALLBACK, "redirect_uri_type": "authorization"}]
    assert created["diff"]["before"] == {}
    # one POST, and the rerun wrote nothing
    sent = writes(api)
    assert [(m, p) for m, p, _b in sent] == [("POST", "/api/v3/providers/oauth2/")]
    body = sent[0][2]
    assert sorted(body) == ["authorization_flow", "client_type", "grant_types", "invalidation_flow", "name",
                            "property_mappings", "redirect_uris", "signing_key"]
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    stored = provider_state(api)
    assert created["end_state"]["pk"] == stored["pk"] and created["end_state"]["client_id"] == stored["client_id"]
    assert created["end_state"]["client_secret"] == "********"
    assert again["changes"] == [] and again["secret_changed"] is False
    assert again["end_state"] == created["end_state"]
    # request counts: version (only to create), provider, the 2 flows (one list), key pair, scopes = 5 reads, then 4
    per_run = counts(api.authentik.requests())
    assert per_run == {"GET": 9, "POST": 1}
    assert reads_check == {"GET": 5}
    flow_reads = [r for r in api.authentik.requests() if r["path"] == "/api/v3/flows/instances/"]
    assert len(flow_reads) == 2, "one flow request per run, for both flows"
    assert_no_secret(result, stored["client_secret"])

    # check mode on existing state: an unchanged task and a changed one, still nothing written
    api.authentik.clear_log()
    change = dict(BASE, access_token_validity="hours=2")
    checked = play(tasks=[task("same", PROVIDER, BASE), task("change", PROVIDER, change)], check=True, diff=True)
    assert checked.rc == 0, checked.output
    assert checked.task("same")["changed"] is False
    predicted = checked.task("change")
    assert predicted["changed"] is True and predicted["changes"] == ["access_token_validity"]
    assert predicted["end_state"]["access_token_validity"] == "hours=2"
    assert writes(api) == []

    real = play(tasks=[task("change", PROVIDER, change)], diff=True)
    changed = real.task("change")
    assert changed["diff"] == predicted["diff"]
    assert changed["diff"]["before"]["access_token_validity"] == "hours=1"
    assert changed["diff"]["after"]["access_token_validity"] == "hours=2"
    assert changed["diff"]["before"]["client_secret"] == "********"
    assert writes(api) == [("PATCH", "/api/v3/providers/oauth2/%d/" % stored["pk"], {"access_token_validity": "hours=2"})]
    assert provider_state(api)["access_token_validity"] == "hours=2"


def test_each_field_change_sends_one_patch_with_only_that_field(api, play):
    regex = {"url": "https://[a-z]+\\.example\\.com/callback", "matching_mode": "regex"}
    steps = [
        ("client_id", "my-fixed-client-id", "my-fixed-client-id"),
        ("client_secret", "S" * 64, "S" * 64),
        ("redirect_uris", [CALLBACK, regex], [
            {"matching_mode": "strict", "url": CALLBACK, "redirect_uri_type": "authorization"},
            {"matching_mode": "regex", "url": regex["url"], "redirect_uri_type": "authorization"}]),
        ("authorization_flow", EXPLICIT, None),
        ("invalidation_flow", "default-invalidation-flow", None),
        ("authentication_flow", "default-authentication-flow", None),
        ("signing_key", "authentik Internal JWT Certificate", None),
        ("scopes", ["openid", "email", "profile", "offline_access"], None),
        ("grant_types", ["authorization_code"], ["authorization_code"]),
        ("sub_mode", "user_email", "user_email"),
        ("issuer_mode", "global", "global"),
        ("include_claims_in_id_token", False, False),
        ("access_code_validity", "minutes=2", "minutes=2"),
        ("access_token_validity", "minutes=10", "minutes=10"),
        ("refresh_token_validity", "days=7", "days=7"),
        ("client_type", "public", "public"),
        ("authentication_flow", "", None),
    ]
    tasks = [task("create", PROVIDER, BASE)]
    args = dict(BASE)
    for index, (field, value, _body) in enumerate(steps):
        args = dict(args)
        args[field] = value
        tasks.append(task("step %d %s" % (index, field), PROVIDER, args))
    tasks.append(task("rerun", PROVIDER, args))
    result = play(tasks=tasks)
    assert result.rc == 0, result.output
    sent = writes(api)
    assert sent[0][0] == "POST"
    patches = sent[1:]
    assert len(patches) == len(steps), patches
    state = api.authentik.state()
    flows = dict((f["slug"], f["pk"]) for f in api.authentik.call("GET", "/flows/instances/").json()["results"])
    for (field, value, body_value), (method, _path, body), index in zip(steps, patches, range(len(steps))):
        outcome = result.task("step %d %s" % (index, field))
        assert method == "PATCH"
        wire = "property_mappings" if field == "scopes" else field
        assert list(body) == [wire], (field, body)
        assert outcome["changed"] is True and outcome["changes"] == [wire]
        if body_value is not None:
            assert body[wire] == body_value
        if field in ("authorization_flow", "invalidation_flow"):
            assert body[wire] == flows[value]
        if field == "authentication_flow":
            assert body[wire] == (flows[value] if value else None)
        assert outcome["secret_changed"] is (field == "client_secret")
    assert result.task("rerun")["changed"] is False
    stored = provider_state(api)
    assert stored["client_id"] == "my-fixed-client-id" and stored["client_type"] == "public"
    assert len(stored["property_mappings"]) == 4
    assert stored["authentication_flow"] is None
    assert state  # the state endpoint answered


def test_purge_redirect_uris_false_adds_only(api, play):
    extra = "https://other.example.com/callback"
    result = play(tasks=[
        task("create", PROVIDER, BASE),
        task("add", PROVIDER, dict(BASE, redirect_uris=[extra], purge_redirect_uris=False)),
        task("add again", PROVIDER, dict(BASE, redirect_uris=[extra], purge_redirect_uris=False)),
        task("exact", PROVIDER, dict(BASE, redirect_uris=[extra])),
    ])
    assert result.rc == 0, result.output
    assert result.task("add")["changed"] and not result.task("add again")["changed"]
    patches = [b for m, _p, b in writes(api) if m == "PATCH"]
    assert [[u["url"] for u in b["redirect_uris"]] for b in patches] == [[CALLBACK, extra], [extra]]


def test_absent_twice_and_check_mode_absent(api, play):
    result = play(tasks=[
        task("create", PROVIDER, BASE),
        task("absent check", PROVIDER, {"name": "cf-access", "state": "absent"}, check_mode=True),
        task("absent", PROVIDER, {"name": "cf-access", "state": "absent"}),
        task("absent again", PROVIDER, {"name": "cf-access", "state": "absent"}),
    ], diff=True)
    assert result.rc == 0, result.output
    pk = result.task("create")["end_state"]["pk"]
    check, gone, again = result.task("absent check"), result.task("absent"), result.task("absent again")
    assert check["changed"] is True and check["msg"].endswith("would be deleted")
    assert gone["changed"] is True and gone["end_state"] == {}
    assert check["diff"] == gone["diff"] and gone["diff"]["after"] == {}
    assert gone["diff"]["before"]["client_secret"] == "********"
    assert again["changed"] is False and again["msg"] == "authentik OAuth2 provider 'cf-access' is already absent"
    assert [(m, p) for m, p, _b in writes(api)] == [
        ("POST", "/api/v3/providers/oauth2/"), ("DELETE", "/api/v3/providers/oauth2/%d/" % pk)]
    assert api.authentik.state()["providers"] == []


def test_every_lookup_failure_names_the_kind_and_the_name(api, play):
    cases = {
        "flow": dict(BASE, authorization_flow="no-such-flow"),
        "designation": dict(BASE, invalidation_flow="default-provider-authorization-implicit-consent"),
        "auth flow": dict(BASE, authentication_flow="missing-login-flow"),
        "key": dict(BASE, signing_key="no such key"),
        "key without private key": dict(BASE, signing_key="Imported CA certificate"),
        "scope": dict(BASE, scopes=["openid", "no_such_scope"]),
    }
    result = play(tasks=[task(name, PROVIDER, args, ignore_errors=True) for name, args in cases.items()])
    messages = dict((name, result.task(name)["msg"]) for name in cases)
    assert all(result.status(name) == "ignored" for name in cases), messages
    assert messages["flow"] == ("No authentik flow has the slug 'no-such-flow' (wanted for the authorization flow); "
                                "check the slug under Flows and Stages > Flows (option authorization_flow)")
    assert messages["designation"].endswith("(option invalidation_flow)")
    assert messages["auth flow"].endswith("(option authentication_flow)")
    assert messages["key"].endswith("(option signing_key)")
    assert messages["key without private key"].endswith("(option signing_key)")
    assert "flow 'default-provider-authorization-implicit-consent' is an authorization flow, not an invalidation" \
        in messages["designation"]
    assert "'missing-login-flow'" in messages["auth flow"] and "flow" in messages["auth flow"]
    assert "No authentik certificate-key pair is named 'no such key'" in messages["key"]
    assert "'Imported CA certificate' has no private key" in messages["key without private key"]
    assert "No authentik scope mapping provides the scope 'no_such_scope'" in messages["scope"]
    assert writes(api) == []


def test_a_server_400_is_surfaced_with_its_field_message(api, play):
    long_secret = "L" * 300
    result = play(tasks=[
        task("first", PROVIDER, dict(BASE, client_id="shared-client-id")),
        task("second", PROVIDER, dict(BASE, name="cf-other", client_id="shared-client-id"), ignore_errors=True),
        task("too long", PROVIDER, dict(BASE, name="cf-third", client_secret="{{ lookup('env', 'LONG_SECRET') }}"),
             ignore_errors=True),
    ], verbosity=3, env={"LONG_SECRET": long_secret})
    assert result.status("second") == "ignored"
    failed = result.task("second")
    assert failed["msg"] == ("Could not create authentik OAuth2 provider 'cf-other': POST /providers/oauth2/ returned "
                             "HTTP 400: client_id: OAuth2/OpenID Provider with this Client ID already exists.")
    assert failed["status"] == 400
    # authentik's limit is checked before sending, with the length only
    assert result.task("too long")["msg"] == "client_secret must be at most 255 characters long, got 300"
    assert [m for m, _p, _b in writes(api)] == ["POST", "POST"]
    assert_no_secret(result, long_secret, provider_state(api)["client_secret"])


def test_pagination_of_lookups_with_small_pages(api, play):
    api.authentik.config(page_size=2)
    result = play(tasks=[task("create", PROVIDER, dict(BASE, scopes=["openid", "email", "profile", "offline_access"])),
                         task("again", PROVIDER, dict(BASE, scopes=["openid", "email", "profile", "offline_access"]))])
    assert result.rc == 0, result.output
    assert result.task("again")["changed"] is False
    scope_pages = [r["query"].get("page") for r in api.authentik.requests()
                   if r["path"] == "/api/v3/propertymappings/provider/scope/"]
    # the six managed mappings in pages of two, read once per run
    assert scope_pages == [["1"], ["2"], ["3"]] * 2
    assert len(provider_state(api)["property_mappings"]) == 4


def test_client_secret_never_shown_at_vvvv(api, play):
    chosen = "Chosen-Secret-0123456789-abcdefghij"
    from_vault = "{{ lookup('env', 'CHOSEN_SECRET') }}"  # as from a vault: the playbook holds no secret
    first = play(tasks=[task("create", PROVIDER, BASE), task("again", PROVIDER, BASE),
                        task("change", PROVIDER, dict(BASE, sub_mode="user_email"))], verbosity=4, diff=True)
    assert first.rc == 0, first.output
    generated = provider_state(api)["client_secret"]
    assert len(generated) == 128
    assert_no_secret(first, generated)
    assert "********" in first.stdout
    second = play(tasks=[task("rotate check", PROVIDER, dict(BASE, client_secret=from_vault), check_mode=True),
                         task("rotate", PROVIDER, dict(BASE, client_secret=from_vault)),
                         task("fail", PROVIDER, dict(BASE, client_secret=from_vault, authorization_flow="nope"),
                              ignore_errors=True)],
                  verbosity=4, diff=True, env={"CHOSEN_SECRET": chosen})
    assert second.rc == 0, second.output
    rotated = second.task("rotate")
    assert rotated["secret_changed"] is True and rotated["changes"] == ["client_secret"]
    assert rotated["diff"]["after"]["client_secret"] == "******** (changed)"
    assert second.task("rotate check")["diff"] == rotated["diff"]
    assert provider_state(api)["client_secret"] == chosen
    assert_no_secret(second, chosen, generated)


def test_endpoints_follow_the_bound_application_and_public_url(api, play):
    result = play(tasks=[task("create", PROVIDER, BASE)])
    pk = result.task("create")["end_state"]["pk"]
    unbound = result.task("create")["endpoints"]
    assert set(unbound) == {"authorize", "token", "userinfo", "revoke", "introspect"}
    assert unbound["authorize"] == api.info["authentik_url"] + "/application/o/authorize/"
    create_application(api, "cf-app", pk)
    public = "https://auth.example.com"
    result = play(tasks=[task("bound", PROVIDER, dict(BASE, public_url=public)),
                         task("global", PROVIDER, dict(BASE, public_url=public, issuer_mode="global"))])
    bound = result.task("bound")["endpoints"]
    assert result.task("bound")["changed"] is False
    assert bound == {
        "authorize": public + "/application/o/authorize/",
        "token": public + "/application/o/token/",
        "userinfo": public + "/application/o/userinfo/",
        "revoke": public + "/application/o/revoke/",
        "introspect": public + "/application/o/introspect/",
        "issuer": public + "/application/o/cf-app/",
        "openid_configuration": public + "/application/o/cf-app/.well-known/openid-configuration",
        "jwks": public + "/application/o/cf-app/jwks/",
        "end_session": public + "/application/o/cf-app/end-session/",
    }
    assert result.task("global")["endpoints"]["issuer"] == public + "/"
    # the server's own setup URLs agree (modulo host)
    setup = api.authentik.call("GET", "/providers/oauth2/%d/setup_urls/" % pk).json()
    host = api.info["authentik_url"]
    assert setup["jwks"] == bound["jwks"].replace(public, host)
    assert setup["provider_info"] == bound["openid_configuration"].replace(public, host)


def test_older_release_gets_no_grant_types_and_no_redirect_uri_type(api, play):
    api.authentik.config(version="2025.12.4")
    result = play(tasks=[task("create", PROVIDER, BASE), task("again", PROVIDER, BASE),
                         task("grant types", PROVIDER, dict(BASE, grant_types=["authorization_code"]),
                              ignore_errors=True)])
    assert result.task("again")["changed"] is False
    body = writes(api)[0][2]
    assert "grant_types" not in body
    assert body["redirect_uris"] == [{"matching_mode": "strict", "url": CALLBACK}]
    assert result.task("grant types")["msg"] == (
        "grant_types needs authentik 2026.5 or newer; this server runs a release before 2026.5 (its providers have no "
        "grant types). Remove the option")
    assert len(writes(api)) == 1


def test_a_provider_made_before_grant_types_is_brought_to_the_wanted_ones(api, play):
    # made on 2026.2 (no grant types), then the server is upgraded: the migration enabled all
    api.authentik.config(version="2026.2.2")
    play(tasks=[task("create", PROVIDER, BASE)])
    api.authentik.config(version="2026.8.5")
    api.authentik.clear_log()
    result = play(tasks=[task("upgrade", PROVIDER, BASE), task("again", PROVIDER, BASE)])
    upgrade = result.task("upgrade")
    # the stored redirect URIs gain redirect_uri_type=authorization on the server's side: no change
    assert upgrade["changes"] == ["grant_types"]
    assert writes(api) == [("PATCH", "/api/v3/providers/oauth2/%d/" % upgrade["end_state"]["pk"],
                            {"grant_types": ["authorization_code", "refresh_token"]})]
    assert result.task("again")["changed"] is False


def test_retries_warn_and_succeed(api, play):
    api.authentik.fault(method="GET", path="^/api/v3/providers/oauth2/$", status=503, retry_after=0, count=1)
    result = play(tasks=[task("create", PROVIDER, BASE)])
    assert result.rc == 0, result.output
    assert "retrying" in result.output and "HTTP 503" in result.output
    assert len(writes(api)) == 1


def test_invalid_options_fail_before_any_request(api, play):
    result = play(tasks=[
        task("validity", PROVIDER, dict(BASE, access_token_validity="forever"), ignore_errors=True),
        task("regex", PROVIDER, dict(BASE, redirect_uris=[{"url": "https://(", "matching_mode": "regex"}]),
             ignore_errors=True),
        task("mode", PROVIDER, dict(BASE, redirect_uris=[{"url": CALLBACK, "matching_mode": "exact"}]),
             ignore_errors=True),
    ])
    assert "access_token_validity must look like hours=1" in result.task("validity")["msg"]
    assert "redirect_uris[0] is not a valid regular expression" in result.task("regex")["msg"]
    assert "redirect_uris[0].matching_mode must be strict or regex, got 'exact'" in result.task("mode")["msg"]
    assert api.authentik.requests() == []
