# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""Per-application verdicts for the login method test: who of the signed-in test user gets in.

Reads the named applications (one filtered query each; their policies come embedded) and
evaluates them with ``_access_eval`` against the test user's ID token claims. Reads only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_eval import (
    UNKNOWN,
    Identity,
    evaluate_application,
    expectations,
    sentence,
)

OPTIONS = ("applications", "expect_allowed", "expect_denied")


def verdict_argument_spec():
    return dict(
        applications=dict(type="list", elements="str"),
        expect_allowed=dict(type="list", elements="str"),
        expect_denied=dict(type="list", elements="str"),
    )


def wanted_names(params):
    names = []
    for key in OPTIONS:
        for name in params.get(key) or []:
            if name not in names:
                names.append(name)
    return names


def find_application(client, ref):
    """The application named ``ref`` or, failing that, protecting the domain ``ref``; None when neither."""
    found = client.unique_application(ref)
    if found is None and "." in ref:
        by_domain = [app for app in client.paginate(client.apps_path, params={"domain": ref, "exact": "true"},
                                                    what="find the Access application of %s" % ref)
                     if isinstance(app, dict) and app.get("domain") == ref]
        found = by_domain[0] if len(by_domain) == 1 else None
    return found


def access_verdicts(client, params, idp, claims, email_claim="email"):
    """``None`` when no application is named; else ``{"verdicts", "problems", "skipped"}``.

    ``idp`` is the login method tested (its id and name); ``claims`` the test user's ID token
    claims, or None when there was no sign-in.
    """
    names = wanted_names(params)
    if not names:
        return None
    if not claims or not idp:
        why = "needs the test user's signed-in ID token (test_username and test_password, and a sign-in that got a token)"
        expected = bool(params.get("expect_allowed") or params.get("expect_denied"))
        return {"verdicts": [], "problems": ["expect_allowed and expect_denied %s" % why] if expected else [],
                "skipped": why}
    identity = Identity(claims.get(email_claim or "email"), claims, idp.get("id"), idp.get("name"))
    idp_names = {idp.get("id"): idp.get("name")}
    verdicts = []
    seen = set()
    for ref in names:
        app = find_application(client, ref)
        if app is not None and app.get("id") in seen:
            continue  # named twice (by name and by domain): one verdict, which expectations find by either
        if app is not None:
            seen.add(app.get("id"))
        if app is None:
            verdicts.append({"application": ref, "domain": None, "verdict": UNKNOWN, "policy": None,
                             "reason": "no Access application in %s is named %r or protects that domain"
                                       % (client.scope, ref)})
            continue
        verdict = evaluate_application(app, app.get("policies") or [], identity, idp_names)
        verdict["url"] = "https://%s" % app.get("domain") if app.get("domain") else None
        verdicts.append(verdict)
    for verdict in verdicts:
        verdict["sentence"] = sentence(verdict)
    problems = expectations(verdicts, params.get("expect_allowed"), params.get("expect_denied"))
    return {"verdicts": verdicts, "problems": problems, "skipped": None}


def summary_line(access, username):
    if access is None:
        return ""
    if access["skipped"]:
        return "; application verdicts skipped: %s" % access["skipped"]
    parts = ["%s: %s" % (v["application"], v["verdict"]) for v in access["verdicts"]]
    return "; for %r: %s" % (username, ", ".join(parts))
