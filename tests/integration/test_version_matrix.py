"""The authentik modules and the role against three authentik releases (2024.10, 2025.12, 2026.8),
and the client secret of 2026.11 (unreleased) as far as the test server emulates it.

Per release, with real ansible-playbook runs: check mode from empty, create and rerun, a change
with check mode beside it, removal; then the whole role (first run, rerun, removal). The test
server answers as the release does and the ``api`` fixture fails a test when any request breaks
that release's client contract (a field the release does not know is never sent).
"""

from __future__ import annotations

import pytest

from authentik_support import (
    APPLICATION, BINDING, CALLBACK, PROVIDER, PROVIDER_INFO, assert_no_secret, create_provider, task, writes,
)

ADMINS = "authentik Admins"
ICON = "https://icons.example.com/cloudflare.png"
ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"

# release -> what the modules are asked for there, and what that release has
PROFILES = {
    "2024.10.5": {"provider": {}, "application": {}, "grant_types": False, "icon_call": True},
    "2025.12.4": {"provider": {"logout_uri": "https://app.example.com/logout", "logout_method": "frontchannel"},
                  "application": {}, "grant_types": False, "icon_call": False},
    "2026.8.5": {"provider": {"logout_uri": "https://app.example.com/logout", "grant_types": ["authorization_code"]},
                 "application": {"meta_hide": False}, "grant_types": True, "icon_call": False},
}


def module_tasks(profile, suffix="", state="present", **changes):
    """The provider, the application bound to it and one group binding, as three tasks."""
    provider = dict({"name": "cf-matrix", "redirect_uris": [CALLBACK]}, **profile["provider"])
    application = dict({"slug": "cf-matrix", "name": "CF Matrix", "provider": "cf-matrix", "meta_icon": ICON,
                        "meta_launch_url": "https://team.cloudflareaccess.com/"}, **profile["application"])
    binding = {"application": "cf-matrix", "group": ADMINS, "order": 10}
    provider.update(changes.get("provider", {}))
    application.update(changes.get("application", {}))
    binding.update(changes.get("binding", {}))
    if state == "absent":
        return [task("binding" + suffix, BINDING, dict(binding, state="absent")),
                task("application" + suffix, APPLICATION, {"slug": "cf-matrix", "state": "absent"}),
                task("provider" + suffix, PROVIDER, {"name": "cf-matrix", "state": "absent"})]
    return [task("provider" + suffix, PROVIDER, provider),
            task("application" + suffix, APPLICATION, application),
            task("binding" + suffix, BINDING, binding)]


def changed(result, *names):
    return [result.task(name)["changed"] for name in names]


