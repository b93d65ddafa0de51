# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The login method test (module ``cloudflare_access_identity_provider_test``): the order of its steps and
its outcome. Each step lives in its own file and records its checks in one ``_verify_report.Report``:

* ``_verify_checks``: the cross-API configuration checks (login method, provider, discovery, endpoints, JWKS,
  the provider's settings);
* ``_verify_tls``: the ``tls`` check;
* ``_verify_token``: the test user's sign-in (``_signin``) and the ID token checks (``_jose``);
* ``_scim_check``: the ``scim`` check;
* ``_access_verdicts``: who of the signed-in test user gets into which Access application.

Reads only. Every reason and message goes through the run's ``_http.Redactor``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_verdicts import (
    access_verdicts,
    summary_line,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._scim_check import check_scim
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._verify_checks import ConfigChecks
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._verify_report import (
    CHECKS,
    Report,
    summary,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._verify_tls import check_tls
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._verify_token import check_sign_in


def run_checks(report, params, cloudflare, authentik, http, redact):
    """Every check, in the order a sign-in needs them; returns the ``ConfigChecks`` with what they found."""
    p = params
    checks = ConfigChecks(report, p, cloudflare, authentik, http, redact)
    if not checks.check_login_method():
        report.skip_rest("needs the login method")
        return checks
    checks.team()
    checks.prefetch()
    checks.check_provider()
    checks.check_discovery()
    checks.check_endpoints()
    checks.check_jwks()
    check_tls(report, checks.tls_urls(), checks.fetched_origins, http, require_tls=p["require_tls"],
              validate_certs=p["authentik_validate_certs"], ca_path=p.get("authentik_ca_path"))
    checks.check_redirect_uri()
    checks.check_client_id()
    checks.check_client_secret()
    checks.check_scopes()
    checks.check_claims_in_id_token()
    check_sign_in(report, http, redact, checks.config, checks.callback, checks.requested_scopes(),
                  p.get("test_username"), p.get("test_password"), checks.sign_in_secret,
                  jwks=checks.jwks, issuer=(checks.discovery or {}).get("issuer"))
    if p.get("scim_provider"):
        check_scim(report, authentik, cloudflare, checks.idp["id"], p["scim_provider"])
    return checks


def run_test(params, cloudflare, authentik, http, redact):
    """``(failed, result)``: the module's result, for ``fail_json`` when ``failed``, else ``exit_json``.

    ``params``: the module's options; ``cloudflare``: an ``_access.AccessClient``; ``authentik``: an
    ``_authentik.AuthentikClient``; ``http``: a ``_signin.OidcHttp`` with the authentik TLS options;
    ``redact``: a ``_http.Redactor`` holding every secret option.
    """
    p = params
    report = Report(CHECKS + (("scim",) if p.get("scim_provider") else ()))
    try:
        checks = run_checks(report, p, cloudflare, authentik, http, redact)
    except (ApiError, LookupFailed) as exc:
        result = dict(report.out)
        result.update(msg=redact(str(exc)), checks=report.checks())
        return True, result
    except Exception as exc:  # a bug must not leak a secret through its traceback
        return True, {"msg": "The login method test stopped unexpectedly: %s" % redact(str(exc)),
                      "exception": redact(traceback.format_exc())}
    for check in report.results.values():
        if check is not None:
            check["reason"] = redact(check["reason"])
    msg, result = summary(report, report.out)
    try:
        access = access_verdicts(cloudflare, p, checks.idp, report.out.get("id_token_claims"),
                                 checks.config.get("email_claim_name") or "email")
    except (ApiError, LookupFailed) as exc:
        return True, dict(result, msg=redact(str(exc)))
    if access is not None:
        result["applications"] = access["verdicts"]
        msg += summary_line(access, p.get("test_username"))
        if access["problems"] and result["passed"]:
            return True, dict(result, msg=redact("Who gets in is not as expected: %s" % "; ".join(access["problems"])))
    if not result["passed"]:
        return True, dict(result, msg=redact(msg), changed=False)
    return False, dict(result, changed=False, msg=msg)
