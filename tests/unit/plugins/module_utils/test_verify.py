"""The login method test's pieces that take data: the report and its summary, the tls check, the scim check."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _scim_check
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._signin import HttpFailure
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._verify_report import (
    CHECKS,
    Report,
    summary,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._verify_tls import check_tls


class _Http:
    """Answers GETs; an origin in ``broken`` fails TLS."""

    def __init__(self, broken=()):
        self.broken = broken
        self.sent = []

    def request(self, method, url):
        self.sent.append((method, url))
        if any(url.startswith(origin) for origin in self.broken):
            raise HttpFailure("TLS failed for %s: certificate verify failed" % url, tls=True)


URLS = [("auth_url", "https://auth.example.com/application/o/authorize/"),
        ("token_url", "https://auth.example.com/application/o/token/"),
        ("certs_url", "https://keys.example.com/jwks/")]


def test_tls_reaches_each_origin_not_reached_yet_once():
    report, http = Report(), _Http()
    reached = {"https://keys.example.com": True}
    check_tls(report, URLS, reached, http)
    assert http.sent == [("GET", "https://auth.example.com/application/o/authorize/")]
    assert report.status("tls") == "passed"
    assert "https://auth.example.com, https://keys.example.com verified" in report.results["tls"]["reason"]


def test_tls_names_the_broken_origin_and_the_unverified_certificate():
    report = Report()
    check_tls(report, URLS, {}, _Http(broken=("https://keys.example.com",)))
    assert report.status("tls") == "failed"
    assert report.results["tls"]["reason"].startswith("https://keys.example.com: TLS failed")
    report = Report()
    check_tls(report, URLS, {}, _Http(), validate_certs=False)
    assert "authentik_validate_certs=false" in report.results["tls"]["reason"]


@pytest.mark.parametrize("require_tls, status", [(True, "failed"), (False, "skipped")])
def test_tls_plain_http_fails_unless_allowed(require_tls, status):
    report, http = Report(), _Http()
    check_tls(report, URLS + [("the discovery document", "http://auth.example.com/x")], {}, http,
              require_tls=require_tls)
    assert report.status("tls") == status and http.sent == []
    assert "the discovery document (http://auth.example.com/x)" in report.results["tls"]["reason"]


def test_scim_check_takes_data_and_records_its_check(monkeypatch):
    calls = []

    def compare(ak, cf, idp_id, provider_name):
        calls.append((ak, cf, idp_id, provider_name))
        return False, "SCIM users and groups differ", {"missing_users": ["dave"]}

    monkeypatch.setattr(_scim_check, "compare", compare)
    report = Report(CHECKS + ("scim",))
    _scim_check.check_scim(report, "ak", "cf", "idp-1", "scim")
    assert calls == [("ak", "cf", "idp-1", "scim")]
    assert report.results["scim"] == {"name": "scim", "status": "failed", "reason": "SCIM users and groups differ"}
    assert report.out["scim"] == {"missing_users": ["dave"]}
    _scim_check.check_scim(report, "ak", "cf", "idp-1", None)
    assert len(calls) == 1

    def cannot_tell(*_args):
        raise _scim_check.CannotTell("policy bindings")

    monkeypatch.setattr(_scim_check, "compare", cannot_tell)
    report = Report(CHECKS + ("scim",))
    _scim_check.check_scim(report, "ak", "cf", "idp-1", "scim")
    assert report.status("scim") == "skipped" and "scim" not in report.out


def test_summary_names_the_first_broken_link():
    report = Report(("a", "b", "c"))
    report.out["client_id"] = "x"
    report.ok("a", "fine")
    report.fail("b", "broken")
    msg, result = summary(report, report.out)
    assert msg == "The login method is broken at b: broken (1 of 2 checks failed: b)"
    assert result["passed"] is False and result["failed_checks"] == ["b"] and result["client_id"] == "x"
    assert result["checks"][2] == {"name": "c", "status": "skipped", "reason": "not reached"}
    report.ok("b", "fixed")
    assert summary(report, report.out)[0] == "All 2 checks passed (1 skipped: c)"
