"""cloudflare_access_identity_provider: real ansible-playbook runs against the Cloudflare test server.

Every test asserts on what the server saw (the request log, the stored state with its secrets),
not only on what the module says about itself.
"""

from __future__ import annotations

from cf_helpers import (
    AUTH_URL,
    FQCN,
    MASK,
    PERMISSION,
    arrange,
    failure,
    idp_path,
    new_secret,
    no_leak,
    oidc,
    stored,
    stored_named,
    task,
    writes,
)


# ---- create, rerun, check mode, diff ------------------------------------------------------------------
def test_create_rerun_check_mode_and_diff(api, play):
    secret = new_secret()
    create = task("Login method", oidc(secret=secret), register="lm")

    # Check mode on an empty account: a create is predicted, nothing is written.
    predicted = play([create], check=True, diff=True)
    assert predicted.rc == 0, predicted.output
    res = predicted.task("Login method")
    assert res["changed"] is True
    assert res["end_state"]["id"] is None
    assert "would be created" in res["msg"]
    assert writes(api) == []
    assert res["diff"]["before"] == {}
    assert res["diff"]["after"]["config"]["client_secret"] == MASK
    assert res["diff"]["after"]["config"]["scopes"] == ["email", "openid", "profile"]
    assert "client_secret" not in res["end_state"]["config"]
    assert res["callback_url"] == "https://idpbridge-test.cloudflareaccess.com/cdn-cgi/access/callback"
    assert "test_url" not in res
    no_leak(predicted, secret)

    # The real run: one GET of the list, one POST; the same diff as predicted.
    api.cloudflare.clear_log()
    created = play([create], diff=True)
    assert created.rc == 0, created.output
    real = created.task("Login method")
    assert real["changed"] is True
    assert real["diff"] == res["diff"]
    # the lookup, the create, the list again (another run may have created one at the same time)
    assert [(r["method"], r["status"]) for r in api.cloudflare.requests()] == [("GET", 200), ("POST", 201), ("GET", 200)]
    idp = stored_named(api, "authentik")
    assert real["end_state"]["id"] == idp["id"]
    assert idp["config"]["client_secret"] == secret
    assert idp["config"]["scopes"] == ["openid", "email", "profile"]      # sent in the documented order
    assert idp["config"]["claims"] == ["groups", "preferred_username"]
    assert idp["config"]["pkce_enabled"] is True
    assert real["test_url"] == "https://idpbridge-test.cloudflareaccess.com/cdn-cgi/access/test-idp/" + idp["id"]
    assert real["end_state"]["config"]["redirect_url"].endswith("/cdn-cgi/access/callback")
    assert "client_secret" not in real["end_state"]["config"]
    no_leak(created, secret)

    # A rerun, real and in check mode: nothing changes, nothing is written, one request each.
    api.cloudflare.clear_log()
    again = play([create, dict(create, name="Login method (check mode)", check_mode=True)], diff=True)
    assert again.rc == 0, again.output
    assert again.changed == 0
    for title in ("Login method", "Login method (check mode)"):
        result = again.task(title)
        assert result["changed"] is False
        assert result["end_state"]["id"] == idp["id"]
        assert "diff" not in result or result["diff"]["before"] == result["diff"]["after"]
    assert writes(api) == []
    assert len(api.cloudflare.requests()) == 2


def test_change_of_a_field_is_one_put_that_carries_the_secret(api, play):
    secret = new_secret()
    ident = arrange(api, "authentik", secret=secret)
    api.cloudflare.clear_log()
    change = task("Change", oidc(secret=secret, claims=["groups"], email_claim_name="mail"))
    result = play([dict(change, name="Predict", check_mode=True), change], diff=True)
    assert result.rc == 0, result.output
    predicted, real = result.task("Predict"), result.task("Change")
    assert predicted["changed"] is True and real["changed"] is True
    assert predicted["diff"] == real["diff"]
    diff = real["diff"]
    assert diff["before"]["config"]["claims"] == ["groups", "preferred_username"]
    assert diff["after"]["config"]["claims"] == ["groups"]
    assert diff["after"]["config"]["email_claim_name"] == "mail"
    assert "client_secret" not in diff["after"]["config"]                # on_create: the secret is no change
    assert real["changes"] == ["config"]
    assert writes(api) == [("PUT", idp_path(api, ident))]
    idp = stored_named(api, "authentik")
    assert idp["id"] == ident
    assert idp["config"]["client_secret"] == secret
    assert idp["config"]["claims"] == ["groups"]
    assert idp["config"]["email_claim_name"] == "mail"
    assert idp["config"]["pkce_enabled"] is True                         # not set in the task: kept
    no_leak(result, secret)


