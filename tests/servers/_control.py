"""Shared plumbing for the API test servers.

Each test server is an ``App``: a table of routes plus in-memory state. This module
gives every app the same HTTP front end (a threaded ``http.server``), the same request
log, the same fault injection and the same ``/_test/`` control interface:

``GET  /_test/requests``   every request seen (method, path, query, status, contract errors)
``POST /_test/reset``      back to the seeded state; clears the log and pending faults
``POST /_test/faults``     ``{"method", "path" (regex), "status", "retry_after", "delay",
                           "drop", "count", "body"}``: misbehave for the next N matches; also
                           ``"lost"`` (perform the request, then drop the connection unanswered),
                           ``"hold"`` (seconds to keep a lost answer back, or to wait before
                           answering; ended early by ``DELETE /_test/faults``), ``"skip"`` (let
                           the first N matches through), ``"headers"`` and ``"content_type"``
                           of an injected answer (HTML pages, challenge pages)
``POST /_test/config``     change settings at run time (for example ``{"page_size": 2}``)

A server adds actions of its own to ``app.control_actions`` (``(method, action) -> handler``, for
example ``("POST", "access/signin")``); they run without the app's lock, so a handler that calls
another server takes the lock itself around the state it touches.

The control interface needs the same bearer token as the API itself.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_body: bytes
    app: "App"
    params: dict[str, str] = field(default_factory=dict)
    contract_errors: list[str] = field(default_factory=list)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """Parsed JSON body; raises ``HTTPError`` 400 when it is not JSON."""
        if not self.raw_body:
            return None
        try:
            return json.loads(self.raw_body.decode("utf-8"))
        except ValueError as exc:
            raise HTTPError(400, self.app.parse_error_body(str(exc))) from exc

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.raw_body.decode("utf-8"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, bytes, or str
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    # True keeps ``content_type`` as given; otherwise plain JSON gets the app's ``json_content_type``
    exact_content_type: bool = False

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


class HTTPError(Exception):
    """Raise from a handler to answer with an error response."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.response = Response(status=status, body=body, headers=headers or {})


@dataclass
class Fault:
    method: str
    path: re.Pattern
    count: int
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    drop: bool = False
    body: Any = None
    lost: bool = False
    hold: float = 0.0
    skip: int = 0
    headers: dict = field(default_factory=dict)
    content_type: str | None = None


Handler = Callable[[Request], Response]


