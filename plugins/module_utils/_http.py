# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The one HTTP layer every module of the collection talks through.

``ApiClient`` wraps a ``requests`` session with: a base URL, the auth headers, a per-request
timeout, TLS verification (on by default), retries with capped backoff for 429, 502, 503, 504
and connection failures (``Retry-After`` honoured; a POST is never sent twice once the server
may have acted on it), pagination for both APIs, and one error type, ``ApiError``, whose
message names what we tried, the method, the path, the HTTP status and the API's own words -
never a token or a secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import threading
import time
import traceback
from email.utils import parsedate_tz, mktime_tz

from urllib.parse import urlencode, urlsplit

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import ConnectTimeout, ReadTimeout, SSLError
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()


RETRY_STATUSES = frozenset((429, 502, 503, 504))
# Retried for reads (and idempotent writes) only: a 500 may be a passing fault, but a create that got one
# may have been applied.
RETRY_READ_STATUSES = frozenset((500,))
# Answers after which the server may have applied a create (it failed while or after doing it).
MAYBE_APPLIED_STATUSES = frozenset((500, 502, 504))
MAYBE_APPLIED_NOTE = ("the server may have applied it before failing; a rerun looks the object up first, "
                      "adopts it and does not create it twice")
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"))
MASK = "********"


class Redactor:
    """Replaces every registered secret value in a string by a mask."""

    def __init__(self):
        self._values = set()

    def add(self, value):
        if value and isinstance(value, str) and len(value) >= 4:
            self._values.add(value)

    def __call__(self, text):
        if not isinstance(text, str):
            text = str(text)
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text


def validate_base_url(url, option, example="https://auth.example.com"):
    """Return ``url`` without a trailing slash, or raise ``ValueError`` naming ``option``.

    ``option`` is how the message names the setting: a module option with its environment variable, or the role
    variable (the role's preflight asks this same function through the ``role_input_problems`` filter).
    """
    if not url or not isinstance(url, str):
        raise ValueError("%s is not set: give the base URL, such as %s." % (option, example))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", url):
        raise ValueError("%s must be an absolute http(s) URL such as %s, got %r." % (option, example, url))
    if parts.query or parts.fragment:
        raise ValueError("%s must not carry a query string or fragment, got %r." % (option, url))
    return url.rstrip("/")


def check_token(token, option, what):
    """Return ``token`` without surrounding white space, or raise ``ValueError`` naming ``option``.

    ``what`` says what to give when it is missing, such as "an authentik API token (intent API)". The message
    never holds the token.
    """
    token = (token or "").strip() if isinstance(token, str) or token is None else token
    if not token or not isinstance(token, str):
        raise ValueError("%s is not set: give %s." % (option, what))
    if re.search(r"\s", token):
        raise ValueError("%s contains white space: paste the token alone." % option)
    return token