def test_update_secret_on_create_versus_always(api, play):
    old, new = new_secret("old"), new_secret("new")
    ident = arrange(api, "authentik", secret=old)
    api.cloudflare.clear_log()
    result = play([
        task("on_create with a new secret", oidc(secret=new)),
        task("always", oidc(secret=new, update_secret="always")),
        task("always again", oidc(secret=new, update_secret="always")),
        task("A change without a secret", oidc(claims=["groups"]), ignore_errors=True),
    ], diff=True)
    assert result.task("on_create with a new secret")["changed"] is False
    always = result.task("always")
    assert always["changed"] is True
    assert always["diff"]["after"]["config"]["client_secret"] == MASK
    assert "client_secret" not in always["diff"]["before"]["config"]
    assert result.task("always again")["changed"] is True
    failed = failure(result, "A change without a secret")
    assert "give client_secret" in failed["msg"]
    assert "claims" not in failed["msg"] or "config" in failed["msg"]
    # Exactly the two "always" runs wrote, and the stored secret is the new one.
    assert writes(api) == [("PUT", idp_path(api, ident))] * 2
    idp = stored_named(api, "authentik")
    assert idp["config"]["client_secret"] == new
    assert idp["config"]["claims"] == ["groups", "preferred_username"]
    no_leak(result, old, new)


def test_create_needs_the_oidc_settings(api, play):
    result = play([
        task("No secret on create", oidc(), ignore_errors=True),
        task("No certs_url on create", oidc(secret="x" * 20, certs_url=None), ignore_errors=True),
    ])
    assert "missing: client_secret" in failure(result, "No secret on create")["msg"]
    assert "missing: certs_url" in failure(result, "No certs_url on create")["msg"]
    assert writes(api) == []


def test_bad_options_fail_before_any_request(api, play):
    result = play([
        task("ftp URL", oidc(secret="s" * 20, token_url="ftp://auth.example.com/token"), ignore_errors=True),
        task("relative URL", oidc(secret="s" * 20, auth_url="/application/o/authorize/"), ignore_errors=True),
        task("oidc option on github", {"name": "gh", "type": "github", "client_id": "x", "client_secret": "y" * 20,
                                       "auth_url": AUTH_URL}, ignore_errors=True),
        task("secret in config", {"name": "gh", "type": "github", "config": {"client_secret": "y" * 20}},
             ignore_errors=True),
        task("account and zone", dict(oidc(secret="s" * 20), account_id=api.info["account_id"],
                                      zone_id="5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"), ignore_errors=True),
        task("bad account id", dict(oidc(secret="s" * 20), account_id="my-account"), ignore_errors=True),
        task("no name", {"client_id": "x"}, ignore_errors=True),
        task("always without secret", oidc(update_secret="always"), ignore_errors=True),
    ])
    assert "token_url must be an absolute https:// URL" in failure(result, "ftp URL")["msg"]
    assert "auth_url must be an absolute https:// URL" in failure(result, "relative URL")["msg"]
    assert "only apply to type oidc" in failure(result, "oidc option on github")["msg"]
    assert "use the client_secret option" in failure(result, "secret in config")["msg"]
    assert "not both" in failure(result, "account and zone")["msg"]
    assert "32 hexadecimal characters" in failure(result, "bad account id")["msg"]
    assert "name, identity_provider_id" in failure(result, "no name")["msg"]
    assert "update_secret=always needs client_secret" in failure(result, "always without secret")["msg"]
    assert api.cloudflare.requests() == []


