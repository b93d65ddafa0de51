# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""People on both sides: authentik's directory, the people Access knows, and who of them is a leaver.

Reads, in this order and each at most once per run: the login method, the Access applications (their
policies come embedded), authentik's users (page by page), Access's users (page by page). Sessions and
the last seen identity are read per person only for the few who may still hold a session: people whose
last successful sign-in is younger than the longest session Access can have given them, and (for
leavers) whom authentik no longer admits.

The pure parts (who may enter, who is a leaver) are plain functions, unit-tested without requests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible.module_utils.basic import env_fallback

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_eval import (
    DENIED,
    Identity,
    evaluate_application,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import AccessClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import CODE_AUTH
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import LookupFailed

# Page sizes. Neither API documents a largest page for these lists; 100 is accepted by both.
DIRECTORY_PAGE = 100
ACCESS_PAGE = 100
LOG_PAGE = 100

DEFAULT_SESSION = "24h"
# Clock differences between here and Cloudflare, added to the session window.
CLOCK_SLACK = datetime.timedelta(hours=1)

USERS_PERMISSION = "Access: Users Read"
LOGS_PERMISSION = "Access: Audit Logs Read"
REVOKE_PERMISSION = "Access: Organizations Revoke"
REVOKE_PERMISSION_OLD = "Access: Organizations, Identity Providers, and Groups Revoke"
SEATS_PERMISSION = "Zero Trust: Seats Write"

GONE = "gone"
INACTIVE = "inactive"
NOT_ALLOWED = "not_allowed"

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def people_argument_spec():
    """The options shared by the modules that compare the directory with Access (doc fragment ``_people``)."""
    return dict(
        login_method=dict(type="str", required=True),
        identity_provider=dict(type="dict"),
        authentik_url=dict(type="str", required=True, fallback=(env_fallback, ["AUTHENTIK_URL"])),
        authentik_token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["AUTHENTIK_TOKEN"])),
        authentik_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["AUTHENTIK_VALIDATE_CERTS"])),
        authentik_ca_path=dict(type="path", fallback=(env_fallback, ["AUTHENTIK_CA_PATH"])),
    )


# ---- small pure helpers ------------------------------------------------------------------------
def duration_seconds(text):
    """Seconds of a Go-style duration (``"24h"``, ``"1h30m"``); None when it is not one."""
    text = (text or "").strip()
    if not text:
        return None
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def parse_time(value):
    """An aware UTC ``datetime`` from an ISO 8601 string (``Z`` or an offset), or None."""
    if not isinstance(value, str) or not value:
        return None
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$",
                     value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    stamp = datetime.datetime(year, month, day, hour, minute, second, micro)
    zone = match.group(8)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        stamp -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return stamp.replace(tzinfo=UTC)


class _Utc(datetime.tzinfo):
    def utcoffset(self, dt):
        return datetime.timedelta(0)

    def tzname(self, dt):
        return "UTC"

    def dst(self, dt):
        return datetime.timedelta(0)


UTC = _Utc()


def now_utc():
    return datetime.datetime.now(UTC)


def iso(stamp):
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ") if stamp else None


def email_key(value):
    return (value or "").strip().lower()


# ---- the directory -------------------------------------------------------------------------------
def person(user):
    """An authentik user (API object) as the fields this module needs."""
    groups = [g.get("name") for g in (user.get("groups_obj") or []) if isinstance(g, dict) and g.get("name")]
    return {"pk": user.get("pk"), "username": user.get("username"), "name": user.get("name"),
            "email": user.get("email") or "", "is_active": bool(user.get("is_active")), "groups": sorted(groups),
            "type": user.get("type")}


def by_email(people):
    """E-mail (lower case) -> the directory's people with it (an e-mail can repeat in authentik)."""
    index = {}
    for one in people:
        key = email_key(one["email"])
        if key:
            index.setdefault(key, []).append(one)
    return index


