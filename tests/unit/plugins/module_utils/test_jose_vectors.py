"""An oracle for the hand-written JOSE code of _jose.py: the RFC 7515, 7517 and 7518 example keys and signatures as
test vectors, and PyJWT (an independent implementation) judging the same tokens as _jose does.

The vectors are data from the RFCs' appendices: RFC 7515 A.2 (RS256) and A.3 (ES256) sign the same JWT claims
with the keys given there; RFC 7517 A.1 lists two example public keys; RFC 7518 C uses two P-256 keys.
"""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._jose import (
    JwtError,
    b64url_decode,
    b64url_encode,
    decode_jwt,
    jwk_public_key,
    signing_keys,
    verify_signature,
)

# ---- RFC 7515 Appendix A: the JWS payload of A.1 to A.3 (a JWT claims set, with CR LF inside) -------------------
RFC7515_PAYLOAD = (
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
)
RFC7515_CLAIMS = {"iss": "joe", "exp": 1300819380, "http://example.com/is_root": True}

# A.2: RS256, the public part of the RSA key of A.2.1 and the signature of A.2.1
RFC7515_A2_KEY = {
    "kty": "RSA",
    "n": (
        "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
        "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
        "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
        "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
        "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
        "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
    ),
    "e": "AQAB",
}
RFC7515_A2_TOKEN = "eyJhbGciOiJSUzI1NiJ9." + RFC7515_PAYLOAD + "." + (
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw"
)

# A.3: ES256, the public part of the P-256 key of A.3.1 and the signature (R || S) of A.3.1
RFC7515_A3_KEY = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
RFC7515_A3_TOKEN = "eyJhbGciOiJFUzI1NiJ9." + RFC7515_PAYLOAD + "." + (
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q"
)

# ---- RFC 7517 Appendix A.1: example public keys (an encryption-only EC key and an RS256 key) --------------------
RFC7517_A1_JWKS = {"keys": [
    {"kty": "EC", "crv": "P-256", "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
     "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM", "use": "enc", "kid": "1"},
    {"kty": "RSA", "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
        "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5"
        "hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"),
     "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"},
]}

# ---- RFC 7518 Appendix C: the two P-256 public keys of the ECDH-ES example ----------------------------------------
RFC7518_C_KEYS = [
    {"kty": "EC", "crv": "P-256", "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
     "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"},
    {"kty": "EC", "crv": "P-256", "x": "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
     "y": "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck"},
]


def pyjwt_verifies(token, jwk, alg):
    """PyJWT's verdict on the signature alone (the RFC claims expired in 2011)."""
    try:
        jwt.decode(token, jwt.PyJWK(dict(jwk, alg=alg)).key, algorithms=[alg],
                   options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False,
                            "verify_iss": False, "verify_sub": False, "verify_jti": False})
    except jwt.PyJWTError:
        return False
    return True


def ours_verifies(token, jwks):
    try:
        verify_signature(token, jwks)
    except JwtError:
        return False
    return True


def test_the_rfc7515_payload_is_the_claims_set():
    assert b64url_decode(RFC7515_PAYLOAD) == b'{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'
    header, claims, signing_input, signature = decode_jwt(RFC7515_A2_TOKEN)
    assert header == {"alg": "RS256"} and claims == RFC7515_CLAIMS and len(signature) == 256
    assert signing_input == ("eyJhbGciOiJSUzI1NiJ9." + RFC7515_PAYLOAD).encode("ascii")
    assert b64url_encode(b64url_decode(RFC7515_PAYLOAD)) == RFC7515_PAYLOAD


@pytest.mark.parametrize("token, key, alg", [(RFC7515_A2_TOKEN, RFC7515_A2_KEY, "RS256"),
                                             (RFC7515_A3_TOKEN, RFC7515_A3_KEY, "ES256")], ids=["A.2", "A.3"])
def test_rfc7515_signatures_verify_with_both(token, key, alg):
    header, claims = verify_signature(token, {"keys": [key]})
    assert header == {"alg": alg} and claims == RFC7515_CLAIMS
    assert pyjwt_verifies(token, key, alg)
    # one changed character of the payload or the signature: both refuse
    head, body, sig = token.split(".")
    for bad in (".".join((head, body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1], sig)),
                ".".join((head, body, sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]))):
        assert not ours_verifies(bad, {"keys": [key]}) and not pyjwt_verifies(bad, key, alg)
    # the other RFC key: both refuse
    other = RFC7515_A3_KEY if alg == "RS256" else dict(RFC7518_C_KEYS[0])
    assert not ours_verifies(token, {"keys": [other]})


