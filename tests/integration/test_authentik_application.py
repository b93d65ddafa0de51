"""authentik_application against the authentik test server, with real ansible-playbook runs."""

from __future__ import annotations

from authentik_support import (
    APPLICATION,
    CALLBACK,
    PROVIDER,
    assert_no_secret,
    counts,
    create_application,
    create_provider,
    task,
    writes,
)

APP = {"slug": "cf-access", "name": "Cloudflare Access", "provider": "cf-provider"}
PROVIDER_TASK = task("provider", PROVIDER, {"name": "cf-provider", "redirect_uris": [CALLBACK]})
ICON = "https://cdn.example.com/icons/cloudflare.png"


def app_state(api, slug="cf-access"):
    return next((a for a in api.authentik.state()["applications"] if a["slug"] == slug), None)


def test_check_create_rerun_diff_and_endpoints(api, play):
    play(tasks=[PROVIDER_TASK])
    api.authentik.clear_log()
    checked = play(tasks=[task("app", APPLICATION, APP)], check=True, diff=True)
    assert checked.rc == 0, checked.output
    predicted = checked.task("app")
    assert predicted["changed"] is True and predicted["end_state"]["pk"] is None
    assert writes(api) == []
    check_reads = counts(api.authentik.requests())

    api.authentik.clear_log()
    result = play(tasks=[task("app", APPLICATION, APP), task("again", APPLICATION, APP)], diff=True)
    assert result.rc == 0, result.output
    created, again = result.task("app"), result.task("again")
    assert created["changed"] is True and again["changed"] is False
    assert created["diff"] == predicted["diff"]
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"]["provider"] == app_state(api)["provider"]
    sent = writes(api)
    assert sent == [("POST", "/api/v3/core/applications/",
                     {"slug": "cf-access", "name": "Cloudflare Access", "provider": app_state(api)["provider"]})]
    stored = app_state(api)
    assert created["end_state"]["pk"] == stored["pk"] == again["end_state"]["pk"] and created["end_state"]["slug"] == "cf-access"
    # the endpoints Cloudflare needs, from the bound provider
    base = api.info["authentik_url"]
    assert created["endpoints"]["jwks"] == base + "/application/o/cf-access/jwks/"
    assert created["endpoints"]["issuer"] == base + "/application/o/cf-access/"
    assert predicted["endpoints"] == created["endpoints"]
    # requests: the application by slug and the provider by name (no version read, no icon)
    assert check_reads == {"GET": 2}
    assert counts(api.authentik.requests()) == {"GET": 4, "POST": 1}
    assert not [r for r in api.authentik.requests() if r["path"] == "/api/v3/core/applications/"
                and r["method"] == "GET"], "the application list is never read"

    # check mode on existing state
    api.authentik.clear_log()
    changed = dict(APP, meta_launch_url="https://team.cloudflareaccess.com/")
    checked = play(tasks=[task("same", APPLICATION, APP), task("change", APPLICATION, changed)], check=True, diff=True)
    assert checked.task("same")["changed"] is False
    predicted = checked.task("change")
    assert predicted["changed"] is True and predicted["changes"] == ["meta_launch_url"]
    assert writes(api) == []
    real = play(tasks=[task("change", APPLICATION, changed)], diff=True)
    assert real.task("change")["diff"] == predicted["diff"]
    assert predicted["diff"]["before"]["meta_launch_url"] == ""
    assert predicted["diff"]["after"]["meta_launch_url"] == "https://team.cloudflareaccess.com/"
    assert writes(api) == [("PATCH", "/api/v3/core/applications/cf-access/",
                            {"meta_launch_url": "https://team.cloudflareaccess.com/"})]