def admitted_person(candidates):
    """Of the people sharing an e-mail, the one who counts: an active one first."""
    if not candidates:
        return None
    active = [p for p in candidates if p["is_active"]]
    return (active or candidates)[0]


def claims_for(one, login_method):
    """The claims Access holds for ``one`` after a sign-in through ``login_method``.

    Access keeps the e-mail (from ``email_claim_name``) and the claims the login method lists in
    ``config.claims``; authentik sends ``groups`` as group names, ``preferred_username`` and ``name``.
    """
    config = (login_method or {}).get("config") or {}
    known = {"email": one["email"], "groups": list(one["groups"]), "preferred_username": one["username"],
             "nickname": one["username"], "name": one["name"]}
    claims = {"email": one["email"]}
    claims[config.get("email_claim_name") or "email"] = one["email"]
    for name in config.get("claims") or []:
        if name in known:
            claims[name] = known[name]
    return claims


def identity_for(one, login_method):
    return Identity(one["email"], claims_for(one, login_method), login_method.get("id"), login_method.get("name"))


def mentions_login_method(app, idp_id):
    """Whether an application offers the login method (``allowed_idps``) or names it in a rule."""
    allowed = app.get("allowed_idps") or []
    if allowed:
        return idp_id in allowed
    for pol in app.get("policies") or []:
        for key in ("include", "exclude", "require"):
            for rule in (pol or {}).get(key) or []:
                body = list(rule.values())[0] if isinstance(rule, dict) and len(rule) == 1 else {}
                if isinstance(body, dict) and idp_id in (body.get("id"), body.get("identity_provider_id")):
                    return True
    return False


def protected_applications(apps, idp_id, refs=None, missing=None):
    """The applications of this login method: those named in ``refs`` (name, domain or id), else every one
    that offers it in ``allowed_idps`` or names it in a policy rule. ``LookupFailed`` for a name not found,
    unless ``missing`` is a list: then the name is added to it (check mode: an earlier task would create it)."""
    apps = [a for a in apps if isinstance(a, dict)]
    if not refs:
        return [a for a in apps if mentions_login_method(a, idp_id)]
    chosen = []
    for ref in refs:
        found = [a for a in apps if ref in (a.get("name"), a.get("domain"), a.get("id"))]
        if not found and missing is not None:
            missing.append(ref)
            continue
        if not found:
            raise LookupFailed("No Access application is named %r, protects that domain or has that id (option "
                               "applications)" % ref)
        for app in found:
            if app not in chosen:
                chosen.append(app)
    return chosen


def session_window(apps, organization=None):
    """How long after a sign-in a session can still be alive: the organization's session (the App Launcher
    session that lets Access issue application sessions without a new sign-in) plus the longest
    application or policy session, plus slack for clocks. None when a duration cannot be read."""
    longest = duration_seconds(DEFAULT_SESSION)
    for app in apps:
        for value in [app.get("session_duration")] + [(p or {}).get("session_duration") for p in app.get("policies") or []]:
            if value in (None, ""):
                continue
            seconds = duration_seconds(value)
            if seconds is None:
                return None
            longest = max(longest, seconds)
    org = duration_seconds((organization or {}).get("session_duration") or DEFAULT_SESSION)
    if org is None:
        return None
    return datetime.timedelta(seconds=longest + org) + CLOCK_SLACK


def may_hold_session(access_user, window, now):
    """Whether a session of this Access user can still be alive (their last sign-in is recent enough)."""
    if window is None:
        return True
    last = parse_time(access_user.get("last_successful_login"))
    if last is None:
        return bool(access_user.get("last_successful_login"))  # unreadable: be safe and look
    return now - last <= window


def session_apps(sessions):
    """``(uids, hostnames)`` of the applications the active sessions cover."""
    uids, hosts = set(), set()
    for session in sessions or []:
        apps = ((session or {}).get("metadata") or {}).get("apps") or {}
        for key, app in apps.items() if isinstance(apps, dict) else []:
            app = app or {}
            uids.add(app.get("uid") or key)
            if app.get("hostname"):
                hosts.add(app["hostname"].split("/", 1)[0].lower())
    return uids, hosts


