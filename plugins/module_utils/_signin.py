# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""authentik's browser sign-in done with plain HTTP calls, for testing a login method without a browser.

``HeadlessSignIn`` walks the authorization-code flow the way a browser would: the authorize endpoint,
authentik's flow executor API (identification, password, consent), the redirect back to the client's
callback (stopped there, the code taken) and the code redeemed at the token endpoint.

``OidcHttp`` is its browser: a session of its own beside ``_http.ApiClient``, on purpose. A sign-in must
keep authentik's cookies (session, CSRF) from one step of the flow to the next, follow no redirect by
itself (the code must be taken from the redirect to the callback, never sent on), record a trace without
query strings, and never carry an API token: these are authentik's public endpoints, reached as Cloudflare
and a browser reach them. ``ApiClient`` does the opposite on every point (auth header on each request,
retries, JSON API errors), so the two do not share a session; they share the shortening of a transport
error (``_http.short_error``). The login method test reads the discovery document and the JWKS through the
same session, without a token, as Cloudflare does.

Nothing here ever puts a password, client secret, code or token into a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re

from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import short_error
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._jose import b64url_encode

try:
    import requests
    from requests.exceptions import RequestException, SSLError
except ImportError:
    pass  # _http.HAS_REQUESTS tells; modules fail with missing_required_lib before using it


def pkce_pair():
    """``(verifier, S256 challenge)`` for PKCE."""
    verifier = b64url_encode(os.urandom(32))
    return verifier, b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def random_value():
    return b64url_encode(os.urandom(16))


# ---- pages ---------------------------------------------------------------------------------------
def page_text(text, limit=240):
    """The visible words of an HTML page (title first), shortened: enough to say what it says."""
    if not isinstance(text, str):
        return ""
    title = re.search(r"<title>(.*?)</title>", text, re.S | re.I)
    body = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", text)
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
    if title and title.group(1).strip() and title.group(1).strip() != "authentik":
        words = "%s: %s" % (title.group(1).strip(), words)
    return words if len(words) <= limit else words[:limit] + "..."


# ---- HTTP --------------------------------------------------------------------------------------
class HttpFailure(Exception):
    """A request that got no usable answer (TLS, connection, timeout)."""

    def __init__(self, message, tls=False):
        super(HttpFailure, self).__init__(message)
        self.tls = tls


class OidcHttp:
    """A cookie-keeping session for authentik's public endpoints (never an API token).

    ``verify`` is requests' TLS setting (True, False or a CA bundle path), passed with every
    request. ``trace`` records ``METHOD path -> status`` of each request (no query strings, so no
    code, state or credentials).
    """

    def __init__(self, timeout=30, verify=True, user_agent="idpbridge.authentik_cloudflare"):
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.timeout = timeout
        self.verify = verify
        self.trace = []

    def request(self, method, url, **kwargs):
        try:
            response = self.session.request(method, url, timeout=self.timeout, verify=self.verify,
                                            allow_redirects=False, **kwargs)
        except SSLError as exc:
            self.trace.append("%s %s -> TLS error" % (method, _path(url)))
            raise HttpFailure("TLS failed for %s: %s" % (_origin(url), short_error(exc)), tls=True)
        except RequestException as exc:
            self.trace.append("%s %s -> no answer" % (method, _path(url)))
            raise HttpFailure("no answer from %s: %s" % (_origin(url), short_error(exc)))
        self.trace.append("%s %s -> %d" % (method, _path(url), response.status_code))
        return response

    def get_json(self, url):
        """``(status, parsed JSON or None, response)``."""
        response = self.request("GET", url, headers={"Accept": "application/json"})
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body, response

    def cookie(self, name):
        for cookie in self.session.cookies:
            if cookie.name == name:
                return cookie.value
        return None


def _path(url):
    return urlsplit(url).path or "/"


def _origin(url):
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc)


# ---- the headless sign-in --------------------------------------------------------------------------
class SignInFailed(Exception):
    """The sign-in stopped; ``step`` names where (sign_in or token), the message says why."""

    def __init__(self, step, message):
        super(SignInFailed, self).__init__(message)
        self.step = step
        self.message = message


FLOW_PATH = re.compile(r"^(?P<prefix>.*)/if/flow/(?P<slug>[^/]+)/?$")
MAX_REQUESTS = 40


