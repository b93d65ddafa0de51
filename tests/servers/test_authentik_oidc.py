"""The authentik test server's sign-in: authorize, flow executor, token and userinfo, over real HTTP.

Each exchange is held to the shape of the captured samples 21 to 35 (docs/authentik-samples).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.servers._control import Server
from tests.servers.authentik.app import AuthentikApp

TOKEN = "test-token-oidc-0123456789"
CALLBACK = "https://team.cloudflareaccess.com/cdn-cgi/access/callback"
IMPLICIT = "default-provider-authorization-implicit-consent"
EXPLICIT = "default-provider-authorization-explicit-consent"
AUTH_FLOW = "default-authentication-flow"


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Setup:
    """A provider bound to application ``sample-app`` and a cookie-keeping browser session."""

    def __init__(self, server: Server, authorization_flow: str = IMPLICIT, **provider_fields):
        self.server = server
        self.app: AuthentikApp = server.app
        self.url = server.url
        self.admin = requests.Session()
        self.admin.headers["Authorization"] = "Bearer " + TOKEN
        self.admin.post(self.url + "/_test/reset", timeout=5).raise_for_status()
        body = {
            "name": "sample-provider",
            "authorization_flow": self.app.flow_pk(authorization_flow),
            "invalidation_flow": self.app.flow_pk("default-provider-invalidation-flow"),
            "redirect_uris": [{"matching_mode": "strict", "url": CALLBACK}],
            "signing_key": self.app.keypair_pk("authentik Self-signed Certificate"),
            "property_mappings": [self.app.scope_mapping_pk(s) for s in ("openid", "email", "profile")],
        }
        body.update(provider_fields)
        resp = self.admin.post(self.url + "/api/v3/providers/oauth2/", json=body, timeout=5)
        assert resp.status_code == 201, resp.text
        self.provider = resp.json()
        resp = self.admin.post(self.url + "/api/v3/core/applications/",
                               json={"name": "sample-app", "slug": "sample-app", "provider": self.provider["pk"]},
                               timeout=5)
        assert resp.status_code == 201, resp.text
        self.application = resp.json()
        self.browser = requests.Session()

    @property
    def client_id(self) -> str:
        return self.provider["client_id"]

    @property
    def secret(self) -> str:
        return self.provider["client_secret"]

    def params(self, **extra) -> list[tuple[str, str]]:
        pairs = [("client_id", self.client_id), ("redirect_uri", CALLBACK), ("response_type", "code"),
                 ("scope", "openid email profile"), ("state", "S"), ("nonce", "N")]
        return pairs + sorted(extra.items())

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.browser.get(self.url + path, allow_redirects=False, timeout=5, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.browser.post(self.url + path, allow_redirects=False, timeout=5, **kwargs)

    def authorize(self, **extra) -> requests.Response:
        return self.get("/application/o/authorize/?" + urlencode(self.params(**extra)))

    def executor(self, slug: str, q: str) -> str:
        return "/api/v3/flows/executor/%s/?%s" % (slug, urlencode([("query", q)]))

    def log_in(self, username: str | None = None, password: str | None = None, **extra) -> str:
        """Sign in through the authentication flow; returns the callback URL authorize answers."""
        first = self.authorize(**extra)
        assert first.status_code == 302
        q = urlsplit(first.headers["Location"]).query
        url = self.executor(AUTH_FLOW, q)
        assert self.get(url).json()["component"] == "ak-stage-identification"
        assert self.post(url, json={"component": "ak-stage-identification",
                                    "uid_field": username or self.app.test_username}).status_code == 302
        resp = self.post(url, json={"component": "ak-stage-password", "password": password or self.app.test_password})
        assert resp.status_code == 302, resp.text
        assert self.get(url).status_code == 302  # the silent MFA stage
        done = self.get(url).json()
        assert done["component"] == "xak-flow-redirect", done
        return self.get(done["to"]).headers["Location"]

    def token(self, code: str, basic: bool = True, **form) -> requests.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
        data.update(form)
        auth = None
        if basic:
            auth = (self.client_id, self.secret)
        else:
            data.setdefault("client_id", self.client_id)
            data.setdefault("client_secret", self.secret)
        return requests.post(self.url + "/application/o/token/", data=data, auth=auth, timeout=5)


def code_of(location: str) -> str:
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["S"], location
    return query["code"][0]


def verify_rs256(app: AuthentikApp, jwt: str) -> tuple[dict, dict]:
    header_b64, claims_b64, sig_b64 = jwt.split(".")
    header = json.loads(b64d(header_b64))
    jwks = requests.get(app.base_url + "/application/o/sample-app/jwks/", timeout=5).json()
    (key,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    public = rsa.RSAPublicNumbers(int.from_bytes(b64d(key["e"]), "big"), int.from_bytes(b64d(key["n"]), "big")).public_key()
    public.verify(b64d(sig_b64), ("%s.%s" % (header_b64, claims_b64)).encode(), padding.PKCS1v15(), hashes.SHA256())
    return header, json.loads(b64d(claims_b64))


@pytest.fixture(scope="module")
def server():
    running = Server(AuthentikApp(token=TOKEN, page_size=100)).start()
    yield running
    running.stop()


@pytest.fixture
def ak(server):
    return Setup(server)


def test_unauthenticated_authorize_goes_to_the_login_flow(ak):
    resp = ak.authorize()
    assert resp.status_code == 302 and resp.headers["Content-Type"] == "text/html; charset=utf-8"
    aq = urlencode(ak.params())
    assert resp.headers["Location"] == "/if/flow/%s/?%s&next=%s" % (
        AUTH_FLOW, aq, quote("/application/o/authorize/?" + aq, safe=""))  # sample 22
    assert "authentik_session" in ak.browser.cookies
    shell = ak.get(resp.headers["Location"])
    assert shell.status_code == 200 and shell.headers["Content-Type"] == "text/html; charset=utf-8"


def test_sign_in_through_the_executor_and_redeem_the_code(ak):
    first = ak.authorize()
    q = urlsplit(first.headers["Location"]).query
    url = ak.executor(AUTH_FLOW, q)
    ident = ak.get(url)
    assert ident.status_code == 200 and ident.headers["Content-Type"] == "application/json"
    body = ident.json()
    assert body["component"] == "ak-stage-identification" and body["application_pre"] == "sample-app"
    assert body["user_fields"] == ["email", "username"] and body["flow_designation"] == "authentication"
    assert body["flow_info"]["cancel_url"] == "/flows/-/cancel/?next=" + quote(
        "/application/o/authorize/?" + urlencode(ak.params()), safe="")
    posted = ak.post(url, json={"component": "ak-stage-identification", "uid_field": ak.app.test_username})
    assert posted.status_code == 302 and posted.headers["Location"] == url and posted.text == ""
    password = ak.get(url).json()
    assert password["component"] == "ak-stage-password" and password["pending_user"] == ak.app.test_username
    # a wrong component is applied to the current stage (sample 34), a wrong password is refused (25)
    wrong = ak.post(url, json={"component": "ak-stage-identification", "uid_field": "x"}).json()
    assert wrong["response_errors"] == {"password": [{"string": "This field is required.", "code": "required"}]}
    wrong = ak.post(url, json={"component": "ak-stage-password", "password": "nope"})
    assert wrong.status_code == 200
    assert wrong.json()["response_errors"] == {"password": [{"string": "Invalid password", "code": "invalid"}]}
    # and the session stays usable: the right password passes
    assert ak.post(url, json={"component": "ak-stage-password", "password": ak.app.test_password}).status_code == 302
    assert ak.get(url).status_code == 302
    session_before = ak.browser.cookies["authentik_session"]
    done = ak.get(url).json()
    assert done == {"component": "xak-flow-redirect", "to": "/application/o/authorize/?" + urlencode(ak.params())}
    assert ak.browser.cookies["authentik_session"] != session_before
    assert len(ak.browser.cookies["authentik_csrf"]) == 32 and "authentik_device" in ak.browser.cookies
    callback = ak.get(done["to"])
    assert callback.status_code == 302
    location = callback.headers["Location"]
    assert location.startswith(CALLBACK + "?code=") and location.endswith("&state=S")
    code = code_of(location)
    assert re.fullmatch(r"[a-z0-9]{32}", code)

    # wrong secret and a foreign redirect_uri: invalid_client, the code is not used up (30, 30d)
    bad = requests.post(ak.url + "/application/o/token/", auth=(ak.client_id, "x" * 128),
                        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}, timeout=5)
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/json"
    assert bad.json()["error"] == "invalid_client" and re.fullmatch(r"[0-9a-f]{32}", bad.json()["request_id"])
    assert ak.token(code, redirect_uri=CALLBACK + "x").json()["error"] == "invalid_client"
    tokens = ak.token(code)
    assert tokens.status_code == 200 and tokens.headers["Content-Type"] == "application/json"
    body = tokens.json()
    assert list(body) == ["access_token", "token_type", "scope", "expires_in", "id_token"]
    assert (body["token_type"], body["scope"], body["expires_in"]) == ("Bearer", "email openid profile", 3600)
    header, claims = verify_rs256(ak.app, body["id_token"])
    assert header == {"alg": "RS256", "kid": ak.app.signing_key.kid, "typ": "JWT"}
    assert claims["iss"] == ak.url + "/application/o/sample-app/"
    assert claims["aud"] == ak.client_id and claims["nonce"] == "N"
    assert claims["exp"] - claims["iat"] == 3600 and claims["iat"] <= time.time() + 1
    assert claims["email"] == "idpbridge-tester@example.org" and claims["email_verified"] is False
    assert claims["groups"] == ["engineering"] and claims["preferred_username"] == ak.app.test_username
    assert claims["amr"] == ["pwd"] and len(claims["sid"]) == 64
    user = ak.admin.get(ak.url + "/api/v3/core/users/", params={"username": ak.app.test_username}, timeout=5).json()
    assert claims["sub"] == user["results"][0]["uid"]
    _header, access = verify_rs256(ak.app, body["access_token"])
    assert access["azp"] == ak.client_id and access["scope"] == "email openid profile"
    # the code is single-use (28c)
    again = ak.token(code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    info = requests.get(ak.url + "/application/o/userinfo/", headers={"Authorization": "Bearer " + body["access_token"]},
                        timeout=5).json()
    assert info["email"] == claims["email"] and info["nonce"] == "N" and info["sub"] == claims["sub"]
    assert requests.get(ak.url + "/application/o/userinfo/", timeout=5).status_code == 401


def test_form_client_authentication_and_pkce(ak):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    location = ak.log_in(code_challenge=challenge, code_challenge_method="S256")
    code = code_of(location)
    assert ak.token(code, basic=False).json()["error"] == "invalid_grant"  # verifier missing
    assert ak.token(code, basic=False, code_verifier="w" * 50).json()["error"] == "invalid_grant"
    ok = ak.token(code, basic=False, code_verifier=verifier)  # failures did not use the code up
    assert ok.status_code == 200 and "id_token" in ok.json()
    # a signed-in session gets the next code from authorize directly (26)
    direct = ak.authorize()
    assert direct.status_code == 302 and direct.headers["Location"].startswith(CALLBACK + "?code=")
    assert ak.token(code_of(direct.headers["Location"]), code_verifier=verifier).json()["error"] == "invalid_grant"


def test_authorize_errors_are_html_pages(ak):
    bad_uri = ak.get("/application/o/authorize/?" + urlencode(
        [("client_id", ak.client_id), ("redirect_uri", "https://evil.example/cb"), ("response_type", "code")]))
    assert bad_uri.status_code == 400 and bad_uri.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Redirect URI Error" in bad_uri.text and "mismatching redirection URI" in bad_uri.text
    unknown = ak.get("/application/o/authorize/?" + urlencode([("client_id", "nope"), ("redirect_uri", CALLBACK)]))
    assert unknown.status_code == 400 and "Client ID Error" in unknown.text
    assert ak.get("/application/o/authorize/").status_code == 404
    unknown_client = requests.post(ak.url + "/application/o/token/", auth=("nope", "x"),
                                   data={"grant_type": "authorization_code", "code": "c"}, timeout=5)
    assert unknown_client.json()["error"] == "invalid_client"


def test_unknown_user_and_policy_denial(ak):
    first = ak.authorize()
    url = ak.executor(AUTH_FLOW, urlsplit(first.headers["Location"]).query)
    ak.get(url)
    assert ak.post(url, json={"component": "ak-stage-identification", "uid_field": "sample-nobody"}).status_code == 302
    assert ak.get(url).json()["pending_user"] == "sample-nobody"  # 33b: unknown users are not revealed
    refused = ak.post(url, json={"component": "ak-stage-password", "password": ak.app.test_password}).json()
    assert refused["response_errors"]["password"][0]["string"] == "Invalid password"

    other = Setup(ak.server)
    group = other.app.group_pk("contractors")
    other.admin.post(other.url + "/api/v3/policies/bindings/",
                     json={"target": other.application["pk"], "group": group, "order": 10}, timeout=5).raise_for_status()
    first = other.authorize()
    url = other.executor(AUTH_FLOW, urlsplit(first.headers["Location"]).query)
    other.get(url)
    other.post(url, json={"component": "ak-stage-identification", "uid_field": other.app.test_username})
    other.post(url, json={"component": "ak-stage-password", "password": other.app.test_password})
    other.get(url)
    done = other.get(url).json()
    denied = other.get(done["to"])
    assert denied.status_code == 200 and "Location" not in denied.headers  # sample 32
    assert "<title>Permission denied - authentik</title>" in denied.text and "Request has been denied." in denied.text


def test_explicit_consent_needs_the_csrf_header(server):
    ak = Setup(server, authorization_flow=EXPLICIT)
    location = ak.log_in()
    assert location == "/if/flow/%s/?%s" % (EXPLICIT, urlencode(ak.params()))  # sample 35
    url = ak.executor(EXPLICIT, urlsplit(location).query)
    consent = ak.get(url).json()
    assert consent["component"] == "ak-stage-consent"
    assert consent["flow_info"]["title"] == "Redirecting to sample-app"
    assert consent["permissions"] == [{"name": "Email address", "id": "email"}, {"name": "", "id": "openid"},
                                      {"name": "General Profile Information", "id": "profile"}]
    answer = {"component": "ak-stage-consent", "token": consent["token"]}
    without = ak.post(url, json=answer).json()
    assert without["component"] == "ak-stage-flow-error" and set(without) == {"component", "request_id"}
    with_csrf = ak.post(url, json=answer, headers={"X-authentik-CSRF": ak.browser.cookies["authentik_csrf"]})
    assert with_csrf.status_code == 302 and with_csrf.headers["Location"] == url
    done = ak.get(url).json()
    assert done["component"] == "xak-flow-redirect" and done["to"].startswith(CALLBACK + "?code=")
    assert ak.token(code_of(done["to"])).status_code == 200


def test_knobs_break_the_id_token_and_reset_restores(ak):
    ak.admin.post(ak.url + "/_test/config", json={"id_token_signing": "foreign", "id_token_expired": True,
                                                  "id_token_omit_claims": ["email"]}, timeout=5).raise_for_status()
    body = ak.token(code_of(ak.log_in())).json()
    with pytest.raises(InvalidSignature):
        verify_rs256(ak.app, body["id_token"])
    claims = json.loads(b64d(body["id_token"].split(".")[1]))
    assert claims["exp"] < time.time() and "email" not in claims and "groups" in claims
    assert ak.admin.post(ak.url + "/_test/config", json={"id_token_signing": "bogus"}, timeout=5).status_code == 400

    fresh = Setup(ak.server)  # resets
    body = fresh.token(code_of(fresh.log_in(fresh.app.test_username_without_email,
                                            fresh.app.test_password_without_email))).json()
    _header, claims = verify_rs256(fresh.app, body["id_token"])
    assert claims["exp"] > time.time() and claims["email"] == ""


def test_without_signing_key_tokens_are_hs256_with_the_secret(server):
    ak = Setup(server, signing_key=None)
    body = ak.token(code_of(ak.log_in())).json()
    header = json.loads(b64d(body["id_token"].split(".")[0]))
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert requests.get(ak.url + "/application/o/sample-app/jwks/", timeout=5).json() == {}


def test_sign_in_requests_are_logged_as_writes_only_where_they_post(ak):
    ak.admin.delete(ak.url + "/_test/requests", timeout=5)
    ak.token(code_of(ak.log_in()))
    log = ak.admin.get(ak.url + "/_test/requests", timeout=5).json()
    posts = {(e["method"], e["path"]) for e in log if e["write"]}
    assert posts == {("POST", "/api/v3/flows/executor/%s/" % AUTH_FLOW), ("POST", "/application/o/token/")}