class App:
    """Base class of a test server. Subclasses add routes and state."""

    name = "app"
    json_content_type = "application/json"

    def __init__(self, token: str, page_size: int = 100):
        self.token = token
        self.page_size = page_size
        self.lock = threading.RLock()
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.log: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.released = threading.Event()  # set to end every hold at once
        self.base_url = ""  # set by the server once it is bound
        # seconds each answer waits, as a real server's would (tests/servers/latency.py); None: no wait
        self.latency: Callable[[str, str, dict, int, Any], float] | None = None
        # extra /_test/ actions of one server: (method, action) -> handler, run without the lock
        self.control_actions: dict[tuple[str, str], Handler] = {}
        self.setup_routes()
        self.reset_state()

    # ---- to be provided by subclasses -------------------------------------------------
    def setup_routes(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset_state(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def authenticate(self, req: Request) -> None:
        """Raise ``HTTPError`` when the request is not authorised."""
        raise NotImplementedError

    def not_found_body(self, req: Request) -> Any:
        return {"detail": "Not found."}

    def fault_body(self, status: int) -> Any:
        """Body of an injected error answer (override for an API's envelope)."""
        return {"detail": "injected fault: HTTP %d" % status}

    def parse_error_body(self, message: str) -> Any:
        return {"detail": "JSON parse error - %s" % message}

    def configure(self, settings: dict[str, Any]) -> None:
        if "page_size" in settings:
            self.page_size = int(settings["page_size"])

    # ---- routing -------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method.upper(), re.compile("^" + pattern + "$"), handler))

    def dispatch(self, req: Request) -> Response:
        allowed = []
        for method, pattern, handler in self.routes:
            match = pattern.match(req.path)
            if not match:
                continue
            if method != req.method:
                allowed.append(method)
                continue
            req.params = match.groupdict()
            return handler(req)
        if allowed:
            return self.method_not_allowed(req, allowed)
        raise HTTPError(404, self.not_found_body(req))

    def method_not_allowed(self, req: Request, allowed: list[str]) -> Response:
        return Response(405, {"detail": 'Method "%s" not allowed.' % req.method},
                        headers={"Allow": ", ".join(sorted(set(allowed)))})

    # ---- contract failures ---------------------------------------------------------------
    def contract_failure(self, req: Request, errors: list[str], body: Any) -> None:
        """Record contract errors on the request and answer 400 with ``body``."""
        req.contract_errors.extend(errors)
        raise HTTPError(400, body)

    # ---- control interface -------------------------------------------------------------
    def control(self, req: Request) -> Response:
        self.authenticate(req)
        action = req.path[len("/_test/"):].strip("/")
        if req.method == "GET" and action == "requests":
            with self.lock:
                return Response(200, list(self.log))
        if req.method == "DELETE" and action == "requests":
            with self.lock:
                self.log.clear()
            return Response(204)
        if req.method == "POST" and action == "reset":
            with self.lock:
                self.reset_state()
                self.log.clear()
                self.release_holds()
            return Response(204)
        if req.method == "POST" and action == "faults":
            spec = req.json() or {}
            specs = spec if isinstance(spec, list) else [spec]
            with self.lock:
                for item in specs:
                    self.faults.append(Fault(
                        method=str(item.get("method", "*")).upper(),
                        path=re.compile(item.get("path", ".*")),
                        count=int(item.get("count", 1)),
                        status=item.get("status"),
                        retry_after=None if item.get("retry_after") is None else str(item["retry_after"]),
                        delay=float(item.get("delay", 0)),
                        drop=bool(item.get("drop", False)),
                        body=item.get("body"),
                        lost=bool(item.get("lost", False)),
                        hold=float(item.get("hold", 0)),
                        skip=int(item.get("skip", 0)),
                        headers=dict(item.get("headers") or {}),
                        content_type=item.get("content_type"),
                    ))
            return Response(204)
        if req.method == "DELETE" and action == "faults":
            with self.lock:
                self.release_holds()
            return Response(204)
        if req.method == "POST" and action == "config":
            self.configure(req.json() or {})
            return Response(204)
        if req.method == "GET" and action == "state":
            return Response(200, self.dump_state())
        extra = self.control_actions.get((req.method, action))
        if extra is not None:
            return extra(req)
        raise HTTPError(404, {"detail": "unknown control action %r" % action})

    def dump_state(self) -> Any:
        return {}

    def release_holds(self) -> None:
        """Drop pending faults and end every hold now (call with the lock held)."""
        self.faults.clear()
        self.released.set()
        self.released = threading.Event()

    def hold(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the faults are cleared meanwhile."""
        if seconds > 0:
            self.released.wait(seconds)

    def take_fault(self, req: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method not in ("*", req.method):
                    continue
                if not fault.path.search(req.path):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def record(self, req: Request, status: int, note: str | None = None) -> None:
        entry = {
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "status": status,
            "write": req.method in WRITE_METHODS,
            "contract_errors": list(req.contract_errors),
            "time": time.time(),
        }
        if note:
            entry["fault"] = note
        with self.lock:
            self.log.append(entry)


def make_handler(app: App) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "idpbridge-test-server"
        # headers and body go out in two writes; without TCP_NODELAY each keep-alive request
        # waits about 40 ms for a delayed ACK
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # noqa: A002 - keep the test output quiet
            return

        def _handle(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            req = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                raw_body=raw,
                app=app,
            )
            if parts.path.startswith("/_test/"):
                try:
                    resp = app.control(req)
                except HTTPError as exc:
                    resp = exc.response
                except Exception as exc:  # pragma: no cover - a bug in a control action
                    resp = Response(500, {"detail": "test server error: %r" % exc})
                self._send(resp)
                return
            fault = app.take_fault(req)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.lost:
                    self._lose(req, fault)
                    return
                if fault.hold:
                    app.record(req, 0, "held")
                    app.hold(fault.hold)
                if fault.drop:
                    app.record(req, 0, "dropped")
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                if fault.status:
                    headers = dict(fault.headers)
                    if fault.retry_after is not None:
                        headers["Retry-After"] = fault.retry_after
                    body = fault.body if fault.body is not None else app.fault_body(fault.status)
                    app.record(req, int(fault.status), "injected")
                    self._send(Response(int(fault.status), body, headers=headers,
                                        content_type=fault.content_type or app.json_content_type))
                    return
            try:
                with app.lock:
                    resp = app.dispatch(req)
            except HTTPError as exc:
                resp = exc.response
            except Exception as exc:  # pragma: no cover - a bug in the server itself
                resp = Response(500, {"detail": "test server error: %r" % exc})
            if resp.content_type == "application/json" and not resp.exact_content_type:
                resp.content_type = app.json_content_type
            app.record(req, resp.status, "delayed" if fault is not None and fault.delay else None)
            if app.latency is not None:
                # outside the lock: concurrent requests wait concurrently, as on a real server
                time.sleep(app.latency(req.method, req.path, req.query, resp.status, resp.body))
            try:
                self._send(resp)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a delay fault)
                self.close_connection = True

        def _lose(self, req: Request, fault: Fault) -> None:
            """Perform the request, log it, keep the answer back for ``hold`` s, then drop it."""
            try:
                with app.lock:
                    resp = app.dispatch(req)
            except HTTPError as exc:
                resp = exc.response
            app.record(req, resp.status, "lost")
            app.hold(fault.hold)
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True

        def _send(self, resp: Response) -> None:
            payload = resp.encode()
            self.send_response(resp.status)
            if resp.status != 204 and resp.body is not None:
                self.send_header("Content-Type", resp.content_type)
            for key, value in resp.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD" and payload:
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    return _Handler


class Server:
    """A running app on 127.0.0.1, in a daemon thread."""

    def __init__(self, app: App, port: int = 0, host: str = "127.0.0.1", ssl_context=None):
        self.app = app
        self.httpd = ThreadingHTTPServer((host, port), make_handler(app))
        self.httpd.daemon_threads = True
        scheme = "http"
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.port = self.httpd.server_address[1]
        self.url = "%s://%s:%d" % (scheme, host, self.port)
        app.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=app.name, daemon=True)

    def start(self) -> "Server":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