def test_rfc7517_example_keys():
    usable, ignored = signing_keys(RFC7517_A1_JWKS)
    assert [k["kid"] for k in usable] == ["2011-04-29"] and usable[0]["alg"] == "RS256"
    assert len(ignored) == 1 and ignored[0].startswith("key 1 ") and "use enc" in ignored[0]
    for jwk in RFC7517_A1_JWKS["keys"]:
        ours = jwk_public_key(jwk).public_numbers()
        theirs = jwt.PyJWK(dict(jwk, alg="RS256" if jwk["kty"] == "RSA" else "ES256")).key.public_numbers()
        assert ours == theirs
    assert jwk_public_key(RFC7517_A1_JWKS["keys"][1]).key_size == 2048


def test_rfc7518_example_points_are_read_as_pyjwt_reads_them():
    for jwk in RFC7518_C_KEYS:
        assert jwk_public_key(jwk).public_numbers() == jwt.PyJWK(dict(jwk, alg="ES256")).key.public_numbers()
    off_curve = dict(RFC7518_C_KEYS[0], y=RFC7518_C_KEYS[1]["y"])
    with pytest.raises(JwtError, match="not a point on P-256"):
        jwk_public_key(off_curve)
    with pytest.raises(jwt.PyJWTError):
        jwt.PyJWK(dict(off_curve, alg="ES256"))


# ---- the same generated tokens judged by both ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def keys():
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "rsa2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1()),
            "ec2": ec.generate_private_key(ec.SECP256R1())}


def public_jwk(key, kid):
    """The public JWK of ``key`` as PyJWT writes it."""
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
    return dict(json.loads(algorithm.to_jwk(key.public_key())), kid=kid, use="sig")


def cases(keys):
    now = int(time.time())
    claims = {"iss": "https://auth.example.com/application/o/x/", "sub": "u1", "aud": "client", "iat": now,
              "exp": now + 300, "email": "a@example.com"}
    rs = jwt.encode(claims, keys["rsa"], algorithm="RS256", headers={"kid": "r1"})
    es = jwt.encode(claims, keys["ec"], algorithm="ES256", headers={"kid": "e1"})
    head, body, sig = rs.split(".")
    forged_body = b64url_encode(json.dumps(dict(claims, sub="admin")).encode())
    es_head, es_body, es_sig = es.split(".")
    raw = b64url_decode(es_sig)
    return {
        "RS256 good": (rs, "RS256", "rsa"),
        "ES256 good": (es, "ES256", "ec"),
        "RS256 by another key": (jwt.encode(claims, keys["rsa2"], algorithm="RS256", headers={"kid": "r1"}), "RS256", "rsa"),
        "ES256 by another key": (jwt.encode(claims, keys["ec2"], algorithm="ES256", headers={"kid": "e1"}), "ES256", "ec"),
        "RS256 payload changed": (".".join((head, forged_body, sig)), "RS256", "rsa"),
        "ES256 payload changed": (".".join((es_head, forged_body, es_sig)), "ES256", "ec"),
        "ES256 signature short": (".".join((es_head, es_body, b64url_encode(raw[:63]))), "ES256", "ec"),
        "ES256 r and s swapped": (".".join((es_head, es_body, b64url_encode(raw[32:] + raw[:32]))), "ES256", "ec"),
        "RS256 signature empty": (".".join((head, body, "")), "RS256", "rsa"),
    }


def test_pyjwt_and_ours_agree_on_every_token(keys):
    jwks = {"keys": [public_jwk(keys["rsa"], "r1"), public_jwk(keys["ec"], "e1")]}
    verdicts = {}
    for name, (token, alg, key_name) in cases(keys).items():
        jwk = jwks["keys"][0 if key_name == "rsa" else 1]
        verdicts[name] = (ours_verifies(token, jwks), pyjwt_verifies(token, jwk, alg))
    assert all(ours == theirs for ours, theirs in verdicts.values()), verdicts
    assert [name for name, (ours, _theirs) in verdicts.items() if ours] == ["RS256 good", "ES256 good"]


def test_what_cloudflare_does_not_take_is_refused_by_ours_and_signed_by_pyjwt(keys):
    now = int(time.time())
    claims = {"sub": "u1", "exp": now + 300}
    jwks = {"keys": [public_jwk(keys["rsa"], "r1")]}
    for alg in ("RS384", "PS256"):
        token = jwt.encode(claims, keys["rsa"], algorithm=alg, headers={"kid": "r1"})
        assert pyjwt_verifies(token, jwks["keys"][0], alg)  # a valid signature ...
        with pytest.raises(JwtError, match="accepts only RS256 or ES256"):  # ... that Cloudflare Access would not take
            verify_signature(token, jwks)
    unsigned = ".".join((b64url_encode(b'{"alg":"none"}'), b64url_encode(json.dumps(claims).encode()), ""))
    assert not ours_verifies(unsigned, jwks) and not pyjwt_verifies(unsigned, jwks["keys"][0], "RS256")
