# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The ``tls`` check of the login method test: every URL Cloudflare reaches authentik at uses HTTPS and its
certificate verifies.

The discovery and JWKS reads (``_verify_checks``) record each origin they reached, or its TLS failure, in
``reached``; this check reaches every other origin once more and judges them all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import urlsplit

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._signin import HttpFailure


def origin(url):
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc.lower())


def check_tls(report, urls, reached, http, require_tls=True, validate_certs=True, ca_path=None):
    """Record the ``tls`` check of ``urls`` (``(what, url)`` pairs) in ``report``.

    ``reached``: ``{origin: True, an error sentence (TLS failed) or None (no answer)}``, updated here;
    ``http``: the sign-in's session (``_signin.OidcHttp``) with the TLS settings of the authentik options.
    """
    plain = ["%s (%s)" % (what, url) for what, url in urls if urlsplit(url).scheme != "https"]
    if plain:
        if require_tls:
            report.fail("tls", "plain HTTP, not HTTPS: %s; Cloudflare must reach authentik over TLS"
                        % ", ".join(plain))
        else:
            report.skip("tls", "require_tls=false allows plain HTTP: %s" % ", ".join(plain))
        return
    # Reach every origin once (the discovery and JWKS reads already did, for theirs).
    for _what, url in urls:
        where = origin(url)
        if where in reached:
            continue
        try:
            http.request("GET", url)
            reached[where] = True
        except HttpFailure as exc:
            reached[where] = str(exc) if exc.tls else None
    broken = ["%s: %s" % (where, error) for where, error in sorted(reached.items()) if isinstance(error, str)]
    if broken:
        report.fail("tls", "; ".join(broken))
        return
    unreached = sorted(o for o, ok in reached.items() if ok is None)
    if unreached:
        report.fail("tls", "no answer from %s" % ", ".join(unreached))
        return
    origins = ", ".join(sorted(reached))
    if not validate_certs:
        report.fail("tls", "reached %s over HTTPS, but authentik_validate_certs=false: the certificate was "
                           "not verified, and Cloudflare will verify it" % origins)
        return
    via = " with the CA bundle %s" % ca_path if ca_path else ""
    report.ok("tls", "every URL is HTTPS; the certificate of %s verified%s" % (origins, via))
