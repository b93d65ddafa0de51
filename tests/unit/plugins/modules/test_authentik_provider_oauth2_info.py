"""authentik_provider_oauth2_info: the secret only under no_log, provider description, docs."""

from __future__ import annotations

from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.plugins.modules.authentik_module_support import (
    check_docs_match_spec, docs, fragment_options, load, run_main, runtime_group,
)

mod = load("authentik_provider_oauth2_info")

PROVIDER = {"pk": 9, "name": "cf", "client_id": "cid", "client_secret": "s3cret-value-xyz",
            "assigned_application_slug": "cf-access", "issuer_mode": "per_provider"}


def test_docs_match_the_argument_spec_and_the_action_group():
    doc = check_docs_match_spec("authentik_provider_oauth2_info", fragment_options())
    assert "idpbridge.authentik_cloudflare._attributes.info_module" in doc["extends_documentation_fragment"]
    assert "authentik_provider_oauth2_info" in runtime_group("authentik")
    _doc, examples, _returns = docs(mod)
    secret_tasks = [t for t in examples if (t.get(mod.__name__.rsplit(".", 1)[0].replace(
        "ansible_collections.", "").replace(".plugins.modules", "") + ".authentik_provider_oauth2_info") or {})
        .get("include_secret")]
    assert secret_tasks and all(t.get("no_log") is True for t in secret_tasks), "every example reading the secret uses no_log"


def test_describe_provider_masks_unless_asked():
    masked = mod.describe_provider(PROVIDER, "https://auth.example.com", False)
    assert masked["client_secret"] == "********" and PROVIDER["client_secret"] == "s3cret-value-xyz"
    assert masked["application"] == "cf-access"
    assert masked["endpoints"]["jwks"] == "https://auth.example.com/application/o/cf-access/jwks/"
    clear = mod.describe_provider(PROVIDER, "https://auth.example.com", True)
    assert clear["client_secret"] == "s3cret-value-xyz"
    unbound = mod.describe_provider(dict(PROVIDER, assigned_application_slug=None), "https://a.example", False)
    assert unbound["application"] is None and "jwks" not in unbound["endpoints"]


def test_include_secret_without_no_log_is_refused_before_any_request(capsys):
    out = run_main(mod, {"url": "http://127.0.0.1:9", "token": "t0ken-123456", "name": "cf", "include_secret": True},
                   capsys)
    assert out["failed"] is True and out["msg"] == mod.NO_LOG_NEEDED
