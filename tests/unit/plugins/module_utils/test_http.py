"""The HTTP layer against a tiny HTTP(S) server on 127.0.0.1 (real sockets, no mocks of requests)."""

from __future__ import annotations

import datetime
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _http
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import AuthentikClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import (
    ApiClient, Redactor, validate_base_url,
)
from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.fake_module import FakeModule

TOKEN = "unit-test-token-0123456789abcdef"


class Script:
    """What the server answers: per (method, path) a queue of answers, then a default."""

    def __init__(self):
        self.queues = {}
        self.defaults = {}
        self.seen = []
        self.lock = threading.Lock()

    def add(self, method, path, *answers, default=None):
        self.queues.setdefault((method, path), []).extend(answers)
        if default is not None:
            self.defaults[(method, path)] = default

    def next(self, method, path):
        with self.lock:
            queue = self.queues.get((method, path)) or []
            if queue:
                return queue.pop(0)
            return self.defaults.get((method, path), {"status": 404, "body": {"detail": "Not found."}})


def make_server(script, tls_context=None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            return

        def _do(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            script.seen.append({"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                                "body": json.loads(raw) if raw else None,
                                "authorization": self.headers.get("Authorization")})
            answer = script.next(self.command, parts.path)
            if callable(answer):
                answer = answer(self, parts)
            if answer.get("delay"):
                time.sleep(answer["delay"])
            if answer.get("drop"):
                self.close_connection = True
                self.connection.close()
                return
            body = answer.get("body")
            payload = b"" if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
            self.send_response(answer.get("status", 200))
            for key, value in (answer.get("headers") or {}).items():
                self.send_header(key, value)
            if payload:
                self.send_header("Content-Type", answer.get("content_type", "application/json"))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _do

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    scheme = "http"
    if tls_context is not None:
        httpd.socket = tls_context.wrap_socket(httpd.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return httpd, "%s://127.0.0.1:%d" % (scheme, httpd.server_address[1])


@pytest.fixture
def server():
    script = Script()
    httpd, url = make_server(script)
    script.url = url
    yield script
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sleeps(monkeypatch):
    """Record the waits between retries instead of sleeping them."""
    waits = []

    class Clock:
        @staticmethod
        def sleep(seconds):
            waits.append(seconds)

    # Only the HTTP layer's clock: the test server's own delays stay real.
    monkeypatch.setattr(_http, "time", Clock)
    return waits


def client_for(url, retries=3, timeout=5, **kwargs):
    warnings = []
    client = ApiClient(url, {"Authorization": "Bearer " + TOKEN}, timeout=timeout, retries=retries,
                       warn=warnings.append, **kwargs)
    client.warnings = warnings
    return client


# ---- basics ------------------------------------------------------------------------------------

def test_get_returns_the_parsed_body_and_sends_the_token(server):
    server.add("GET", "/api/thing/", {"status": 200, "body": {"ok": True}})
    client = client_for(server.url)
    assert client.get("/api/thing/", params={"name": "x y", "managed": ["a", "b"], "flag": True, "skip": None}) == {"ok": True}
    seen = server.seen[0]
    assert seen["authorization"] == "Bearer " + TOKEN
    assert seen["query"] == {"name": ["x y"], "managed": ["a", "b"], "flag": ["true"]}
    assert client.calls == [("GET", "/api/thing/", 200)]


def test_post_sends_json_and_ok_statuses_are_returned(server):
    server.add("POST", "/api/thing/", {"status": 201, "body": {"pk": 1}})
    server.add("DELETE", "/api/thing/1/", {"status": 404, "body": {"detail": "Not found."}})
    client = client_for(server.url)
    assert client.post("/api/thing/", {"name": "a"}) == {"pk": 1}
    assert server.seen[0]["body"] == {"name": "a"}
    assert client.delete("/api/thing/1/") == (404, {"detail": "Not found."})
    assert client.get_or_none("/api/missing/") is None
    assert [c[0] for c in client.writes] == ["POST", "DELETE"]


# ---- retries ---------------------------------------------------------------------------------

def test_retry_after_is_honoured_and_each_retry_warns(server, sleeps):
    server.add("GET", "/api/x/", {"status": 429, "headers": {"Retry-After": "7"}, "body": {"detail": "slow down"}},
               {"status": 503, "headers": {"Retry-After": "2.5"}}, {"status": 200, "body": {"ok": 1}})
    client = client_for(server.url)
    assert client.get("/api/x/") == {"ok": 1}
    assert sleeps == [7.0, 2.5]
    assert len(client.warnings) == 2
    assert "HTTP 429" in client.warnings[0] and "retrying in 7.0 s (retry 1 of 3)" in client.warnings[0]
    assert "HTTP 503" in client.warnings[1] and "(retry 2 of 3)" in client.warnings[1]


def test_retry_after_really_waits(server):
    server.add("GET", "/api/x/", {"status": 429, "headers": {"Retry-After": "0.3"}}, {"status": 200, "body": {}})
    client = client_for(server.url)
    started = time.monotonic()
    client.get("/api/x/")
    assert time.monotonic() - started >= 0.3


def test_backoff_grows_without_retry_after(server, sleeps):
    server.add("GET", "/api/x/", {"status": 502}, {"status": 504}, {"status": 503}, {"status": 200, "body": {}})
    client = client_for(server.url)
    client.get("/api/x/")
    assert sleeps == [1.0, 2.0, 4.0]


def test_retries_stop_at_the_cap_with_the_last_answer(server, sleeps):
    server.add("GET", "/api/x/", default={"status": 503, "body": {"detail": "maintenance"}})
    client = client_for(server.url, retries=2)
    with pytest.raises(ApiError) as info:
        client.get("/api/x/", what="read x")
    assert len(server.seen) == 3, "one try and two retries"
    assert len(client.warnings) == 2 and len(sleeps) == 2
    assert info.value.status == 503
    # The generic client shows the answer as it came; AuthentikClient flattens it (see test_authentik.py).
    assert str(info.value) == 'Could not read x: GET /api/x/ returned HTTP 503: {"detail": "maintenance"} (after 2 retries)'


def test_a_retry_after_beyond_the_cap_gives_up_at_once(server, sleeps):
    server.add("GET", "/api/x/", default={"status": 429, "headers": {"Retry-After": "3600"}, "body": {"detail": "quota"}})
    client = client_for(server.url)
    with pytest.raises(ApiError) as info:
        client.get("/api/x/")
    assert len(server.seen) == 1 and sleeps == []
    assert "asked to retry after 3600 s" in str(info.value) and info.value.status == 429


def test_no_retries_when_retries_is_zero(server, sleeps):
    server.add("GET", "/api/x/", default={"status": 503})
    with pytest.raises(ApiError):
        client_for(server.url, retries=0).get("/api/x/")
    assert len(server.seen) == 1 and sleeps == []


def test_a_post_is_retried_on_429_and_503_but_not_on_502(server, sleeps):
    server.add("POST", "/api/x/", {"status": 429, "headers": {"Retry-After": "1"}}, {"status": 201, "body": {"pk": 1}})
    server.add("POST", "/api/y/", {"status": 502, "body": {"detail": "bad gateway"}})
    client = client_for(server.url)
    assert client.post("/api/x/", {}) == {"pk": 1}
    with pytest.raises(ApiError) as info:
        client.post("/api/y/", {})
    assert info.value.status == 502
    assert [s["path"] for s in server.seen] == ["/api/x/", "/api/x/", "/api/y/"]


# ---- timeouts and broken connections -----------------------------------------------------------

def test_a_read_timeout_becomes_a_clear_error(server, sleeps):
    server.add("GET", "/api/slow/", default={"status": 200, "body": {}, "delay": 0.6})
    client = client_for(server.url, retries=1, timeout=0.2)
    with pytest.raises(ApiError) as info:
        client.get("/api/slow/", what="read the slow thing")
    message = str(info.value)
    assert message.startswith("Could not read the slow thing: GET /api/slow/: no answer within 0.2 s")
    assert "(after 1 retry)" in message
    assert info.value.status is None
    assert len(server.seen) == 2


def test_a_post_is_not_sent_again_after_a_read_timeout(server, sleeps):
    server.add("POST", "/api/slow/", default={"status": 201, "body": {}, "delay": 0.6})
    client = client_for(server.url, retries=3, timeout=0.2)
    with pytest.raises(ApiError) as info:
        client.post("/api/slow/", {"name": "x"}, what="create x")
    assert len([s for s in server.seen if s["method"] == "POST"]) == 1
    assert "the server may still have acted on it" in str(info.value)
    assert sleeps == [] and client.warnings == []


def test_a_dropped_connection_is_retried_for_get_but_not_for_post(server, sleeps):
    server.add("GET", "/api/x/", {"drop": True}, {"status": 200, "body": {"ok": 1}})
    server.add("POST", "/api/x/", {"drop": True}, {"status": 201, "body": {}})
    client = client_for(server.url)
    assert client.get("/api/x/") == {"ok": 1}
    with pytest.raises(ApiError) as info:
        client.post("/api/x/", {})
    assert "may have acted on it" in str(info.value)
    assert [s["method"] for s in server.seen] == ["GET", "GET", "POST"]


def test_a_refused_connection_is_retried_then_named(sleeps):
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    client = client_for("http://127.0.0.1:%d" % port, retries=2)
    with pytest.raises(ApiError) as info:
        client.post("/api/x/", {}, what="create x")
    message = str(info.value)
    assert "the connection failed" in message and "(after 2 retries)" in message
    assert "Check that http://127.0.0.1:%d is reachable" % port in message
    assert len(client.warnings) == 2


# ---- error messages ------------------------------------------------------------------------------

def test_errors_carry_the_api_words_and_never_the_token(server):
    server.add("GET", "/api/v3/x/", {"status": 403, "body": {"detail": "Token invalid/expired"}})
    server.add("GET", "/api/v3/echo/", {"status": 400, "body": {"detail": "bad header Bearer %s" % TOKEN, "token": TOKEN}})
    client = AuthentikClientFor(server.url)
    with pytest.raises(ApiError) as info:
        client.get("/x/", what="read x")
    message = str(info.value)
    assert "HTTP 403: Token invalid/expired" in message
    assert "Check the authentik token" in message
    with pytest.raises(ApiError) as info:
        client.get("/echo/")
    assert TOKEN not in str(info.value) and TOKEN not in info.value.api_message
    assert "********" in str(info.value)


def test_an_html_error_page_is_summed_up(server):
    server.add("GET", "/api/v3/x/", {"status": 502, "content_type": "text/html",
                                     "body": "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"})
    client = AuthentikClientFor(server.url, retries=0)
    with pytest.raises(ApiError) as info:
        client.get("/x/")
    assert "an HTML page titled '502 Bad Gateway'" in str(info.value)


def test_redactor_masks_longest_values_first():
    redact = Redactor()
    redact.add("abcd")
    redact.add("abcdefgh")
    redact.add("ab")  # too short to mask safely
    assert redact("xx abcdefgh abcd ab") == "xx ******** ******** ab"


def test_validate_base_url():
    assert validate_base_url("https://auth.example.com/", "url") == "https://auth.example.com"
    for bad in ("", None, "auth.example.com", "ftp://x", "https://a b", "https://x/?q=1"):
        with pytest.raises(ValueError):
            validate_base_url(bad, "url")


# ---- pagination ----------------------------------------------------------------------------------

def AuthentikClientFor(url, **params):
    module = FakeModule(dict(url=url, token=TOKEN, validate_certs=True, ca_path=None, timeout=5, retries=3), **params)
    return AuthentikClient.from_module(module)


def test_pagination_walks_every_page(server):
    items = [{"pk": i} for i in range(1, 6)]

    def page(handler, parts):
        query = parse_qs(parts.query)
        number = int(query["page"][0])
        size = 2
        chunk = items[(number - 1) * size: number * size]
        following = number + 1 if number * size < len(items) else 0
        return {"status": 200, "body": {"pagination": {"next": following, "previous": number - 1, "count": len(items),
                                                       "current": number, "total_pages": 3, "start_index": 1,
                                                       "end_index": 2}, "results": chunk}}

    server.add("GET", "/api/v3/things/", default=page)
    client = AuthentikClientFor(server.url)
    assert client.paginate("/things/", {"name": "x"}) == items
    assert [s["query"]["page"] for s in server.seen] == [["1"], ["2"], ["3"]]
    assert all(s["query"]["name"] == ["x"] for s in server.seen)
    server.seen.clear()
    assert client.paginate("/things/", limit=2) == items[:2]
    assert len(server.seen) == 1


# ---- TLS ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_server(tls_files):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    script = Script()
    script.add("GET", "/api/x/", default={"status": 200, "body": {"ok": True}})
    httpd, url = make_server(script, context)
    script.url = url
    yield script
    httpd.shutdown()
    httpd.server_close()


def test_tls_verification_is_on_by_default(tls_server):
    client = client_for(tls_server.url)
    assert client.session.verify is True
    with pytest.raises(ApiError) as info:
        client.get("/api/x/")
    message = str(info.value)
    assert "TLS verification failed for %s" % tls_server.url in message
    assert "ca_path" in message
    assert client.warnings == [], "a certificate error is not retried"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_with_a_ca_bundle_or_without_verification(tls_server, tls_files, monkeypatch):
    # requests would let these override ca_path and validate_certs=false; the client must not.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/bundle.pem")
    assert client_for(tls_server.url, ca_path=tls_files[0]).get("/api/x/") == {"ok": True}
    assert client_for(tls_server.url, validate_certs=False).get("/api/x/") == {"ok": True}


def test_a_connect_failure_is_told_by_the_exception_types_not_their_words():
    from requests.exceptions import ConnectionError as RequestsConnectionError, ConnectTimeout
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ProtocolError

    def wrapped(reason):  # as requests raises it: its ConnectionError around urllib3's MaxRetryError
        return RequestsConnectionError(MaxRetryError(None, "/api/x/", reason=reason))

    assert _http._connect_failed(wrapped(NewConnectionError(None, "words that name nothing")))
    assert _http._connect_failed(wrapped(ConnectTimeoutError("words that name nothing")))
    assert _http._connect_failed(ConnectTimeout("words that name nothing"))
    cause = RequestsConnectionError("words that name nothing")
    cause.__cause__ = NewConnectionError(None, "x")
    assert _http._connect_failed(cause)
    # after the request went out: not a connect failure, whatever the message says
    assert not _http._connect_failed(wrapped(ProtocolError("Connection refused NewConnectionError ConnectTimeout")))
    assert not _http._connect_failed(RequestsConnectionError("Connection refused, Failed to resolve"))
    handled = RequestsConnectionError(ProtocolError("Connection aborted"))
    handled.__context__ = NewConnectionError(None, "an earlier, handled error")
    assert not _http._connect_failed(handled)
