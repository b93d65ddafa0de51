"""The role's cloudflare_access_applications: policies and applications for authentik groups, who gets in
for the seeded test user (ID token ``groups`` claim), removal of what the role made, and the teardown order.
The list's three states, the removal guard and the typo check are in test_role_applications_safety.py."""

from __future__ import annotations

ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"
APPS = [
    {"name": "Grafana", "domain": "grafana.example.com", "allow_groups": ["engineering"], "session_duration": "8h"},
    {"name": "Vault", "domain": "vault.example.com", "allow_groups": ["contractors"], "allow_emails": ["boss@example.org"]},
]


def role(**role_vars):
    base = {"cloudflare_access_name": "CF Apps"}
    base.update(role_vars)
    return {"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE}, "vars": base}


def apps(api):
    return {a["name"]: a for a in api.cloudflare.state()["access_apps"]["accounts/%s" % api.info["account_id"]]}


def policies(api):
    return {p["name"]: p for p in api.cloudflare.state()["access_policies"]}


def login_method(api):
    (idp,) = [i for i in api.cloudflare.state()["identity_providers"]["accounts/%s" % api.info["account_id"]]
              if i["name"] == "authentik (CF Apps)"]
    return idp


def cf_writes(api):
    return [(r["method"], r["path"].split("/access/")[-1].split("/")[0]) for r in api.cloudflare.writes()]


def test_role_protects_applications_and_says_who_gets_in(api, play, servers):
    user = servers.authentik.app
    creds = {"cloudflare_access_test_username": user.test_username, "cloudflare_access_test_password": user.test_password}
    first = play([role(cloudflare_access_applications=APPS, cloudflare_access_expect_allowed=["Grafana"],
                       cloudflare_access_expect_denied=["vault.example.com"], **creds)],
                 env={"ANSIBLE_DEPRECATION_WARNINGS": "1"})  # the harness switches them off
    assert first.rc == 0, first.output
    idp = login_method(api)
    assert "groups" in idp["config"]["claims"]           # groups are used, so the claim is requested
    pols, made = policies(api), apps(api)
    assert sorted(pols) == ["Grafana (idpbridge)", "Vault (idpbridge)"]
    assert pols["Grafana (idpbridge)"]["include"] == [
        {"oidc": {"claim_name": "groups", "claim_value": "engineering", "identity_provider_id": idp["id"]}}]
    # the marks of what the role made: the login method's tag on the application, a rule naming it in the policy
    assert {"login_method": {"id": idp["id"]}} in pols["Grafana (idpbridge)"]["require"]
    assert [t for t in made["Grafana"]["tags"] if "-n-" not in t] == ["idpbridge-" + idp["id"]]
    assert len(made["Grafana"]["tags"]) == 2  # and the tag of the login method's name
    assert made["Grafana"]["allowed_idps"] == [idp["id"]] and made["Grafana"]["auto_redirect_to_identity"] is True
    assert made["Grafana"]["policies"] == [{"id": pols["Grafana (idpbridge)"]["id"], "precedence": 1}]
    assert made["Grafana"]["session_duration"] == "8h"

    verdicts = {v["application"]: v for v in first.task("Test the login method")["applications"]}
    assert verdicts["Grafana"]["verdict"] == "allowed"
    assert verdicts["Vault"]["verdict"] == "denied"
    assert verdicts["Vault"]["sentence"].startswith("denied, because no policy lets the user in")
    assert "['engineering']" in verdicts["Vault"]["sentence"]
    claims = first.task("Test the login method")["id_token_claims"]
    assert claims["groups"] == ["engineering"]           # authentik's profile scope puts groups in the ID token
    assert "Protected applications: Grafana: https://grafana.example.com for group engineering; Vault: " \
           "https://vault.example.com for group contractors, boss@example.org" in first.stdout
    assert "Who gets in: Grafana: allowed" in first.stdout
    assert user.test_password not in first.stdout
    assert "DEPRECATION" not in first.output

    # A rerun and a check-mode rerun write nothing to Cloudflare.
    api.cloudflare.clear_log()
    again = play([role(cloudflare_access_applications=APPS, **creds)])
    assert again.rc == 0 and again.changed == 0, again.output
    checked = play([role(cloudflare_access_applications=APPS, **creds)], check=True)
    assert checked.rc == 0 and checked.changed == 0, checked.output
    assert cf_writes(api) == []

    # The test module on its own: a name that is no application is reported, not guessed; an expectation
    # without a test user is refused; only reads reach Cloudflare.
    module = "idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_test"
    base = {"name": "authentik (CF Apps)", "provider": "CF Apps", "require_tls": False}
    api.cloudflare.clear_log()
    direct = play([
        {"name": "Verdicts", module: dict(base, test_username=user.test_username, test_password=user.test_password,
                                          applications=["Grafana", "grafana.example.com", "Nope"])},
        {"name": "No user", module: dict(base, expect_allowed=["Grafana"]), "ignore_errors": True},
    ])
    by_name = direct.task("Verdicts")["applications"]
    assert [(v["application"], v["verdict"]) for v in by_name] == [("Grafana", "allowed"), ("Nope", "unknown")]
    assert "no Access application" in by_name[1]["reason"]
    assert "for 'idpbridge-tester': Grafana: allowed" in direct.task("Verdicts")["msg"]
    assert "expect_allowed and expect_denied needs the test user" in direct.task("No user")["msg"]
    assert cf_writes(api) == []
    assert user.test_password not in direct.stdout

    # An expectation that does not hold fails the test, saying why.
    wrong = play([role(cloudflare_access_applications=APPS, cloudflare_access_expect_allowed=["Vault"], **creds)])
    assert wrong.rc != 0
    msg = wrong.task("Test the login method")["msg"]
    assert msg.startswith("Who gets in is not as expected: Vault: expected allowed, got denied, because")

    # Something made by hand with the same kind of name: a policy and an application using it.
    acc = "/accounts/%s/access/" % api.info["account_id"]
    hand_pol = api.cloudflare.call("POST", acc + "policies", json={
        "name": "Vault", "decision": "allow", "include": [{"email": {"email": "ops@example.org"}}]}).json()["result"]
    api.cloudflare.call("POST", acc + "apps", json={"name": "Wiki", "domain": "wiki.example.com", "type": "self_hosted",
                                                    "policies": [{"id": hand_pol["id"], "precedence": 1}]})

    # Removing Vault from the list removes its application, then its policy; nothing else.
    api.cloudflare.clear_log()
    fewer = play([role(cloudflare_access_applications=APPS[:1])])
    assert fewer.rc == 0, fewer.output
    assert cf_writes(api) == [("DELETE", "apps"), ("DELETE", "policies")]
    assert sorted(apps(api)) == ["Grafana", "Wiki"]
    assert sorted(policies(api)) == ["Grafana (idpbridge)", "Vault"]

    # Teardown: applications, then policies (then the login method's tag), then the login method; the hand-made
    # ones stay.
    api.cloudflare.clear_log()
    gone = play([role(cloudflare_access_state="absent")])
    assert gone.rc == 0, gone.output
    assert cf_writes(api) == [("DELETE", "apps"), ("DELETE", "policies"), ("DELETE", "tags"), ("DELETE", "tags"),
                              ("DELETE", "identity_providers")]
    assert sorted(apps(api)) == ["Wiki"] and sorted(policies(api)) == ["Vault"]


def test_role_without_groups_asks_for_no_groups_claim(api, play):
    result = play([role(cloudflare_access_applications=[{"name": "Docs", "domain": "docs.example.com",
                                                         "allow_email_domains": ["example.org"]}])])
    assert result.rc == 0, result.output
    assert "groups" not in login_method(api)["config"]["claims"]
    assert policies(api)["Docs (idpbridge)"]["include"] == [{"email_domain": {"domain": "example.org"}}]
    assert "Docs: https://docs.example.com for @example.org" in result.stdout

    # The role for another login method lists no applications: it leaves those of "CF Apps" alone, and does not
    # even read them. (The leaver check reads the applications on its own: tests/integration/test_offboarding.py.)
    api.cloudflare.clear_log()
    other = play([role(cloudflare_access_name="CF Other", cloudflare_access_revoke_leavers=False)])
    assert other.rc == 0, other.output
    assert sorted(apps(api)) == ["Docs"] and sorted(policies(api)) == ["Docs (idpbridge)"]
    assert [r for r in api.cloudflare.requests() if "/access/apps" in r["path"] or "/access/policies" in r["path"]] == []
    assert "Protected applications: left as they are (cloudflare_access_applications is not given)" in other.stdout
    gone = play([role(cloudflare_access_name="CF Other", cloudflare_access_state="absent")])
    assert gone.rc == 0, gone.output
    assert sorted(apps(api)) == ["Docs"]
