# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""JOSE for checking a login method's ID tokens, written here on top of ``cryptography`` (a dependency of
ansible-core, so present on the controller) instead of adding a JWT library: base64url, public keys from JWKs
(RSA from ``n``/``e``, EC P-256 from ``x``/``y``), which JWKS entries can sign ID tokens Cloudflare accepts
(RS256, ES256), JWS signature checks and the standard ID token claim checks (``iss``, ``aud``, ``exp``,
``iat``, ``nbf``, ``nonce``).

Pure: no request is sent here (the sign-in that gets a token is ``_signin.py``). Nothing here ever puts a
token into a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json
import re
import sys
import time


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
