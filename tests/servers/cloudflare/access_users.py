"""People on the Cloudflare test server: Access users, their sessions, last seen identity, failed
logins and seats, and user revocation (shapes of the pinned SDK 5.9, ``resources/zero_trust/…``).

Registered from ``CloudflareApp.setup_routes`` (``register``); ``app.people`` is the store. Routes:

* ``GET accounts/<id>/access/users``: paged (``page``, ``per_page``; past the end an empty page; without
  ``per_page`` the server's ``page_size`` knob, where Cloudflare's schema says 1000),
  filters ``email`` and ``name`` (exact, case-insensitive: UNCONFIRMED) and ``search`` (substring of
  e-mail or name); ``GET|DELETE …/users/<user_id>`` (a delete also ends the person's sessions and frees
  the seat, as the SDK's docstring says); ``POST …/users`` (``email``, ``name``);
* ``GET …/users/<user_id>/active_sessions``: one entry per live session, ``{"expiration",
  "metadata": {"apps": {<app id>: {"hostname", "name", "type", "uid"}}, "expires", "iat", "nonce",
  "ttl"}, "name"}`` (a single page, as the SDK's ``SyncSinglePage``); ``…/active_sessions/<nonce>``:
  the identity of that session with ``isActive``;
* ``GET …/users/<user_id>/last_seen_identity``: the identity Access last saw (SDK ``Identity``, plus
  ``name``, ``amr`` and ``oidc_fields`` with the claims the login method asks for, as Access
  returns them: the extra keys are UNCONFIRMED beyond Cloudflare's identity examples);
* ``GET …/users/<user_id>/failed_logins``: ``[{"expiration", "metadata": {...}}]``;
* ``PATCH accounts/<id>/access/seats``: ``[{"seat_uid", "access_seat", "gateway_seat"}]``; both false
  frees the seat; an unknown ``seat_uid`` is a 404 (UNCONFIRMED);
* ``POST {accounts|zones}/<id>/access/organizations/revoke_user``: ``{"email", "devices"?,
  "user_uid"?, "warp_session_reauth"?}`` ends every session of that person (answer ``result: true``,
  also when there was none: UNCONFIRMED).

Reads need any valid token for the account; the revocation, seat, create and delete calls need a
write token. A token added with ``"permissions"`` (``/_test/config`` ``tokens``) must also hold one
of the permission groups Cloudflare's API schema names for the operation (``x-api-token-group``),
else 403 code 10000 "Authentication error":

* users, sessions, last seen identity, failed logins, and the request log: *Access: Audit Logs Read*
  (the schema's group for all of them; *Access: Users Read*, named by newer tooling, is accepted for
  the user reads: UNCONFIRMED);
* ``revoke_user``: *Access: Organizations, Identity Providers, and Groups Write* (the schema), or the
  narrower *Access: Organizations, Identity Providers, and Groups Revoke* and, since January 2026,
  *Access: Organizations Revoke* (Cloudflare's permission list and changelog);
* ``PATCH …/access/seats``: *Zero Trust: Seats Write* (the dashboard calls the level "Edit");
* create and delete of users: *Access: Organizations, Identity Providers, and Groups Write* (UNCONFIRMED).

Sessions expire by the clock: a session past its ``expires`` is no longer listed.
"""

from __future__ import annotations

import copy
import secrets
import time
import uuid
from datetime import datetime, timezone

from tests.servers._control import Request, Response
from tests.servers.cloudflare import people_contract
from tests.servers.cloudflare.app import ACC, E_AUTH, E_INVALID, E_NOT_FOUND, MSG_NOT_FOUND, ZONE, envelope, \
    fail, invalid


READ_USERS = ("Access: Audit Logs Read", "Access: Users Read")
READ_LOGS = ("Access: Audit Logs Read",)
ORG_WRITE = "Access: Organizations, Identity Providers, and Groups Write"
REVOKE = (ORG_WRITE, "Access: Organizations, Identity Providers, and Groups Revoke", "Access: Organizations Revoke")
SEATS = ("Zero Trust: Seats Write",)