@pytest.mark.parametrize("version", sorted(PROFILES))
def test_modules_on_each_release(api, play, version):
    profile = PROFILES[version]
    api.authentik.config(version=version)
    api.authentik.clear_log()

    # check mode on an empty server: everything would be created, nothing is written
    checked = play(tasks=module_tasks(profile), check=True)
    assert checked.rc == 0, checked.output
    assert changed(checked, "provider", "application", "binding") == [True, True, True]
    assert writes(api) == []

    # create, then the same tasks again: the rerun writes nothing
    done = play(tasks=module_tasks(profile) + module_tasks(profile, " again"))
    assert done.rc == 0, done.output
    assert changed(done, "provider", "application", "binding") == [True, True, True]
    assert changed(done, "provider again", "application again", "binding again") == [False, False, False]
    sent = writes(api)
    created = dict((path, body) for method, path, body in sent if method == "POST")
    provider_body = created["/api/v3/providers/oauth2/"]
    assert ("grant_types" in provider_body) is profile["grant_types"]
    assert provider_body["redirect_uris"][0].get("redirect_uri_type") == (
        "authorization" if profile["grant_types"] else None)
    if "logout_uri" in profile["provider"]:
        assert provider_body["logout_uri"] == profile["provider"]["logout_uri"]
    app_body = created["/api/v3/core/applications/"]
    icon_call = "/api/v3/core/applications/cf-matrix/set_icon_url/"
    if profile["icon_call"]:  # before 2025.12: a separate call for the icon
        assert "meta_icon" not in app_body and created[icon_call] == {"url": ICON}
    else:
        assert app_body["meta_icon"] == ICON and icon_call not in created
    assert ("meta_hide" in app_body) is ("meta_hide" in profile["application"])
    assert [m for m, _p, _b in sent] == ["POST"] * (4 if profile["icon_call"] else 3)
    state = api.authentik.state()
    assert [p["name"] for p in state["providers"]] == ["cf-matrix"]
    assert state["applications"][0]["provider"] == state["providers"][0]["pk"]

    # check mode beside a change: the check-mode tasks predict a change and send nothing, the others send one PATCH each
    api.authentik.clear_log()
    predicted = module_tasks(profile, " predicted", provider={"sub_mode": "user_email"},
                             application={"meta_description": "predicted"}, binding={"negate": True})
    for item in predicted:
        item["check_mode"] = True
    change = module_tasks(profile, " change", provider={"access_token_validity": "hours=2"},
                          application={"meta_launch_url": "https://other.cloudflareaccess.com/"}, binding={"order": 20})
    result = play(tasks=predicted + change)
    assert result.rc == 0, result.output
    assert changed(result, "provider predicted", "application predicted", "binding predicted") == [True, True, True]
    assert result.task("provider predicted")["changes"] == ["sub_mode"]
    assert changed(result, "provider change", "application change", "binding change") == [True, True, True]
    patches = [(method, body) for method, _path, body in writes(api)]
    assert patches == [("PATCH", {"access_token_validity": "hours=2"}),
                       ("PATCH", {"meta_launch_url": "https://other.cloudflareaccess.com/"}),
                       ("PATCH", {"order": 20})]

    # removal, then again: the second time there is nothing left to delete
    api.authentik.clear_log()
    gone = play(tasks=module_tasks(profile, state="absent") + module_tasks(profile, " again", state="absent"))
    assert gone.rc == 0, gone.output
    assert changed(gone, "binding", "application", "provider") == [True, True, True]
    assert changed(gone, "binding again", "application again", "provider again") == [False, False, False]
    assert [m for m, _p, _b in writes(api)] == ["DELETE"] * 3
    state = api.authentik.state()
    assert (state["providers"], state["applications"], state["bindings"]) == ([], [], [])


