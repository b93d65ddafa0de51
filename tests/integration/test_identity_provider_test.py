"""cloudflare_access_identity_provider_test: the dashboard's Test button, headless, against both test servers.

Every broken link of the chain is made on purpose (behind the modules' back, through the test
servers' APIs or knobs) and must be caught and named as the first failure; the password and the
client secret never show, not even with -vvv; and the test sends no API write to either side
(the sign-in POSTs only to authentik's flow executor and token endpoint).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl

import pytest

from tests.servers._control import Server
from tests.servers.authentik.app import AuthentikApp

# part of the suite tests/run runs on every ansible-core (docs/development.md, "Test matrix")
pytestmark = pytest.mark.representative

ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"
MODULE = "idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_test"
SIGN_IN_CHECKS = ["sign_in", "token", "id_token_signature", "id_token_validity", "id_token_claims"]
SIGN_IN_PATHS = {"/application/o/token/", "/api/v3/flows/executor/default-authentication-flow/"}


# ---- helpers --------------------------------------------------------------------------------------
def role_task(names, **role_vars):
    """The role for one name, or in a loop over several."""
    names = [names] if isinstance(names, str) else list(names)
    task = {"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE},
            "vars": dict(role_vars, cloudflare_access_name="{{ item }}"), "loop": names}
    return task


def module_task(title, name, **args):
    """One run of the module against the login method of role name ``name``; failures are kept going."""
    options = {"name": "authentik (%s)" % name, "provider": name, "require_tls": False}
    options.update(args)
    return {"name": title, MODULE: options, "register": "result", "ignore_errors": True}


def provider(api, name):
    (found,) = [p for p in api.authentik.state()["providers"] if p["name"] == name]
    return found


def login_method(api, name):
    path = "/accounts/%s/access/identity_providers" % api.info["account_id"]
    items = api.cloudflare.call("GET", path, params={"per_page": 100}).json()["result"]
    (found,) = [i for i in items if i["name"] == "authentik (%s)" % name]
    return found


def change_login_method(api, name, **config):
    """PUT the login method with some config keys changed (the secret is kept by the server)."""
    current = login_method(api, name)
    body_config = dict(current["config"])
    body_config.pop("redirect_url", None)
    body_config.update(config)
    path = "/accounts/%s/access/identity_providers/%s" % (api.info["account_id"], current["id"])
    resp = api.cloudflare.call("PUT", path, json={"name": current["name"], "type": "oidc", "config": body_config})
    assert resp.status_code == 200, resp.text


def change_provider(api, name, **fields):
    resp = api.authentik.call("PATCH", "/providers/oauth2/%d/" % provider(api, name)["pk"], json=fields)
    assert resp.status_code == 200, resp.text


def report(run, title):
    result = run.task(title)
    checks = dict((c["name"], c) for c in result["checks"])
    return result, checks


def assert_broken_at(run, title, first, also=()):
    """The task failed, named ``first`` as the first broken link, and failed every check in ``also``."""
    result, checks = report(run, title)
    assert run.status(title) in ("failed", "ignored"), (title, result.get("msg"))
    assert result["passed"] is False
    assert result["first_failure"]["name"] == first, (title, result["first_failure"], result["failed_checks"])
    assert result["failed_checks"][0] == first
    assert ("broken at %s:" % first) in result["msg"]
    for name in also:
        assert checks[name]["status"] == "failed", (title, name, checks[name])
    return result, checks


def assert_quiet(run, *secrets):
    recorded = json.dumps(run.results)
    for secret in secrets:
        assert secret and secret not in run.stdout and secret not in run.stderr and secret not in recorded


def api_writes(api):
    """(side, method, path) of every write either API saw."""
    return ([("authentik", r["method"], r["path"]) for r in api.authentik.writes()]
            + [("cloudflare", r["method"], r["path"]) for r in api.cloudflare.writes()])


# ---- the configuration breaks, one pair of objects each ---------------------------------------------
def clone_pair(api, source, name):
    """A copy of the role's provider, application and login method for ``source``, named after ``name``.

    Made through the APIs directly (fast); the copy gets its own client ID and secret, slug and JWKS URL.
    """
    original = provider(api, source)
    body = dict((key, original[key]) for key in ("authorization_flow", "invalidation_flow", "property_mappings",
                                                 "client_type", "redirect_uris", "signing_key"))
    body["name"] = name
    resp = api.authentik.call("POST", "/providers/oauth2/", json=body)
    assert resp.status_code == 201, resp.text
    made = resp.json()
    slug = name.lower().replace(" ", "-")
    resp = api.authentik.call("POST", "/core/applications/", json={"name": name, "slug": slug, "provider": made["pk"]})
    assert resp.status_code == 201, resp.text
    config = dict(login_method(api, source)["config"])
    config.pop("redirect_url", None)
    config.update(client_id=made["client_id"], client_secret=made["client_secret"],
                  certs_url=config["certs_url"].replace("/%s/" % original["assigned_application_slug"], "/%s/" % slug))
    resp = api.cloudflare.call("POST", "/accounts/%s/access/identity_providers" % api.info["account_id"],
                               json={"name": "authentik (%s)" % name, "type": "oidc", "config": config})
    assert resp.status_code in (200, 201), resp.text


def test_each_broken_link_is_caught_and_named(api, play, servers):
    made = play([role_task("IdP OK", cloudflare_access_verify=False, cloudflare_access_claims=["groups"])])
    assert made.rc == 0, made.output
    assert made.status("Test the login method") == "skipped"
    for name in ("IdP URLs", "IdP Keyless", "IdP Redirect", "IdP ClientID", "IdP Claims"):
        clone_pair(api, "IdP OK", name)
    app = servers.authentik.app
    base = api.info["authentik_url"]

    change_login_method(api, "IdP URLs", auth_url=base + "/application/o/authorize",
                        token_url=base + "/application/o/token", certs_url=base + "/application/o/idp-ok/jwks/")
    change_provider(api, "IdP Keyless", signing_key=None)
    change_provider(api, "IdP Redirect", redirect_uris=[{"matching_mode": "strict", "url": "https://other.example/cb"}])
    change_login_method(api, "IdP ClientID", client_id="not-the-" + provider(api, "IdP ClientID")["client_id"][8:])
    change_login_method(api, "IdP Claims", claims=["groups", "department"])
    secrets = dict((p["name"], p["client_secret"]) for p in api.authentik.state()["providers"])
    wrong_secret = "WrongSecret" + "x" * 53
    wrong_password = "not-the-pw-" + app.test_password[-8:]
    user = {"test_username": app.test_username, "test_password": app.test_password}

    api.authentik.clear_log()
    api.cloudflare.clear_log()
    run = play([
        module_task("all good", "IdP OK", client_secret=secrets["IdP OK"], **user),
        module_task("configuration only", "IdP OK", client_secret=secrets["IdP OK"]),
        module_task("plain http", "IdP OK", client_secret=secrets["IdP OK"], require_tls=True),
        module_task("wrong urls", "IdP URLs", client_secret=secrets["IdP URLs"], **user),
        module_task("no signing key", "IdP Keyless", client_secret=secrets["IdP Keyless"], **user),
        module_task("no redirect uri", "IdP Redirect", client_secret=secrets["IdP Redirect"], **user),
        module_task("wrong client id", "IdP ClientID", client_secret=secrets["IdP ClientID"], **user),
        module_task("wrong client id, provider found by it", "IdP ClientID", provider=None),
        module_task("wrong secret", "IdP OK", client_secret=wrong_secret, **user),
        module_task("no email", "IdP OK", client_secret=secrets["IdP OK"],
                    test_username=app.test_username_without_email, test_password=app.test_password_without_email),
        module_task("claim not mapped", "IdP Claims", client_secret=secrets["IdP Claims"], **user),
        module_task("wrong password", "IdP OK", client_secret=secrets["IdP OK"], test_username=app.test_username,
                    test_password=wrong_password),
        module_task("no such login method", "IdP Nowhere"),
    ], verbosity=3)
    assert run.rc == 0, run.output  # every failure was kept going with ignore_errors

    # The test only reads: no API write on either side; the sign-ins POST to the executor and token endpoint only.
    writes = api_writes(api)
    assert {w[0] for w in writes} <= {"authentik"}
    assert {(m, p) for _side, m, p in writes} <= {("POST", p) for p in SIGN_IN_PATHS}
    assert_quiet(run, app.test_password, wrong_password, wrong_secret, app.test_password_without_email,
                 *secrets.values())

    # a correct setup passes every check, with the sign-in
    good, checks = report(run, "all good")
    assert run.status("all good") == "ok" and good["passed"] is True and good["changed"] is False
    assert good["failed_checks"] == [] and good["first_failure"] == {}
    assert [c["status"] for c in good["checks"]].count("passed") == 15 and checks["tls"]["status"] == "skipped"
    assert good["id_token_claims"]["email"] == "idpbridge-tester@example.org"
    assert good["id_token_claims"]["groups"] == ["engineering"]
    assert good["test_url"] == "https://%s/cdn-cgi/access/test-idp/%s" % (
        good["callback_url"].split("/")[2], good["identity_provider_id"])
    assert good["sign_in_trace"][0] == "GET /application/o/authorize/ -> 302"
    assert good["sign_in_trace"][-1] == "POST /application/o/token/ -> 200"
    assert all("?" not in line for line in good["sign_in_trace"])
    assert "All 15 checks passed (1 skipped: tls)" == good["msg"]

    config_only, checks = report(run, "configuration only")
    assert config_only["passed"] is True and checks["client_secret"]["status"] == "passed"
    assert [checks[n]["status"] for n in SIGN_IN_CHECKS] == ["skipped"] * 5
    assert "sign_in_trace" not in config_only

    _result, checks = assert_broken_at(run, "plain http", "tls")
    assert "plain HTTP, not HTTPS" in checks["tls"]["reason"]

    _result, checks = assert_broken_at(run, "wrong urls", "endpoints", also=["sign_in"])
    reason = checks["endpoints"]["reason"]
    for option in ("auth_url is %s/application/o/authorize," % base, "token_url is %s/application/o/token," % base,
                   "certs_url is %s/application/o/idp-ok/jwks/," % base):
        assert option in reason, reason
    assert "HTTP 404" in checks["sign_in"]["reason"]
    # another application's JWKS holds the same key here: only the endpoints check notices the wrong certs_url
    assert checks["jwks"]["status"] == "passed"

    _result, checks = assert_broken_at(run, "no signing key", "jwks", also=["id_token_signature"])
    assert "holds no keys at all ({})" in checks["jwks"]["reason"]
    assert "has no signing key" in checks["jwks"]["reason"]
    assert "signed with HS256" in checks["id_token_signature"]["reason"]

    _result, checks = assert_broken_at(run, "no redirect uri", "redirect_uri", also=["sign_in"])
    assert "do not include https://" in checks["redirect_uri"]["reason"]
    assert "https://other.example/cb (strict)" in checks["redirect_uri"]["reason"]
    assert "Redirect URI Error" in checks["sign_in"]["reason"]
    assert checks["token"]["status"] == "skipped"

    _result, checks = assert_broken_at(run, "wrong client id", "client_id", also=["sign_in"])
    assert "the login method's client ID is not-the-" in checks["client_id"]["reason"]
    assert "Client ID Error" in checks["sign_in"]["reason"]
    _result, checks = assert_broken_at(run, "wrong client id, provider found by it", "provider")
    assert "no authentik OAuth2/OpenID provider has the login method's client ID" in checks["provider"]["reason"]

    _result, checks = assert_broken_at(run, "wrong secret", "client_secret", also=["token"])
    assert checks["sign_in"]["status"] == "passed"
    assert "HTTP 400 invalid_client: Client authentication failed" in checks["token"]["reason"]
    assert "client secret Cloudflare sends" in checks["token"]["reason"]

    _result, checks = assert_broken_at(run, "no email", "id_token_claims")
    assert checks["id_token_signature"]["status"] == checks["id_token_validity"]["status"] == "passed"
    assert "lacks the e-mail claim 'email' (email_claim_name)" in checks["id_token_claims"]["reason"]

    _result, checks = assert_broken_at(run, "claim not mapped", "id_token_claims")
    assert "the claims department (claims)" in checks["id_token_claims"]["reason"]

    result, checks = assert_broken_at(run, "wrong password", "sign_in")
    assert "refused the password of the test user 'idpbridge-tester' (password: Invalid password)" in \
        checks["sign_in"]["reason"]
    assert [checks[n]["status"] for n in SIGN_IN_CHECKS[1:]] == ["skipped"] * 4
    assert result["sign_in_trace"][-1] == "POST /api/v3/flows/executor/default-authentication-flow/ -> 200"

    result, _checks = assert_broken_at(run, "no such login method", "login_method")
    assert "has no login method with name 'authentik (IdP Nowhere)'" in result["msg"]
    assert [c["status"] for c in result["checks"][1:]] == ["skipped"] * 15

    # The ID token itself: signed with a key that is not the provider's, then already expired (server knobs).
    user = dict(user, client_secret=secrets["IdP OK"])
    api.authentik.config(id_token_signing="foreign")
    signed = play([module_task("bad signature", "IdP OK", **user)])
    _result, checks = assert_broken_at(signed, "bad signature", "id_token_signature")
    assert "the signature does not match the JWKS key %s" % app.signing_key.kid in checks["id_token_signature"]["reason"]
    assert checks["id_token_validity"]["status"] == checks["id_token_claims"]["status"] == "passed"

    api.authentik.config(id_token_signing="provider", id_token_expired=True)
    expired = play([module_task("expired", "IdP OK", **user)])
    _result, checks = assert_broken_at(expired, "expired", "id_token_validity")
    assert checks["id_token_signature"]["status"] == "passed"
    assert "the token expired 10 min ago" in checks["id_token_validity"]["reason"]
    assert_quiet(signed, app.test_password, secrets["IdP OK"])
    assert_quiet(expired, app.test_password, secrets["IdP OK"])


# ---- the role --------------------------------------------------------------------------------------
def test_role_verifies_at_the_end_and_fails_naming_the_broken_link(api, play, servers):
    app = servers.authentik.app
    creds = {"cloudflare_access_test_username": app.test_username, "cloudflare_access_test_password": app.test_password}

    first = play([role_task("CF Verified", **creds)])
    assert first.rc == 0, first.output
    verified = first.task("Test the login method")
    assert verified["passed"] is True and verified["changed"] is False
    assert dict((c["name"], c["status"]) for c in verified["checks"])["id_token_claims"] == "passed"
    assert "Verification: All 15 checks passed (1 skipped: tls)" in first.stdout
    secret = provider(api, "CF Verified")["client_secret"]
    assert_quiet(first, app.test_password, secret)

    # check mode with everything in place: the test runs (reads, plus the sign-in's POSTs to authentik's
    # flow executor and token endpoint, which are no API writes)
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    checked = play([role_task("CF Verified", **creds)], check=True)
    assert checked.rc == 0 and checked.changed == 0, checked.output
    assert checked.task("Test the login method")["passed"] is True
    assert {(m, p) for _side, m, p in api_writes(api)} <= {("POST", p) for p in SIGN_IN_PATHS}

    # a broken link fails the role at the test, naming it; the summary is not reached
    broken = play([role_task("CF Verified", cloudflare_access_test_username=app.test_username,
                             cloudflare_access_test_password="Wrong-" + app.test_password)], verbosity=3)
    assert broken.rc != 0
    assert broken.status("Test the login method") == "failed"
    failed = broken.task("Test the login method")
    assert failed["msg"].startswith("The login method is broken at sign_in: authentik refused the password")
    assert "Summary" not in [r["task"] for r in broken.results]
    assert_quiet(broken, app.test_password, "Wrong-" + app.test_password, secret)

    # check mode while the login method is still to be created: nothing final to test, so no test and no sign-in
    idp = login_method(api, "CF Verified")
    api.cloudflare.call("DELETE", "/accounts/%s/access/identity_providers/%s" % (api.info["account_id"], idp["id"]))
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    dry = play([role_task("CF Verified", **creds)], check=True)
    assert dry.rc == 0, dry.output
    assert dry.status("Test the login method") == "skipped"
    assert "Verification: skipped: in check mode, with objects still to be created or changed" in dry.stdout
    assert api_writes(api) == []


# ---- TLS -------------------------------------------------------------------------------------------
def _tls_files(folder):
    """A CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idpbridge test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: folder / ("%s.pem" % name) for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


