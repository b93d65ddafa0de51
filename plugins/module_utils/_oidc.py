# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""OpenID Connect from the relying party's side, for testing a login method without a browser.

Two parts:

* JOSE, written here on top of ``cryptography`` (a dependency of ansible-core, so present on the
  controller) instead of adding a JWT library: base64url, public keys from JWKs (RSA from ``n``/``e``,
  EC P-256 from ``x``/``y``), which JWKS entries can sign ID tokens Cloudflare accepts (RS256,
  ES256), JWS signature checks and the standard ID token claim checks (``iss``, ``aud``, ``exp``,
  ``iat``, ``nbf``, ``nonce``).
* ``HeadlessSignIn``: authentik's browser sign-in done with plain HTTP calls - the authorize
  endpoint, the flow executor API (identification, password, consent), the redirect back to the
  client's callback (stopped there, the code taken) and the code redeemed at the token endpoint.

Nothing here ever puts a password, client secret, code or token into a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import json
import os
import re
import sys
import time

from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

# cryptography is imported on first use (only a sign-in checks a signature): a run without one does not pay
# for the import. Whether it is there is known up front, so a module can fail early with missing_required_lib.
CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from importlib.util import find_spec
    HAS_CRYPTOGRAPHY = find_spec("cryptography") is not None
except (ImportError, ValueError):
    HAS_CRYPTOGRAPHY = False
if not HAS_CRYPTOGRAPHY:
    CRYPTOGRAPHY_IMPORT_ERROR = "the Python library cryptography is not installed for %s" % sys.executable


class _Cryptography:
    """The parts of ``cryptography`` the signature checks use, imported on first use."""

    def __init__(self):
        self.loaded = False

    def load(self):
        if not self.loaded:
            # pylint: disable=import-outside-toplevel
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
            from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
            self.InvalidSignature, self.hashes, self.ec, self.padding, self.rsa = InvalidSignature, hashes, ec, padding, rsa
            self.encode_dss_signature = encode_dss_signature
            self.loaded = True
        return self


_CRYPTO = _Cryptography()

try:
    import requests
    from requests.exceptions import RequestException, SSLError
except ImportError:
    pass  # _http.HAS_REQUESTS tells; modules fail with missing_required_lib before using it

# The ID token signatures Cloudflare Access accepts from an OIDC login method.
ACCEPTED_ALGS = ("RS256", "ES256")
DEFAULT_LEEWAY = 60  # seconds of clock skew tolerated on exp, iat and nbf


class JwtError(Exception):
    """A token or key that cannot be used; the message says why (and never holds the token)."""


# ---- base64url ---------------------------------------------------------------------------------
def b64url_encode(data):
    """Unpadded base64url text of ``data`` (bytes)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    """Bytes of unpadded (or padded) base64url ``text``; ``JwtError`` when it is not base64url."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str) or not re.match(r"^[A-Za-z0-9_-]*={0,2}$", text):
        raise JwtError("not base64url text")
    text = text.rstrip("=")
    if len(text) % 4 == 1:
        raise JwtError("not base64url text (impossible length)")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JwtError("not base64url text (%s)" % exc)


def _b64url_int(text, what):
    try:
        raw = b64url_decode(text)
    except JwtError:
        raise JwtError("%s is not base64url" % what)
    if not raw:
        raise JwtError("%s is empty" % what)
    return int(binascii.hexlify(raw), 16)


# ---- keys --------------------------------------------------------------------------------------
def _need_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise JwtError("the Python library cryptography is needed to check signatures")
    try:
        return _CRYPTO.load()
    except ImportError as exc:
        raise JwtError("the Python library cryptography is needed to check signatures (%s)" % exc)


def jwk_algorithm(jwk):
    """The JWS algorithm a JWK can sign ID tokens with for Cloudflare (RS256 or ES256), else None."""
    if not isinstance(jwk, dict):
        return None
    if jwk.get("use") not in (None, "sig"):
        return None
    ops = jwk.get("key_ops")
    if isinstance(ops, list) and ops and "verify" not in ops:
        return None
    kty, alg = jwk.get("kty"), jwk.get("alg")
    if kty == "RSA" and alg in (None, "RS256"):
        return "RS256"
    if kty == "EC" and jwk.get("crv") == "P-256" and alg in (None, "ES256"):
        return "ES256"
    return None


