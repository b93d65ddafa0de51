# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The test user's checks of the login method test: ``sign_in`` and ``token`` (authentik's sign-in driven
headless by ``_signin.HeadlessSignIn``), then the ID token the way Cloudflare judges it (with ``_jose``):
``id_token_signature`` against the JWKS, ``id_token_validity`` (``iss``, ``aud``, ``exp``, ``iat``,
``nonce``) and ``id_token_claims`` (the e-mail claim and the login method's ``claims``).

The checks take data: the login method's ``config``, the callback, the test user, the JWKS and the
issuer found by the configuration checks. The ID token itself is never recorded, only its claims.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._jose import (
    JwtError,
    claim_problems,
    decode_jwt,
    missing_claims,
    verify_signature,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._signin import HeadlessSignIn, SignInFailed

SIGN_IN_CHECKS = ("sign_in", "token", "id_token_signature", "id_token_validity", "id_token_claims")


def check_sign_in(report, http, redact, config, callback, scopes, username, password, client_secret,
                  jwks=None, issuer=None):
    """Record the checks of ``SIGN_IN_CHECKS`` in ``report`` (and ``sign_in_trace``, ``id_token_claims`` in
    ``report.out``).

    ``config``: the login method's config (``auth_url``, ``token_url``, ``client_id``, ``pkce_enabled``,
    ``email_claim_name``, ``claims``); ``callback``: the team's callback URL, None when unknown; ``scopes``:
    the scopes the login method requests; ``username``/``password``: the test user (not given: skipped);
    ``client_secret``: a function giving the secret presented at the token endpoint, called only when a
    sign-in happens (it may read the provider's from authentik); ``jwks``/``issuer``: the JWKS document and
    the discovery document's issuer, None when they could not be read; ``http``: the sign-in's session
    (``_signin.OidcHttp``); ``redact``: the run's ``_http.Redactor``.
    """
    if not (username and password):
        for name in SIGN_IN_CHECKS:
            report.skip(name, "no test user given (test_username, test_password)")
        return
    if callback is None:
        for name in SIGN_IN_CHECKS:
            report.skip(name, "needs the team domain (for the callback URL)")
        return
    secret = client_secret()
    redact.add(secret)
    flow = HeadlessSignIn(http, config["auth_url"], config["client_id"], callback, scopes, username, password,
                          pkce=bool(config.get("pkce_enabled")))
    start = len(http.trace)
    try:
        try:
            code, flows = flow.run()
        except SignInFailed as exc:
            report.fail("sign_in", redact(exc.message))
            for name in SIGN_IN_CHECKS[1:]:
                report.skip(name, "needs a code from the sign-in")
            return
        report.ok("sign_in", "signed in as %r through %s; authentik sent the browser to %s with a code" % (
            username, ", ".join(flows) or "no flow (already signed in)", callback))
        try:
            tokens = flow.redeem(config["token_url"], code, secret)
        except SignInFailed as exc:
            report.fail("token", redact(exc.message))
            for name in SIGN_IN_CHECKS[2:]:
                report.skip(name, "needs an ID token")
            return
    finally:
        report.out["sign_in_trace"] = list(http.trace[start:])
    report.ok("token", "%s issued an ID token for the code" % config["token_url"])
    check_id_token(report, tokens["id_token"], flow.nonce, jwks, issuer, config, username)


def check_id_token(report, id_token, nonce, jwks, issuer, config, username):
    """Record ``id_token_signature``, ``id_token_validity`` and ``id_token_claims`` of ``id_token``."""
    try:
        header, claims = verify_signature(id_token, jwks or {})
        report.ok("id_token_signature", "%s signature verified with the JWKS key %s" % (
            header.get("alg"), header.get("kid")))
    except JwtError as exc:
        report.fail("id_token_signature", str(exc))
        try:
            _header, claims, _input, _sig = decode_jwt(id_token)
        except JwtError:
            report.skip("id_token_validity", "the ID token cannot be read")
            report.skip("id_token_claims", "the ID token cannot be read")
            return
    report.out["id_token_claims"] = claims
    problems = claim_problems(claims, issuer=issuer, audience=config["client_id"], nonce=nonce)
    if problems:
        report.fail("id_token_validity", "; ".join(problems))
    else:
        report.ok("id_token_validity", "iss%s, aud, exp, iat and nonce are right (expires in %d s)" % (
            "" if issuer else " (not compared: no discovery document)",
            int(claims.get("exp", 0) - time.time())))
    email_claim = config.get("email_claim_name") or "email"
    extra = [c for c in (config.get("claims") or []) if isinstance(c, str)]
    missing = missing_claims(claims, [email_claim] + [c for c in extra if c != email_claim])
    if missing:
        wanted = "the e-mail claim %r (email_claim_name)" % email_claim if email_claim in missing else ""
        others = [c for c in missing if c != email_claim]
        parts = [w for w in (wanted, ("the claims %s (claims)" % ", ".join(others)) if others else "") if w]
        report.fail("id_token_claims", "the ID token of %r lacks %s (missing, null or empty)" % (
            username, " and ".join(parts)))
    else:
        report.ok("id_token_claims", "the ID token has %s=%s%s" % (
            email_claim, claims.get(email_claim), (" and " + ", ".join(extra)) if extra else ""))
