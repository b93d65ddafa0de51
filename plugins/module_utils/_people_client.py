# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""People on both sides, the requests: authentik's directory, the people Access knows (users, active
sessions, last seen identity, the access-request log), revocation and seats, and the 403 hints that name
their API token permissions.

Reads, each at most once per module run: the login method, the Access applications (their policies come
embedded), the organization (its session duration), authentik's users and Access's users (page by page),
the request log. Sessions and the last seen identity are read per person only where they matter: people
whose last successful sign-in is younger than the longest session Access can have given them, and whom
authentik no longer admits where they signed in lately (decided in ``_people.py``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from urllib.parse import quote

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import AccessClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import CODE_AUTH
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._people import (
    admission,
    by_email,
    denied_where_signed_in,
    email_key,
    iso,
    judge,
    may_hold_session,
    now_utc,
    parse_time,
    person,
    protected_applications,
    session_window,
    sign_ins,
)

# Page sizes. Neither API documents a largest page for these lists; 100 is accepted by both.
DIRECTORY_PAGE = 100
ACCESS_PAGE = 100
LOG_PAGE = 100

USERS_PERMISSION = "Access: Users Read"
LOGS_PERMISSION = "Access: Audit Logs Read"
REVOKE_PERMISSION = "Access: Organizations Revoke"
REVOKE_PERMISSION_OLD = "Access: Organizations, Identity Providers, and Groups Revoke"
SEATS_PERMISSION = "Zero Trust: Seats Write"


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
