"""JOSE helpers of _jose.py: base64url, JWK to key, signature checks, ID token claim checks."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _jose
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._jose import (
    JwtError,
    b64url_decode,
    b64url_encode,
    claim_problems,
    decode_jwt,
    jwk_algorithm,
    jwk_public_key,
    missing_claims,
    signing_keys,
    verify_signature,
)


def _int_b64(number: int, length: int | None = None) -> str:
    length = length or max(1, (number.bit_length() + 7) // 8)
    return b64url_encode(number.to_bytes(length, "big"))


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def rsa_jwk(key, kid="rsa-1", **extra):
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}
    jwk.update(extra)
    return jwk


def ec_jwk(key, kid="ec-1", **extra):
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "x": _int_b64(numbers.x, 32),
           "y": _int_b64(numbers.y, 32)}
    jwk.update(extra)
    return jwk


def make_jwt(claims, key, alg="RS256", kid="rsa-1", header=None):
    head = dict(header or {"alg": alg, "typ": "JWT"})
    if kid is not None:
        head["kid"] = kid
    signing_input = "%s.%s" % (b64url_encode(json.dumps(head).encode()), b64url_encode(json.dumps(claims).encode()))
    data = signing_input.encode()
    if alg == "RS256":
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = b"\x00" * 32
    return signing_input + "." + b64url_encode(signature)


CLAIMS = {"iss": "https://auth.example.com/application/o/app/", "aud": "client-1", "sub": "u1",
          "exp": 4102444800, "iat": 1700000000, "nonce": "n-1", "email": "a@example.org"}


# ---- base64url ----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"", b"f", b"fo", b"foo", b"\xff\xfe\xfd", bytes(range(256))])
def test_b64url_round_trip_without_padding(raw):
    text = b64url_encode(raw)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == raw
    assert b64url_decode(text + "=" * (-len(text) % 4)) == raw  # padded input is accepted too


@pytest.mark.parametrize("bad", ["a+b", "a/b", "ab cd", "abcde", "a==b", None, 12])
def test_b64url_rejects_what_is_not_base64url(bad):
    with pytest.raises(JwtError):
        b64url_decode(bad)


# ---- keys ---------------------------------------------------------------------------------------
def test_rsa_jwk_gives_the_same_public_key(rsa_key):
    public = jwk_public_key(rsa_jwk(rsa_key))
    assert public.public_numbers() == rsa_key.public_key().public_numbers()


def test_ec_jwk_gives_the_same_point(ec_key):
    public = jwk_public_key(ec_jwk(ec_key))
    assert public.public_numbers() == ec_key.public_key().public_numbers()


def test_unusable_jwks_are_refused(rsa_key, ec_key):
    with pytest.raises(JwtError, match="not supported"):
        jwk_public_key({"kty": "oct", "k": "c2VjcmV0"})
    with pytest.raises(JwtError, match="P-384"):
        jwk_public_key(dict(ec_jwk(ec_key), crv="P-384"))
    with pytest.raises(JwtError, match="1024 bits"):
        jwk_public_key(rsa_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
    with pytest.raises(JwtError, match="modulus"):
        jwk_public_key(dict(rsa_jwk(rsa_key), n="!!"))
    with pytest.raises(JwtError, match="not a point"):
        jwk_public_key(dict(ec_jwk(ec_key), y=_int_b64(5, 32)))


def test_which_jwks_can_sign_id_tokens(rsa_key, ec_key):
    assert jwk_algorithm(rsa_jwk(rsa_key)) == "RS256"
    assert jwk_algorithm(dict(rsa_jwk(rsa_key), alg=None)) == "RS256"
    assert jwk_algorithm(ec_jwk(ec_key)) == "ES256"
    assert jwk_algorithm(dict(rsa_jwk(rsa_key), use="enc", alg="RSA-OAEP-256")) is None
    assert jwk_algorithm(dict(rsa_jwk(rsa_key), alg="PS256")) is None
    assert jwk_algorithm({"kty": "oct", "alg": "HS256"}) is None
    # authentik's JWKS with a signing and an encryption key (sample 19a shape)
    jwks = {"keys": [rsa_jwk(rsa_key), dict(rsa_jwk(rsa_key, kid="enc-1"), use="enc", alg="RSA-OAEP-256")]}
    usable, ignored = signing_keys(jwks)
    assert [k["kid"] for k in usable] == ["rsa-1"]
    assert len(ignored) == 1 and "enc-1" in ignored[0]
    # authentik without a signing key answers {} (sample 19b)
    assert signing_keys({}) == ([], [])
    assert signing_keys({"keys": []}) == ([], [])


# ---- signatures ---------------------------------------------------------------------------------
def test_rs256_signature_good_and_bad(rsa_key, other_rsa_key):
    jwks = {"keys": [rsa_jwk(rsa_key)]}
    token = make_jwt(CLAIMS, rsa_key)
    header, claims = verify_signature(token, jwks)
    assert header["kid"] == "rsa-1" and claims == CLAIMS
    # another key, same kid: the signature check must fail
    with pytest.raises(JwtError, match="does not match the JWKS key rsa-1"):
        verify_signature(make_jwt(CLAIMS, other_rsa_key), jwks)
    # payload changed after signing
    head, _body, sig = token.split(".")
    forged = ".".join([head, b64url_encode(json.dumps(dict(CLAIMS, email="evil@example.org")).encode()), sig])
    with pytest.raises(JwtError, match="does not match"):
        verify_signature(forged, jwks)
    with pytest.raises(JwtError, match="no RS256 key with the token's kid other"):
        verify_signature(make_jwt(CLAIMS, rsa_key, kid="other"), jwks)
    # no kid: every key of the algorithm is tried
    assert verify_signature(make_jwt(CLAIMS, rsa_key, kid=None), {"keys": [rsa_jwk(other_rsa_key, kid="x"),
                                                                           rsa_jwk(rsa_key, kid="y")]})[1] == CLAIMS
    with pytest.raises(JwtError, match="has no RS256 key"):
        verify_signature(token, {})


def test_es256_signature_good_and_bad(ec_key):
    jwks = {"keys": [ec_jwk(ec_key)]}
    token = make_jwt(CLAIMS, ec_key, alg="ES256", kid="ec-1")
    assert verify_signature(token, jwks)[1] == CLAIMS
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(JwtError, match="does not match"):
        verify_signature(make_jwt(CLAIMS, other, alg="ES256", kid="ec-1"), jwks)


def test_algorithms_cloudflare_does_not_take_are_refused(rsa_key):
    hs = make_jwt(CLAIMS, None, alg="HS256", kid=None)
    with pytest.raises(JwtError, match="signed with HS256"):
        verify_signature(hs, {"keys": [rsa_jwk(rsa_key)]})
    none = make_jwt(CLAIMS, None, alg="none", kid=None)
    with pytest.raises(JwtError, match="signed with none"):
        verify_signature(none, {"keys": [rsa_jwk(rsa_key)]})


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.e30.", b64url_encode(b"[]") + ".e30.", 5])
def test_malformed_tokens(token):
    with pytest.raises(JwtError):
        decode_jwt(token)


def test_messages_never_carry_the_token(rsa_key, other_rsa_key):
    token = make_jwt(CLAIMS, other_rsa_key)
    with pytest.raises(JwtError) as caught:
        verify_signature(token, {"keys": [rsa_jwk(rsa_key)]})
    assert token.split(".")[2] not in str(caught.value) and token.split(".")[1] not in str(caught.value)


# ---- claims ---------------------------------------------------------------------------------------
def test_good_claims_have_no_problem():
    assert claim_problems(CLAIMS, issuer=CLAIMS["iss"], audience="client-1", nonce="n-1", now=1700000100) == []
    # aud as a list with azp
    claims = dict(CLAIMS, aud=["client-1", "other"], azp="client-1")
    assert claim_problems(claims, audience="client-1", now=1700000100) == []


def test_each_wrong_claim_is_named():
    now = 1700000100
    assert "iss is" in claim_problems(dict(CLAIMS, iss="https://x/"), issuer=CLAIMS["iss"], now=now)[0]
    assert "aud is" in claim_problems(CLAIMS, audience="client-2", now=now)[0]
    assert "azp" in claim_problems(dict(CLAIMS, aud=["client-1", "b"], azp="b"), audience="client-1", now=now)[0]
    assert "nonce does not match" in claim_problems(CLAIMS, nonce="n-2", now=now)[0]
    assert "nonce is missing" in claim_problems(dict((k, v) for k, v in CLAIMS.items() if k != "nonce"),
                                                nonce="n-1", now=now)[0]
    assert "exp is missing" in claim_problems(dict(CLAIMS, exp=None), now=now)[0]
    assert "exp is missing" in claim_problems(dict(CLAIMS, exp=True), now=now)[0]
    assert "in the future" in claim_problems(dict(CLAIMS, iat=now + 3600), now=now)[0]
    assert "not valid before" in claim_problems(dict(CLAIMS, nbf=now + 3600), now=now)[0]


def test_expiry_with_leeway():
    now = time.time()
    assert claim_problems(dict(CLAIMS, exp=int(now) - 30), now=now) == []  # within the 60 s leeway
    problems = claim_problems(dict(CLAIMS, exp=int(now) - 3600), now=now)
    assert len(problems) == 1 and "expired 60 min ago" in problems[0]
    assert claim_problems(dict(CLAIMS, exp=int(now) - 30), now=now, leeway=0)[0].startswith("the token expired")


def test_missing_claims():
    claims = {"email": "", "groups": [], "name": "A", "preferred_username": None}
    assert missing_claims(claims, ["email", "groups", "name", "preferred_username", "nickname"]) == [
        "email", "groups", "preferred_username", "nickname"]


def test_missing_cryptography_is_reported(monkeypatch, rsa_key):
    monkeypatch.setattr(_jose, "HAS_CRYPTOGRAPHY", False)
    with pytest.raises(JwtError, match="cryptography"):
        jwk_public_key(rsa_jwk(rsa_key))