def jwk_public_key(jwk):
    """The ``cryptography`` public key of an RSA or EC P-256 JWK; ``JwtError`` for anything else."""
    crypto = _need_cryptography()
    rsa, ec = crypto.rsa, crypto.ec
    if not isinstance(jwk, dict):
        raise JwtError("a JWK must be a JSON object")
    kty = jwk.get("kty")
    if kty == "RSA":
        n = _b64url_int(jwk.get("n") or "", "the RSA modulus n")
        e = _b64url_int(jwk.get("e") or "", "the RSA exponent e")
        if n.bit_length() < 2048:
            raise JwtError("the RSA key is %d bits; at least 2048 are needed" % n.bit_length())
        try:
            return rsa.RSAPublicNumbers(e, n).public_key()
        except ValueError as exc:
            raise JwtError("not a usable RSA key (%s)" % exc)
    if kty == "EC":
        if jwk.get("crv") != "P-256":
            raise JwtError("EC curve %r is not supported (only P-256, for ES256)" % jwk.get("crv"))
        x = _b64url_int(jwk.get("x") or "", "the EC coordinate x")
        y = _b64url_int(jwk.get("y") or "", "the EC coordinate y")
        try:
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        except ValueError as exc:
            raise JwtError("not a point on P-256 (%s)" % exc)
    raise JwtError("key type %r is not supported (only RSA and EC)" % kty)


def signing_keys(jwks):
    """``(usable, ignored)`` for a JWKS document.

    ``usable``: JWKs that can verify RS256 or ES256 ID tokens (with ``alg`` filled in);
    ``ignored``: one sentence per other entry saying why it does not count.
    """
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        return [], []
    usable, ignored = [], []
    for index, jwk in enumerate(keys):
        label = "key %s" % ((jwk.get("kid") if isinstance(jwk, dict) else None) or "#%d" % (index + 1))
        alg = jwk_algorithm(jwk)
        if alg is None:
            ignored.append("%s (kty %s, alg %s, use %s) cannot sign RS256/ES256 ID tokens" % (
                label, _get(jwk, "kty"), _get(jwk, "alg"), _get(jwk, "use")))
            continue
        try:
            jwk_public_key(jwk)
        except JwtError as exc:
            ignored.append("%s: %s" % (label, exc))
            continue
        entry = dict(jwk)
        entry["alg"] = alg
        usable.append(entry)
    return usable, ignored


def _get(obj, key):
    return obj.get(key) if isinstance(obj, dict) else None