def covers(app, uids, hosts):
    domain = (app.get("domain") or "").split("/", 1)[0].lower()
    return bool(set((app.get("id"), app.get("uid"))) & uids) or (domain and domain in hosts)


def verdicts(one, apps, login_method):
    """App id -> verdict dict for a directory person on each application (``_access_eval``)."""
    identity = identity_for(one, login_method)
    names = {login_method.get("id"): login_method.get("name")}
    return dict((app.get("id"), evaluate_application(app, app.get("policies") or [], identity, names)) for app in apps)


def sign_ins(rows):
    """The allowed sign-ins of an access-request log as a set of ``(e-mail, app uid or domain)``."""
    out = set()
    for row in rows:
        if row.get("allowed") is True and row.get("user_email"):
            key = email_key(row["user_email"])
            for app_key in (row.get("app_uid"), (row.get("app_domain") or "").split("/", 1)[0].lower()):
                if app_key:
                    out.add((key, app_key))
    return out


def denied_where_signed_in(one, apps, login_method, signed_in):
    """Whether an active person is denied by an application they signed in to (per ``signed_in``, from the
    log; None = no log, then by any application that offers the login method)."""
    key = email_key(one["email"])
    idp_id = login_method.get("id")
    for app in apps:
        if signed_in is None:
            if app.get("allowed_idps") and idp_id not in app["allowed_idps"]:
                continue
        else:
            domain = (app.get("domain") or "").split("/", 1)[0].lower()
            if not ({(key, app.get("id")), (key, app.get("uid")), (key, domain)} & signed_in):
                continue
        if verdicts(one, [app], login_method)[app.get("id")]["verdict"] == DENIED:
            return True
    return False


def admission(candidates):
    """``(reason, person)``: GONE or INACTIVE with words, or (None, person) for an active person."""
    one = admitted_person(candidates)
    if one is None:
        return GONE, None
    if not one["is_active"]:
        return INACTIVE, one
    return None, one


def judge(email, candidates, sessions, apps, login_method):
    """Whether an Access user whose last seen identity is this login method must lose their sessions.

    ``sessions`` are their active sessions; ``apps`` every Access application (to find the ones the
    sessions cover). Returns None (keep), or ``{"email", "reason", "why", "applications"}``. Only a
    certain ``denied`` counts: a verdict that cannot be decided keeps the sessions.
    """
    if not sessions:
        return None
    uids, hosts = session_apps(sessions)
    covered = [a for a in apps if covers(a, uids, hosts)]
    covered_names = sorted(set(a.get("name") or a.get("domain") or a.get("id") for a in covered))
    state, one = admission(candidates)
    if state == GONE:
        return {"email": email, "reason": GONE, "applications": covered_names,
                "why": "no authentik user has the e-mail %s any more" % email}
    if state == INACTIVE:
        return {"email": email, "reason": INACTIVE, "applications": covered_names,
                "why": "the authentik account %s is deactivated" % one["username"]}
    denied = []
    for app, verdict in zip(covered, [verdicts(one, [a], login_method)[a.get("id")] for a in covered]):
        if verdict["verdict"] == DENIED:
            denied.append((app.get("name") or app.get("domain"), verdict["reason"]))
    if not denied:
        return None
    return {"email": email, "reason": NOT_ALLOWED, "applications": sorted(name for name, _why in denied),
            "why": "; ".join("%s no longer lets %s in: %s" % (name, one["username"], why) for name, why in denied)}


# ---- requests ------------------------------------------------------------------------------------
def permission_for(method, path):
    """The API token permission a people request needs, or None for a path that is not one of them."""
    path = path or ""
    if "/access/organizations/revoke_user" in path:
        return "'%s' (older tokens: '%s')" % (REVOKE_PERMISSION, REVOKE_PERMISSION_OLD)
    if "/access/seats" in path:
        return "'%s'" % SEATS_PERMISSION
    if "/access/logs/" in path:
        return "'%s'" % LOGS_PERMISSION
    if "/access/users" in path:
        return "'%s' (the group Cloudflare's API schema names; some tools call it '%s')" % (
            LOGS_PERMISSION, USERS_PERMISSION)
    return None