def role_task(**role_vars):
    return {"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE}, "vars": role_vars}


@pytest.mark.parametrize("version", sorted(PROFILES))
def test_role_on_each_release(api, play, version):
    api.authentik.config(version=version)
    first = play([role_task(cloudflare_access_name="CF Matrix")])
    assert first.rc == 0, first.output
    assert first.task("Test the login method")["passed"] is True
    provider = next(p for p in api.authentik.state()["providers"] if p["name"] == "CF Matrix")
    assert ("grant_types" in provider) is PROFILES[version]["grant_types"]

    api.authentik.clear_log()
    api.cloudflare.clear_log()
    again = play([role_task(cloudflare_access_name="CF Matrix")])
    assert again.rc == 0 and again.changed == 0, again.output
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []

    removed = play([role_task(cloudflare_access_name="CF Matrix", cloudflare_access_state="absent")])
    assert removed.rc == 0 and removed.changed == 3, removed.output
    assert api.authentik.state()["providers"] == []


def test_options_a_release_cannot_honour_name_the_release_they_need(api, play):
    api.authentik.config(version="2024.10.5")
    create_provider(api, "cf-old")
    api.authentik.call("POST", "/core/applications/", json={"name": "app-old", "slug": "app-old"})
    api.authentik.clear_log()
    tasks = [
        task("grant types", PROVIDER, {"name": "cf-new", "grant_types": ["authorization_code"]}, ignore_errors=True),
        task("logout uri", PROVIDER, {"name": "cf-old", "redirect_uris": [CALLBACK],
                                      "logout_uri": "https://app.example.com/logout"}, ignore_errors=True),
        task("logout redirect", PROVIDER, {"name": "cf-old", "redirect_uris": [
            {"url": "https://app.example.com/bye", "redirect_uri_type": "logout"}]}, ignore_errors=True),
        task("meta hide", APPLICATION, {"slug": "app-old", "meta_hide": True}, ignore_errors=True),
    ]
    result = play(tasks=tasks)
    assert result.task("grant types")["msg"] == (
        "grant_types needs authentik 2026.5 or newer; this server runs 2024.10.5. Remove the option")
    assert result.task("logout uri")["msg"] == (
        "logout_uri needs authentik 2025.8 or newer; this server runs a release before 2025.8 (its providers have no "
        "logout URI). Remove the option")
    assert "redirect_uri_type logout needs authentik 2026.5 or newer" in result.task("logout redirect")["msg"]
    assert result.task("meta hide")["msg"].startswith("meta_hide needs authentik 2026.5 or newer; this server runs a "
                                                      "release before 2026.5")
    assert [result.status(t["name"]) for t in tasks] == ["ignored"] * 4  # failed, with ignore_errors
    assert writes(api) == []


def test_a_release_before_2024_10_is_refused(api, play):
    old = create_provider(api, "cf-old")
    # The version endpoint answers 2024.8.3 (the test server emulates 2024.10 and newer only), and a
    # provider from such a release has no invalidation flow.
    api.authentik.fault(method="GET", path="^/api/v3/admin/version/$", status=200, count=1,
                        body={"version_current": "2024.8.3", "version_latest": "2024.8.3", "build_hash": "",
                              "outdated": False})
    listed = api.authentik.call("GET", "/providers/oauth2/", params={"name": "cf-old"}).json()
    del listed["results"][0]["invalidation_flow"]
    api.authentik.fault(method="GET", path="^/api/v3/providers/oauth2/$", status=200, count=1, body=listed)
    api.authentik.clear_log()
    result = play(tasks=[
        task("existing", PROVIDER, {"name": old["name"], "redirect_uris": [CALLBACK]}, ignore_errors=True),
        task("new", PROVIDER, {"name": "cf-new", "redirect_uris": [CALLBACK]}, ignore_errors=True),
    ])
    assert result.task("new")["msg"] == (
        "authentik 2024.8.3 is older than 2024.10, the oldest release this collection supports; upgrade authentik")
    assert result.task("existing")["msg"] == (
        "This authentik is older than 2024.10, the oldest release this collection supports (its OAuth2 providers have "
        "no invalidation flow); upgrade authentik")
    assert writes(api) == []


def test_2026_11_client_secret_lives_in_a_secret_object(api, play, tmp_path):
    """authentik 2026.11 (unreleased; emulated as far as authentik's source shows it): the provider
    references a Secret; the modules read and set the value through it, behind the same options."""
    api.authentik.config(version="2026.11.0")
    chosen = "Chosen" + "s" * 50
    target = tmp_path / "secret.txt"
    args = {"name": "cf-secret", "redirect_uris": [CALLBACK], "client_secret": chosen}
    result = play(tasks=[
        task("create", PROVIDER, args),
        task("again", PROVIDER, args),
        task("read", PROVIDER_INFO, {"name": "cf-secret", "include_secret": True}, register="read", no_log=True),
        task("hand over", "ansible.builtin.copy", {"content": "{{ read.providers[0].client_secret }}", "dest": str(target),
                                                   "mode": "0600"}, no_log=True),
    ])
    assert result.rc == 0, result.output
    assert changed(result, "create", "again") == [True, False]
    assert result.task("create")["secret_changed"] is True
    provider = api.authentik.state()["providers"][0]
    ref = provider["client_secret_ref"]
    assert provider["client_secret"] == chosen and target.read_text() == chosen
    assert [(m, p) for m, p, _b in writes(api)] == [("POST", "/api/v3/providers/oauth2/"),
                                                    ("PATCH", "/api/v3/secrets/secrets/%s/" % ref)]
    assert "client_secret" not in writes(api)[0][2]
    assert_no_secret(result, chosen)

    # a new secret is written into the Secret object, the provider itself is not touched
    api.authentik.clear_log()
    rotated = play(tasks=[task("rotate", PROVIDER, dict(args, client_secret="Rotated" + "r" * 50))])
    assert rotated.task("rotate")["changes"] == ["client_secret"] and rotated.task("rotate")["secret_changed"]
    assert writes(api) == [("PATCH", "/api/v3/secrets/secrets/%s/" % ref, {"value": "Rotated" + "r" * 50})]

    # the role: the secret Cloudflare gets is read through the Secret, the test module compares it
    first = play([role_task(cloudflare_access_name="CF Secret")])
    assert first.rc == 0, first.output
    assert first.task("Test the login method")["passed"] is True
    secret = next(p for p in api.authentik.state()["providers"] if p["name"] == "CF Secret")["client_secret"]
    (idp,) = [i for items in api.cloudflare.state()["identity_providers"].values() for i in items
              if i.get("name") == "authentik (CF Secret)"]
    assert idp["config"]["client_secret"] == secret
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    again = play([role_task(cloudflare_access_name="CF Secret")])
    assert again.rc == 0 and again.changed == 0, again.output
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []
    assert_no_secret(again, secret)
