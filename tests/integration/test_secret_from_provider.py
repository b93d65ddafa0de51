"""cloudflare_access_identity_provider with client_secret_from_provider: the provider's own client secret,
read from authentik only when it has to be sent (real ansible-playbook runs against both test servers)."""

from __future__ import annotations

from cf_helpers import FQCN, failure, new_secret, no_leak, oidc, stored_named, task

PROVIDER = FQCN + "authentik_provider_oauth2"
CALLBACK = "https://idpbridge-test.cloudflareaccess.com/cdn-cgi/access/callback"


def provider_task(name):
    return task("Provider", {"name": name, "redirect_uris": [CALLBACK]}, module=PROVIDER)


def secret_of(api, name):
    return next(p for p in api.authentik.state()["providers"] if p["name"] == name)["client_secret"]


def login_method(name, provider, **over):
    args = oidc(name="authentik (%s)" % name, client_secret_from_provider=provider, **over)
    return task("Login method", args)


def test_secret_read_on_create_and_not_on_a_rerun(api, play):
    assert play([provider_task("SFP One")]).rc == 0
    secret = secret_of(api, "SFP One")

    api.authentik.clear_log()
    created = play([login_method("SFP One", "SFP One")], diff=True, verbosity=4)
    assert created.rc == 0, created.output
    assert created.task("Login method")["changed"] is True
    assert stored_named(api, "authentik (SFP One)")["config"]["client_secret"] == secret
    assert [(r["method"], r["path"]) for r in api.authentik.requests()] == [("GET", "/api/v3/providers/oauth2/")]
    no_leak(created, secret)

    # converged: the secret is not needed, so authentik is not asked
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    again = play([login_method("SFP One", "SFP One")], verbosity=4)
    assert again.rc == 0 and again.changed == 0, again.output
    assert api.authentik.requests() == []
    assert api.cloudflare.writes() == []
    no_leak(again, secret)

    # another setting changes: Cloudflare replaces the whole configuration, so the secret goes with it
    api.authentik.clear_log()
    changed = play([login_method("SFP One", "SFP One", claims=["groups"])], verbosity=4)
    assert changed.rc == 0 and changed.changed == 1, changed.output
    assert len(api.authentik.requests()) == 1
    stored = stored_named(api, "authentik (SFP One)")
    assert stored["config"]["client_secret"] == secret and stored["config"]["claims"] == ["groups"]
    no_leak(changed, secret)


def test_check_mode_with_the_provider_still_to_be_created(api, play):
    checked = play([provider_task("SFP Later"), login_method("SFP Later", "SFP Later")], check=True)
    assert checked.rc == 0, checked.output
    assert checked.task("Login method")["changed"] is True
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []


def test_a_missing_provider_fails_and_the_options_exclude_each_other(api, play):
    run = play([
        task("missing", oidc(name="authentik (SFP None)", client_secret_from_provider="SFP None"), ignore_errors=True),
        task("both", oidc(name="authentik (SFP Both)", secret=new_secret(), client_secret_from_provider="SFP Both"),
             ignore_errors=True),
    ])
    assert "No authentik OAuth2 provider is named 'SFP None'" in failure(run, "missing")["msg"]
    assert failure(run, "both")["msg"] == "Give either client_secret or client_secret_from_provider, not both"
    assert api.cloudflare.writes() == []