# ---- tokens ------------------------------------------------------------------------------------
def decode_jwt(token):
    """``(header, claims, signing_input, signature)`` of a compact JWS, without any check."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise JwtError("not a compact JWT (three base64url parts)")
    head, body, sig = token.split(".")
    try:
        header = json.loads(b64url_decode(head).decode("utf-8"))
        claims = json.loads(b64url_decode(body).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, JwtError) as exc:
        raise JwtError("the JWT header or payload is not base64url JSON (%s)" % exc)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtError("the JWT header and payload must be JSON objects")
    return header, claims, ("%s.%s" % (head, body)).encode("ascii"), b64url_decode(sig)


def verify_signature(token, jwks):
    """``(header, claims)`` when ``token`` is signed RS256/ES256 by a key of ``jwks``; else ``JwtError``.

    With a ``kid`` in the header only the key with that ``kid`` is tried; without one, every
    usable key of the token's algorithm.
    """
    _need_cryptography()
    header, claims, signing_input, signature = decode_jwt(token)
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGS:
        raise JwtError("the token is signed with %s; Cloudflare Access accepts only %s (authentik signs HS256 "
                       "with the client secret when the provider has no signing key)" % (alg, " or ".join(ACCEPTED_ALGS)))
    usable, _ignored = signing_keys(jwks)
    kid = header.get("kid")
    candidates = [k for k in usable if k["alg"] == alg and (kid is None or k.get("kid") == kid)]
    if not candidates:
        if kid is not None:
            raise JwtError("the JWKS has no %s key with the token's kid %s (kids published: %s)" % (
                alg, kid, ", ".join(str(k.get("kid")) for k in usable) or "none"))
        raise JwtError("the JWKS has no %s key" % alg)
    for jwk in candidates:
        if _verify_one(jwk_public_key(jwk), alg, signing_input, signature):
            return header, claims
    if kid is not None:
        raise JwtError("the signature does not match the JWKS key %s: the token was signed with another key" % kid)
    raise JwtError("the signature matches none of the %d %s keys of the JWKS" % (len(candidates), alg))


def _verify_one(key, alg, signing_input, signature):
    crypto = _need_cryptography()
    rsa, ec, padding, hashes = crypto.rsa, crypto.ec, crypto.padding, crypto.hashes
    try:
        if alg == "RS256":
            if not isinstance(key, rsa.RSAPublicKey):
                return False
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            return True
        if alg == "ES256":
            if not isinstance(key, ec.EllipticCurvePublicKey) or len(signature) != 64:
                return False
            r = int(binascii.hexlify(signature[:32]), 16)
            s = int(binascii.hexlify(signature[32:]), 16)
            key.verify(crypto.encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
            return True
    except crypto.InvalidSignature:
        return False
    return False


def claim_problems(claims, issuer=None, audience=None, nonce=None, now=None, leeway=DEFAULT_LEEWAY):
    """Sentences, one per ID token claim that is wrong; empty when ``iss``, ``aud``, ``exp``, ``iat``,
    ``nbf``, ``azp`` and ``nonce`` are fine. ``issuer``/``audience``/``nonce`` None: not compared."""
    now = time.time() if now is None else now
    problems = []
    if issuer is not None and claims.get("iss") != issuer:
        problems.append("iss is %r, not the issuer %r of the discovery document" % (claims.get("iss"), issuer))
    if audience is not None:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if audience not in audiences:
            problems.append("aud is %r, not the login method's client ID %r" % (aud, audience))
        elif len(audiences) > 1 and claims.get("azp") not in (None, audience):
            problems.append("azp is %r, not the client ID %r" % (claims.get("azp"), audience))
    exp = claims.get("exp")
    if not _is_number(exp):
        problems.append("exp is missing or not a number")
    elif exp + leeway < now:
        problems.append("the token expired %s ago (exp %d)" % (_ago(now - exp), exp))
    iat = claims.get("iat")
    if iat is not None and not _is_number(iat):
        problems.append("iat is not a number")
    elif _is_number(iat) and iat - leeway > now:
        problems.append("iat lies %s in the future (check the clocks)" % _ago(iat - now))
    nbf = claims.get("nbf")
    if _is_number(nbf) and nbf - leeway > now:
        problems.append("the token is not valid before %d, %s from now" % (nbf, _ago(nbf - now)))
    if nonce is not None and claims.get("nonce") != nonce:
        problems.append("nonce %s (the one sent to the authorize endpoint must come back)" % (
            "is missing" if claims.get("nonce") is None else "does not match"))
    return problems


def missing_claims(claims, names):
    """The names in ``names`` whose claim is absent, null or an empty string/list."""
    return [name for name in names if claims.get(name) in (None, "", [], {})]


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ago(seconds):
    seconds = int(abs(seconds))
    if seconds >= 7200:
        return "%d h" % (seconds // 3600)
    if seconds >= 120:
        return "%d min" % (seconds // 60)
    return "%d s" % seconds


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
            raise HttpFailure("TLS failed for %s: %s" % (_origin(url), _short_error(exc)), tls=True)
        except RequestException as exc:
            self.trace.append("%s %s -> no answer" % (method, _path(url)))
            raise HttpFailure("no answer from %s: %s" % (_origin(url), _short_error(exc)))
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


def _short_error(exc):
    text = str(exc)
    match = re.search(r"\((?:Caused by )?[A-Za-z]+Error\(.*?: (.*?)['\"]?\)+$", text)
    if match:
        text = match.group(1)
    text = text.splitlines()[0] if text else exc.__class__.__name__
    return text[:300]


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
