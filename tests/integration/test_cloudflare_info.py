"""cloudflare_access_organization_info and cloudflare_access_identity_provider_info: real
ansible-playbook runs against the Cloudflare test server."""

from __future__ import annotations

from cf_helpers import (
    FQCN,
    arrange,
    failure,
    new_secret,
    no_leak,
    oidc,
    stored,
    task,
    writes,
)

ORG = FQCN + "cloudflare_access_organization_info"
INFO = FQCN + "cloudflare_access_identity_provider_info"
DOMAIN = "idpbridge-test.cloudflareaccess.com"


def test_organization_info_account_and_zone(api, servers, play):
    zone = servers.cloudflare.app.zone_id
    api.cloudflare.config(zone_auth_domain="legacy-zone.cloudflareaccess.com")
    result = play([
        task("Account", {}, module=ORG),
        task("Account in check mode", {}, module=ORG, check_mode=True),
        task("Zone", {"zone_id": zone}, module=ORG),
    ])
    assert result.rc == 0, result.output
    for title in ("Account", "Account in check mode"):
        org = result.task(title)
        assert org["changed"] is False
        assert "auth_domain" not in org and "name" not in org, "the organization once"
        assert org["team_name"] == "idpbridge-test"
        assert org["organization"]["name"] == "idpbridge test"
        assert org["callback_url"] == "https://%s/cdn-cgi/access/callback" % DOMAIN
        assert org["organization"]["auth_domain"] == DOMAIN
    assert result.task("Zone")["callback_url"] == "https://legacy-zone.cloudflareaccess.com/cdn-cgi/access/callback"
    paths = [r["path"] for r in api.cloudflare.requests()]
    assert paths == ["/client/v4/accounts/%s/access/organizations" % api.info["account_id"]] * 2 + [
        "/client/v4/zones/%s/access/organizations" % zone]


def test_account_without_zero_trust(api, play):
    api.cloudflare.config(organization=None)
    result = play([
        task("Organization", {}, module=ORG, ignore_errors=True),
        task("Login method", oidc(secret=new_secret()), ignore_errors=True),
        task("List", {}, module=INFO, ignore_errors=True),
    ])
    for title in ("Organization", "Login method", "List"):
        res = failure(result, title)
        assert "Zero Trust was never set up on account %s" % api.info["account_id"] in res["msg"], res["msg"]
        assert "not_enabled" in res["msg"]
    assert writes(api) == []


def test_identity_provider_info_pages_names_and_ids(api, play):
    api.cloudflare.config(page_size=2)
    secret = new_secret()
    target = arrange(api, "authentik", secret=secret)
    arrange(api, "other one")
    arrange(api, "other two")
    api.cloudflare.clear_log()
    missing_id = "00000000-0000-4000-8000-000000000000"
    result = play([
        task("All", {}, module=INFO),
        task("By name", {"name": "authentik"}, module=INFO),
        task("By id", {"identity_provider_id": target}, module=INFO),
        task("Missing name", {"name": "nobody"}, module=INFO),
        task("Missing id", {"identity_provider_id": missing_id}, module=INFO),
        task("Name and id", {"name": "a", "identity_provider_id": target}, module=INFO, ignore_errors=True),
    ])
    everything = result.task("All")
    assert len(everything["identity_providers"]) == 5 == len(stored(api))
    assert sorted(i["id"] for i in everything["identity_providers"]) == sorted(i["id"] for i in stored(api))
    assert "identity_provider" not in everything and "exists" not in everything
    assert everything["callback_url"] == "https://%s/cdn-cgi/access/callback" % DOMAIN
    for title in ("By name", "By id"):
        one = result.task(title)
        assert len(one["identity_providers"]) == 1 and one["identity_providers"][0]["id"] == target
        assert one["identity_providers"][0]["name"] == "authentik"
        assert "client_secret" not in one["identity_providers"][0]["config"]
        assert one["test_url"] == "https://%s/cdn-cgi/access/test-idp/%s" % (DOMAIN, target)
        assert not {"identity_provider", "exists", "id"} & set(one), "the login method once, in the list"
    for title in ("Missing name", "Missing id"):
        none = result.task(title)
        assert not {"identity_provider", "exists", "id"} & set(none)
        assert none["identity_providers"] == [] and "test_url" not in none
    assert "mutually exclusive" in failure(result, "Name and id")["msg"]
    assert all(item["config"].get("client_secret") is None for item in everything["identity_providers"])
    no_leak(result, secret)
    # "All" and "By name" each read 3 pages of 2; "Missing name" too; the two id lookups one GET each,
    # and the missing id also one GET of the organization for the team domain.
    requests = api.cloudflare.requests()
    lists = [r for r in requests if r["path"].endswith("/identity_providers")]
    assert [r["query"]["page"] for r in lists] == [["1"], ["2"], ["3"]] * 3
    assert len([r for r in requests if r["path"].endswith("/organizations")]) == 1
    assert writes(api) == []


def test_masked_or_echoed_secrets_are_ignored_and_never_returned(api, play):
    """A server that answers GET with a masked client_secret (older API behaviour) changes nothing;
    one that echoes the secret in its POST/PUT answers does not get it into any result."""
    api.cloudflare.config(secret_on_read="masked", echo_secret_on_write=True)
    secret = new_secret()
    ident = arrange(api, "authentik", secret=secret)
    api.cloudflare.clear_log()
    result = play([
        task("Rerun", oidc(secret=secret)),
        task("By name", {"name": "authentik"}, module=INFO),
        task("Change", oidc(secret=secret, claims=["groups"])),
    ], diff=True, verbosity=2)
    assert result.task("Rerun")["changed"] is False
    assert result.task("Change")["changed"] is True
    shown = [result.task("Rerun")["end_state"], result.task("By name")["identity_providers"][0],
             result.task("Change")["end_state"]]
    assert all("client_secret" not in idp["config"] for idp in shown)
    assert "*" * 34 not in str(result.results)
    no_leak(result, secret)
    assert [(method, path.rsplit("/", 1)[-1]) for method, path in writes(api)] == [("PUT", ident)]


def test_team_domain_unreadable_is_a_warning(api, play):
    api.cloudflare.fault(method="GET", path="organizations$", status=500, count=1)
    # retries 0: a 500 on a read is retried otherwise, and the retry would read the team domain
    result = play([task("Missing id", {"identity_provider_id": "00000000-0000-4000-8000-000000000000", "retries": 0}, module=INFO)])
    res = result.task("Missing id")
    assert res["identity_providers"] == [] and "callback_url" not in res
    assert any("test_url and callback_url are left out" in w for w in res.get("warnings", [])), res


def test_module_defaults_for_the_action_group(api, play):
    secret = new_secret()
    connection = {"api_token": api.info["cloudflare_token"], "account_id": api.info["account_id"]}
    defaults = {"group/%scloudflare" % FQCN: connection}
    block = {"name": "Cloudflare with module_defaults", "module_defaults": defaults, "block": [
        task("Organization", {}, module=ORG),
        task("Login method", oidc(secret=secret)),
        task("Info", {"name": "authentik"}, module=INFO),
    ]}
    result = play([block], env={"CLOUDFLARE_API_TOKEN": None, "CLOUDFLARE_ACCOUNT_ID": None})
    assert result.rc == 0, result.output
    assert result.task("Login method")["changed"] is True
    assert result.task("Info")["identity_providers"][0]["id"] == result.task("Login method")["end_state"]["id"]
    assert [method for method, _path in writes(api)] == ["POST"]