# ---- delete, key by id, duplicates, read_only, type change ----------------------------------------------
def test_absent_twice_and_the_identity_provider_id_key(api, play):
    secret = new_secret()
    ident = arrange(api, "to-rename", secret=secret)
    api.cloudflare.clear_log()
    result = play([
        task("Rename by id", oidc(name="renamed", secret=secret, identity_provider_id=ident)),
        task("Unknown id", oidc(secret=secret, identity_provider_id="00000000-0000-4000-8000-000000000000"),
             ignore_errors=True),
        task("Delete by id", {"identity_provider_id": ident, "state": "absent"}),
        task("Delete by id again", {"identity_provider_id": ident, "state": "absent"}),
        task("Delete by name, none there", {"name": "renamed", "state": "absent"}),
    ], diff=True)
    renamed = result.task("Rename by id")
    assert renamed["changed"] is True and renamed["end_state"]["id"] == ident
    assert renamed["diff"]["before"]["name"] == "to-rename" and renamed["diff"]["after"]["name"] == "renamed"
    assert "No login method has the id 00000000-0000-4000-8000-000000000000" in failure(result, "Unknown id")["msg"]
    deleted = result.task("Delete by id")
    assert deleted["changed"] is True and deleted["diff"]["after"] == {}
    assert deleted["diff"]["before"]["name"] == "renamed"
    for title in ("Delete by id again", "Delete by name, none there"):
        assert result.task(title)["changed"] is False
        assert "already absent" in result.task(title)["msg"]
    assert writes(api) == [("PUT", idp_path(api, ident)), ("DELETE", idp_path(api, ident))]
    assert [idp for idp in stored(api) if idp["id"] == ident] == []
    # The PUT of the rename carried the secret, so it survived until the delete.


def test_delete_in_check_mode_writes_nothing(api, play):
    ident = arrange(api, "doomed")
    api.cloudflare.clear_log()
    result = play([task("Delete", {"name": "doomed", "state": "absent"})], check=True, diff=True)
    res = result.task("Delete")
    assert res["changed"] is True and "would be deleted" in res["msg"]
    assert res["diff"]["after"] == {} and res["diff"]["before"]["name"] == "doomed"
    assert writes(api) == []
    assert stored_named(api, "doomed")["id"] == ident


def test_duplicate_names_are_an_error_that_lists_the_ids(api, play):
    first, second = arrange(api, "twin"), arrange(api, "twin")
    api.cloudflare.clear_log()
    result = play([
        task("Present", oidc(name="twin", secret=new_secret()), ignore_errors=True),
        task("Absent", {"name": "twin", "state": "absent"}, ignore_errors=True),
        task("Info", {"name": "twin"}, module=FQCN + "cloudflare_access_identity_provider_info", ignore_errors=True),
        task("By id is fine", {"identity_provider_id": first, "state": "absent"}),
    ])
    for title in ("Present", "Absent", "Info"):
        res = failure(result, title)
        assert "2 login methods" in res["msg"] and first in res["msg"] and second in res["msg"], res["msg"]
        assert "identity_provider_id" in res["msg"]
    assert result.task("By id is fine")["changed"] is True
    assert writes(api) == [("DELETE", idp_path(api, first))]


def test_read_only_login_method_is_refused(api, servers, play):
    ro_id = servers.cloudflare.app.readonly_idp_id
    result = play([
        task("Unchanged is fine", {"name": "Managed corporate SSO", "client_id": "managed-client",
                                   "auth_url": "https://sso.corp.example/authorize"}),
        task("Change", oidc(name="Managed corporate SSO", secret=new_secret()), ignore_errors=True),
        task("Delete", {"name": "Managed corporate SSO", "state": "absent"}, ignore_errors=True),
        task("Predict a change", oidc(name="Managed corporate SSO", secret=new_secret()), check_mode=True,
             ignore_errors=True),
    ])
    assert result.task("Unchanged is fine")["changed"] is False
    for title in ("Change", "Delete", "Predict a change"):
        res = failure(result, title)
        assert "is read_only" in res["msg"] and ro_id in res["msg"]
    assert writes(api) == []