def test_each_field_change_sends_one_patch_with_only_that_field(api, play):
    other = create_provider(api, "cf-provider-2")
    steps = [
        ("name", "Renamed", "Renamed"),
        ("group", "Security", "Security"),
        ("policy_engine_mode", "all", "all"),
        ("meta_launch_url", "https://team.cloudflareaccess.com/", "https://team.cloudflareaccess.com/"),
        ("meta_description", "Log in to Cloudflare Access", "Log in to Cloudflare Access"),
        ("meta_publisher", "idpbridge", "idpbridge"),
        ("open_in_new_tab", True, True),
        ("meta_icon", ICON, ICON),
        ("provider", "cf-provider-2", other["pk"]),
        ("provider", "", None),
        ("meta_icon", "", ""),
    ]
    tasks = [PROVIDER_TASK, task("create", APPLICATION, APP)]
    args = dict(APP)
    for index, (field, value, _body) in enumerate(steps):
        args = dict(args)
        args[field] = value
        tasks.append(task("step %d %s" % (index, field), APPLICATION, args))
    tasks.append(task("rerun", APPLICATION, args))
    api.authentik.clear_log()
    result = play(tasks=tasks)
    assert result.rc == 0, result.output
    sent = [w for w in writes(api) if w[1].startswith("/api/v3/core/applications/")]
    assert sent[0][0] == "POST"
    patches = sent[1:]
    assert len(patches) == len(steps), patches
    for index, ((field, _value, body_value), (method, path, body)) in enumerate(zip(steps, patches)):
        outcome = result.task("step %d %s" % (index, field))
        assert (method, path) == ("PATCH", "/api/v3/core/applications/cf-access/")
        assert body == {field: body_value}, (field, body)
        assert outcome["changed"] is True and outcome["changes"] == [field]
    assert result.task("rerun")["changed"] is False
    assert result.task("step 8 provider")["endpoints"]["jwks"].endswith("/application/o/cf-access/jwks/")
    assert result.task("step 9 provider")["endpoints"] == {}
    stored = app_state(api)
    assert stored["provider"] is None and stored["open_in_new_tab"] is True and stored["name"] == "Renamed"


def test_icon_compares_loosely_and_never_changes_every_run(api, play):
    play(tasks=[PROVIDER_TASK, task("app", APPLICATION, dict(APP, meta_icon=ICON))])
    # authentik (or its object storage) hands back a rewritten, signed address
    signed = ICON.replace("https://cdn.example.com", "https://s3.example.net/bucket") + "?X-Amz-Signature=abc&X-Amz-Expires=300"
    assert api.authentik.call("PATCH", "/core/applications/cf-access/", json={"meta_icon": signed}).status_code == 200
    api.authentik.clear_log()
    result = play(tasks=[task("again", APPLICATION, dict(APP, meta_icon=ICON)),
                         task("again 2", APPLICATION, dict(APP, meta_icon=ICON + "#fragment"))])
    assert result.task("again")["changed"] is False and result.task("again 2")["changed"] is False
    assert writes(api) == []
    # a different icon is a change
    result = play(tasks=[task("new icon", APPLICATION, dict(APP, meta_icon="https://cdn.example.com/other.png"))])
    assert result.task("new icon")["changes"] == ["meta_icon"]
    assert writes(api) == [("PATCH", "/api/v3/core/applications/cf-access/",
                            {"meta_icon": "https://cdn.example.com/other.png"})]


def test_icon_on_a_release_before_2025_12_goes_through_set_icon_url(api, play):
    api.authentik.config(version="2025.10.3")
    result = play(tasks=[PROVIDER_TASK,
                         task("app", APPLICATION, dict(APP, meta_icon=ICON)),
                         task("again", APPLICATION, dict(APP, meta_icon=ICON)),
                         task("icon only", APPLICATION, dict(APP, meta_icon=ICON.replace("cloudflare", "cf"))),
                         task("icon and name", APPLICATION, dict(APP, name="New", meta_icon=ICON))],
                  diff=True)
    assert result.rc == 0, result.output
    assert result.task("app")["changed"] and not result.task("again")["changed"]
    assert result.task("icon only")["changes"] == ["meta_icon"]
    assert sorted(result.task("icon and name")["changes"]) == ["meta_icon", "name"]
    app_writes = [w for w in writes(api) if w[1].startswith("/api/v3/core/applications/")]
    assert app_writes == [
        ("POST", "/api/v3/core/applications/", {"slug": "cf-access", "name": "Cloudflare Access",
                                                "provider": result.task("provider")["end_state"]["pk"]}),
        ("POST", "/api/v3/core/applications/cf-access/set_icon_url/", {"url": ICON}),
        ("POST", "/api/v3/core/applications/cf-access/set_icon_url/", {"url": ICON.replace("cloudflare", "cf")}),
        ("PATCH", "/api/v3/core/applications/cf-access/", {"name": "New"}),
        ("POST", "/api/v3/core/applications/cf-access/set_icon_url/", {"url": ICON}),
    ]
    assert app_state(api)["meta_icon"] == ICON


