# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""People on both sides, pure: authentik's directory users, the claims Access holds for them, who may
enter, how long a session can live, and who of the people Access knows is a leaver. No request here: the
reads and writes are in ``_people_client.py``; unit-tested without requests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible.module_utils.basic import env_fallback

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_eval import (
    DENIED,
    Identity,
    evaluate_application,
)

DEFAULT_SESSION = "24h"
# Clock differences between here and Cloudflare, added to the session window.
CLOCK_SLACK = datetime.timedelta(hours=1)


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