def test_type_change_is_refused_unless_recreate(api, play):
    old = arrange(api, "switch", idp_type="github", config={"client_id": "gh-client", "client_secret": "gh-secret-1234"})
    api.cloudflare.clear_log()
    secret = new_secret()
    result = play([
        task("Refused", oidc(name="switch", secret=secret), ignore_errors=True),
        task("Predicted", oidc(name="switch", secret=secret, recreate=True), check_mode=True),
        task("Recreate", oidc(name="switch", secret=secret, recreate=True)),
        task("Rerun", oidc(name="switch", secret=secret, recreate=True)),
    ], diff=True)
    refused = failure(result, "Refused")
    assert "of type github, not oidc" in refused["msg"] and "recreate: true" in refused["msg"]
    predicted = result.task("Predicted")
    assert predicted["changed"] is True and predicted["end_state"]["id"] is None
    recreated = result.task("Recreate")
    assert recreated["changed"] is True
    assert recreated["diff"] == predicted["diff"]
    assert recreated["diff"]["before"]["type"] == "github" and recreated["diff"]["after"]["type"] == "oidc"
    assert recreated["end_state"]["id"] != old
    assert result.task("Rerun")["changed"] is False
    assert writes(api) == [("DELETE", idp_path(api, old)), ("POST", idp_path(api))]
    idp = stored_named(api, "switch")
    assert idp["type"] == "oidc" and idp["id"] == recreated["end_state"]["id"]
    assert idp["config"]["client_secret"] == secret
    assert "gh-client" not in str(idp["config"])


# ---- pagination ------------------------------------------------------------------------------------
def test_pagination_past_one_page(api, play):
    api.cloudflare.config(page_size=2)
    for n in range(4):
        arrange(api, "filler %d" % n)
    secret = new_secret()
    last = arrange(api, "authentik", secret=secret)        # 7 login methods: 2 seeded + 5; the target is last
    api.cloudflare.clear_log()
    result = play([task("Rerun", oidc(secret=secret))])
    assert result.task("Rerun")["changed"] is False
    assert result.task("Rerun")["end_state"]["id"] == last
    pages = [r["query"].get("page") for r in api.cloudflare.requests()]
    assert pages == [["1"], ["2"], ["3"], ["4"]]          # page 4 held one item: no request for page 5
    assert all("per_page" not in r["query"] for r in api.cloudflare.requests())

    # A second login method with the name, on the first pages, is found as well.
    api.cloudflare.config(page_size=3)
    twin = arrange(api, "authentik")
    api.cloudflare.clear_log()
    dup = play([task("Duplicate", oidc(secret=secret), ignore_errors=True)])
    msg = dup.task("Duplicate")["msg"]
    assert last in msg and twin in msg
    pages = [r["query"].get("page") for r in api.cloudflare.requests()]
    assert pages == [["1"], ["2"], ["3"]]                   # 8 items, 3 a page: page 3 is short
    assert writes(api) == []


# ---- errors: permission, rate limit, server errors, secrets in verbose output ---------------------------------
def test_missing_permission_is_explained_and_nothing_leaks(api, servers, play):
    secret = new_secret()
    ro_token = servers.cloudflare.app.readonly_token
    result = play([task("Create with a read-only token", oidc(secret=secret), ignore_errors=True)],
                  env={"CLOUDFLARE_API_TOKEN": ro_token}, verbosity=4)
    res = failure(result, "Create with a read-only token")
    assert res["status"] == 403
    assert PERMISSION in res["msg"]
    assert api.info["account_id"] in res["msg"]
    assert "[10000] Authentication error" in res["msg"]
    assert res["api_error_codes"] == [10000]
    assert [(r["method"], r["status"]) for r in api.cloudflare.requests()] == [("GET", 200), ("POST", 403)]
    no_leak(result, secret, ro_token)