def test_provider_bound_to_another_application_fails_before_writing(api, play):
    result = play(tasks=[PROVIDER_TASK, task("first", APPLICATION, dict(APP, slug="first-app", name="First app"))])
    assert result.rc == 0, result.output
    api.authentik.clear_log()
    result = play(tasks=[task("second", APPLICATION, APP, ignore_errors=True),
                         task("second check", APPLICATION, APP, ignore_errors=True, check_mode=True)])
    message = result.task("second")["msg"]
    assert message.startswith("The authentik OAuth2 provider 'cf-provider' is already bound to the application "
                              "'First app' (slug 'first-app')")
    assert result.task("second check")["msg"] == message
    assert writes(api) == []
    assert app_state(api) is None


def test_the_servers_400_on_provider_becomes_the_same_message(api, play):
    # The provider looks free when read, and is taken by another application before the write.
    play(tasks=[PROVIDER_TASK])
    provider = api.authentik.call("GET", "/providers/oauth2/", params={"name": "cf-provider"}).json()
    create_application(api, "first-app", provider["results"][0]["pk"], name="First app")
    api.authentik.fault(method="GET", path="^/api/v3/providers/oauth2/$", status=200, body=provider, count=1)
    api.authentik.clear_log()
    result = play(tasks=[task("second", APPLICATION, APP, ignore_errors=True)])
    failed = result.task("second")
    assert failed["msg"].startswith("The authentik OAuth2 provider 'cf-provider' is already bound to the application "
                                    "'First app' (slug 'first-app')")
    assert [(r["method"], r["status"]) for r in api.authentik.writes()] == [("POST", 400)]


def test_absent_twice(api, play):
    result = play(tasks=[PROVIDER_TASK, task("app", APPLICATION, APP),
                         task("absent check", APPLICATION, {"slug": "cf-access", "state": "absent"}, check_mode=True),
                         task("absent", APPLICATION, {"slug": "cf-access", "state": "absent"}),
                         task("absent again", APPLICATION, {"slug": "cf-access", "state": "absent"}),
                         task("provider stays", PROVIDER, {"name": "cf-provider", "redirect_uris": [CALLBACK]})],
                  diff=True)
    assert result.rc == 0, result.output
    assert result.task("absent check")["changed"] and result.task("absent check")["diff"] == result.task("absent")["diff"]
    assert result.task("absent")["changed"] and not result.task("absent again")["changed"]
    assert result.task("absent again")["msg"] == "authentik application 'cf-access' is already absent"
    assert not result.task("provider stays")["changed"]
    assert [(m, p) for m, p, _b in writes(api) if "applications" in p] == [
        ("POST", "/api/v3/core/applications/"), ("DELETE", "/api/v3/core/applications/cf-access/")]


def test_lookup_failures_and_a_server_400(api, play):
    result = play(tasks=[
        task("no provider", APPLICATION, dict(APP, provider="no-such-provider"), ignore_errors=True),
        task("bad url", APPLICATION, dict(APP, provider="", meta_launch_url="not a url"), ignore_errors=True),
        task("bad slug", APPLICATION, dict(APP, slug="has space"), ignore_errors=True),
        task("reserved slug", APPLICATION, dict(APP, slug="token"), ignore_errors=True),
    ])
    assert result.task("no provider")["msg"].startswith("No authentik OAuth2 provider is named 'no-such-provider'")
    assert result.task("bad url")["msg"] == ("Could not create authentik application 'cf-access': POST /core/applications/ "
                                             "returned HTTP 400: meta_launch_url: Enter a valid URL.")
    assert "slug may hold only letters, digits" in result.task("bad slug")["msg"]
    assert "reserved" in result.task("reserved slug")["msg"]
    assert [r["status"] for r in api.authentik.writes()] == [400]


