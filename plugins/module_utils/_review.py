# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The access review: one row per person and protected application, its flags, and its three
renderings (JSON with a stable schema, Markdown, CSV). Pure: the data comes from ``_people``.

The JSON schema is documented in docs/offboarding.md; bump ``SCHEMA_VERSION`` on any change that is not
an added key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_eval import ALLOWED, DENIED
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._people import (
    admission,
    covers,
    email_key,
    iso,
    parse_time,
    session_apps,
    verdicts,
)

SCHEMA_VERSION = 1

LEAVER_WITH_SESSION = "leaver_with_session"
REVOKED_THIS_RUN = "revoked_this_run"
GRANTED_UNUSED = "granted_unused"
SIGNED_IN_NOT_ALLOWED = "signed_in_not_allowed"
BLOCKED_ATTEMPTS = "blocked_attempts"
FLAGS = (LEAVER_WITH_SESSION, REVOKED_THIS_RUN, GRANTED_UNUSED, SIGNED_IN_NOT_ALLOWED, BLOCKED_ATTEMPTS)

COLUMNS = ("username", "name", "email", "in_authentik", "active", "application", "domain", "may_enter", "why_not",
           "access_user", "seat", "last_successful_login", "active_session", "last_seen_login_method",
           "allowed_sign_ins", "blocked_sign_ins", "last_allowed_sign_in", "revoked_this_run", "flags")


def _app_keys(app):
    domain = (app.get("domain") or "").split("/", 1)[0].lower()
    return set(k for k in (app.get("id"), app.get("uid"), domain) if k)


def log_counts(rows, apps):
    """``{(email, app id): {"allowed", "blocked", "last_allowed"}}`` from access-request log rows."""
    keys = dict((app.get("id"), _app_keys(app)) for app in apps)
    out = {}
    for row in rows:
        email = email_key(row.get("user_email"))
        if not email:
            continue
        row_keys = set(k for k in (row.get("app_uid"), (row.get("app_domain") or "").split("/", 1)[0].lower()) if k)
        for app_id, app_keys in keys.items():
            if not row_keys & app_keys:
                continue
            slot = out.setdefault((email, app_id), {"allowed": 0, "blocked": 0, "last_allowed": None})
            if row.get("allowed") is True:
                slot["allowed"] += 1
                when = parse_time(row.get("created_at"))
                if when and (slot["last_allowed"] is None or when > slot["last_allowed"]):
                    slot["last_allowed"] = when
            elif row.get("allowed") is False:
                slot["blocked"] += 1
    return out


