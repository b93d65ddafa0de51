# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The report of the login method test: every check in chain order with its status and reason, the values
found on the way (``out``: ids, URLs, the ID token's claims, the sign-in trace, ...), and the summary
sentence. Every step of the test (``_verify_checks``, ``_verify_tls``, ``_verify_token``, ``_scim_check``)
records its checks here; ``_verify.run_test`` turns the report into the module's result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CHECKS = ("login_method", "provider", "tls", "discovery", "endpoints", "jwks", "redirect_uri", "client_id",
          "client_secret", "scopes", "claims_in_id_token", "sign_in", "token", "id_token_signature",
          "id_token_validity", "id_token_claims")
PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"


class Report:
    def __init__(self, names=CHECKS):
        self.names = tuple(names)
        self.results = dict((name, None) for name in self.names)
        self.out = {}  # the values returned beside the checks

    def set(self, name, status, reason):
        self.results[name] = {"name": name, "status": status, "reason": reason}

    def ok(self, name, reason):
        self.set(name, PASSED, reason)

    def fail(self, name, reason):
        self.set(name, FAILED, reason)

    def skip(self, name, reason):
        self.set(name, SKIPPED, reason)

    def skip_rest(self, reason):
        for name in self.names:
            if self.results[name] is None:
                self.skip(name, reason)

    def status(self, name):
        return (self.results.get(name) or {}).get("status")

    def checks(self):
        return [self.results[name] or {"name": name, "status": SKIPPED, "reason": "not reached"} for name in self.names]


def summary(report, out):
    checks = report.checks()
    failed = [c for c in checks if c["status"] == FAILED]
    passed = [c for c in checks if c["status"] == PASSED]
    skipped = [c for c in checks if c["status"] == SKIPPED]
    result = dict(out)
    result.update(passed=not failed, checks=checks, failed_checks=[c["name"] for c in failed],
                  first_failure={"name": failed[0]["name"], "reason": failed[0]["reason"]} if failed else {})
    if failed:
        msg = "The login method is broken at %s: %s (%d of %d checks failed: %s)" % (
            failed[0]["name"], failed[0]["reason"], len(failed), len(passed) + len(failed),
            ", ".join(c["name"] for c in failed))
    else:
        msg = "All %d checks passed%s" % (len(passed), (" (%d skipped: %s)" % (
            len(skipped), ", ".join(c["name"] for c in skipped))) if skipped else "")
    return msg, result