def _retry_after_seconds(value, now=None):
    """Seconds from a Retry-After header (delta-seconds or HTTP-date form); None when absent or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parsed = parsedate_tz(text)
    if parsed is None:
        return None
    return max(0.0, mktime_tz(parsed) - (time.time() if now is None else now))


class ApiClient:
    """One API's session. Subclasses (one per API) say how its errors and pages look.

    ``warn`` is a callable that receives one line per retry (``module.warn``).
    """

    api_name = "API"
    url_option = "the URL option"  # how messages name the option that holds the base URL
    pages_are_errors = True  # a 2xx answer that is not JSON fails here (False: the subclass checks its envelope)
    backoff_base = 1.0          # seconds before the first retry; doubles each time
    backoff_max = 30.0          # one wait is never longer than this
    retry_budget = 120.0        # all waits of one request together stay under this

    def __init__(self, base_url, headers, timeout=30, validate_certs=True, ca_path=None, retries=3,
                 warn=None, redactor=None, user_agent="idpbridge.authentik_cloudflare"):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.warn = warn or (lambda msg: None)
        self.redact = redactor or Redactor()
        for value in headers.values():
            # Header values may be "Bearer <token>": mask both the whole value and the token part.
            self.redact.add(value)
            self.redact.add(value.split(" ", 1)[-1])
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept"] = "application/json"
        if not validate_certs:
            self.verify = False
        elif ca_path:
            self.verify = ca_path
        else:
            self.verify = True
        # Also passed with every request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a
        # session-level ca_path or validate_certs=false, but not a per-request value.
        self.session.verify = self.verify
        self.calls = []  # (method, path, status) of every request sent, for results and tests

    # ---- to be refined per API ---------------------------------------------------------
    def parse_error(self, status, body):
        """Return ``(message, codes)`` from an error answer's parsed body."""
        return (_short(body), [])

    def hint_for(self, status, api_message, codes, method, path):
        """A sentence saying what the user should fix, or None."""
        return None

    # ---- requests --------------------------------------------------------------------
    def url_for(self, path, params=None):
        url = self.base_url + path
        if params:
            url += "?" + urlencode(_flatten_params(params), doseq=True)
        return url

    def request(self, method, path, params=None, body=None, ok_statuses=None, what=None):
        """Send a request and return ``(status, parsed_body)``.

        ``ok_statuses``: extra statuses (besides 2xx) returned instead of raised, e.g. (404,).
        ``what``: a sentence prefix for errors ("create OAuth2 provider 'x'").
        """
        method = method.upper()
        url = self.url_for(path, params)
        shown_path = path + ("?" + urlencode(_flatten_params(params), doseq=True) if params else "")
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            reason = None
            wait = None
            response = None
            try:
                response = self.session.request(
                    method, url, json=body if body is not None else None, timeout=self.timeout, allow_redirects=False,
                    verify=self.verify,
                )
            except SSLError as exc:
                raise self._error(
                    what, method, shown_path, None,
                    "TLS verification failed for %s (%s)" % (self.base_url, _first_line(exc)),
                    hint="Give the CA bundle that signed the server certificate with ca_path, "
                         "or set validate_certs=false only for a test server.",
                )
            except ConnectTimeout as exc:
                reason = "the connection timed out after %s s" % self.timeout
                error_text = _first_line(exc)
            except ReadTimeout as exc:
                if method not in IDEMPOTENT_METHODS:
                    raise self._error(
                        what, method, shown_path, None,
                        "no answer within %s s; the server may still have acted on it" % self.timeout,
                        hint="Raise the timeout option if the server is slow; a rerun finds what was created and does not duplicate it.",
                    )
                reason = "no answer within %s s" % self.timeout
                error_text = _first_line(exc)
            except RequestsConnectionError as exc:
                if method not in IDEMPOTENT_METHODS and not _connect_failed(exc):
                    raise self._error(
                        what, method, shown_path, None,
                        "the connection broke after the request was sent; the server may have acted on it (%s)" % _first_line(exc),
                        hint="Rerun: the module looks the object up first and does not create it twice.",
                    )
                reason = "the connection failed"
                error_text = _first_line(exc)
            else:
                status = response.status_code
                self.calls.append((method, path, status))
                if (status in RETRY_STATUSES and (status == 429 or status == 503 or method in IDEMPOTENT_METHODS)) \
                        or (status in RETRY_READ_STATUSES and method in IDEMPOTENT_METHODS):
                    reason = "HTTP %d" % status
                    wait = _retry_after_seconds(response.headers.get("Retry-After"))
                    error_text = None
                else:
                    return self._finish(response, method, shown_path, ok_statuses, what)
            if attempt > self.retries:
                if response is not None:
                    return self._finish(response, method, shown_path, ok_statuses, what, retried=attempt - 1)
                raise self._error(
                    what, method, shown_path, None,
                    "%s: %s%s" % (reason, error_text, _tries(attempt - 1)),
                    hint="Check that %s is reachable from the host that runs the module (the url option)." % self.base_url,
                )
            if wait is None:
                wait = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
            if wait > self.backoff_max or waited + wait > self.retry_budget:
                # The server asks us to wait longer than we are allowed to: give up now, clearly.
                if response is not None:
                    return self._finish(response, method, shown_path, ok_statuses, what, retried=attempt - 1,
                                        note="the server asked to retry after %.0f s, longer than the %.0f s this module waits" % (wait, self.backoff_max))
                raise self._error(what, method, shown_path, None, "%s: %s" % (reason, error_text))
            self.warn("%s %s %s: %s; retrying in %.1f s (retry %d of %d)" % (
                self.api_name, method, path, reason, wait, attempt, self.retries))
            time.sleep(wait)
            waited += wait

    def _finish(self, response, method, shown_path, ok_statuses, what, retried=0, note=None):
        status = response.status_code
        body = _parse_body(response)
        if self.pages_are_errors and 200 <= status < 300 and isinstance(body, str) and body.strip():
            # a web page (a proxy, a login portal, the wrong host) where the API should have answered
            raise self._error(what, method, shown_path, status, "the answer is %s, not JSON" % _page(body),
                              hint="Check %s: it must point at the %s API itself" % (self.url_option, self.api_name))
        if 200 <= status < 300 or (ok_statuses and status in ok_statuses):
            return status, body
        message, codes = self.parse_error(status, body)
        if note:
            message = "%s (%s)" % (message, note)
        if method not in IDEMPOTENT_METHODS and status in MAYBE_APPLIED_STATUSES:
            message = "%s (%s)" % (message, MAYBE_APPLIED_NOTE)
        message += _tries(retried)
        raise self._error(what, method, shown_path, status, message, codes=codes)

    def _error(self, what, method, path, status, api_message, hint=None, codes=None):
        if hint is None and status is not None:
            hint = self.hint_for(status, api_message, codes or [], method, path)
        head = "%s %s" % (method, path)
        if status is not None:
            head += " returned HTTP %d" % status
        text = "%s: %s" % (head, api_message) if api_message else head
        if what:
            text = "Could not %s: %s" % (what, text)
        if hint:
            text = "%s. %s" % (text.rstrip("."), hint)
        text = self.redact(text)
        return ApiError(text, method=method, path=path, status=status, api_message=self.redact(api_message or ""),
                        hint=hint, codes=codes)

    # ---- convenience -------------------------------------------------------------------
    def get(self, path, params=None, ok_statuses=None, what=None):
        return self.request("GET", path, params=params, ok_statuses=ok_statuses, what=what)[1]

    def get_or_none(self, path, params=None, what=None):
        status, body = self.request("GET", path, params=params, ok_statuses=(404,), what=what)
        return None if status == 404 else body

    def post(self, path, body, what=None):
        return self.request("POST", path, body=body, what=what)[1]

    def put(self, path, body, what=None):
        return self.request("PUT", path, body=body, what=what)[1]

    def patch(self, path, body, what=None):
        return self.request("PATCH", path, body=body, what=what)[1]

    def delete(self, path, what=None, ok_statuses=(404,)):
        return self.request("DELETE", path, ok_statuses=ok_statuses, what=what)

    @property
    def writes(self):
        return [c for c in self.calls if c[0] not in ("GET", "HEAD", "OPTIONS")]


