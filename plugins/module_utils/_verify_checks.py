# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The cross-API configuration checks of the login method test, in the order a sign-in needs them:
``login_method`` (Cloudflare), ``provider`` (authentik), ``discovery``, ``endpoints`` and ``jwks`` (authentik's
public endpoints, read without a token through the sign-in's session), then the provider's settings:
``redirect_uri``, ``client_id``, ``client_secret``, ``scopes``, ``claims_in_id_token``.

``ConfigChecks`` keeps what they find for the later steps (``idp``, ``config``, ``provider``, ``discovery``,
``jwks``, ``callback``; the origins reached, for the ``tls`` check) and reads ahead what they will need at
the same time (``prefetch``). Reads only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hmac
import json
import re

from urllib.parse import quote, urlsplit

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import (
    callback_url,
    clean_auth_domain,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import concurrently
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._login_method import LOGIN_METHODS, idp_test_url
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._jose import ACCEPTED_ALGS, signing_keys
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._signin import HttpFailure
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._verify_report import PASSED
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._verify_tls import origin

DEFAULT_SCOPES = ["openid", "email", "profile"]


class ConfigChecks:
    """The configuration checks of one login method; each ``check_*`` records its check in ``report``.

    ``params``: the module's options; ``cloudflare``/``authentik``: the API clients; ``http``: the sign-in's
    session (``_signin.OidcHttp``); ``redact``: the run's ``_http.Redactor`` (the provider's secret is added).
    """

    def __init__(self, report, params, cloudflare, authentik, http, redact):
        self.p, self.report, self.out = params, report, report.out
        self.cf, self.ak = cloudflare, authentik
        self.http, self.redact = http, redact
        self.idp = None
        self.config = {}
        self.provider = None
        self.slug = None
        self.discovery = None
        self.jwks = None
        self.callback = None
        self.fetched_origins = {}
        self.prefetched = {}  # answers read ahead at the same time: key -> (result, exception)

    def check_login_method(self):
        ident, name = self.p.get("identity_provider_id"), self.p.get("name")
        label = "id %s" % ident if ident else "name %r" % name
        given = self.p.get("identity_provider")
        if ident and isinstance(given, dict) and given.get("id") == ident and isinstance(given.get("config"), dict):
            idp = given  # just returned by the login method module: no second read
        else:
            idp = self.cf.find_by_name_or_id(LOGIN_METHODS, ident, name)
        if idp is None:
            self.report.fail("login_method", "%s has no login method with %s" % (self.cf.scope, label))
            return False
        self.idp = idp
        self.out["identity_provider_id"] = idp.get("id")
        if idp.get("type") != "oidc":
            self.report.fail("login_method", "the login method %r is of type %s, not oidc (OpenID Connect)"
                             % (idp.get("name"), idp.get("type")))
            return False
        self.config = idp.get("config") if isinstance(idp.get("config"), dict) else {}
        missing = [k for k in ("client_id", "auth_url", "token_url", "certs_url") if not self.config.get(k)]
        if missing:
            self.report.fail("login_method", "the login method %r has no %s" % (idp.get("name"), ", ".join(missing)))
            return False
        self.out["client_id"] = self.config["client_id"]
        self.report.ok("login_method", "%r (%s) is an OIDC login method with client ID %s" % (
            idp.get("name"), idp.get("id"), self.config["client_id"]))
        return True

    def team(self):
        domain = clean_auth_domain(self.p.get("team_domain")) or self.cf.team_domain([self.idp])
        if domain:
            self.callback = callback_url(domain)
            self.out["callback_url"] = self.callback
            if self.idp.get("id"):
                self.out["test_url"] = idp_test_url(domain, self.idp["id"])

    # ---- reads ahead --------------------------------------------------------------------------------
    def prefetch(self):
        """Send the reads the checks below will make at the same time, each exactly when its check will.

        The JWKS (from the login method's certs_url) does not depend on the provider; the discovery
        document needs the provider's application, the scope names its property mappings. One after
        another they cost the sum of their times, so: the JWKS alongside the provider lookup, and once
        the provider is known its discovery document alongside the scope mappings. The checks then
        take the answers (or the errors) from ``prefetched`` in their own order.
        """
        name = self.p.get("provider")

        def provider_side():
            if not name:
                return
            provider = self._ahead(("provider", name), lambda: self.ak.provider_by_name(name))
            if provider is None:
                return
            calls = [lambda: self._ahead(("scopes",), self._scope_mappings)]
            slug = provider.get("assigned_application_slug")
            if slug:
                url = self.discovery_url(slug)
                calls.append(lambda: self._ahead(("url", url), lambda: self.http.get_json(url)))
            concurrently(calls)

        certs = self.config["certs_url"]
        concurrently([lambda: self._ahead(("url", certs), lambda: self.http.get_json(certs)), provider_side])

    def _ahead(self, key, call):
        try:
            result = call()
        except Exception as exc:  # pylint: disable=broad-except  # raised again where the check asks
            self.prefetched[key] = (None, exc)
            raise
        self.prefetched[key] = (result, None)
        return result

    def _taken(self, key, call):
        """The answer read ahead for ``key`` (once), else ``call()``."""
        if key not in self.prefetched:
            return call()
        result, error = self.prefetched.pop(key)
        if error is not None:
            raise error
        return result

    def _scope_mappings(self):
        return self.ak.paginate("/propertymappings/provider/scope/", what="list the scope mappings")

    def check_provider(self):
        name = self.p.get("provider")
        client_id = self.config["client_id"]
        if name:
            provider = self._taken(("provider", name), lambda: self.ak.provider_by_name(name))
            if provider is None:
                self.report.fail("provider", "authentik has no OAuth2/OpenID provider named %r" % name)
                return
        else:
            provider = self.ak.find_one("/providers/oauth2/", {"client_id": client_id}, "OAuth2 provider",
                                        "with client ID %r" % client_id)
            if provider is None:
                self.report.fail("provider", "no authentik OAuth2/OpenID provider has the login method's client ID %s "
                                             "(give the provider option to compare the client IDs)" % client_id)
                return
        self.provider = provider
        self.slug = provider.get("assigned_application_slug")
        if not self.slug:
            self.report.fail("provider", "the provider %r is not bound to an application, so it has no discovery "
                                         "document and no JWKS; bind it to an application" % provider.get("name"))
            return
        self.out["application_slug"] = self.slug
        self.report.ok("provider", "the provider %r (pk %s) serves the application %r" % (
            provider.get("name"), provider.get("pk"), self.slug))

    # ---- discovery, endpoints, JWKS ------------------------------------------------------------------
    def discovery_url(self, slug=None):
        public = self.p.get("authentik_public_url") or self.ak.root_url
        return "%s/application/o/%s/.well-known/openid-configuration" % (
            public.rstrip("/"), quote(slug or self.slug, safe=""))

    def fetch(self, url):
        """``(status, body)`` of a GET; records the origin as reached (or its TLS failure)."""
        try:
            status, body, _response = self._taken(("url", url), lambda: self.http.get_json(url))
        except HttpFailure as exc:
            self.fetched_origins.setdefault(origin(url), str(exc) if exc.tls else None)
            raise
        self.fetched_origins.setdefault(origin(url), True)
        return status, body

    def fetch_document(self, check, url, what, where):
        """The JSON document at ``url``; None after failing ``check`` when it cannot be read ("could not read
        <what>") or is no JSON object ("<where> answered HTTP ...")."""
        try:
            status, body = self.fetch(url)
        except HttpFailure as exc:
            self.report.fail(check, "could not read %s: %s" % (what, exc))
            return None
        if status != 200 or not isinstance(body, dict):
            self.report.fail(check, "%s answered HTTP %d%s" % (
                where, status, "" if status != 200 else " without a JSON document"))
            return None
        return body

    def check_discovery(self):
        if self.report.status("provider") != PASSED:
            self.report.skip("discovery", "needs the provider and its application")
            return
        url = self.discovery_url()
        self.out["discovery_url"] = url
        body = self.fetch_document("discovery", url, url, url)
        if body is None:
            return
        if not body.get("issuer"):
            self.report.fail("discovery", "the discovery document at %s names no issuer" % url)
            return
        self.discovery = body
        self.out["issuer"] = body["issuer"]
        self.report.ok("discovery", "read %s (issuer %s)" % (url, body["issuer"]))

    def check_endpoints(self):
        if self.discovery is None:
            self.report.skip("endpoints", "needs the discovery document")
            return
        wrong = []
        for option, key in (("auth_url", "authorization_endpoint"), ("token_url", "token_endpoint"),
                            ("certs_url", "jwks_uri")):
            mine, theirs = self.config.get(option), self.discovery.get(key)
            if _norm_url(mine) != _norm_url(theirs):
                wrong.append("%s is %s, the discovery document's %s is %s" % (option, mine, key, theirs))
        if wrong:
            self.report.fail("endpoints", "; ".join(wrong))
        else:
            self.report.ok("endpoints", "auth_url, token_url and certs_url equal the discovery document's "
                                        "authorization_endpoint, token_endpoint and jwks_uri")

    def check_jwks(self):
        url = self.config["certs_url"]
        body = self.fetch_document("jwks", url, "the JWKS at certs_url %s" % url, "certs_url %s" % url)
        if body is None:
            return
        self.jwks = body
        usable, ignored = signing_keys(body)
        algs = (self.discovery or {}).get("id_token_signing_alg_values_supported")
        if not usable:
            keys = body.get("keys") if isinstance(body.get("keys"), list) else []
            detail = ("it holds no keys at all (%s)" % _short_json(body)) if not keys else "; ".join(ignored)
            hint = ""
            if self.provider is not None and not self.provider.get("signing_key"):
                hint = (": the provider %r has no signing key, so authentik signs ID tokens HS256 with the client "
                        "secret; select a certificate with a private key as its signing key" % self.provider.get("name"))
            self.report.fail("jwks", "the JWKS at %s has no RS256/ES256 signing key: %s%s" % (url, detail, hint))
            return
        if isinstance(algs, list) and not any(a in ACCEPTED_ALGS for a in algs):
            self.report.fail("jwks", "the JWKS has a signing key, but the discovery document says ID tokens are signed "
                                     "%s, not RS256/ES256" % ", ".join(str(a) for a in algs))
            return
        self.report.ok("jwks", "%s holds %d signing key(s): %s" % (
            url, len(usable), ", ".join("%s %s" % (k["alg"], k.get("kid") or "") for k in usable)))

    def tls_urls(self):
        """``(what, url)`` of every URL Cloudflare reaches authentik at, for the ``tls`` check."""
        urls = [("auth_url", self.config["auth_url"]), ("token_url", self.config["token_url"]),
                ("certs_url", self.config["certs_url"])]
        if self.out.get("discovery_url"):
            urls.insert(0, ("the discovery document", self.out["discovery_url"]))
        return urls

    # ---- the provider's settings ---------------------------------------------------------------------
    def check_redirect_uri(self):
        if self.provider is None:
            self.report.skip("redirect_uri", "needs the provider")
            return
        if self.callback is None:
            self.report.fail("redirect_uri", "the team domain is unknown (give team_domain), so the callback cannot be "
                                             "checked")
            return
        entries = self.provider.get("redirect_uris")
        if isinstance(entries, str):  # authentik before 2024.8: one URL a line, all regular expressions
            entries = [{"matching_mode": "regex", "url": line} for line in entries.split() if line]
        entries = [e for e in entries or [] if isinstance(e, dict)
                   and e.get("redirect_uri_type", "authorization") == "authorization"]
        if any(e.get("matching_mode") == "strict" and e.get("url") == self.callback for e in entries):
            self.report.ok("redirect_uri", "the provider lists %s (strict)" % self.callback)
            return
        listed = ", ".join("%s (%s)" % (e.get("url"), e.get("matching_mode")) for e in entries) or "none"
        regex = [e for e in entries if e.get("matching_mode") == "regex" and _regex_matches(e.get("url"), self.callback)]
        if regex:
            self.report.fail("redirect_uri", "%s is matched only by the regular expression %s; register it as a strict "
                                             "redirect URI" % (self.callback, regex[0].get("url")))
            return
        self.report.fail("redirect_uri", "the provider's redirect URIs do not include %s (strict); they are: %s"
                         % (self.callback, listed))

    def check_client_id(self):
        if self.provider is None:
            self.report.skip("client_id", "needs the provider")
            return
        theirs, mine = self.provider.get("client_id"), self.config["client_id"]
        if theirs != mine:
            self.report.fail("client_id", "the login method's client ID is %s, the provider %r has %s" % (
                mine, self.provider.get("name"), theirs))
        else:
            self.report.ok("client_id", "both use %s" % mine)

    def check_client_secret(self):
        given = self.p.get("client_secret")
        if self.provider is None:
            self.report.skip("client_secret", "needs the provider")
            return
        if self.provider.get("client_type") == "public":
            self.report.skip("client_secret", "the provider is a public client; authentik checks no secret")
            return
        if not given and self.p.get("client_secret_from_provider"):
            self.report.ok("client_secret", "the login method was given the provider's own client secret "
                                            "(client_secret_from_provider)")
            return
        if not given:
            self.report.skip("client_secret", "Cloudflare never returns the secret; give client_secret to compare it")
            return
        try:
            theirs = self.provider_secret() or ""
        except ApiError as exc:
            self.report.fail("client_secret", "could not read the provider's client secret: %s" % self.redact(str(exc)))
            return
        if hmac.compare_digest(given.encode("utf-8"), theirs.encode("utf-8")):
            self.report.ok("client_secret", "the client secret given equals the provider's")
        else:
            self.report.fail("client_secret", "the client secret given (the one Cloudflare holds) differs from the "
                                              "provider's; set the same secret on both sides")

    def provider_secret(self):
        """The provider's client secret: a field up to authentik 2026.8, a Secret object's value from 2026.11."""
        secret = self.ak.provider_secret(self.provider)
        self.redact.add(secret)
        return secret

    def sign_in_secret(self):
        """The client secret the sign-in presents at the token endpoint: the one given, else the provider's."""
        secret = self.p.get("client_secret")
        if not secret and self.provider is not None:
            secret = self.provider_secret()
        return secret

    def requested_scopes(self):
        scopes = self.config.get("scopes")
        return list(scopes) if isinstance(scopes, list) and scopes else list(DEFAULT_SCOPES)

    def check_scopes(self):
        if self.provider is None:
            self.report.skip("scopes", "needs the provider")
            return
        mapped = self.scope_names(self.provider.get("property_mappings") or [])
        wanted = self.requested_scopes()
        missing = [s for s in wanted if s not in mapped]
        if missing:
            self.report.fail("scopes", "the login method requests %s, but the provider maps no scope %s (it maps: %s)"
                             % (", ".join(wanted), ", ".join(missing), ", ".join(sorted(mapped)) or "nothing"))
        elif "openid" not in wanted:
            self.report.fail("scopes", "the login method does not request the openid scope, so there is no ID token")
        else:
            self.report.ok("scopes", "the provider maps every requested scope (%s)" % ", ".join(wanted))

    def scope_names(self, pks):
        """Scope names of the provider's property mappings (other mapping kinds are not scopes)."""
        wanted = set(str(pk) for pk in pks)
        names = []
        for mapping in self._taken(("scopes",), self._scope_mappings):
            if str(mapping.get("pk")) in wanted and mapping.get("scope_name"):
                names.append(mapping["scope_name"])
        return names

    def check_claims_in_id_token(self):
        if self.provider is None:
            self.report.skip("claims_in_id_token", "needs the provider")
            return
        if self.provider.get("include_claims_in_id_token") is False:
            self.report.fail("claims_in_id_token", "the provider leaves the scope claims out of the ID token "
                                                   "(include_claims_in_id_token=false), but Cloudflare reads the e-mail "
                                                   "and the claims from the ID token")
        else:
            self.report.ok("claims_in_id_token", "the provider puts the scope claims into the ID token")


def _norm_url(url):
    if not isinstance(url, str):
        return url
    parts = urlsplit(url.strip())
    return "%s://%s%s%s" % (parts.scheme.lower(), parts.netloc.lower(), parts.path, "?" + parts.query if parts.query else "")


def _regex_matches(pattern, value):
    try:
        return re.fullmatch(pattern or "", value) is not None
    except re.error:
        return False


def _short_json(value):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:80] + "..."
