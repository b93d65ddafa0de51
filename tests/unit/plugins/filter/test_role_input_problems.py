"""The role's input checks (filter role_input_problems): each rule, each message naming the role variable and the
environment variable that can set it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.idpbridge.authentik_cloudflare.plugins.filter.role_input_problems import (
    FilterModule, role_input_problems,
)

ROLE = Path(__file__).resolve().parents[4] / "roles" / "cloudflare_access"
SPEC = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
ENVIRONMENT = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["cloudflare_access_environment_variables"]
ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "t0ken-value-123456"


def good(**changes):
    """The role's variables as a run that sends nothing wrong sees them (defaults of the spec, connection set)."""
    values = dict.fromkeys(SPEC)
    values.update(cloudflare_access_state="present", cloudflare_access_name="Cloudflare Access",
                  cloudflare_access_slug="cloudflare-access", cloudflare_access_authentik_url="https://auth.example.com",
                  cloudflare_access_authentik_token=TOKEN, cloudflare_access_cloudflare_api_token=TOKEN,
                  cloudflare_access_cloudflare_account_id=ACCOUNT)
    values.update(("cloudflare_access_" + key, value) for key, value in changes.items())
    return values


def problems(environ=None, **changes):
    return role_input_problems(good(**changes), SPEC, ENVIRONMENT, environ=environ or {})


def test_good_inputs_have_no_problem_and_the_filter_is_registered():
    assert problems() == []
    assert problems(authentik_url="http://127.0.0.1:8000", authentik_public_url="https://auth.example.com",
                    cloudflare_api_url="http://localhost:8001", team_domain="https://myteam.cloudflareaccess.com/",
                    test_username="alice", test_password="pw") == []
    assert FilterModule().filters()["role_input_problems"] is role_input_problems


def test_the_environment_fills_what_the_role_variables_leave_empty():
    environ = {"AUTHENTIK_URL": "https://auth.example.com", "AUTHENTIK_TOKEN": TOKEN, "CLOUDFLARE_API_TOKEN": TOKEN,
               "CLOUDFLARE_ACCOUNT_ID": ACCOUNT.upper()}
    assert problems(environ, authentik_url="", authentik_token="", cloudflare_api_token="",
                    cloudflare_account_id=None) == []
    # the legacy global API key has no role variable: the environment alone gives it
    assert problems({"CLOUDFLARE_EMAIL": "a@b.example", "CLOUDFLARE_API_KEY": "k" * 37}, cloudflare_api_token="") == []