@pytest.fixture(scope="module")
def tls_authentik(tmp_path_factory):
    """A second authentik test server, over HTTPS with a certificate from a test CA."""
    paths = _tls_files(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(paths["cert"]), str(paths["key"]))
    token = "tls-authentik-token-0123456789"
    server = Server(AuthentikApp(token=token), ssl_context=context).start()
    yield server, token, paths["ca"]
    server.stop()


def test_tls_verified_with_a_ca_bundle(api, play, tls_authentik):
    server, token, ca = tls_authentik
    server.app.reset_state()
    env = {"AUTHENTIK_URL": server.url, "AUTHENTIK_TOKEN": token, "AUTHENTIK_CA_PATH": str(ca)}
    creds = {"cloudflare_access_test_username": server.app.test_username,
             "cloudflare_access_test_password": server.app.test_password}
    done = play([role_task("CF TLS", **creds)], env=env)
    assert done.rc == 0, done.output
    verified = done.task("Test the login method")
    checks = dict((c["name"], c) for c in verified["checks"])
    assert checks["tls"]["status"] == "passed", checks["tls"]
    assert "every URL is HTTPS; the certificate of %s verified with the CA bundle %s" % (server.url, ca) == \
        checks["tls"]["reason"]
    assert verified["passed"] is True and checks["id_token_signature"]["status"] == "passed"
    assert "Verification: All 16 checks passed" in done.stdout

    # The same objects, tested without verifying the certificate: Cloudflare will verify it, so the check fails.
    unverified = play([module_task("unverified", "CF TLS", require_tls=True, authentik_validate_certs=False)], env=env)
    _result, checks = assert_broken_at(unverified, "unverified", "tls")
    assert "authentik_validate_certs=false: the certificate was not verified" in checks["tls"]["reason"]
    # And without the CA bundle the API itself cannot be reached: a clear TLS error, not a report.
    untrusted = play([module_task("untrusted", "CF TLS", require_tls=True)], env=dict(env, AUTHENTIK_CA_PATH=None))
    assert untrusted.status("untrusted") in ("failed", "ignored")
    assert "TLS verification failed for %s" % server.url in untrusted.task("untrusted")["msg"]
