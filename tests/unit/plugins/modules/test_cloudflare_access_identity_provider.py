"""cloudflare_access_identity_provider: option checks, the secret decisions and the whole
find -> compare -> write cycle through the engine, against a small in-memory Cloudflare."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _cloudflare as cf
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _login_method as lm
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import ensure
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import MASK
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import (
    cloudflare_access_identity_provider as mod,
)
from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.fake_module import FakeModule

ACCOUNT = "0123456789abcdef0123456789abcdef"
DOMAIN = "myteam.cloudflareaccess.com"
SECRET = "the-client-secret-value"
OIDC = {"name": "authentik", "client_id": "cid", "client_secret": SECRET,
        "auth_url": "https://auth.example.com/application/o/authorize/",
        "token_url": "https://auth.example.com/application/o/token/",
        "certs_url": "https://auth.example.com/application/o/cf/jwks/"}


def oidc(**over):
    """The OIDC options with some replaced."""
    out = dict(OIDC)
    out.update(over)
    return out


def params(**given):
    """Module parameters as AnsibleModule would fill them in (defaults, None for the rest)."""
    out = {}
    for name, spec in mod.argument_spec().items():
        out[name] = copy.deepcopy(spec.get("default"))
    out.update(given)
    if out.get("scim_config") is not None:
        out["scim_config"] = dict({k: None for k in mod.argument_spec()["scim_config"]["options"]}, **out["scim_config"])
    return out


# ---- a tiny Cloudflare -----------------------------------------------------------------------------------
class FakeCloudflare:
    """Stores login methods, answers like the API (no secret on read), records every request."""

    def __init__(self):
        self.idps = {}
        self.sent = []
        self.headers = {}
        self.verify = True

    def add(self, name, idp_type="oidc", secret="stored-secret", read_only=False, **config):
        ident = str(uuid.uuid4())
        cfg = {"client_id": "cid", "auth_url": OIDC["auth_url"], "token_url": OIDC["token_url"],
               "certs_url": OIDC["certs_url"], "scopes": ["openid", "email", "profile"], "claims": [],
               "email_claim_name": "email", "pkce_enabled": False} if idp_type == "oidc" else {}
        cfg.update(config)
        if secret:
            cfg["client_secret"] = secret
        self.idps[ident] = {"id": ident, "name": name, "type": idp_type, "config": cfg, "read_only": read_only,
                            "scim_config": {"enabled": False, "user_deprovision": False, "seat_deprovision": False,
                                            "identity_update_behavior": "no_action"}}
        return ident

    def view(self, rec):
        out = copy.deepcopy(rec)
        out["config"].pop("client_secret", None)
        out["config"]["redirect_url"] = "https://%s/cdn-cgi/access/callback" % DOMAIN
        return out

    @staticmethod
    def answer(status, result=None, info=None, errors=None):
        body = {"success": not errors, "errors": errors or [], "messages": [], "result": result}
        if info is not None:
            body["result_info"] = info
        resp = requests.Response()
        resp.status_code = status
        resp.headers = CaseInsensitiveDict()
        resp._content = json.dumps(body).encode()
        return resp

    def request(self, method, url, json=None, **kwargs):
        path = url.split("/client/v4", 1)[1].split("?")[0]
        self.sent.append((method, path, copy.deepcopy(json)))
        base = "/accounts/%s/access/identity_providers" % ACCOUNT
        if path == "/accounts/%s/access/organizations" % ACCOUNT:
            return self.answer(200, {"name": "Team", "auth_domain": DOMAIN})
        if path == base and method == "GET":
            items = [self.view(r) for r in self.idps.values()]
            return self.answer(200, items, {"page": 1, "per_page": 20, "count": len(items), "total_count": len(items)})
        if path == base and method == "POST":
            ident = str(uuid.uuid4())
            self.idps[ident] = dict(copy.deepcopy(json), id=ident, read_only=False)
            return self.answer(201, self.view(self.idps[ident]))
        ident = path[len(base) + 1:]
        if ident not in self.idps:
            return self.answer(404, None, errors=[{"code": 12135, "message": "access.api.error.not_found"}])
        if method == "GET":
            return self.answer(200, self.view(self.idps[ident]))
        if method == "PUT":
            self.idps[ident].update(copy.deepcopy(json))
            return self.answer(200, self.view(self.idps[ident]))
        if method == "DELETE":
            del self.idps[ident]
            return self.answer(202, {"id": ident})
        raise AssertionError("unexpected %s %s" % (method, path))

    @property
    def writes(self):
        return [(m, p.rsplit("/", 1)[-1] if m != "POST" else "") for m, p, _b in self.sent if m != "GET"]

    def bodies(self, method):
        return [b for m, _p, b in self.sent if m == method]


@pytest.fixture
def cloud():
    return FakeCloudflare()


def run(cloud, check_mode=False, diff=False, **given):
    module = FakeModule(params(**given), check_mode=check_mode, diff=diff)
    mod.check_params(module.params)
    client = lm.LoginMethodClient("https://api.example.test/client/v4", {"Authorization": "Bearer t0k3n-value"},
                                  cf.Scope("account", ACCOUNT), retries=0, warn=module.warn)
    client.session = cloud
    resource = mod.IdentityProvider(module, client)
    result = ensure(module, resource, module.params["state"])
    result.update(lm.team_urls(client, resource, result))
    return result


# ---- option checks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("given, words", [
    (oidc(name=" "), "name must not be empty"),
    (oidc(identity_provider_id="a/b"), "must be a login method id"),
    (oidc(type="github"), "auth_url, token_url, certs_url only apply to type oidc"),
    (oidc(certs_url="ftp://x/jwks"), "certs_url must be an absolute https:// URL"),
    (oidc(config={"client_secret": "x"}), "use the client_secret option"),
    (oidc(config={"client_id": "other"}), "client_id set both as an option and in config"),
    (oidc(token_url=None, config={"token_url": "token"}), "config.token_url must be an absolute"),
    (oidc(client_secret=None, update_secret="always"), "update_secret=always needs client_secret"),
    ({"name": "pin", "type": "onetimepin", "client_secret": "x"}, "type onetimepin has no client_secret"),
    ({"name": "s", "type": "saml", "client_id": "x", "client_secret": "y"}, "has no client_id or client_secret"),
])
def test_check_params_refuses(given, words):
    with pytest.raises(ValueError) as err:
        mod.check_params(params(**given))
    assert words in str(err.value)


def test_check_params_accepts():
    mod.check_params(params(**OIDC))
    mod.check_params(params(name="gh", type="github", client_id="x", client_secret="y", config={"extra": 1}))
    mod.check_params(params(name="x", state="absent", update_secret="always"))
    mod.check_params(params(name="s", type="saml", config={"sso_target_url": "https://idp.example/sso"}))


def test_wanted_config():
    p = params(**oidc(claims=["groups", "email"], config={"prompt": "login"}))
    creating = lm.wanted_config(p, creating=True)
    assert creating["scopes"] == ["email", "openid", "profile"] and creating["claims"] == ["email", "groups"]
    assert creating["prompt"] == "login" and "client_secret" not in creating
    assert lm.wanted_config(p, creating=True, normalized=False)["scopes"] == ["openid", "email", "profile"]
    assert "scopes" not in lm.wanted_config(p, creating=False)
    github = params(name="gh", type="github", client_id="x", config={"a": 1})
    assert lm.wanted_config(github, creating=True) == {"a": 1, "client_id": "x"}


def test_missing_for_create():
    assert lm.missing_for_create(params(**OIDC), lm.wanted_config(params(**OIDC), True)) == []
    bare = params(name="x")
    assert lm.missing_for_create(bare, {}) == ["client_id", "client_secret", "auth_url", "token_url", "certs_url"]
    assert lm.missing_for_create(params(name="x", type="github"), {}) == []


@pytest.mark.parametrize("secret, creating, mode, expected", [
    (SECRET, True, "on_create", True),
    (SECRET, False, "on_create", False),
    (SECRET, False, "always", True),
    (None, True, "always", False),
    ("", False, "always", False),
])
def test_secret_goes_out(secret, creating, mode, expected):
    assert lm.secret_goes_out({"client_secret": secret, "update_secret": mode}, creating) is expected


# ---- the cycle ---------------------------------------------------------------------------------------------
def test_create_sends_the_secret_once_and_returns_urls(cloud):
    result = run(cloud, diff=True, **OIDC)
    assert result["changed"] is True and cloud.writes == [("POST", "")]
    (body,) = cloud.bodies("POST")
    assert body["config"]["client_secret"] == SECRET
    assert body["config"]["scopes"] == ["openid", "email", "profile"]
    assert "client_secret" not in result["end_state"]["config"]
    assert result["diff"]["after"]["config"]["client_secret"] == MASK
    assert result["test_url"] == "https://%s/cdn-cgi/access/test-idp/%s" % (DOMAIN, result["end_state"]["id"])
    assert result["callback_url"] == "https://%s/cdn-cgi/access/callback" % DOMAIN
    assert SECRET not in json.dumps(result)
    # the list, the create, the list again (a run at the same time may have made one too); no organization read:
    # the team domain came from redirect_url
    assert [m for m, _p, _b in cloud.sent] == ["GET", "POST", "GET"]


def test_rerun_and_check_mode_send_no_write(cloud):
    cloud.add("authentik", secret=SECRET)
    for check in (False, True):
        result = run(cloud, check_mode=check, diff=True, **OIDC)
        assert result["changed"] is False
        assert result["diff"]["before"] == result["diff"]["after"]
    assert cloud.writes == []
    assert len(cloud.sent) == 2


def test_check_mode_create_predicts_without_writing(cloud):
    cloud.add("someone else")
    result = run(cloud, check_mode=True, **OIDC)
    assert result["changed"] is True and result["end_state"]["id"] is None
    assert result["callback_url"].endswith("/cdn-cgi/access/callback") and "test_url" not in result
    assert cloud.writes == []


def test_on_create_secret_alone_changes_nothing_always_puts_it(cloud):
    ident = cloud.add("authentik", secret="old")
    assert run(cloud, **oidc(client_secret="new"))["changed"] is False
    assert cloud.writes == []
    result = run(cloud, diff=True, **oidc(client_secret="new", update_secret="always"))
    assert result["changed"] is True and result["changes"] == ["config"]
    assert result["diff"]["after"]["config"]["client_secret"] == MASK
    assert cloud.writes == [("PUT", ident)]
    assert cloud.idps[ident]["config"]["client_secret"] == "new"


def test_a_change_puts_everything_with_the_secret(cloud):
    ident = cloud.add("authentik", secret="old", claims=["x"], pkce_enabled=True)
    result = run(cloud, diff=True, **oidc(claims=["groups"]))
    assert result["changed"] is True
    assert "client_secret" not in result["diff"]["after"]["config"]
    (body,) = cloud.bodies("PUT")
    assert body["config"]["client_secret"] == SECRET
    assert body["config"]["pkce_enabled"] is True, "a setting the task does not name is carried over"
    assert "redirect_url" not in body["config"]
    assert set(body) == {"name", "type", "config", "scim_config"}
    assert cloud.writes == [("PUT", ident)]


def test_a_change_without_the_secret_is_refused_before_writing(cloud):
    cloud.add("authentik", claims=["x"])
    for check in (True, False):
        with pytest.raises(Refused) as err:
            run(cloud, check_mode=check, **oidc(client_secret=None, claims=["groups"]))
        assert "needs an update (config)" in str(err.value) and "give client_secret" in str(err.value)
    assert cloud.writes == []
    assert run(cloud, **oidc(client_secret=None, claims=["x"]))["changed"] is False


def test_create_without_the_oidc_settings_is_refused(cloud):
    with pytest.raises(Refused) as err:
        run(cloud, check_mode=True, **oidc(client_secret=None, token_url=None))
    assert "missing: client_secret, token_url" in str(err.value)


def test_read_only_is_refused_only_when_a_write_is_needed(cloud):
    ident = cloud.add("managed", read_only=True)
    assert run(cloud, name="managed", client_id="cid")["changed"] is False
    for given in (oidc(name="managed", client_id="other"), {"name": "managed", "state": "absent"}):
        with pytest.raises(Refused) as err:
            run(cloud, **given)
        assert "is read_only" in str(err.value) and ident in str(err.value)
    assert cloud.writes == []


def test_type_change_refused_or_recreated(cloud):
    old = cloud.add("switch", idp_type="github", client_id="gh")
    with pytest.raises(Refused) as err:
        run(cloud, **oidc(name="switch"))
    assert "of type github, not oidc" in str(err.value) and "recreate: true" in str(err.value)
    predicted = run(cloud, check_mode=True, diff=True, **oidc(name="switch", recreate=True))
    assert predicted["changed"] is True and predicted["end_state"]["id"] is None
    assert cloud.writes == []
    done = run(cloud, diff=True, **oidc(name="switch", recreate=True))
    assert done["diff"] == predicted["diff"]
    assert cloud.writes == [("DELETE", old), ("POST", "")]
    assert done["end_state"]["id"] != old and cloud.idps[done["end_state"]["id"]]["config"]["client_secret"] == SECRET
    (body,) = cloud.bodies("POST")
    assert body["config"]["client_id"] == "cid" and body["type"] == "oidc"


def test_key_by_id_renames_and_deletes(cloud):
    ident = cloud.add("old name", secret=SECRET)
    result = run(cloud, **oidc(name="new name", identity_provider_id=ident))
    assert result["changed"] is True and result["end_state"]["id"] == ident
    assert cloud.idps[ident]["name"] == "new name"
    with pytest.raises(LookupFailed):
        run(cloud, **oidc(identity_provider_id=str(uuid.uuid4())))
    assert run(cloud, identity_provider_id=ident, state="absent")["changed"] is True
    again = run(cloud, identity_provider_id=ident, state="absent")
    assert again["changed"] is False and "already absent" in again["msg"]
    assert cloud.writes == [("PUT", ident), ("DELETE", ident)]


def test_duplicates_are_an_error(cloud):
    a, b = cloud.add("twin"), cloud.add("twin")
    for given in (oidc(name="twin"), {"name": "twin", "state": "absent"}):
        with pytest.raises(LookupFailed) as err:
            run(cloud, **given)
        assert a in str(err.value) and b in str(err.value)
    assert cloud.writes == []


def test_scim_config_compares_only_the_keys_given(cloud):
    ident = cloud.add("authentik", secret=SECRET)
    assert run(cloud, **oidc(scim_config={"enabled": False}))["changed"] is False
    result = run(cloud, **oidc(scim_config={"user_deprovision": True}))
    assert result["changed"] is True and result["changes"] == ["scim_config"]
    (body,) = cloud.bodies("PUT")
    assert body["scim_config"] == {"enabled": False, "user_deprovision": True, "seat_deprovision": False,
                                   "identity_update_behavior": "no_action"}
    assert cloud.idps[ident]["scim_config"]["user_deprovision"] is True


def test_other_types_take_a_raw_config(cloud):
    result = run(cloud, name="Okta", type="okta", client_id="okta-id", client_secret="okta-secret",
                 config={"okta_account": "https://example.okta.com"})
    (body,) = cloud.bodies("POST")
    config = {"okta_account": "https://example.okta.com", "client_id": "okta-id", "client_secret": "okta-secret"}
    assert body == {"name": "Okta", "type": "okta", "config": config}
    assert run(cloud, name="Okta", type="okta", client_id="okta-id",
               config={"okta_account": "https://example.okta.com"})["changed"] is False
    assert result["end_state"]["id"]


def test_module_fails_on_bad_options_before_any_request(monkeypatch):
    from ansible.module_utils import basic

    args = oidc(auth_url="not a url", api_token="t0k3n-value", account_id=ACCOUNT)
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        patch_module_args = None
    failures = []

    def fake_fail(self, **kwargs):
        failures.append(kwargs)
        raise SystemExit(1)

    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fake_fail)
    monkeypatch.setattr(cf.CloudflareClient, "from_module", classmethod(lambda cls, m: pytest.fail("no client")))
    if patch_module_args is not None:
        with patch_module_args(args), pytest.raises(SystemExit):
            mod.main()
    else:
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
        with pytest.raises(SystemExit):
            mod.main()
    assert "auth_url must be an absolute https:// URL" in failures[0]["msg"]