@pytest.mark.parametrize("changes, environ, words", [
    ({"authentik_url": ""}, {}, ["cloudflare_access_authentik_url (or AUTHENTIK_URL) is not set", "https://auth.example.com"]),
    ({"authentik_url": "auth.example.com"}, {}, ["cloudflare_access_authentik_url (or AUTHENTIK_URL) must be an absolute"]),
    ({"authentik_url": "https://auth.example.com/?x=1"}, {}, ["cloudflare_access_authentik_url", "query string"]),
    ({"authentik_url": ""}, {"AUTHENTIK_URL": "https://auth.example.com/if/admin/"},
     ["cloudflare_access_authentik_url (or AUTHENTIK_URL)", "web interface", "such as https://auth.example.com."]),
    ({"authentik_token": None}, {}, ["cloudflare_access_authentik_token (or AUTHENTIK_TOKEN) is not set", "intent API"]),
    ({"authentik_token": "abc def"}, {}, ["cloudflare_access_authentik_token (or AUTHENTIK_TOKEN) contains white space"]),
    ({"cloudflare_api_token": ""}, {}, ["cloudflare_access_cloudflare_api_token (or CLOUDFLARE_API_TOKEN) is not set",
                                        "Groups Write", "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY"]),
    ({"cloudflare_api_token": ""}, {"CLOUDFLARE_EMAIL": "a@b.example"}, ["needs both CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY"]),
    ({"cloudflare_api_token": "abc def"}, {}, ["cloudflare_access_cloudflare_api_token (or CLOUDFLARE_API_TOKEN) contains white space"]),
    ({"cloudflare_account_id": ""}, {}, ["cloudflare_access_cloudflare_account_id (or CLOUDFLARE_ACCOUNT_ID) is not set",
                                         "32 hexadecimal"]),
    ({"cloudflare_account_id": "my-account"}, {}, ["cloudflare_access_cloudflare_account_id (or CLOUDFLARE_ACCOUNT_ID) must be the 32 hexadecimal"]),
    ({}, {"CLOUDFLARE_API_URL": "api.cloudflare.com/client/v4"},
     ["cloudflare_access_cloudflare_api_url (or CLOUDFLARE_API_URL) must be an absolute", "https://api.cloudflare.com/client/v4"]),
    ({"name": " "}, {}, ["cloudflare_access_name is empty and gives no slug"]),
    ({"name": "!!!", "slug": ""}, {}, ["cloudflare_access_slug", "not a valid authentik slug", "cloudflare_access_name"]),
    ({"slug": "my app"}, {}, ["cloudflare_access_slug may hold only", "not a valid authentik slug"]),
    ({"slug": "token"}, {}, ["cloudflare_access_slug 'token' is reserved"]),
    ({"slug": "x" * 51}, {}, ["cloudflare_access_slug must be at most 50"]),
    ({"authentik_public_url": "http://auth.example.com"}, {},
     ["cloudflare_access_authentik_public_url (or, when unset, cloudflare_access_authentik_url / AUTHENTIK_URL)", "https://"]),
    ({"authentik_url": "http://auth.example.com"}, {}, ["cloudflare_access_authentik_public_url", "https://"]),
    ({"client_secret": "S" * 40, "rotate_secret": True}, {},
     ["cloudflare_access_client_secret and cloudflare_access_rotate_secret are both set"]),
    ({"test_username": "alice"}, {}, ["cloudflare_access_test_username and cloudflare_access_test_password go together"]),
    ({"test_password": "pw"}, {}, ["go together"]),
    ({"team_domain": "my team"}, {}, ["cloudflare_access_team_domain 'my team' is not a host name"]),
    ({"team_domain": "*.example.com"}, {}, ["is not a host name"]),
])
def test_each_rule_names_the_variable(changes, environ, words):
    found = problems(environ, **changes)
    assert len(found) == 1, found
    for word in words:
        assert word in found[0], (word, found)
    assert found[0].endswith(".")


def test_the_rules_of_state_present_do_not_apply_to_a_removal():
    assert problems(state="absent", authentik_public_url="http://auth.example.com", test_username="alice",
                    client_secret="S" * 40, rotate_secret=True, team_domain="my team") == []


def test_wrong_types_and_choices_are_reported_alone_in_one_short_message():
    found = problems(state="presnt", rotate_secret="maybe", authentik_token="")
    assert len(found) == 1
    assert "cloudflare_access_state" in found[0] and "present, absent" in found[0]
    assert "cloudflare_access_rotate_secret" in found[0] and "bool" in found[0]
    assert found[0].endswith("Fix these role variables (see the role README).")


def test_a_secret_in_a_type_message_is_masked():
    """The role's secrets are strings (any value converts), so a spec of one no_log number shows the masking."""
    spec = {"cloudflare_access_pin": {"type": "int", "no_log": True}}
    found = role_input_problems({"cloudflare_access_pin": "s3cret-value"}, spec, environ={})
    assert len(found) == 1 and "cloudflare_access_pin" in found[0] and "int" in found[0], found
    assert "s3cret-value" not in found[0] and "********" in found[0], found


def test_several_problems_each_once_and_no_token_in_them():
    found = problems(authentik_token="abc def", cloudflare_api_token="two " + TOKEN, cloudflare_account_id="x")
    assert len(found) == 3
    assert not any(TOKEN in text or "abc def" in text for text in found)


def test_wrong_arguments_fail_the_filter():
    with pytest.raises(AnsibleFilterError):
        role_input_problems(["cloudflare_access_name"], SPEC)