def test_verbose_success_output_holds_no_secret(api, servers, play):
    secret = new_secret()
    result = play([task("Create", oidc(secret=secret)), task("Update", oidc(secret=secret, claims=["groups"]))],
                  verbosity=4, diff=True)
    assert result.rc == 0, result.output
    assert result.changed == 2
    assert "end_state" in result.stdout                                # -vvvv prints the results
    no_leak(result, secret, servers.cloudflare_token)


def test_rate_limit_is_retried_and_server_errors_give_one_message(api, play):
    api.cloudflare.fault(method="POST", path="identity_providers$", status=429, retry_after=1, count=1)
    api.cloudflare.fault(method="GET", path="organizations$", status=503, retry_after=0, count=10)
    result = play([
        task("Create despite a 429", oidc(secret=new_secret())),
        task("Organization during an outage", {}, module=FQCN + "cloudflare_access_organization_info",
             ignore_errors=True),
    ])
    created = result.task("Create despite a 429")
    assert created["changed"] is True
    assert any("HTTP 429; retrying in 1.0 s" in w for w in created.get("warnings", [])), created.get("warnings")
    posts = [r["status"] for r in api.cloudflare.requests() if r["method"] == "POST"]
    assert posts == [429, 201]
    assert len(stored(api)) == 3
    outage = failure(result, "Organization during an outage")
    assert outage["status"] == 503
    assert "returned HTTP 503: [10001] Internal server error" in outage["msg"]
    assert "after 3 retries" in outage["msg"]
    assert "cloudflarestatus.com" in outage["msg"]
    assert "Traceback" not in result.output
    org_gets = [r for r in api.cloudflare.requests() if r["path"].endswith("/organizations")]
    assert len(org_gets) == 4


# ---- scopes and credentials ----------------------------------------------------------------------------
def test_zone_scope(api, servers, play):
    zone = servers.cloudflare.app.zone_id
    secret = new_secret()
    zoned = dict(oidc(secret=secret), zone_id=zone)
    result = play([task("Zone login method", zoned), task("Rerun", zoned)])
    assert result.rc == 0, result.output
    assert result.task("Zone login method")["changed"] is True
    assert result.task("Rerun")["changed"] is False
    assert writes(api) == [("POST", "/client/v4/zones/%s/access/identity_providers" % zone)]
    assert stored_named(api, "authentik", "zones")["config"]["client_secret"] == secret
    assert [idp for idp in stored(api) if idp["name"] == "authentik"] == []
    assert all("/accounts/" not in r["path"] for r in api.cloudflare.requests())


def test_legacy_email_and_global_key(api, servers, play):
    app = servers.cloudflare.app
    env = {"CLOUDFLARE_API_TOKEN": None, "CLOUDFLARE_EMAIL": app.legacy_email, "CLOUDFLARE_API_KEY": app.legacy_key}
    secret = new_secret()
    result = play([task("Create", oidc(secret=secret)), task("Rerun", oidc(secret=secret)),
                   task("Wrong key", dict(oidc(secret=secret), api_key="0" * 37), ignore_errors=True)],
                  env=env, verbosity=3)
    assert result.task("Create")["changed"] is True
    assert result.task("Rerun")["changed"] is False
    wrong = failure(result, "Wrong key")
    assert "api_email and api_key" in wrong["msg"]
    assert stored_named(api, "authentik")["config"]["client_secret"] == secret
    no_leak(result, secret, app.legacy_key)


def test_any_2xx_answer_is_success(api, play):
    # The schema says 201 for create and 202 for delete (the server's defaults, used everywhere else);
    # the live API may answer 200.
    api.cloudflare.config(create_status=200, delete_status=200)
    result = play([task("Create", oidc(secret=new_secret())), task("Delete", {"name": "authentik", "state": "absent"})])
    assert result.rc == 0, result.output
    assert result.task("Create")["changed"] is True and result.task("Delete")["changed"] is True
    assert [(r["method"], r["status"]) for r in api.cloudflare.writes()] == [("POST", 200), ("DELETE", 200)]