def concurrently(calls):
    """Run independent calls (functions without arguments) at the same time, each in a thread.

    Returns one ``(result, exception)`` pair per call, in order: the exception a call raised
    (``None`` when it returned). The HTTP session is shared: ``requests`` pools its connections
    per host and is safe to use from several threads for independent requests. With one call
    (or none) no thread is started.
    """
    outcomes = [(None, None)] * len(calls)

    def work(index, call):
        try:
            outcomes[index] = (call(), None)
        except Exception as exc:  # pylint: disable=broad-except  # handed back to the caller
            outcomes[index] = (None, exc)

    if len(calls) <= 1:
        for index, call in enumerate(calls):
            work(index, call)
        return outcomes
    threads = [threading.Thread(target=work, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _flatten_params(params):
    """Query parameters as a list of pairs; list values repeat the key, booleans are lower-case."""
    pairs = []
    for key, value in (params.items() if isinstance(params, dict) else params):
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is None:
                continue
            if isinstance(item, bool):
                item = "true" if item else "false"
            pairs.append((key, item))
    return pairs


def _parse_body(response):
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _short(body, limit=300):
    if body is None:
        return "no details in the answer"
    if not isinstance(body, str):
        body = json.dumps(body, sort_keys=True)
    body = re.sub(r"<[^>]+>", " ", body)  # HTML error pages: keep their words only
    body = re.sub(r"\s+", " ", body).strip()
    return body if len(body) <= limit else body[:limit] + "..."


def _page(body):
    """How messages name a non-JSON answer: an HTML page by its title, else its first words."""
    title = re.search(r"<title>(.*?)</title>", body, re.S | re.I)
    if title:
        return "an HTML page titled %r" % re.sub(r"\s+", " ", title.group(1)).strip()
    return "a page starting %r" % _short(body, 80)


def _first_line(exc):
    text = str(exc)
    # requests nests the real reason deep inside; keep the end of it, which names it.
    match = re.search(r"\((?:Caused by )?[A-Za-z]+Error\(.*?: (.*?)['\"]?\)+$", text)
    if match:
        text = match.group(1)
    return text.splitlines()[0][:300] if text else exc.__class__.__name__


def short_error(exc):
    """The reason of a transport error (TLS, connection, timeout) in one short line, for messages of code that
    sends its requests without ``ApiClient`` (the headless sign-in's session, ``_signin.OidcHttp``)."""
    return _first_line(exc)


def _connect_failed(exc):
    """True when a connection error happened before any byte of the request was sent.

    Told by the exception types: requests wraps urllib3's error (a ``MaxRetryError`` whose ``reason`` is the
    cause) in its ``ConnectionError``. urllib3 raises ``NewConnectionError`` (refused, unresolvable name; a
    ``NameResolutionError`` is one) or ``ConnectTimeoutError`` while connecting; a break after sending is a
    ``ProtocolError`` or a plain ``OSError``, which do not count. Only explicit causes are followed, never the
    error that was being handled when another was raised (a failure after sending may carry an old one).
    """
    seen = set()
    todo = [exc]
    while todo:
        one = todo.pop()
        if not isinstance(one, BaseException) or id(one) in seen:
            continue
        seen.add(id(one))
        if isinstance(one, (ConnectTimeout, NewConnectionError, ConnectTimeoutError)):
            return True
        todo.extend(one.args)
        todo.extend((getattr(one, "reason", None), one.__cause__))
    return False


def _tries(retried):
    return " (after %d %s)" % (retried, "retry" if retried == 1 else "retries") if retried else ""
