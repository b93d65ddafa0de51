"""authentik_application: loose icon comparison, option checks, docs."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.plugins.modules.authentik_module_support import (
    check_docs_match_spec, fragment_options, load, run_main, runtime_group,
)

mod = load("authentik_application")
ICON = "https://cdn.example.com/icons/app.png"


def test_docs_match_the_argument_spec_and_the_action_group():
    check_docs_match_spec("authentik_application", fragment_options())
    assert "authentik_application" in runtime_group("authentik")


@pytest.mark.parametrize("have, want, same", [
    (ICON, ICON, True),
    (ICON + "?X-Amz-Signature=abc", ICON, True),
    (ICON + "#x", ICON, True),
    ("HTTPS://CDN.EXAMPLE.COM/icons/app.png", ICON, True),
    (ICON + "/", ICON, True),
    ("https://s3.example.net/bucket/icons/app.png?sig=1", ICON, True),
    ("/files/media/public/icons/app.png", ICON, True),
    ("https://cdn.example.com/icons/other.png", ICON, False),
    ("https://cdn.example.com/", "https://other.example.org/", False),
    ("", ICON, False),
    (None, ICON, False),
    ("", "", True),
    (None, "", True),
    (ICON, "", False),
    ("application-icons/app.png", "application-icons/app.png", True),
])
def test_icon_matches(have, want, same):
    assert mod.icon_matches(have, want) is same


def test_current_icon_uses_either_server_value():
    assert mod.current_icon({"meta_icon": "", "meta_icon_url": None}, ICON) == ""
    assert mod.current_icon({"meta_icon": None}, None) == ""
    signed = {"meta_icon": "icons/app.png", "meta_icon_url": "https://s3.example.net/icons/app.png?sig=1"}
    assert mod.current_icon(signed, ICON) == ICON
    assert mod.current_icon(signed, "https://cdn.example.com/x.png") == "icons/app.png"
    assert mod.current_icon({"meta_icon": ICON}, None) == ICON


def test_is_oauth2():
    assert mod.is_oauth2({"component": "ak-provider-oauth2-form"})
    assert mod.is_oauth2({"meta_model_name": "authentik_providers_oauth2.oauth2provider"})
    assert not mod.is_oauth2({"component": "ak-provider-proxy-form"})
    assert not mod.is_oauth2(None)


@pytest.mark.parametrize("params, message", [
    ({"slug": "has space"}, "slug may hold only letters, digits"),
    ({"slug": "x" * 51}, "at most 50 characters"),
    ({"slug": "token"}, "reserved"),
    ({"slug": "ok", "name": ""}, "name must not be empty"),
    ({"slug": "ok", "public_url": "auth.example.com"}, "public_url must be an absolute http(s) URL"),
])
def test_check_options(params, message):
    with pytest.raises(ValueError) as info:
        mod.check_options(params)
    assert message in str(info.value)


def test_bound_elsewhere_message_names_the_other_application():
    text = mod.bound_elsewhere_message("cf", "first-app", "First app", "second")
    assert "'cf' is already bound to the application 'First app' (slug 'first-app')" in text
    assert "give the application 'second' another provider" in text


def test_bad_slug_fails_before_any_request(capsys):
    out = run_main(mod, {"url": "http://127.0.0.1:9", "token": "t0ken-123456", "slug": "a b"}, capsys)
    assert out["failed"] is True and "slug may hold only" in out["msg"]