def test_the_application_list_cache_does_not_fool_the_module(api, play):
    provider = create_provider(api, "cf-provider")
    create_application(api, "app-a", name="A app")
    create_application(api, "cf-access", provider["pk"], name="Cloudflare Access")
    # The list answers from a per-user cache that ignores filters: ?slug=cf-access now says app-a.
    first = api.authentik.call("GET", "/core/applications/", params={"slug": "app-a"}).json()
    stale = api.authentik.call("GET", "/core/applications/", params={"slug": "cf-access"}).json()
    assert [a["slug"] for a in first["results"]] == ["app-a"]
    assert [a["slug"] for a in stale["results"]] == ["app-a"], "the server reproduces the cache"
    # and an application whose policies the caller fails is missing from the list altogether
    deny = api.authentik.call("GET", "/policies/all/", params={"search": "idpbridge-deny-all"}).json()["results"][0]
    api.authentik.call("POST", "/policies/bindings/", json={"target": app_state(api)["pk"], "policy": deny["pk"],
                                                            "order": 0})
    listed = api.authentik.call("GET", "/core/applications/").json()
    assert "cf-access" not in [a["slug"] for a in listed["results"]]
    api.authentik.clear_log()
    result = play(tasks=[task("app", APPLICATION, dict(APP, meta_description="found by slug")),
                         task("again", APPLICATION, dict(APP, meta_description="found by slug"))])
    assert result.rc == 0, result.output
    assert result.task("app")["changes"] == ["meta_description"]
    assert not result.task("again")["changed"]
    assert writes(api) == [("PATCH", "/api/v3/core/applications/cf-access/", {"meta_description": "found by slug"})]
    assert [a["slug"] for a in api.authentik.state()["applications"]] == ["app-a", "cf-access"]


def test_pagination_and_no_secret_at_vvvv(api, play):
    api.authentik.config(page_size=2)
    for index in range(5):
        create_provider(api, "provider-%d" % index)
    result = play(tasks=[PROVIDER_TASK, task("app", APPLICATION, APP), task("again", APPLICATION, APP)],
                  verbosity=4, diff=True)
    assert result.rc == 0, result.output
    assert not result.task("again")["changed"]
    provider = next(p for p in api.authentik.state()["providers"] if p["name"] == "cf-provider")
    assert app_state(api)["provider"] == provider["pk"]
    assert_no_secret(result, provider["client_secret"])


def test_icon_settles_when_the_version_cannot_be_read(api, play):
    # A token that may not read the version: a new application's fields tell how to set the icon, and an
    # existing application's fields tell it on every later run (no version read needed).
    create_provider(api, "cf-provider")
    for version, icon_call in (("2025.10.3", ("POST", "/api/v3/core/applications/%s/set_icon_url/")),
                               ("2026.8.5", ("PATCH", "/api/v3/core/applications/%s/"))):
        slug = "app-" + version.replace(".", "-")
        api.authentik.config(version=version)
        api.authentik.fault(method="GET", path="^/api/v3/admin/version/$", status=403, count=5,
                            body={"detail": "You do not have permission to perform this action."})
        api.authentik.clear_log()
        args = dict(APP, slug=slug, provider="", meta_icon=ICON)
        result = play(tasks=[task("app", APPLICATION, args), task("again", APPLICATION, args)])
        assert result.rc == 0, result.output
        assert result.task("app")["changed"] and not result.task("again")["changed"]
        app_writes = [(m, p) for m, p, _b in writes(api)]
        assert app_writes == [("POST", "/api/v3/core/applications/"), (icon_call[0], icon_call[1] % slug)], version
        assert app_state(api, slug)["meta_icon"] == ICON
        versions = [r for r in api.authentik.requests() if r["path"] == "/api/v3/admin/version/"]
        assert len(versions) == 1, "only the create needed the version"
        api.authentik.control("DELETE", "faults")
