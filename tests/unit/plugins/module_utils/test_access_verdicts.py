"""The login method test's per-application verdicts: one verdict per application, however it is named."""

from __future__ import annotations

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_verdicts import access_verdicts

IDP = {"id": "idp-authentik", "name": "authentik (X)"}
CLAIMS = {"email": "tester@example.org", "groups": ["engineering"]}


def app(name, domain, group):
    pol = {"name": name + " (idpbridge)", "decision": "allow", "include": [
        {"oidc": {"claim_name": "groups", "claim_value": group, "identity_provider_id": IDP["id"]}}],
        "exclude": [], "require": [], "precedence": 1}
    return {"id": "id-" + name, "name": name, "domain": domain, "policies": [pol]}


class FakeClient:
    """What access_verdicts reads: applications by name, or by domain through a filtered list."""

    scope = "account acc"
    apps_path = "/accounts/acc/access/apps"

    def __init__(self, apps):
        self.apps = apps
        self.reads = []

    def unique_application(self, ref):
        self.reads.append(("name", ref))
        found = [a for a in self.apps if a["name"] == ref]
        return found[0] if found else None

    def paginate(self, path, params, what):
        self.reads.append(("domain", params["domain"]))
        return [a for a in self.apps if a["domain"] == params["domain"]]


APPS = [app("Grafana", "grafana.example.com", "engineering"), app("Vault", "vault.example.com", "sre")]


def test_an_application_named_by_name_and_by_domain_gets_one_verdict():
    client = FakeClient(APPS)
    params = {"applications": ["Grafana", "Vault"], "expect_allowed": ["Grafana"], "expect_denied": ["vault.example.com"]}
    result = access_verdicts(client, params, IDP, CLAIMS)
    assert [(v["application"], v["verdict"]) for v in result["verdicts"]] == [("Grafana", "allowed"), ("Vault", "denied")]
    assert result["problems"] == []   # the expectation by domain still finds Vault's verdict


def test_a_broken_expectation_by_domain_is_still_reported_once():
    result = access_verdicts(FakeClient(APPS), {"applications": ["Vault"], "expect_allowed": ["vault.example.com"]}, IDP, CLAIMS)
    assert len(result["verdicts"]) == 1
    (problem,) = result["problems"]
    assert problem.startswith("vault.example.com: expected allowed, got denied, because no policy lets the user in")


def test_unknown_names_stay_listed_each():
    result = access_verdicts(FakeClient(APPS), {"applications": ["Nope", "nope.example.com"]}, IDP, CLAIMS)
    assert [(v["application"], v["verdict"]) for v in result["verdicts"]] == [("Nope", "unknown"), ("nope.example.com", "unknown")]
