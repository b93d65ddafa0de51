"""authentik_provider_oauth2: pure helpers, docs and argument checks."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.plugins.modules.authentik_module_support import (
    check_docs_match_spec, fragment_options, load, run_main, runtime_group,
)

mod = load("authentik_provider_oauth2")

CALLBACK = "https://team.cloudflareaccess.com/cdn-cgi/access/callback"


def test_docs_match_the_argument_spec_and_the_action_group():
    doc = check_docs_match_spec("authentik_provider_oauth2", fragment_options())
    assert "authentik_provider_oauth2" in runtime_group("authentik")
    assert "idpbridge.authentik_cloudflare._authentik.actiongroup" in doc["extends_documentation_fragment"]


@pytest.mark.parametrize("entries, with_type, expected", [
    ([CALLBACK], False, [{"matching_mode": "strict", "url": CALLBACK}]),
    ([CALLBACK], True, [{"matching_mode": "strict", "url": CALLBACK, "redirect_uri_type": "authorization"}]),
    ([{"url": "https://a/.*", "matching_mode": "regex"}], False, [{"matching_mode": "regex", "url": "https://a/.*"}]),
    ([{"url": "https://a/", "redirect_uri_type": "logout"}], True,
     [{"matching_mode": "strict", "url": "https://a/", "redirect_uri_type": "logout"}]),
    ([{"url": "https://a/", "redirect_uri_type": "logout"}], False, [{"matching_mode": "strict", "url": "https://a/"}]),
    (None, True, []),
])
def test_normalize_redirect_uris(entries, with_type, expected):
    assert mod.normalize_redirect_uris(entries, with_type) == expected


@pytest.mark.parametrize("entries, message", [
    ([""], "redirect_uris[0] is empty"),
    ([5], "must be a URL string or a dictionary"),
    ([{"matching_mode": "strict"}], "must be a URL string or a dictionary"),
    ([CALLBACK, {"url": CALLBACK, "mode": "x"}], "redirect_uris[1] has unknown keys: mode"),
    ([{"url": CALLBACK, "matching_mode": "exact"}], "matching_mode must be strict or regex"),
    ([{"url": CALLBACK, "redirect_uri_type": "post"}], "redirect_uri_type must be authorization or logout"),
    ([{"url": "https://(", "matching_mode": "regex"}], "is not a valid regular expression"),
])
def test_check_redirect_uris_rejects(entries, message):
    with pytest.raises(ValueError) as info:
        mod.check_redirect_uris(entries)
    assert message in str(info.value)


def test_check_redirect_uris_accepts():
    mod.check_redirect_uris([CALLBACK, {"url": "https://[a-z]+\\.example\\.com/", "matching_mode": "regex"}])
    mod.check_redirect_uris(None)


@pytest.mark.parametrize("value, ok", [
    ("hours=1", True), ("minutes=5;seconds=30", True), ("days=30", True), ("weeks=1;days=2;", True),
    ("forever", False), ("hours=", False), ("hours=1 minutes=2", False), ("1h", False),
])
def test_duration_format(value, ok):
    assert bool(mod.DURATION.match(value)) is ok


def test_credentials_limits_never_show_the_secret():
    mod.check_credentials({"client_id": "x" * 255, "client_secret": "y" * 255})
    with pytest.raises(ValueError, match="client_id must be 1 to 255 characters long, got 0"):
        mod.check_credentials({"client_id": ""})
    with pytest.raises(ValueError) as info:
        mod.check_credentials({"client_secret": "S3CRET" * 50})
    assert "S3CRET" not in str(info.value) and "got 300" in str(info.value)


def test_invalid_options_fail_before_any_request(capsys):
    out = run_main(mod, {"url": "http://127.0.0.1:9", "token": "t0ken-123456", "name": "x",
                         "access_token_validity": "forever"}, capsys)
    assert out["failed"] is True and "access_token_validity must look like hours=1" in out["msg"]
