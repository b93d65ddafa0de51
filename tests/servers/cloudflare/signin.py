"""Sign-ins on the Cloudflare test server, the way Access performs one, and planted sessions.

Control actions (``/_test/…``, the API token as bearer; they are not in ``/_test/requests``):

``POST /_test/access/signin``
    ``{"id_token": "<JWT>", "app_domain": "grafana.example.com" | "app_id": "<id>", "idp_id"?: "<id>",
    "ip"?: "…", "country"?: "XX", "at"?: "<ISO 8601>"}``. Like Access after the IdP's callback:

    1. the application (account scope first, then zone scope) by id, or by its domain or one of its
       destinations; 404 when there is none;
    2. the login method: ``idp_id`` if given, else the OIDC login method the application offers
       (``allowed_idps``, or every one of its scope when empty) whose ``client_id`` is the token's
       ``aud``;
    3. the ID token is verified against that login method: its JWKS is fetched from ``certs_url``
       (loopback addresses only: the server fetches nothing else; each sign-in fetches it, so the
       authentik test server's ``/_test/requests`` shows one JWKS read per sign-in), RS256 signature
       with the key the header's ``kid`` names, ``aud`` = ``client_id``, ``exp``/``iat`` with 60 s
       leeway (the login method has no issuer setting, so ``iss`` is not compared);
    4. the e-mail comes from the ``email_claim_name`` claim (default ``email``); of the other claims,
       only those the login method lists in ``claims`` are kept (``oidc_fields``), as Access does;
    5. the application's policies are evaluated (``evaluate`` below: bypass first, then allow/deny by
       precedence; include = any, require = all, exclude = none; ``allowed_idps`` first);
    6. allowed: the Access user is created or updated (seat, ``last_successful_login``), a session
       covers the application (a live one of the same login method is extended, else a new nonce;
       expiry = the application's ``session_duration``), the last seen identity is replaced and an
       allowed log row is added. Blocked: a blocked log row (without an e-mail when the token itself
       was refused), and a failed login when Access knows the person already.

    Answer (200 either way): ``{"allowed", "reason", "email", "user_id", "nonce", "app_id",
    "idp_id", "ray_id"}``; ``at`` backdates the sign-in (log row, last login and session times).

``POST /_test/access/sessions``
    Plants people without a token, for scale tests: ``{"people": [{"email", "name"?, "idp_id",
    "apps"?: [<app id or domain>...], "claims"?: {...}, "at"?: ISO, "expires_in"?: seconds,
    "seat"?: true, "log"?: true, "blocked_apps"?: [...]}]}`` (or one such object). Each person gets an
    Access user; with ``apps`` a session covering them (``expires_in`` default: each application's
    session duration; negative: already expired), the last seen identity of ``idp_id`` and, with
    ``log``, an allowed row per application; ``blocked_apps`` adds blocked rows. Answers
    ``{"people": [{"email", "user_id", "nonce"}]}``. 1,000 people in one call take well under a second.

The API token permissions of the emulated people endpoints (and how a token limited to some of them
is answered) are described in access_users.py.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from tests.servers._control import HTTPError, Request, Response
from tests.servers.cloudflare import access_logs
from tests.servers.cloudflare.access_users import iso
from tests.servers.cloudflare.people_contract import parse_time

LEEWAY = 60
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def duration_seconds(text: Any, default: int = 86400) -> int:
    if not isinstance(text, str) or not text:
        return default
    total = sum(float(n) * _UNIT[u] for n, u in _DURATION_PART.findall(text))
    return int(total) if total > 0 else default


def bad_request(detail: str) -> HTTPError:
    return HTTPError(400, {"detail": detail})


# ---- policy evaluation (the server's own, independent of the collection's) -------------------------
def _claim_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return [str(value).lower()]
    return [str(value)]


def match_rule(rule: Any, who: dict) -> bool:
    """Whether one Access rule matches ``who`` (``email``, ``idp_id``, ``oidc_fields``, ``ip``,
    ``country``, ``amr``). Rules a person's sign-in cannot satisfy here (Access groups, service
    tokens, device posture, lists) do not match."""
    if not isinstance(rule, dict) or len(rule) != 1:
        return False
    kind, body = next(iter(rule.items()))
    body = body if isinstance(body, dict) else {}
    email = who["email"].lower()
    if kind == "everyone":
        return True
    if kind == "email":
        return email == str(body.get("email", "")).strip().lower()
    if kind == "email_domain":
        return "@" in email and email.rsplit("@", 1)[1] == str(body.get("domain", "")).strip().lower().lstrip("@")
    if kind == "login_method":
        return body.get("id") == who["idp_id"]
    if kind == "oidc":
        if body.get("identity_provider_id") and body["identity_provider_id"] != who["idp_id"]:
            return False
        return str(body.get("claim_value")) in _claim_values(who["oidc_fields"].get(body.get("claim_name")))
    if kind == "geo":
        return str(body.get("country_code", "")).upper() == who["country"].upper()
    if kind == "ip":
        try:
            return ipaddress.ip_address(who["ip"]) in ipaddress.ip_network(str(body.get("ip")), strict=False)
        except ValueError:
            return False
    if kind == "auth_method":
        return body.get("auth_method") in who["amr"]
    return False


def policy_matches(policy: dict, who: dict) -> bool:
    include = policy.get("include") or []
    return (any(match_rule(r, who) for r in include)
            and all(match_rule(r, who) for r in policy.get("require") or [])
            and not any(match_rule(r, who) for r in policy.get("exclude") or []))


def evaluate(app_rec: dict, policies: list[dict], who: dict) -> tuple[bool, str, dict | None]:
    """``(allowed, reason, deciding policy)`` for a person signing in to ``app_rec``."""
    allowed_idps = app_rec.get("allowed_idps") or []
    if allowed_idps and who["idp_id"] not in allowed_idps:
        return False, "the application does not offer login method %s" % who["idp_id"], None
    ordered = sorted(enumerate(policies), key=lambda item: (
        0 if item[1].get("decision") == "bypass" else 1, item[1].get("precedence") or item[0] + 1, item[0]))
    for _index, pol in ordered:
        if pol.get("decision") == "non_identity":
            continue
        if policy_matches(pol, who):
            if pol.get("decision") == "deny":
                return False, "denied by policy %r" % pol.get("name"), pol
            return True, "allowed by policy %r" % pol.get("name"), pol
    return False, "no policy of the application lets %s in" % who["email"], None


# ---- helpers ----------------------------------------------------------------------------------
def find_app(app, key: str) -> tuple[tuple[str, str], dict] | None:
    wanted = (key or "").strip().lower()
    for scope in (app.account_scope, app.zone_scope):
        for rec in app.access.apps.get(scope, {}).values():
            names = [rec["id"].lower(), (rec.get("domain") or "").lower()]
            names += [(d.get("uri") or "").lower() for d in rec.get("destinations") or []]
            if wanted in names or wanted.split("/", 1)[0] in names:
                return scope, rec
    return None


def app_policies(app, rec: dict) -> list[dict]:
    out = []
    for link in rec.get("policies") or []:
        pol = app.access.policies.get(link["id"])
        if pol is not None:
            out.append(dict(copy.deepcopy(pol), precedence=link.get("precedence"),
                            link_session_duration=link.get("session_duration")))
    return out


def fetch_jwks(url: str) -> dict:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise ValueError("certs_url %s is not a loopback address (the test server fetches nothing else)" % url)
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback only, checked above
        return json.loads(answer.read().decode("utf-8"))


def verify_token(token: str, config: dict) -> dict:
    """The verified claims of ``token`` for a login method's ``config``; ValueError says why not."""
    import jwt  # pylint: disable=import-outside-toplevel
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ValueError("the ID token is not a JWT (%s)" % exc) from exc
    if header.get("alg") != "RS256":
        raise ValueError("the ID token is signed with %s; Access verifies RS256 against certs_url" % header.get("alg"))
    try:
        document = fetch_jwks(config.get("certs_url") or "")
    except (OSError, ValueError) as exc:
        raise ValueError("could not read the JWKS at certs_url: %s" % exc) from exc
    keys = [k for k in document.get("keys") or [] if k.get("kty") == "RSA" and k.get("use", "sig") == "sig"]
    key = next((k for k in keys if k.get("kid") == header.get("kid")), None)
    if key is None:
        raise ValueError("no key in the JWKS at certs_url has the token's kid %r" % header.get("kid"))
    try:
        return jwt.decode(token, jwt.PyJWK.from_dict(key).key, algorithms=["RS256"], audience=config.get("client_id"),
                          leeway=LEEWAY, options={"require": ["exp", "iat", "aud"]})
    except jwt.ExpiredSignatureError as exc:
        raise ValueError("the ID token has expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise ValueError("the ID token's aud is not the login method's client_id") from exc
    except jwt.InvalidSignatureError as exc:
        raise ValueError("the ID token's signature does not match the JWKS key") from exc
    except jwt.PyJWTError as exc:
        raise ValueError("the ID token is not valid: %s" % exc) from exc


def identity_of(app, user: dict, idp: dict, email: str, claims: dict, oidc_fields: dict, at: float, ip: str,
                country: str) -> dict:
    """The identity Access keeps for a sign-in (SDK ``Identity`` plus name, amr and oidc_fields)."""
    return {
        "account_id": app.account_id, "auth_status": "NONE", "common_name": "", "device_id": "",
        "device_sessions": {}, "devicePosture": {}, "email": email, "geo": {"country": country},
        "iat": int(at), "idp": {"id": idp["id"], "type": idp["type"]}, "ip": ip, "is_gateway": False,
        "is_warp": False, "mtls_auth": {"auth_status": "NONE", "cert_issuer_dn": "", "cert_issuer_ski": "",
                                        "cert_presented": False, "cert_serial": ""},
        "service_token_id": "", "service_token_status": False, "user_uuid": user["id"], "version": 2,
        "name": claims.get("name") or user["name"], "amr": list(claims.get("amr") or ["pwd"]),
        "oidc_fields": copy.deepcopy(oidc_fields),
    }


def _when(body: dict) -> float:
    raw = body.get("at")
    if raw in (None, ""):
        return time.time()
    stamp = parse_time(str(raw)) if isinstance(raw, str) else None
    if stamp is None:
        raise bad_request("at must be an ISO 8601 timestamp")
    return stamp.timestamp()


# ---- the control actions --------------------------------------------------------------------------
def signin(app, req: Request) -> Response:
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        raise bad_request("id_token is required")
    key = body.get("app_id") or body.get("app_domain")
    if not isinstance(key, str) or not key:
        raise bad_request("app_domain or app_id is required")
    import jwt  # pylint: disable=import-outside-toplevel
    try:
        unverified = jwt.decode(body["id_token"], options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise bad_request("id_token is not a JWT: %s" % exc) from exc
    audiences = unverified.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    at = _when(body)
    with app.lock:
        found = find_app(app, key)
        if found is None:
            raise HTTPError(404, {"detail": "no Access application with id or domain %r" % key})
        scope, app_rec = copy.deepcopy(found)
        offered = app_rec.get("allowed_idps") or list(app.idps.get(scope, {}))
        idps = {i: copy.deepcopy(app.idps[scope][i]) for i in offered if i in app.idps.get(scope, {})}
        policies = app_policies(app, app_rec)
    idp = idps.get(body["idp_id"]) if body.get("idp_id") else next(
        (i for i in idps.values() if i["type"] == "oidc" and i["config"].get("client_id") in audiences), None)
    # until the token is verified Access knows nobody: a row for a bad token carries no e-mail
    outcome: dict[str, Any] = {"allowed": False, "email": None, "user_id": None, "nonce": None,
                               "app_id": app_rec["id"], "idp_id": idp["id"] if idp else None, "ray_id": access_logs.new_ray_id()}
    claims: dict = {}
    if idp is None:
        reason = "the application offers no login method whose client_id is the token's aud %s" % audiences
    else:
        try:
            claims = verify_token(body["id_token"], idp["config"])  # outside the lock: an HTTP fetch
            reason = ""
        except ValueError as exc:
            reason = str(exc)
    ip = str(body.get("ip") or "198.51.100.7")
    country = str(body.get("country") or "XX")
    with app.lock:
        if not reason:
            email = str(claims.get(idp["config"].get("email_claim_name") or "email") or "").strip()
            outcome["email"] = email or None
            if not email:
                reason = "the ID token has no e-mail in its %r claim" % (idp["config"].get("email_claim_name") or "email")
        if not reason:
            fields = {c: claims[c] for c in idp["config"].get("claims") or [] if c in claims}
            who = {"email": email, "idp_id": idp["id"], "oidc_fields": fields, "ip": ip, "country": country,
                   "amr": _claim_values(claims.get("amr"))}
            allowed, reason, pol = evaluate(app_rec, policies, who)
            if allowed:
                people = app.people
                user = people.ensure_user(email, claims.get("name"), at)
                people.sign_in(user, at)
                identity = identity_of(app, user, idp, email, claims, fields, at, ip, country)
                people.identities[user["id"]] = identity
                ttl = duration_seconds((pol or {}).get("link_session_duration") or app_rec.get("session_duration"))
                session = people.add_session(user, identity, app_rec, at, ttl)
                outcome.update(allowed=True, user_id=user["id"], nonce=session["nonce"])
        outcome["reason"] = reason
        email = outcome["email"] or ""
        access_logs.add_row(app, email=email, allowed=outcome["allowed"], app_rec=app_rec, idp=idp, at=iso(at),
                            ip=ip, country=country, ray_id=outcome["ray_id"])
        if not outcome["allowed"] and email:
            known = app.people.user_by_email(email)
            if known is not None:
                app.people.add_failed(known, at, app_rec, reason, outcome["ray_id"])
                outcome["user_id"] = known["id"]
    return Response(200, outcome)


def plant(app, req: Request) -> Response:
    body = req.json()
    people = body.get("people") if isinstance(body, dict) and "people" in body else [body]
    if not isinstance(people, list) or not all(isinstance(p, dict) for p in people):
        raise bad_request("people must be a list of objects")
    out = []
    with app.lock:
        for person in people:
            out.append(_plant_one(app, person))
    return Response(200, {"people": out})


def _plant_one(app, person: dict) -> dict:
    email = person.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise bad_request("each person needs an email")
    idp = None
    for store in app.idps.values():
        if person.get("idp_id") in store:
            idp = store[person["idp_id"]]
    if idp is None:
        raise bad_request("idp_id %r is not a login method of this server" % person.get("idp_id"))
    at = _when(person)
    apps = []
    for key in list(person.get("apps") or []) + list(person.get("blocked_apps") or []):
        found = find_app(app, key)
        if found is None:
            raise bad_request("no Access application with id or domain %r" % key)
        apps.append(found[1])
    allowed_apps = apps[:len(person.get("apps") or [])]
    blocked_apps = apps[len(allowed_apps):]
    people = app.people
    user = people.ensure_user(email, person.get("name"), at)
    nonce = None
    if allowed_apps or person.get("seat", False):
        if person.get("seat", True):
            people.sign_in(user, at)
        claims = dict(person.get("claims") or {})
        identity = identity_of(app, user, idp, email, {"name": person.get("name")}, claims, at, "198.51.100.7", "XX")
        people.identities[user["id"]] = identity
    for app_rec in allowed_apps:
        ttl = int(person["expires_in"]) if person.get("expires_in") is not None else duration_seconds(app_rec.get("session_duration"))
        session = people.add_session(user, people.identities[user["id"]], app_rec, at, ttl)
        if ttl <= 0:
            session["expires"] = int(time.time()) + ttl  # already expired now, whatever ``at`` says
        nonce = session["nonce"]
        if person.get("log", True):
            access_logs.add_row(app, email=email, allowed=True, app_rec=app_rec, idp=idp, at=iso(at))
    for app_rec in blocked_apps:
        access_logs.add_row(app, email=email, allowed=False, app_rec=app_rec, idp=idp, at=iso(at))
    return {"email": email, "user_id": user["id"], "nonce": nonce}


def register(app) -> None:
    app.control_actions[("POST", "access/signin")] = lambda req: signin(app, req)
    app.control_actions[("POST", "access/sessions")] = lambda req: plant(app, req)
