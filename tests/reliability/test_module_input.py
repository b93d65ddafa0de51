"""Bad input the APIs reveal: one readable message per case, naming the option and what to do; no write
request to either API. All cases run as tasks of one playbook (``ignore_errors``), one message each."""

from __future__ import annotations

from tests.reliability import cases
from tests.reliability.support import FQCN, message

AK = FQCN + "authentik_"
CF = FQCN + "cloudflare_access_"
WORDS = {case_id: words for case_id, _injected, words in cases.MODULE_INPUT}
INJECTED = {case_id: injected for case_id, injected, _words in cases.MODULE_INPUT}
IDP = {"type": "oidc", "client_id": "bad-input-client", "client_secret": "bad-input-secret-0123456789",
       "auth_url": "https://auth.example.com/application/o/authorize/",
       "token_url": "https://auth.example.com/application/o/token/",
       "certs_url": "https://auth.example.com/application/o/bad/jwks/"}
PROVIDER = {"name": "Bad Input", "client_type": "confidential",
            "redirect_uris": ["https://team.cloudflareaccess.com/cdn-cgi/access/callback"]}


def tasks(info, cf_root):
    ak_url = info["authentik_url"]
    out = {
        "url-api-v3": (AK + "provider_oauth2_info", {"url": ak_url + "/api/v3", "name": "nothing-here"}),
        "url-html": (AK + "provider_oauth2_info", {"url": ak_url + "/html-site", "name": "x"}),
        "cf-challenge": (CF + "organization_info", {"api_url": cf_root + "/challenged/client/v4"}),
        "ak-token-wrong-kind": (AK + "provider_oauth2_info", {"token": info["cloudflare_token"], "name": "x"}),
        "cf-token-wrong-kind": (CF + "organization_info", {"api_token": info["authentik_token"]}),
        "account-nowhere": (CF + "organization_info", {"account_id": "0123456789abcdef0123456789abcdef"}),
        "flow-unknown": (AK + "provider_oauth2", dict(PROVIDER, authorization_flow="no-such-flow")),
        "flow-wrong-kind": (AK + "provider_oauth2", dict(PROVIDER, authorization_flow="default-provider-invalidation-flow")),
        "key-unknown": (AK + "provider_oauth2", dict(PROVIDER, signing_key="no such key")),
        "key-no-private": (AK + "provider_oauth2", dict(PROVIDER, signing_key="Imported CA certificate")),
        "group-unknown": (AK + "policy_binding", {"application": "bad-input-app", "group": "no-such-group"}),
        "user-unknown": (AK + "policy_binding", {"application": "bad-input-app", "user": "no-such-user"}),
        "policy-unknown": (AK + "policy_binding", {"application": "bad-input-app", "policy": "no-such-policy"}),
        "provider-unknown": (AK + "application", {"slug": "bad-input-app", "provider": "no-such-provider"}),
        "app-slug-bad": (AK + "application", {"slug": "bad input app"}),
        "redirect-not-url": (AK + "provider_oauth2", dict(PROVIDER, redirect_uris=["not a url"])),
        "redirect-bad-regex": (AK + "provider_oauth2", dict(PROVIDER, redirect_uris=[{"url": "https://(team", "matching_mode": "regex"}])),
        "cf-http-url": (CF + "identity_provider", dict(IDP, name="authentik (Bad Input)",
                                                       token_url="http://auth.example.com/application/o/token/")),
        "cf-read-only": (CF + "identity_provider", dict(IDP, name="Managed corporate SSO")),
        "cf-duplicate": (CF + "identity_provider", dict(IDP, name="authentik (Twice)")),
        "module-state-bad": (CF + "identity_provider", dict(IDP, name="authentik (Bad Input)", state="gone")),
    }
    return [{"name": case_id, module: args, "ignore_errors": True} for case_id, (module, args) in out.items()]


def test_module_messages_for_bad_input(api, play, record):
    cf_root = api.info["cloudflare_url"][: -len("/client/v4")]
    # arranged: a binding target application, two login methods with one name, an HTML site, a challenge page
    assert api.authentik.call("POST", "/core/applications/", json={"name": "Bad Input App", "slug": "bad-input-app"}).ok
    for _copy in range(2):
        assert api.cloudflare.call("POST", "/accounts/%s/access/identity_providers" % api.info["account_id"],
                                   json={"name": "authentik (Twice)", "type": "oidc", "config": {
                                       k: IDP[k] for k in ("client_id", "client_secret", "auth_url", "token_url", "certs_url")}}).ok
    api.authentik.fault(path="^/html-site/", status=200, count=20, content_type="text/html",
                        body="<html><head><title>Welcome to nginx!</title></head><body>nginx</body></html>")
    api.cloudflare.fault(path="^/challenged/", status=403, count=20, content_type="text/html; charset=UTF-8",
                         headers={"cf-mitigated": "challenge"},
                         body="<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
                              "<body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>")
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    result = play(tasks(api.info, cf_root))
    by_name = {r["task"]: r for r in result.results}
    problems = []
    for case_id, _injected, words in cases.MODULE_INPUT:
        if case_id == "zero-trust-off":
            continue
        got = by_name[case_id]
        seen = got["result"].get("msg") or ""
        if not words:
            assert got["status"] == "ok", got
            record(case_id, injected=INJECTED[case_id], seen="ok: " + seen, rerun="-", objects="-", writes="0 + 0")
            continue
        if got["status"] != "ignored" or not all(w in seen for w in words) or "argument_spec" in seen:
            problems.append((case_id, got["status"], seen))
            continue
        record(case_id, injected=INJECTED[case_id], seen=seen, rerun="-", objects="-", writes="0 + 0")
    assert not problems, "\n".join(map(str, problems))
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []


def test_zero_trust_not_enabled(api, play, record):
    api.cloudflare.config(organization=None)
    result = play([{"name": "read", CF + "organization_info": {}}])
    assert result.rc != 0
    seen = message(result)
    for word in WORDS["zero-trust-off"]:
        assert word in seen, seen
    assert api.cloudflare.writes() == [] and api.authentik.writes() == []
    record("zero-trust-off", injected=INJECTED["zero-trust-off"], seen=seen, rerun="-", objects="-", writes="0 + 0")