class PeopleClient(AccessClient):
    """The Access client whose 403 hints name the permissions of people, sessions, seats and the log."""

    def hint_for(self, status, api_message, codes, method, path):
        needed = permission_for(method, path)
        if needed and status == 403 and any(str(c) == str(CODE_AUTH) for c in codes or []):
            return ("The API token lacks a permission: it needs the account permission %s for %s; edit the token under "
                    "My Profile > API Tokens" % (needed, self.scope))
        return super(PeopleClient, self).hint_for(status, api_message, codes, method, path)


class People:
    """The reads and writes of both sides for one login method (each list read once)."""

    def __init__(self, cloudflare, authentik, login_method_ref, now=None):
        self.cf = cloudflare
        self.ak = authentik
        self.ref = login_method_ref
        self.now = now or now_utc()
        self._login_method = None
        self.reads = {"sessions": 0, "last_seen": 0}

    # ---- paths ---------------------------------------------------------------------------
    def _account_path(self, what):
        if self.cf.scope.kind != "account":
            raise LookupFailed("%s lives in an account, not in a zone: give account_id (or set CLOUDFLARE_ACCOUNT_ID) "
                               "instead of zone_id" % what)
        return self.cf.scope.path

    def user_path(self, user_id, tail=""):
        return "%s/access/users/%s%s" % (self._account_path("Access's user list"), quote(str(user_id), safe=""), tail)

    # ---- reads ---------------------------------------------------------------------------
    def login_method(self, given=None):
        """The login method (by the id or name given), read once; ``given`` is used when it is that one."""
        if self._login_method is None:
            if isinstance(given, dict) and given.get("id") == self.ref:
                self._login_method = given
            else:
                found = self.cf.identity_provider(self.ref) if re.match(r"^[0-9a-fA-F-]{32,36}$", self.ref or "") else None
                if found is None:
                    found = self.cf.unique_identity_provider(self.ref)
                if found is None:
                    raise LookupFailed("No login method in %s is named %r or has that id (option login_method)"
                                       % (self.cf.scope, self.ref))
                self._login_method = found
        return self._login_method

    def directory(self):
        users = self.ak.paginate("/core/users/", {"page_size": DIRECTORY_PAGE},
                                 what="list authentik's users (the directory)")
        return [person(u) for u in users if isinstance(u, dict)]

    def access_users(self):
        path = self._account_path("Access's user list") + "/access/users"
        return [u for u in self.cf.paginate(path, per_page=ACCESS_PAGE,
                                            what="list the people Access knows in %s" % self.cf.scope)
                if isinstance(u, dict)]

    def active_sessions(self, access_user):
        self.reads["sessions"] += 1
        result = self.cf.result("GET", self.user_path(access_user["id"], "/active_sessions"),
                                what="read the active Access sessions of %s" % access_user.get("email"))
        return [s for s in result or [] if isinstance(s, dict)] if isinstance(result, list) else []

    def last_seen_identity(self, access_user):
        self.reads["last_seen"] += 1
        status, result, _info = self.cf.call("GET", self.user_path(access_user["id"], "/last_seen_identity"),
                                             ok_statuses=(404,),
                                             what="read the last seen identity of %s" % access_user.get("email"))
        return result if status != 404 and isinstance(result, dict) else {}

    def organization(self):
        return self.cf.organization()

    def access_requests(self, since):
        path = self._account_path("Access's request log") + "/access/logs/access_requests"
        return [r for r in self.cf.paginate(path, params={"since": iso(since), "direction": "desc"},
                                            per_page=LOG_PAGE,
                                            what="read Access's request log since %s" % iso(since))
                if isinstance(r, dict)]

    # ---- writes --------------------------------------------------------------------------
    def revoke(self, email):
        path = self.cf.scope.path + "/access/organizations/revoke_user"
        self.cf.call("POST", path, body={"email": email}, what="revoke the Access sessions of %s" % email)

    def remove_seat(self, access_user):
        path = self._account_path("A Zero Trust seat") + "/access/seats"
        body = [{"seat_uid": access_user.get("seat_uid"), "access_seat": False,
                 "gateway_seat": bool(access_user.get("gateway_seat"))}]
        self.cf.call("PATCH", path, body=body, what="remove the Access seat of %s" % access_user.get("email"))

    # ---- the leavers -------------------------------------------------------------------------
    def leavers(self, given_login_method=None):
        """``(leavers, kept, stats)``: who must lose their sessions, who was looked at and kept (undecided)."""
        login_method = self.login_method(given_login_method)
        idp_id = login_method.get("id")
        apps = [a for a in self.cf.applications() if isinstance(a, dict)]
        window = session_window(apps, self.organization())
        people = by_email(self.directory())
        users = self.access_users()
        recent = [u for u in users if u.get("email") and u.get("id") and may_hold_session(u, window, self.now)]
        # who signed in where, within the session window: only there can a session be alive
        signed_in = sign_ins(self.access_requests(self.now - window)) if recent and window is not None else None
        leavers = []
        for access_user in recent:
            email = access_user["email"]
            candidates = people.get(email_key(email), [])
            state, one = admission(candidates)
            if state is None and not denied_where_signed_in(one, apps, login_method, signed_in):
                continue  # still admitted wherever they signed in lately: not a candidate
            sessions = self.active_sessions(access_user)
            if not sessions:
                continue
            seen = self.last_seen_identity(access_user)
            if ((seen.get("idp") or {}).get("id")) != idp_id:
                continue  # another login method's person: never touched
            verdict = judge(email, candidates, sessions, apps, login_method)
            if verdict is not None:
                verdict["access_user"] = access_user
                leavers.append(verdict)
        stats = {"directory_users": sum(len(v) for v in people.values()), "access_users": len(users),
                 "sessions_read": self.reads["sessions"], "identities_read": self.reads["last_seen"]}
        return leavers, stats

    # ---- the review's reads ------------------------------------------------------------------------
    def review_inputs(self, since_days, refs=None, given_login_method=None, missing=None, all_sessions=False):
        """Everything ``_review.build`` needs, read once each. Sessions and last seen identities are read for
        the people whose sessions can still be alive and who are not admitted everywhere they signed in lately
        (where a session matters), or, with ``all_sessions``, for everybody whose session can still be alive."""
        login_method = self.login_method(given_login_method)
        all_apps = [a for a in self.cf.applications() if isinstance(a, dict)]
        apps = protected_applications(all_apps, login_method.get("id"), refs, missing)
        window = session_window(all_apps, self.organization())
        directory = self.directory()
        people = by_email(directory)
        users = self.access_users()
        since = self.now - datetime.timedelta(days=since_days)
        start = min(since, self.now - window) if window is not None else since
        log_rows = self.access_requests(start)
        recent_rows = [r for r in log_rows if window is None or (parse_time(r.get("created_at")) or self.now) >= self.now - window]
        signed_in = sign_ins(recent_rows) if window is not None else None
        sessions, identities, unread = {}, {}, set()
        for user in users:
            if not (user.get("id") and user.get("email") and may_hold_session(user, window, self.now)):
                continue
            state, one = admission(people.get(email_key(user["email"]), []))
            if not all_sessions and state is None and not denied_where_signed_in(one, all_apps, login_method, signed_in):
                unread.add(user["id"])
                continue
            sessions[user["id"]] = self.active_sessions(user)
            identities[user["id"]] = self.last_seen_identity(user) if sessions[user["id"]] else {}
        return {"login_method": login_method, "apps": apps, "directory": directory, "access_users": users,
                "sessions": sessions, "identities": identities, "unread": unread,
                "log_rows": [r for r in log_rows if (parse_time(r.get("created_at")) or self.now) >= since]}
