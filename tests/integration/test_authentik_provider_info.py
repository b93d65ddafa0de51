"""authentik_provider_oauth2_info against the authentik test server, with real ansible-playbook runs."""

from __future__ import annotations

from authentik_support import (
    PROVIDER,
    PROVIDER_INFO,
    assert_no_secret,
    create_application,
    create_provider,
    task,
)


def stored(api, name):
    return next(p for p in api.authentik.state()["providers"] if p["name"] == name)


def test_one_provider_with_application_and_endpoints_in_check_mode(api, play):
    provider = create_provider(api, "cf-provider", issuer_mode="per_provider")
    create_application(api, "cf-access", provider["pk"])
    api.authentik.clear_log()
    public = "https://auth.example.com"
    result = play(tasks=[task("info", PROVIDER_INFO, {"name": "cf-provider", "public_url": public}),
                         task("missing", PROVIDER_INFO, {"name": "no-such-provider"})],
                  check=True, diff=True, verbosity=4)
    assert result.rc == 0, result.output
    info, missing = result.task("info"), result.task("missing")
    assert info["changed"] is False and len(info["providers"]) == 1
    one = info["providers"][0]
    assert "provider" not in info and "found" not in info, "the provider once, in the list"
    assert one["pk"] == provider["pk"] and one["client_id"] == provider["client_id"]
    assert one["client_secret"] == "********"
    assert one["application"] == "cf-access"
    assert one["endpoints"]["jwks"] == public + "/application/o/cf-access/jwks/"
    assert one["endpoints"]["token"] == public + "/application/o/token/"
    assert "client_secret" not in info
    assert missing["providers"] == [] and "provider" not in missing
    assert missing["msg"] == "authentik OAuth2 provider 'no-such-provider' does not exist"
    assert api.authentik.writes() == []
    assert [r["path"] for r in api.authentik.requests()] == ["/api/v3/providers/oauth2/"] * 2
    assert_no_secret(result, stored(api, "cf-provider")["client_secret"])


def test_all_providers_over_every_page(api, play):
    api.authentik.config(page_size=2)
    for index in range(5):
        create_provider(api, "provider-%d" % index)
    api.authentik.clear_log()
    result = play(tasks=[task("all", PROVIDER_INFO, {})])
    everything = result.task("all")
    assert [p["name"] for p in everything["providers"]] == ["provider-%d" % i for i in range(5)]
    assert all(p["client_secret"] == "********" and p["application"] is None for p in everything["providers"])
    assert "issuer" not in everything["providers"][0]["endpoints"]
    assert everything["msg"] == "5 authentik OAuth2 provider(s) found"
    assert [r["query"]["page"] for r in api.authentik.requests()] == [["1"], ["2"], ["3"]]


def test_include_secret_needs_no_log(api, play):
    create_provider(api, "cf-provider")
    api.authentik.clear_log()
    result = play(tasks=[task("secret", PROVIDER_INFO, {"name": "cf-provider", "include_secret": True},
                              ignore_errors=True)], verbosity=4)
    assert result.task("secret")["msg"].startswith("include_secret=true returns the client secret in clear, so this "
                                                   "task must set no_log: true")
    assert api.authentik.requests() == [], "nothing was read"
    assert_no_secret(result, stored(api, "cf-provider")["client_secret"])


def test_include_secret_hands_the_secret_to_a_later_task_and_shows_it_nowhere(api, play, tmp_path):
    play(tasks=[task("provider", PROVIDER, {"name": "cf-provider", "redirect_uris": []})])
    secret = stored(api, "cf-provider")["client_secret"]
    target = tmp_path / "secret.txt"
    result = play(tasks=[
        task("read", PROVIDER_INFO, {"name": "cf-provider", "include_secret": True}, register="provider_secret",
             no_log=True),
        task("all", PROVIDER_INFO, {"include_secret": True}, register="everything", no_log=True),
        task("hand over", "ansible.builtin.copy", {"content": "{{ provider_secret.providers[0].client_secret }}",
                                                   "dest": str(target), "mode": "0600"}, no_log=True),
        task("check", "ansible.builtin.assert", {"that": [
            "provider_secret.providers | length == 1 and provider_secret.client_secret is not defined",
            "everything.providers[0].client_secret == provider_secret.providers[0].client_secret",
            "provider_secret.changed == false"], "quiet": True}),
    ], check=False, verbosity=4, diff=True)
    assert result.rc == 0, result.output
    assert target.read_text() == secret
    assert_no_secret(result, secret)
    assert api.authentik.writes()[-1]["method"] == "POST", "only the provider's creation wrote"


def test_a_bad_token_is_reported_without_the_token(api, play):
    wrong = "wrong-token-0123456789abcdef"
    result = play(tasks=[task("info", PROVIDER_INFO, {"name": "x"}, ignore_errors=True)], env={"AUTHENTIK_TOKEN": wrong},
                  verbosity=4)
    message = result.task("info")["msg"]
    assert message.startswith("Could not look up OAuth2 provider named 'x': GET /providers/oauth2/?name=x&page=1 "
                              "returned HTTP 403: Token invalid/expired. Check the authentik token")
    assert result.task("info")["status"] == 403
    assert_no_secret(result, wrong)
