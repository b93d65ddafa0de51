"""cloudflare_access_identity_provider_info and cloudflare_access_organization_info: what they
return for lists, lookups by name and id, and organizations."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _cloudflare as cf
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _login_method as lm
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._info import run_info
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import (
    cloudflare_access_identity_provider_info as idp_info,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import (
    cloudflare_access_organization_info as org_info,
)

from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.plugins.modules.test_cloudflare_access_identity_provider import (  # noqa: E501
    ACCOUNT,
    DOMAIN,
    FakeCloudflare,
)


def client_for(cloud):
    warnings = []
    client = lm.LoginMethodClient("https://api.example.test/client/v4", {"Authorization": "Bearer t0k3n-value"},
                                  cf.Scope("account", ACCOUNT), retries=0, warn=warnings.append)
    client.session = cloud
    return client


@pytest.fixture
def cloud():
    cloud = FakeCloudflare()
    cloud.add("One-time PIN", idp_type="onetimepin", secret=None)
    cloud.add("authentik", secret="stored-secret")
    return cloud


def gather(cloud, query):
    """The module's result keys (without changed and msg, which run_info adds)."""
    key, items, extra = idp_info.gather(client_for(cloud), query)
    return dict(extra, **{key: items})


def ident_of(cloud, name):
    return [i for i, rec in cloud.idps.items() if rec["name"] == name][0]


def test_list_everything(cloud):
    result = gather(cloud, {"name": None, "identity_provider_id": None})
    assert [i["name"] for i in result["identity_providers"]] == ["One-time PIN", "authentik"]
    assert all("client_secret" not in i["config"] for i in result["identity_providers"])
    assert result["callback_url"] == "https://%s/cdn-cgi/access/callback" % DOMAIN
    assert set(result) == {"identity_providers", "callback_url"}
    assert len(cloud.sent) == 1


@pytest.mark.parametrize("by", ["name", "id"])
def test_one_by_name_or_id(cloud, by):
    ident = ident_of(cloud, "authentik")
    query = {"name": "authentik", "identity_provider_id": None} if by == "name" else \
        {"name": None, "identity_provider_id": ident}
    result = gather(cloud, query)
    assert [i["id"] for i in result["identity_providers"]] == [ident]
    assert result["identity_providers"][0]["name"] == "authentik"
    assert result["test_url"] == "https://%s/cdn-cgi/access/test-idp/%s" % (DOMAIN, ident)
    assert "stored-secret" not in str(result)


def test_missing_one_is_not_an_error(cloud):
    result = gather(cloud, {"name": "nobody", "identity_provider_id": None})
    assert result == {"identity_providers": [],
                      "callback_url": "https://%s/cdn-cgi/access/callback" % DOMAIN}


def test_duplicate_names_fail(cloud):
    cloud.add("authentik")
    with pytest.raises(LookupFailed) as err:
        idp_info.gather(client_for(cloud), {"name": "authentik", "identity_provider_id": None})
    assert "2 login methods" in str(err.value)


def test_scim_secret_is_masked(cloud):
    cloud.idps[ident_of(cloud, "authentik")]["scim_config"]["secret"] = "scim-secret-shown-once"
    result = gather(cloud, {"name": "authentik", "identity_provider_id": None})
    assert result["identity_providers"][0]["scim_config"]["secret"] == "********"


def test_organization_description():
    result = org_info.describe({"name": "Team", "auth_domain": "myteam.cloudflareaccess.com", "session_duration": "24h"})
    assert result == {
        "organization": {"name": "Team", "auth_domain": "myteam.cloudflareaccess.com", "session_duration": "24h"},
        "team_name": "myteam", "callback_url": "https://myteam.cloudflareaccess.com/cdn-cgi/access/callback",
        "msg": "Access organization 'Team', team domain myteam.cloudflareaccess.com",
    }
    custom = org_info.describe({"name": "Team", "auth_domain": "login.example.com"})
    assert "team_name" not in custom and custom["callback_url"] == "https://login.example.com/cdn-cgi/access/callback"


class Exited(Exception):
    """What exit_json or fail_json was called with."""


def exiting_module(params):
    def leave(**kwargs):
        raise Exited(kwargs)
    return type("Module", (), {"params": params, "exit_json": staticmethod(leave), "fail_json": staticmethod(leave)})()


def test_run_info_returns_the_list_once_with_derived_values(cloud):
    module = exiting_module({"name": "authentik", "identity_provider_id": None})
    with pytest.raises(Exited) as out:
        run_info(module, "identity_provider_id", "a login method id", lambda _m: client_for(cloud), idp_info.gather)
    result = out.value.args[0]
    assert set(result) == {"changed", "msg", "identity_providers", "callback_url", "test_url"}
    assert result["changed"] is False and result["msg"] == "identity providers found: 1"
    assert [i["name"] for i in result["identity_providers"]] == ["authentik"]


def test_run_info_refuses_an_id_that_is_no_uuid_before_any_request(cloud):
    module = exiting_module({"name": None, "identity_provider_id": "../x"})
    with pytest.raises(Exited) as out:
        run_info(module, "identity_provider_id", "a login method id", lambda _m: client_for(cloud), idp_info.gather)
    assert out.value.args[0] == {"msg": "identity_provider_id must be a login method id (a UUID), got '../x'"}
    assert cloud.sent == []
