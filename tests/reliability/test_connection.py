"""Connections that fail before any answer: refused, TLS from an unknown CA, an expired certificate. Nothing
is sent, the message names the cause and the option; once the cause is fixed a run converges (shown by the
fault cases), so the rerun here is the same task with the right settings."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.reliability import cases
from tests.reliability.support import FQCN
from tests.servers._control import Server
from tests.servers.authentik.app import AuthentikApp

INJECTED = dict(cases.FAULTS)
INFO = FQCN + "authentik_provider_oauth2_info"


def _cert(subject, issuer_key, key, issuer, not_after, ca=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=30))
               .not_valid_after(now + not_after))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """Two https authentik test servers: one with a valid certificate of a private CA, one with an expired one."""
    base = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idpbridge test CA")])
    ca = _cert(ca_name, ca_key, ca_key, ca_name, datetime.timedelta(days=30), ca=True)
    (base / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    running = {}
    for label, lifetime in (("valid", datetime.timedelta(days=30)), ("expired", datetime.timedelta(days=-1))):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_key, key, ca_name, lifetime)
        (base / (label + ".pem")).write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(base / (label + ".pem")))
        running[label] = Server(AuthentikApp(token="tls-test-token"), ssl_context=ctx).start()
    yield base / "ca.pem", running
    for server in running.values():
        server.stop()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connections_that_fail(api, play, record, tls):
    ca_path, running = tls
    token = {"token": "tls-test-token", "name": "nothing", "retries": 1}
    refused_url = "http://127.0.0.1:%d" % closed_port()
    tasks = [
        {"name": "refused", INFO: dict(token, url=refused_url), "ignore_errors": True},
        {"name": "tls-wrong-ca", INFO: dict(token, url=running["valid"].url), "ignore_errors": True},
        {"name": "tls-expired", INFO: dict(token, url=running["expired"].url, ca_path=str(ca_path)), "ignore_errors": True},
        {"name": "tls-fixed", INFO: dict(token, url=running["valid"].url, ca_path=str(ca_path))},
    ]
    result = play(tasks)
    by_name = {r["task"]: r for r in result.results}
    words = {"refused": ["the connection failed", "reachable", "after 1 retry"],
             "tls-wrong-ca": ["TLS verification failed", "ca_path"],
             "tls-expired": ["TLS verification failed", "expired", "ca_path"]}
    for case_id, needed in words.items():
        got = by_name[case_id]
        assert got["status"] == "ignored", got
        seen = got["result"]["msg"]
        for word in needed:
            assert word in seen, (word, seen)
        assert "tls-test-token" not in result.output
        rerun = "same task with ca_path of the signing CA: ok" if case_id != "refused" else "-"
        record(case_id, injected=INJECTED[case_id], seen=seen, rerun=rerun, objects="-", writes="no request reached a server")
    assert by_name["tls-fixed"]["status"] == "ok", by_name["tls-fixed"]
    for server in running.values():
        assert [r for r in server.app.log if r["method"] != "GET"] == []