def require(req: Request, groups: tuple) -> None:
    """403 unless the token holds one of ``groups`` (tokens without a permission list hold all)."""
    held = getattr(req.principal, "permissions", None)  # type: ignore[attr-defined]
    if held is not None and not held & set(groups):
        raise fail(403, E_AUTH, "Authentication error")


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class PeopleStore:
    """Access users, sessions, identities, failed logins and the request log of one server."""

    def __init__(self, app):
        self.app = app
        self.users: dict[str, dict] = {}        # user id -> record
        self.sessions: dict[str, dict] = {}     # nonce -> session record
        self.identities: dict[str, dict] = {}   # user id -> last seen identity
        self.failed: dict[str, list] = {}       # user id -> failed logins
        self.logs: list[dict] = []              # access-request log rows, oldest first
        self.revocations: list[dict] = []       # what revoke_user and SCIM deprovisioning ended (for tests)

    def reset(self) -> None:
        self.__init__(self.app)

    def dump(self) -> dict:
        now = time.time()
        return {
            "access_users": [copy.deepcopy(u) for u in self.users.values()],
            "access_sessions": [dict(copy.deepcopy(s), live=s["expires"] > now) for s in self.sessions.values()],
            "access_identities": copy.deepcopy(self.identities),
            "access_failed_logins": copy.deepcopy(self.failed),
            "access_logs": copy.deepcopy(self.logs),
            "access_revocations": copy.deepcopy(self.revocations),
        }

    # ---- state changes (used by the sign-in, the planting control and SCIM) ---------------------
    def user_by_email(self, email: str) -> dict | None:
        wanted = (email or "").strip().lower()
        for user in self.users.values():
            if user["email"].lower() == wanted:
                return user
        return None

    def ensure_user(self, email: str, name: str | None = None, at: float | None = None) -> dict:
        user = self.user_by_email(email)
        stamp = iso(at if at is not None else time.time())
        if user is None:
            user_id = str(uuid.uuid4())
            user = {"id": user_id, "uid": user_id, "email": email.strip(), "name": name or email.strip(),
                    "access_seat": False, "gateway_seat": False, "seat_uid": None, "active_device_count": 0,
                    "last_successful_login": None, "created_at": stamp, "updated_at": stamp}
            self.users[user_id] = user
        elif name:
            user["name"] = name
        return user

    def sign_in(self, user: dict, at: float) -> None:
        """A successful sign-in: the Access seat and the last successful login."""
        if not user["seat_uid"]:
            user["seat_uid"] = secrets.token_hex(16)
            user["seat_created_at"] = iso(at)
        user["access_seat"] = True
        user["last_successful_login"] = iso(at)
        user["updated_at"] = iso(at)

    def live_sessions(self, user_id: str) -> list[dict]:
        now = time.time()
        return sorted((s for s in self.sessions.values() if s["user_id"] == user_id and s["expires"] > now),
                      key=lambda s: (s["iat"], s["nonce"]))

    def add_session(self, user: dict, identity: dict, app_rec: dict | None, at: float, ttl: int) -> dict:
        """A session for ``app_rec``: a live one of the same login method covers one more
        application (Access's global session), else a new one (nonce) is made."""
        idp_id = (identity.get("idp") or {}).get("id")
        for session in self.live_sessions(user["id"]):
            if session["idp_id"] == idp_id:
                if app_rec is not None:
                    session["apps"][app_rec["id"]] = self.app_meta(app_rec)
                session["expires"] = max(session["expires"], at + ttl)
                return session
        nonce = secrets.token_urlsafe(16)
        session = {"nonce": nonce, "user_id": user["id"], "idp_id": idp_id, "iat": int(at), "expires": int(at + ttl),
                   "apps": {app_rec["id"]: self.app_meta(app_rec)} if app_rec is not None else {},
                   "identity": copy.deepcopy(identity)}
        self.sessions[nonce] = session
        return session

    @staticmethod
    def app_meta(app_rec: dict) -> dict:
        return {"hostname": app_rec.get("domain"), "name": app_rec.get("name"), "type": app_rec.get("type"),
                "uid": app_rec["id"]}

    def revoke(self, user: dict, why: str) -> int:
        """End every session of ``user``; returns how many were live."""
        now = time.time()
        ended = [n for n, s in self.sessions.items() if s["user_id"] == user["id"]]
        live = sum(1 for n in ended if self.sessions[n]["expires"] > now)
        for nonce in ended:
            del self.sessions[nonce]
        self.revocations.append({"email": user["email"], "user_id": user["id"], "why": why, "sessions": live,
                                 "at": iso(now)})
        return live

    def free_seat(self, user: dict) -> None:
        user["access_seat"] = False
        user["gateway_seat"] = False
        user["updated_at"] = iso(time.time())

    def scim_deprovision(self, idp_rec: dict, email: str) -> None:
        """SCIM deprovisioned ``email`` through ``idp_rec``: what its ``scim_config`` asks Access to do."""
        scim_config = idp_rec.get("scim_config") or {}
        user = self.user_by_email(email)
        if user is None or not scim_config.get("user_deprovision"):
            return
        self.revoke(user, "scim user_deprovision")
        if scim_config.get("seat_deprovision"):
            self.free_seat(user)

    def add_failed(self, user: dict, at: float, app_rec: dict | None, reason: str, ray_id: str) -> None:
        self.failed.setdefault(user["id"], []).append({
            "expiration": int(at + 86400),
            "metadata": {"app_name": (app_rec or {}).get("name"), "aud": (app_rec or {}).get("aud"),
                         "datetime": iso(at), "ray_id": ray_id, "user_email": user["email"],
                         "user_uuid": user["id"], "reason": reason},
        })

    # ---- rendering ----------------------------------------------------------------------------
    @staticmethod
    def render_user(user: dict) -> dict:
        return {k: user[k] for k in ("id", "uid", "email", "name", "access_seat", "gateway_seat", "seat_uid",
                                     "active_device_count", "last_successful_login", "created_at", "updated_at")}

    @staticmethod
    def render_session(session: dict, user: dict) -> dict:
        return {"expiration": session["expires"], "name": user["name"],
                "metadata": {"apps": copy.deepcopy(session["apps"]), "expires": session["expires"],
                             "iat": session["iat"], "nonce": session["nonce"],
                             "ttl": max(0, session["expires"] - session["iat"])}}

    # ---- handlers --------------------------------------------------------------------------------
    def _contract(self, req: Request, errors: list[str]) -> None:
        self.app.check_contract(req, errors)

    def _user(self, req: Request) -> dict:
        user = self.users.get(req.params["user_id"])
        if user is None:
            raise fail(404, E_NOT_FOUND, MSG_NOT_FOUND)
        return user

    def list_users(self, req: Request) -> Response:
        self.app._scope(req)  # pylint: disable=protected-access
        require(req, READ_USERS)
        self._contract(req, people_contract.check_query(req.query, "users"))
        page, per_page = self.app._page_args(req)  # pylint: disable=protected-access
        items = list(self.users.values())  # in the order Access first saw them
        for key in ("email", "name"):
            wanted = req.arg(key)
            if wanted not in (None, ""):
                items = [u for u in items if (u.get(key) or "").lower() == wanted.lower()]
        search = req.arg("search")
        if search not in (None, ""):
            items = [u for u in items if search.lower() in u["email"].lower() or search.lower() in (u["name"] or "").lower()]
        return self.app._list_response([self.render_user(u) for u in items], page, per_page)  # pylint: disable=protected-access

    def get_user(self, req: Request) -> Response:
        self.app._scope(req)  # pylint: disable=protected-access
        require(req, READ_USERS)
        return Response(200, envelope(self.render_user(self._user(req))))

    def create_user(self, req: Request) -> Response:
        self.app._scope(req, write=True)  # pylint: disable=protected-access
        require(req, (ORG_WRITE,))
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("email"), str) or "@" not in body["email"]:
            raise invalid("email is required")
        unknown = sorted(set(body) - {"email", "name"})
        if unknown:
            self._contract(req, ["body: unknown key %r (not in the SDK's UserCreateParams)" % k for k in unknown])
        if self.user_by_email(body["email"]) is not None:
            raise fail(409, E_INVALID, "access.api.error.conflict: a user with this email already exists")
        user = self.ensure_user(body["email"], body.get("name"))
        return Response(201, envelope(self.render_user(user)))

    def delete_user(self, req: Request) -> Response:
        self.app._scope(req, write=True)  # pylint: disable=protected-access
        require(req, (ORG_WRITE,))
        user = self._user(req)
        self.revoke(user, "user deleted")
        del self.users[user["id"]]
        self.identities.pop(user["id"], None)
        return Response(200, envelope({}))

    def active_sessions(self, req: Request) -> Response:
        self.app._scope(req)  # pylint: disable=protected-access
        require(req, READ_USERS)
        user = self._user(req)
        items = [self.render_session(s, user) for s in self.live_sessions(user["id"])]
        return Response(200, envelope(items, result_info={"page": 1, "per_page": len(items), "count": len(items),
                                                          "total_count": len(items)}))

    def active_session(self, req: Request) -> Response:
        self.app._scope(req)  # pylint: disable=protected-access
        require(req, READ_USERS)
        user = self._user(req)
        session = next((s for s in self.live_sessions(user["id"]) if s["nonce"] == req.params["nonce"]), None)
        if session is None:
            raise fail(404, E_NOT_FOUND, MSG_NOT_FOUND)
        return Response(200, envelope(dict(copy.deepcopy(session["identity"]), isActive=True)))

    def last_seen_identity(self, req: Request) -> Response:
        self.app._scope(req)  # pylint: disable=protected-access
        require(req, READ_USERS)
        user = self._user(req)
        identity = self.identities.get(user["id"])
        if identity is None:
            raise fail(404, E_NOT_FOUND, MSG_NOT_FOUND)
        return Response(200, envelope(copy.deepcopy(identity)))

    def failed_logins(self, req: Request) -> Response:
        self.app._scope(req)  # pylint: disable=protected-access
        require(req, READ_USERS)
        user = self._user(req)
        items = copy.deepcopy(self.failed.get(user["id"], []))
        return Response(200, envelope(items, result_info={"page": 1, "per_page": len(items), "count": len(items),
                                                          "total_count": len(items)}))

    def edit_seats(self, req: Request) -> Response:
        self.app._scope(req, write=True)  # pylint: disable=protected-access
        require(req, SEATS)
        body = req.json()
        self._contract(req, people_contract.check_seats(body))
        if not isinstance(body, list) or not body:
            raise invalid("request body must be a non-empty array of seats")
        by_seat = {u["seat_uid"]: u for u in self.users.values() if u["seat_uid"]}
        for item in body:
            if item.get("seat_uid") not in by_seat:
                raise fail(404, E_NOT_FOUND, "%s: seat %s" % (MSG_NOT_FOUND, item.get("seat_uid")))
        out = []
        for item in body:
            user = by_seat[item["seat_uid"]]
            user["access_seat"] = bool(item["access_seat"])
            user["gateway_seat"] = bool(item["gateway_seat"])
            user["updated_at"] = iso(time.time())
            out.append({"seat_uid": user["seat_uid"], "access_seat": user["access_seat"],
                        "gateway_seat": user["gateway_seat"], "created_at": user.get("seat_created_at") or user["created_at"],
                        "updated_at": user["updated_at"]})
        return Response(200, envelope(out, result_info={"page": 1, "per_page": len(out), "count": len(out),
                                                        "total_count": len(out)}))

    def revoke_user(self, req: Request) -> Response:
        self.app._scope(req, write=True)  # pylint: disable=protected-access
        require(req, REVOKE)
        body = req.json()
        self._contract(req, people_contract.check_revoke(body, req.query))
        if not isinstance(body, dict) or not isinstance(body.get("email"), str) or not body["email"].strip():
            raise invalid("email is required")
        user = self.user_by_email(body["email"])
        if user is not None and body.get("user_uid") not in (None, user["id"]):
            raise invalid("user_uid does not belong to %s" % body["email"])
        if user is not None:
            self.revoke(user, "revoke_user")
        return Response(200, envelope(True))


def register(app) -> None:
    """Add the routes to ``app`` (a ``CloudflareApp``) and give it ``app.people`` (the store)."""
    store = PeopleStore(app)
    app.people = store
    users = ACC + r"/access/users"
    user = users + r"/(?P<user_id>[^/]+)"
    app.route("GET", users, store.list_users)
    app.route("POST", users, store.create_user)
    app.route("GET", user, store.get_user)
    app.route("DELETE", user, store.delete_user)
    app.route("GET", user + r"/active_sessions", store.active_sessions)
    app.route("GET", user + r"/active_sessions/(?P<nonce>[^/]+)", store.active_session)
    app.route("GET", user + r"/last_seen_identity", store.last_seen_identity)
    app.route("GET", user + r"/failed_logins", store.failed_logins)
    app.route("PATCH", ACC + r"/access/seats", store.edit_seats)
    for prefix in (ACC, ZONE):
        app.route("POST", prefix + r"/access/organizations/revoke_user", store.revoke_user)
