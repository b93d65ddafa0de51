#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_identity_provider_test
short_description: Test a Cloudflare Access login method that signs in with authentik, without a browser
version_added: 0.1.0
description:
  - Does from the command line what the B(Test) button of a login method does in the Cloudflare Zero Trust dashboard,
    and says exactly which link of the chain is broken when it fails.
  - "Checks, in the order a sign-in needs them: the login method exists and is an OIDC one (C(login_method)); the
    authentik provider exists and is bound to an application (C(provider)); the URLs use HTTPS and their certificates
    verify (C(tls)); authentik's discovery document can be read (C(discovery)) and its C(authorization_endpoint),
    C(token_endpoint) and C(jwks_uri) equal the login method's C(auth_url), C(token_url) and C(certs_url)
    (C(endpoints)); the JWKS at C(certs_url) holds a signing key Cloudflare accepts, RS256 or ES256 (C(jwks));
    the provider's redirect URIs hold the team's callback C(https://<team domain>/cdn-cgi/access/callback) in strict
    mode (C(redirect_uri)); the client IDs match (C(client_id)); the client secret matches when given
    (C(client_secret)); the provider maps every scope the login method requests (C(scopes)); and the provider puts
    the claims into the ID token, where Cloudflare reads them (C(claims_in_id_token))."
  - "With O(test_username) and O(test_password), also signs in as that authentik user: the authorize URL with the
    callback as C(redirect_uri) (and PKCE when the login method uses it), authentik's login and authorization flows
    through its flow executor API, the redirect to Cloudflare (stopped there, the code taken) (C(sign_in)); the code
    redeemed at C(token_url) with the client ID and secret (C(token)); and the ID token checked: its signature
    against the JWKS (C(id_token_signature)), C(iss), C(aud), C(exp), C(iat) and C(nonce) (C(id_token_validity)),
    and the claim named by the login method's C(email_claim_name) plus every claim in its C(claims)
    (C(id_token_claims))."
  - Only reads. The sign-in is an ordinary login of the test user (authentik records it like any other); it sends no
    API write to either side.
  - Returns every check with its status and reason, and fails when a check fails, naming the first broken link.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.zone
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._authentik.from_cloudflare
  - idpbridge.authentik_cloudflare._attributes.info_module
  - idpbridge.authentik_cloudflare._attributes
attributes:
  diff_mode:
    support: none
    details: A test has no before and after.
options:
  name:
    description:
      - The name of the login method to test. Give this or O(identity_provider_id).
    type: str
  identity_provider_id:
    description:
      - The id (a UUID) of the login method to test. Give this or O(name).
    type: str
  identity_provider:
    description:
      - The login method as M(idpbridge.authentik_cloudflare.cloudflare_access_identity_provider) returned it moments
        earlier in the same play (its C(identity_provider) result, which holds no secret). When its C(id) equals
        O(identity_provider_id), the test uses it instead of reading the login method from Cloudflare again (one
        request less); otherwise it is ignored.
    type: dict
  provider:
    description:
      - The name of the authentik OAuth2/OpenID provider behind the login method.
      - When not set, the provider is the one whose client ID the login method uses; then a wrong client ID shows as
        a missing provider.
    type: str
  # the rest of the authentik options: the fragment _authentik.from_cloudflare
  authentik_url:
    required: true
  authentik_token:
    required: true
  authentik_public_url:
    description:
      - The base URL Cloudflare and browsers reach authentik at, where the discovery document is read. Defaults to
        O(authentik_url).
    type: str
  team_domain:
    description:
      - The team domain (V(myteam.cloudflareaccess.com)). When not set, it comes from the login method's
        C(redirect_url) or the Zero Trust organization.
    type: str
  client_secret:
    description:
      - The client secret the login method holds. Cloudflare never returns it, so give the one that was set there
        (the same vaulted variable).
      - When given, it is compared with the provider's secret (C(client_secret) check) and used at the token endpoint.
        When not given, the sign-in uses the provider's own secret, read from authentik, and a secret that differs
        on Cloudflare's side goes unnoticed.
    type: str
  client_secret_from_provider:
    description:
      - Set V(true) when the login method was given the provider's own client secret, as
        M(idpbridge.authentik_cloudflare.cloudflare_access_identity_provider) does with its O(client_secret_from_provider)
        option. The C(client_secret) check then passes for a confidential provider without a secret given here (there
        is nothing else to compare, as Cloudflare never returns the secret).
      - Ignored when O(client_secret) is given.
    type: bool
    default: false
  test_username:
    description:
      - An authentik user (username or e-mail address) to sign in as. Without it, the sign-in checks are skipped.
      - Use a user without MFA devices who is allowed to use the application.
    type: str
  test_password:
    description:
      - The password of O(test_username).
    type: str
  require_tls:
    description:
      - Whether plain C(http://) URLs fail the C(tls) check. Set V(false) only for test servers; the check is then
        reported as skipped for such URLs.
    type: bool
    default: true
  applications:
    description:
      - Access applications (names or domains) to evaluate for the signed-in test user, the way Access evaluates their
        policies (include, exclude, require, in order); each gets a verdict in RV(applications). Needs
        O(test_username). Reads only.
    type: list
    elements: str
  expect_allowed:
    description:
      - Applications (names or domains) the test user must be allowed into; the module fails otherwise. They are
        evaluated as if listed in O(applications).
    type: list
    elements: str
  expect_denied:
    description:
      - Applications (names or domains) the test user must be kept out of; the module fails otherwise.
    type: list
    elements: str
  scim_provider:
    description:
      - The name of the authentik SCIM provider that pushes to this login method. When given, the C(scim) check
        compares the users authentik would provision (the users bound to the provider's application and the members
        of its bound groups, or everyone without bindings; inactive ones as inactive) and the groups it pushes with
        Cloudflare's lists of the login method's SCIM users and groups, and names the missing, extra and wrongly
        (in)active ones. Without it the check is not run (and not listed in RV(checks)).
    type: str
notes:
  - O(authentik_token) must be allowed to read the provider and its scope mappings. O(authentik_validate_certs) and
    O(authentik_ca_path) apply to the authentik API and to the OIDC endpoints alike; with
    O(authentik_validate_certs=false) the C(tls) check fails, since Cloudflare will verify the certificate.
  - The login method's C(client_secret) cannot be read from Cloudflare; see O(client_secret).
  - The client authenticates at the token endpoint with HTTP Basic (C(client_secret_basic)).
  - Dashboard test link (RV(test_url)) - C(https://<team domain>/cdn-cgi/access/test-idp/<id>) - is not documented by
    Cloudflare; it is how the dashboard opens the test.
  - Needs the Python library C(cryptography) on the host that runs the module (ansible-core depends on it) to check
    token signatures.
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_identity_provider
  - module: idpbridge.authentik_cloudflare.authentik_provider_oauth2
requirements:
  - requests
  - cryptography
"""

EXAMPLES = r"""
- name: Check the configuration of the login method (connections from the environment)
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_test:
    name: authentik
    provider: Cloudflare Access
  register: login_test

- name: Show the dashboard's test link
  ansible.builtin.debug:
    msg: "All {{ login_test.checks | length }} checks passed; click {{ login_test.test_url }} to try it in a browser"

- name: Sign in as a test user too, and keep going on failure to print the report
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_test:
    name: authentik
    provider: Cloudflare Access
    client_secret: "{{ vault_cloudflare_access_client_secret }}"
    test_username: access-tester
    test_password: "{{ vault_access_tester_password }}"
  register: login_test
  ignore_errors: true

- name: Print each check
  ansible.builtin.debug:
    msg: "{{ login_test.checks | map(attribute='name') | zip(login_test.checks | map(attribute='status')) | list }}"
"""

RETURN = r"""
passed:
  description: Whether every check passed (skipped checks do not count).
  returned: always
  type: bool
  sample: true
checks:
  description: Every check in chain order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: >-
        The check: V(login_method), V(provider), V(tls), V(discovery), V(endpoints), V(jwks), V(redirect_uri),
        V(client_id), V(client_secret), V(scopes), V(claims_in_id_token), V(sign_in), V(token),
        V(id_token_signature), V(id_token_validity), V(id_token_claims).
      type: str
    status:
      description: V(passed), V(failed) or V(skipped).
      type: str
    reason:
      description: What was found, or why it was skipped.
      type: str
  sample:
    - name: endpoints
      status: failed
      reason: "token_url is https://auth.example.com/application/o/token, the discovery document says
        https://auth.example.com/application/o/token/"
failed_checks:
  description: The names of the failed checks, in chain order.
  returned: always
  type: list
  elements: str
  sample: [endpoints, sign_in]
first_failure:
  description: The first broken link (C(name) and C(reason)); empty when every check passed.
  returned: always
  type: dict
  sample: {name: endpoints, reason: "token_url is ..."}
test_url:
  description: The dashboard's test link of the login method.
  returned: when the login method and the team domain are known
  type: str
  sample: https://myteam.cloudflareaccess.com/cdn-cgi/access/test-idp/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b
callback_url:
  description: The team's callback, which must be a strict redirect URI of the provider.
  returned: when the team domain is known
  type: str
  sample: https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
identity_provider_id:
  description: The id of the login method tested.
  returned: when the login method exists
  type: str
client_id:
  description: The client ID of the login method.
  returned: when the login method exists
  type: str
application_slug:
  description: The slug of the authentik application the provider is bound to.
  returned: when known
  type: str
discovery_url:
  description: Where the discovery document was read.
  returned: when the application slug is known
  type: str
  sample: https://auth.example.com/application/o/cloudflare-access/.well-known/openid-configuration
issuer:
  description: The issuer the discovery document names.
  returned: when the discovery document was read
  type: str
id_token_claims:
  description: The claims of the test user's ID token (never the token itself).
  returned: when the sign-in got an ID token
  type: dict
  sample: {email: access-tester@example.org, preferred_username: access-tester, groups: [staff]}
sign_in_trace:
  description: The requests of the sign-in, as C(METHOD path -> status), without query strings.
  returned: when a sign-in was tried
  type: list
  elements: str
applications:
  description:
    - Who gets in, per application named in O(applications), O(expect_allowed) or O(expect_denied), for the test user.
    - Each has C(application), C(domain), C(url), C(verdict) (V(allowed), V(denied) or V(unknown) when a rule cannot be
      decided from the ID token, such as an IP range), C(policy) (the deciding policy), C(reason) and C(sentence)
      (C(allowed (...)) or C(denied, because ...)).
  returned: when applications are named and the sign-in got an ID token
  type: list
  elements: dict
  sample:
    - {application: Grafana, domain: grafana.example.com, verdict: denied, policy: null,
       sentence: "denied, because no policy lets the user in: policy 'Grafana': no include rule matched: groups claim
       is 'sre' (the groups claim is ['staff'])"}
"""

import hmac
import json
import re
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from urllib.parse import quote, urlsplit

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    AuthentikClient,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import AccessClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_verdicts import (
    access_verdicts,
    summary_line,
    verdict_argument_spec,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import (
    SAFE_ID,
    callback_url,
    clean_auth_domain,
    cloudflare_argument_spec,
    idp_test_url,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._scim_check import check_scim
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, concurrently, Redactor, validate_base_url,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._oidc import (
    ACCEPTED_ALGS,
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    HeadlessSignIn,
    HttpFailure,
    JwtError,
    OidcHttp,
    SignInFailed,
    claim_problems,
    decode_jwt,
    missing_claims,
    signing_keys,
    verify_signature,
)

CHECKS = ("login_method", "provider", "tls", "discovery", "endpoints", "jwks", "redirect_uri", "client_id",
          "client_secret", "scopes", "claims_in_id_token", "sign_in", "token", "id_token_signature",
          "id_token_validity", "id_token_claims")
DEFAULT_SCOPES = ["openid", "email", "profile"]
PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"


class _AuthentikParams:
    """What ``AuthentikClient`` reads from a module, under this module's option names."""

    def __init__(self, module):
        p = module.params
        self.params = {"url": p["authentik_url"], "token": p["authentik_token"], "timeout": p["timeout"],
                       "validate_certs": p["authentik_validate_certs"], "ca_path": p["authentik_ca_path"],
                       "retries": p["retries"]}
        self.fail_json = module.fail_json
        self.warn = module.warn


class Report:
    def __init__(self, names=CHECKS):
        self.names = tuple(names)
        self.results = dict((name, None) for name in self.names)

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


class LoginMethodTest:
    def __init__(self, module, cloudflare, authentik, http, redact):
        self.module = module
        self.p = module.params
        self.cf = cloudflare
        self.ak = authentik
        self.http = http
        self.redact = redact
        self.report = Report(CHECKS + (("scim",) if self.p.get("scim_provider") else ()))  # scim: _scim_check.py
        self.out = {}
        self.idp = None
        self.config = {}
        self.provider = None
        self.slug = None
        self.discovery = None
        self.jwks = None
        self.callback = None
        self.fetched_origins = {}
        self.prefetched = {}  # answers read ahead at the same time: key -> (result, exception)

    # ---- the chain --------------------------------------------------------------------------
    def run(self):
        if not self.check_login_method():
            self.report.skip_rest("needs the login method")
            return
        self.team()
        self.prefetch()
        self.check_provider()
        self.check_discovery()
        self.check_endpoints()
        self.check_jwks()
        self.check_tls()
        self.check_redirect_uri()
        self.check_client_id()
        self.check_client_secret()
        self.check_scopes()
        self.check_claims_in_id_token()
        self.sign_in()
        check_scim(self)  # plugins/module_utils/_scim_check.py

    def check_login_method(self):
        ident, name = self.p.get("identity_provider_id"), self.p.get("name")
        label = "id %s" % ident if ident else "name %r" % name
        given = self.p.get("identity_provider")
        if ident and isinstance(given, dict) and given.get("id") == ident and isinstance(given.get("config"), dict):
            idp = given  # just returned by the login method module: no second read
        else:
            idp = self.cf.identity_provider(ident) if ident else self.cf.unique_identity_provider(name)
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

    # ---- discovery, endpoints, JWKS, TLS ---------------------------------------------------------------
    def discovery_url(self, slug=None):
        public = self.p.get("authentik_public_url") or self.ak.root_url
        return "%s/application/o/%s/.well-known/openid-configuration" % (
            public.rstrip("/"), quote(slug or self.slug, safe=""))

    def fetch(self, url):
        """``(status, body)`` of a GET; records the origin as reached (or its TLS failure)."""
        try:
            status, body, _response = self._taken(("url", url), lambda: self.http.get_json(url))
        except HttpFailure as exc:
            self.fetched_origins.setdefault(_origin(url), str(exc) if exc.tls else None)
            raise
        self.fetched_origins.setdefault(_origin(url), True)
        return status, body

    def check_discovery(self):
        if self.report.status("provider") != PASSED:
            self.report.skip("discovery", "needs the provider and its application")
            return
        url = self.discovery_url()
        self.out["discovery_url"] = url
        try:
            status, body = self.fetch(url)
        except HttpFailure as exc:
            self.report.fail("discovery", "could not read %s: %s" % (url, exc))
            return
        if status != 200 or not isinstance(body, dict):
            self.report.fail("discovery", "%s answered HTTP %d%s" % (
                url, status, "" if status != 200 else " without a JSON document"))
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
        try:
            status, body = self.fetch(url)
        except HttpFailure as exc:
            self.report.fail("jwks", "could not read the JWKS at certs_url %s: %s" % (url, exc))
            return
        if status != 200 or not isinstance(body, dict):
            self.report.fail("jwks", "certs_url %s answered HTTP %d%s" % (
                url, status, "" if status != 200 else " without a JSON document"))
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

    def check_tls(self):
        urls = [("auth_url", self.config["auth_url"]), ("token_url", self.config["token_url"]),
                ("certs_url", self.config["certs_url"])]
        if self.out.get("discovery_url"):
            urls.insert(0, ("the discovery document", self.out["discovery_url"]))
        plain = ["%s (%s)" % (what, url) for what, url in urls if urlsplit(url).scheme != "https"]
        if plain:
            if self.p["require_tls"]:
                self.report.fail("tls", "plain HTTP, not HTTPS: %s; Cloudflare must reach authentik over TLS"
                                 % ", ".join(plain))
            else:
                self.report.skip("tls", "require_tls=false allows plain HTTP: %s" % ", ".join(plain))
            return
        # Reach every origin once (the discovery and JWKS reads already did, for theirs).
        for _what, url in urls:
            origin = _origin(url)
            if origin in self.fetched_origins:
                continue
            try:
                self.http.request("GET", url)
                self.fetched_origins[origin] = True
            except HttpFailure as exc:
                self.fetched_origins[origin] = str(exc) if exc.tls else None
        broken = ["%s: %s" % (origin, error) for origin, error in sorted(self.fetched_origins.items())
                  if isinstance(error, str)]
        if broken:
            self.report.fail("tls", "; ".join(broken))
            return
        unreached = sorted(o for o, ok in self.fetched_origins.items() if ok is None)
        if unreached:
            self.report.fail("tls", "no answer from %s" % ", ".join(unreached))
            return
        origins = ", ".join(sorted(self.fetched_origins))
        if not self.p["authentik_validate_certs"]:
            self.report.fail("tls", "reached %s over HTTPS, but authentik_validate_certs=false: the certificate was "
                                    "not verified, and Cloudflare will verify it" % origins)
            return
        via = " with the CA bundle %s" % self.p["authentik_ca_path"] if self.p.get("authentik_ca_path") else ""
        self.report.ok("tls", "every URL is HTTPS; the certificate of %s verified%s" % (origins, via))

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

    # ---- the sign-in ------------------------------------------------------------------------------------
    def sign_in(self):
        names = ("sign_in", "token", "id_token_signature", "id_token_validity", "id_token_claims")
        username, password = self.p.get("test_username"), self.p.get("test_password")
        if not (username and password):
            for name in names:
                self.report.skip(name, "no test user given (test_username, test_password)")
            return
        if self.callback is None:
            for name in names:
                self.report.skip(name, "needs the team domain (for the callback URL)")
            return
        secret = self.p.get("client_secret")
        if not secret and self.provider is not None:
            secret = self.provider_secret()
            self.redact.add(secret)
        flow = HeadlessSignIn(self.http, self.config["auth_url"], self.config["client_id"], self.callback,
                              self.requested_scopes(), username, password, pkce=bool(self.config.get("pkce_enabled")))
        start = len(self.http.trace)
        try:
            try:
                code, flows = flow.run()
            except SignInFailed as exc:
                self.report.fail("sign_in", self.redact(exc.message))
                for name in names[1:]:
                    self.report.skip(name, "needs a code from the sign-in")
                return
            self.report.ok("sign_in", "signed in as %r through %s; authentik sent the browser to %s with a code" % (
                username, ", ".join(flows) or "no flow (already signed in)", self.callback))
            try:
                tokens = flow.redeem(self.config["token_url"], code, secret)
            except SignInFailed as exc:
                self.report.fail("token", self.redact(exc.message))
                for name in names[2:]:
                    self.report.skip(name, "needs an ID token")
                return
        finally:
            self.out["sign_in_trace"] = list(self.http.trace[start:])
        self.report.ok("token", "%s issued an ID token for the code" % self.config["token_url"])
        self.check_id_token(tokens["id_token"], flow.nonce)

    def check_id_token(self, id_token, nonce):
        try:
            header, claims = verify_signature(id_token, self.jwks or {})
            self.report.ok("id_token_signature", "%s signature verified with the JWKS key %s" % (
                header.get("alg"), header.get("kid")))
        except JwtError as exc:
            self.report.fail("id_token_signature", str(exc))
            try:
                _header, claims, _input, _sig = decode_jwt(id_token)
            except JwtError:
                self.report.skip("id_token_validity", "the ID token cannot be read")
                self.report.skip("id_token_claims", "the ID token cannot be read")
                return
        self.out["id_token_claims"] = claims
        issuer = (self.discovery or {}).get("issuer")
        problems = claim_problems(claims, issuer=issuer, audience=self.config["client_id"], nonce=nonce)
        if problems:
            self.report.fail("id_token_validity", "; ".join(problems))
        else:
            self.report.ok("id_token_validity", "iss%s, aud, exp, iat and nonce are right (expires in %d s)" % (
                "" if issuer else " (not compared: no discovery document)",
                int(claims.get("exp", 0) - time.time())))
        email_claim = self.config.get("email_claim_name") or "email"
        extra = [c for c in (self.config.get("claims") or []) if isinstance(c, str)]
        missing = missing_claims(claims, [email_claim] + [c for c in extra if c != email_claim])
        if missing:
            wanted = "the e-mail claim %r (email_claim_name)" % email_claim if email_claim in missing else ""
            others = [c for c in missing if c != email_claim]
            parts = [w for w in (wanted, ("the claims %s (claims)" % ", ".join(others)) if others else "") if w]
            self.report.fail("id_token_claims", "the ID token of %r lacks %s (missing, null or empty)" % (
                self.p.get("test_username"), " and ".join(parts)))
        else:
            self.report.ok("id_token_claims", "the ID token has %s=%s%s" % (
                email_claim, claims.get(email_claim), (" and " + ", ".join(extra)) if extra else ""))


def _origin(url):
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc.lower())


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


def main():
    spec = cloudflare_argument_spec(zone=True)
    spec.update(
        name=dict(type="str"),
        identity_provider_id=dict(type="str"),
        identity_provider=dict(type="dict"),
        provider=dict(type="str"),
        authentik_url=dict(type="str", required=True, fallback=(env_fallback, ["AUTHENTIK_URL"])),
        authentik_token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["AUTHENTIK_TOKEN"])),
        authentik_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["AUTHENTIK_VALIDATE_CERTS"])),
        authentik_ca_path=dict(type="path", fallback=(env_fallback, ["AUTHENTIK_CA_PATH"])),
        authentik_public_url=dict(type="str"),
        team_domain=dict(type="str"),
        client_secret=dict(type="str", no_log=True),
        client_secret_from_provider=dict(type="bool", default=False),
        test_username=dict(type="str"),
        test_password=dict(type="str", no_log=True),
        require_tls=dict(type="bool", default=True),
        scim_provider=dict(type="str"),
    )
    spec.update(verdict_argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_one_of=[("name", "identity_provider_id")],
                           mutually_exclusive=[("name", "identity_provider_id")],
                           required_together=[("test_username", "test_password")])
    p = module.params
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if p.get("identity_provider_id") is not None and not SAFE_ID.match(p["identity_provider_id"]):
        module.fail_json(msg="identity_provider_id must be a login method id (a UUID), got %r" % p["identity_provider_id"])
    if p.get("authentik_public_url"):
        try:
            validate_base_url(p["authentik_public_url"], "authentik_public_url")
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    cloudflare = AccessClient.from_module(module)
    authentik = AuthentikClient(_AuthentikParams(module))
    redact = Redactor()
    for value in (p.get("client_secret"), p.get("test_password"), p.get("authentik_token")):
        redact.add(value)
    verify = (p["authentik_ca_path"] or True) if p["authentik_validate_certs"] else False
    http = OidcHttp(timeout=p["timeout"], verify=verify)
    test = LoginMethodTest(module, cloudflare, authentik, http, redact)
    try:
        test.run()
    except (ApiError, LookupFailed) as exc:
        checks = test.report.checks()
        module.fail_json(msg=redact(str(exc)), checks=checks, **test.out)
    except Exception as exc:  # a bug must not leak a secret through its traceback
        module.fail_json(msg="The login method test stopped unexpectedly: %s" % redact(str(exc)),
                         exception=redact(traceback.format_exc()))
    for check in test.report.results.values():
        if check is not None:
            check["reason"] = redact(check["reason"])
    msg, result = summary(test.report, test.out)
    try:
        access = access_verdicts(cloudflare, p, test.idp, test.out.get("id_token_claims"),
                                 test.config.get("email_claim_name") or "email")
    except (ApiError, LookupFailed) as exc:
        module.fail_json(msg=redact(str(exc)), **result)
    if access is not None:
        result["applications"] = access["verdicts"]
        msg += summary_line(access, p.get("test_username"))
        if access["problems"] and result["passed"]:
            module.fail_json(msg=redact("Who gets in is not as expected: %s" % "; ".join(access["problems"])), **result)
    if not result["passed"]:
        module.fail_json(msg=redact(msg), changed=False, **result)
    module.exit_json(changed=False, msg=msg, **result)


if __name__ == "__main__":
    main()