def build(login_method, apps, directory, access_users, sessions, identities, log_rows, since_days, revoked=(),
          unread=()):
    """The review as a dict (the JSON schema's shape, without ``generated_at``).

    ``sessions`` and ``identities`` map an Access user id to its active sessions and last seen identity,
    for the people whose sessions were read; ``unread`` holds the ids of people who may hold a session that
    was not read (admitted everywhere they signed in); everybody else holds none.
    """
    idp_id = login_method.get("id")
    idp_names = {idp_id: login_method.get("name")}
    revoked = set(email_key(e.get("email") if isinstance(e, dict) else e) for e in revoked or ())
    unread = set(unread or ())
    counts = log_counts(log_rows, apps)
    access_by_email = dict((email_key(u.get("email")), u) for u in access_users if u.get("email"))
    people = {}
    for one in directory:
        key = email_key(one["email"]) or "pk:%s" % one["pk"]
        people.setdefault(key, []).append(one)
    # people Access knows through this login method who are no longer in authentik
    for user in access_users:
        key = email_key(user.get("email"))
        seen = identities.get(user.get("id")) or {}
        if key and key not in people and (seen.get("idp") or {}).get("id") == idp_id:
            people[key] = []
    rows = []
    for key in sorted(people):
        candidates = people[key]
        state, one = admission(candidates)
        email = one["email"] if one else key
        user = access_by_email.get(email_key(email))
        user_sessions = sessions.get(user.get("id")) if user else None
        seen = (identities.get(user.get("id")) or {}) if user else {}
        uids, hosts = session_apps(user_sessions or [])
        judged = verdicts(one, apps, login_method) if state is None else {}
        seen_idp = (seen.get("idp") or {})
        for app in apps:
            if one is not None and not one["email"]:
                may, why = DENIED, "no e-mail address in authentik, so Access cannot sign them in"
            elif state is None:
                verdict = judged[app.get("id")]
                may, why = verdict["verdict"], ("" if verdict["verdict"] == ALLOWED else verdict["reason"])
            else:
                may = DENIED
                why = ("no authentik user has this e-mail" if state == "gone"
                       else "the authentik account %s is deactivated" % one["username"])
            log = counts.get((email_key(email), app.get("id")), {"allowed": 0, "blocked": 0, "last_allowed": None})
            in_session = bool(user_sessions) and bool(covers(app, uids, hosts))
            was_revoked = email_key(email) in revoked
            flags = []
            if may == DENIED and (in_session or was_revoked):
                flags.append(LEAVER_WITH_SESSION)
            if may == DENIED and was_revoked:
                flags.append(REVOKED_THIS_RUN)
            if may == ALLOWED and not log["allowed"]:
                flags.append(GRANTED_UNUSED)
            if may == DENIED and log["allowed"]:
                flags.append(SIGNED_IN_NOT_ALLOWED)
            if log["blocked"]:
                flags.append(BLOCKED_ATTEMPTS)
            rows.append({
                "username": one["username"] if one else None,
                "name": one["name"] if one else None,
                "email": email,
                "in_authentik": one is not None,
                "active": one["is_active"] if one else None,
                "application": app.get("name"),
                "domain": app.get("domain"),
                "may_enter": may,
                "why_not": why,
                "access_user": user.get("id") if user else None,
                "seat": bool(user.get("access_seat")) if user else None,
                "last_successful_login": iso(parse_time(user.get("last_successful_login"))) if user else None,
                "active_session": (in_session if user_sessions is not None
                                   else None if not user or user.get("id") in unread else False),
                "last_seen_login_method": (idp_names.get(seen_idp.get("id")) or seen_idp.get("id")
                                           or seen_idp.get("type")) if seen_idp else None,
                "allowed_sign_ins": log["allowed"],
                "blocked_sign_ins": log["blocked"],
                "last_allowed_sign_in": iso(log["last_allowed"]),
                "revoked_this_run": was_revoked,
                "flags": flags,
            })
    totals = dict((flag, sum(1 for r in rows if flag in r["flags"])) for flag in FLAGS)
    return {
        "schema_version": SCHEMA_VERSION,
        "since_days": since_days,
        "login_method": {"id": idp_id, "name": login_method.get("name")},
        "applications": [{"id": a.get("id"), "name": a.get("name"), "domain": a.get("domain")} for a in apps],
        "people": len(people),
        "flag_counts": totals,
        "rows": rows,
    }


# ---- renderings ----------------------------------------------------------------------------------
def render_json(review):
    return json.dumps(review, indent=2, sort_keys=True) + "\n"


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def render_csv(review):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in review["rows"]:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def _md(value):
    return _cell(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(review):
    lm = review["login_method"]
    lines = ["# Access review: %s" % (lm.get("name") or lm.get("id")), ""]
    if review.get("generated_at"):
        lines += ["Generated at %s." % review["generated_at"], ""]
    lines += ["Sign-ins counted over the last %d days. %d people, %d applications: %s." % (
        review["since_days"], review["people"], len(review["applications"]),
        ", ".join("%s (%s)" % (a["name"], a["domain"]) for a in review["applications"]) or "none"), ""]
    lines += ["| Flag | Rows |", "| --- | --- |"]
    lines += ["| %s | %d |" % (flag, count) for flag, count in sorted(review["flag_counts"].items())]
    lines += ["", "| Person | E-mail | Active | Application | May enter | Why not | Seat | Last sign-in | Session | "
              "Allowed | Blocked | Flags |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in review["rows"]:
        lines.append("| %s |" % " | ".join(_md(v) for v in (
            row["username"] or "(not in authentik)", row["email"], row["active"], row["application"], row["may_enter"],
            row["why_not"], row["seat"], row["last_successful_login"], row["active_session"], row["allowed_sign_ins"],
            row["blocked_sign_ins"], ", ".join(row["flags"]))))
    return "\n".join(lines) + "\n"


RENDERERS = {".json": render_json, ".md": render_markdown, ".csv": render_csv}


def without_stamp(text, extension):
    """The text with the generation time taken out, to tell whether anything but the time changed."""
    if extension == ".json":
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if isinstance(data, dict):
            data.pop("generated_at", None)
        return json.dumps(data, sort_keys=True)
    if extension == ".md":
        return "\n".join(line for line in text.splitlines() if not line.startswith("Generated at "))
    return text