class HeadlessSignIn:
    """authentik's authorization-code sign-in, driven like a browser would drive it, but headless.

    ``run()`` returns ``(code, flows)``: the authorization code from the redirect to the callback
    and the slugs of the flows passed. The redirect is never followed.
    """

    def __init__(self, http, auth_url, client_id, callback, scopes, username, password, pkce=True):
        self.http = http
        self.auth_url = auth_url
        self.client_id = client_id
        self.callback = callback
        self.scopes = scopes
        self.username = username
        self.password = password
        self.state = random_value()
        self.nonce = random_value()
        self.verifier, self.challenge = pkce_pair() if pkce else (None, None)
        self.flows = []
        self.sent = 0

    def authorize_url(self):
        pairs = [("client_id", self.client_id), ("redirect_uri", self.callback), ("response_type", "code"),
                 ("scope", " ".join(self.scopes)), ("state", self.state), ("nonce", self.nonce)]
        if self.challenge:
            pairs += [("code_challenge", self.challenge), ("code_challenge_method", "S256")]
        return self.auth_url + ("&" if "?" in self.auth_url else "?") + urlencode(pairs)

    def _send(self, method, url, **kwargs):
        self.sent += 1
        if self.sent > MAX_REQUESTS:
            raise SignInFailed("sign_in", "gave up after %d requests without reaching the callback" % MAX_REQUESTS)
        try:
            return self.http.request(method, url, **kwargs)
        except HttpFailure as exc:
            raise SignInFailed("sign_in", str(exc))

    # -- the authorize endpoint -------------------------------------------------------------------
    def run(self):
        url = self.authorize_url()
        while True:
            response = self._send("GET", url)
            location = response.headers.get("Location")
            if response.status_code in (301, 302, 303, 307, 308) and location:
                target = urljoin(url, location)
                if self._is_callback(target):
                    return self._code_from(target), self.flows
                flow = FLOW_PATH.match(urlsplit(target).path)
                if flow is None:
                    # authentik may first send the browser to its own pages (for example a brand's
                    # default flow redirect); follow those on the same server only
                    if _origin(target) != _origin(url):
                        raise SignInFailed("sign_in", "the authorize endpoint redirected to %s, neither the callback "
                                                      "nor an authentik flow" % _strip_query(target))
                    url = target
                    continue
                next_url = self._run_flow(target, flow.group("prefix"), flow.group("slug"))
                if self._is_callback(next_url):
                    return self._code_from(next_url), self.flows
                url = next_url
                continue
            raise SignInFailed("sign_in", self._authorize_refusal(response))

    def _authorize_refusal(self, response):
        status = response.status_code
        text = page_text(response.text)
        if status == 400 and "Redirect URI Error" in text:
            return ("authentik refused the authorize request: Redirect URI Error - %s is not a registered redirect "
                    "URI of the provider" % self.callback)
        if status == 400 and "Client ID Error" in text:
            return ("authentik refused the authorize request: Client ID Error - no provider has the client ID %s"
                    % self.client_id)
        if status == 200 and "Permission denied" in text:
            return ("the test user signed in, but the application's policies deny access (authentik showed "
                    "'Permission denied'): bind the user or one of its groups to the application")
        if status == 404:
            return "the authorize URL answered HTTP 404 (%s): is auth_url authentik's authorize endpoint?" % text
        return "the authorize endpoint answered HTTP %d instead of a redirect: %s" % (status, text or "no text")

    def _is_callback(self, url):
        return _strip_query(url) == _strip_query(self.callback)

    def _code_from(self, url):
        query = parse_qs(urlsplit(url).query)
        if "error" in query:
            raise SignInFailed("sign_in", "authentik sent the browser back to Cloudflare with error %s: %s" % (
                query["error"][0], (query.get("error_description") or [""])[0]))
        if (query.get("state") or [None])[0] != self.state:
            raise SignInFailed("sign_in", "the redirect to the callback does not carry the state that was sent")
        code = (query.get("code") or [None])[0]
        if not code:
            raise SignInFailed("sign_in", "the redirect to the callback carries no code")
        return code

    # -- the flow executor ------------------------------------------------------------------------
    def _run_flow(self, flow_url, prefix, slug):
        """Pass the flow ``slug``; return where it sends the browser (absolute URL)."""
        self.flows.append(slug)
        parts = urlsplit(flow_url)
        query = parts.query
        base = "%s://%s%s" % (parts.scheme, parts.netloc, prefix)
        executor = "%s/api/v3/flows/executor/%s/?%s" % (base, slug, urlencode([("query", query)]))
        answered = set()
        response = self._send("GET", executor, headers={"Accept": "application/json"})
        while True:
            if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                target = urljoin(executor, response.headers["Location"])
                if self._is_callback(target):
                    return target
                response = self._send("GET", target, headers={"Accept": "application/json"})
                continue
            if response.status_code != 200:
                raise SignInFailed("sign_in", "the flow executor of %s answered HTTP %d: %s" % (
                    slug, response.status_code, page_text(response.text)))
            try:
                challenge = response.json()
            except ValueError:
                raise SignInFailed("sign_in", "the flow executor of %s did not answer JSON" % slug)
            if not isinstance(challenge, dict):
                raise SignInFailed("sign_in", "the flow executor of %s answered an unexpected shape" % slug)
            component = challenge.get("component")
            errors = challenge.get("response_errors")
            if errors:
                raise SignInFailed("sign_in", self._stage_refusal(slug, component, errors))
            if component == "xak-flow-redirect":
                return urljoin(executor, challenge.get("to") or "/")
            answer = self._answer(slug, component, challenge)
            if component in answered and component != "ak-stage-consent":
                raise SignInFailed("sign_in", "the flow %s showed the %s stage again after it was answered" % (
                    slug, component))
            answered.add(component)
            headers = {"Accept": "application/json"}
            csrf = self.http.cookie("authentik_csrf")
            if csrf:
                headers["X-authentik-CSRF"] = csrf
            response = self._send("POST", executor, json=answer, headers=headers)

    def _answer(self, slug, component, challenge):
        if component == "ak-stage-identification":
            return {"component": component, "uid_field": self.username}
        if component == "ak-stage-password":
            return {"component": component, "password": self.password}
        if component == "ak-stage-consent":
            return {"component": component, "token": challenge.get("token")}
        if component == "ak-stage-access-denied":
            raise SignInFailed("sign_in", "authentik denied access in flow %s: %s" % (
                slug, challenge.get("error_message") or "no reason given"))
        if component == "ak-stage-flow-error":
            raise SignInFailed("sign_in", "the flow %s failed (authentik's request id %s; its server log says why)" % (
                slug, challenge.get("request_id")))
        if component == "ak-stage-authenticator-validate":
            raise SignInFailed("sign_in", "the flow %s asks the test user for a second factor (MFA); use a test user "
                                          "without authenticator devices" % slug)
        raise SignInFailed("sign_in", "the flow %s shows the stage %s, which a headless sign-in cannot pass" % (
            slug, component))

    def _stage_refusal(self, slug, component, errors):
        texts = []
        for field, items in (errors.items() if isinstance(errors, dict) else []):
            for item in items if isinstance(items, list) else [items]:
                texts.append("%s: %s" % (field, item.get("string") if isinstance(item, dict) else item))
        said = "; ".join(texts) or json.dumps(errors)
        if component == "ak-stage-password":
            return ("authentik refused the password of the test user %r (%s); an unknown user name gets the same "
                    "answer" % (self.username, said))
        return "authentik refused the answer to the %s stage of flow %s (%s)" % (component, slug, said)

    # -- the token endpoint -----------------------------------------------------------------------
    def redeem(self, token_url, code, client_secret):
        """The token endpoint's answer (a dict with ``id_token``) for ``code``; ``SignInFailed("token")`` else.

        The client authenticates with HTTP Basic (``client_secret_basic``), as the OIDC default.
        """
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.callback}
        if self.verifier:
            form["code_verifier"] = self.verifier
        try:
            response = self.http.request("POST", token_url, data=form, auth=(self.client_id, client_secret or ""),
                                         headers={"Accept": "application/json"})
        except HttpFailure as exc:
            raise SignInFailed("token", str(exc))
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            if isinstance(body, dict) and body.get("error"):
                hint = TOKEN_HINTS.get(body["error"], "")
                raise SignInFailed("token", "the token endpoint answered HTTP %d %s: %s%s" % (
                    response.status_code, body["error"], body.get("error_description") or "", hint))
            raise SignInFailed("token", "the token endpoint answered HTTP %d: %s" % (
                response.status_code, page_text(response.text)))
        if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            raise SignInFailed("token", "the token endpoint's answer has no id_token (is openid among the scopes?)")
        return body


TOKEN_HINTS = {
    "invalid_client": (". The client secret Cloudflare sends (client_secret) differs from the provider's in authentik, "
                       "or the client ID or redirect URI does not match"),
    "invalid_grant": ". The code was refused: expired, used twice, or the PKCE verifier does not match",
    "unsupported_grant_type": ". The provider does not allow the authorization_code grant",
}


def _strip_query(url):
    parts = urlsplit(url)
    return "%s://%s%s" % (parts.scheme, parts.netloc.lower(), parts.path)
