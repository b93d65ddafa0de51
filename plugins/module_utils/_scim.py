# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""SCIM provisioning: authentik's outgoing SCIM provider (fields per release, its mappings, starting a
full sync and judging whether it finished from the tasks). The SCIM side of a Cloudflare login method (its
SCIM base URL, secret and refresh) is in ``_login_method``.

Per-release facts, from the ``SCIMProviderRequest``/``SCIMProvider`` models of each authentik-client
release: ``token`` is required up to 2025.8 and may be blank from 2025.10; GET returns it up to
2026.2.2 and no longer in the 2026.2.7 and later clients (write-only); one group (``filter_group``) up to
2025.12, a list (``group_filters``) from 2026.2; ``compatibility_mode`` and ``dry_run`` from 2025.4.
The tasks API (``/tasks/schedules/``, ``/tasks/tasks/``) came with 2025.8.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
import time

from urllib.parse import quote

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import needs_release
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import ManagedObject

SCIM_PATH = "/providers/scim/"
MAPPINGS_PATH = "/propertymappings/provider/scim/"
USER_MAPPING = "goauthentik.io/providers/scim/user"
GROUP_MAPPING = "goauthentik.io/providers/scim/group"
FULL_SYNC_ACTOR = "authentik.providers.scim.tasks.scim_sync"
TASKS_SINCE = (2025, 8)
COMPATIBILITY_SINCE = (2025, 4)
GROUP_FILTERS_SINCE = (2026, 2)
TOKEN_OPTIONAL_SINCE = (2025, 10)
COMPATIBILITY_MODES = ("default", "aws", "slack", "sfdc", "gitlab", "vcenter", "webex")
PLAIN_KEYS = ("url", "exclude_users_service_account", "dry_run", "compatibility_mode", "verify_certificates")
# module option -> API field where they differ (url and token name authentik's own connection)
OPTION_NAMES = {"url": "scim_url", "token": "scim_token"}
RUNNING_STATES = ("queued", "consumed", "preprocess", "running")
PENDING = "(SCIM provider %r, not created yet)"


# ---- authentik: lookups ------------------------------------------------------------------------------
def scim_provider_by_name(client, name):
    return client.find_one(SCIM_PATH, {"name": name}, "SCIM provider", "named %r" % name)


def scim_mapping_pks(client, names):
    """pks of SCIM property mappings given by name or managed id (the list is read once per run)."""
    if "scim-mappings" not in client._cache:  # pylint: disable=protected-access
        client._cache["scim-mappings"] = client.paginate(  # pylint: disable=protected-access
            MAPPINGS_PATH, what="list the SCIM property mappings")
    mappings = client._cache["scim-mappings"]  # pylint: disable=protected-access
    pks = []
    for name in names:
        found = [m for m in mappings if name in (m.get("managed"), m.get("name"))]
        if not found:
            raise LookupFailed("No authentik SCIM property mapping is named %r (by name or managed id); check "
                               "Customization > Property Mappings" % name)
        pks.append(found[0]["pk"])
    return sorted(set(pks))


def full_sync_schedule(client, provider_pk):
    """The provider's full-sync schedule (2025.8 and later), or None."""
    schedules = client.paginate("/tasks/schedules/", {"rel_obj_id": str(provider_pk)},
                                what="look up the sync schedule of SCIM provider %s" % provider_pk)
    found = [s for s in schedules if s.get("actor_name") == FULL_SYNC_ACTOR] or schedules
    return found[0] if found else None


def start_full_sync(client, provider):
    """Start a full sync: send the provider's schedule, or (before 2025.8) save the provider unchanged,
    which starts one as well. Returns ``(how, since)``: ``since`` is the time of the newest full-sync task
    before this one (a later task is this sync's; no clock of ours is compared with authentik's)."""
    if client.at_least(*TASKS_SINCE):
        schedule = full_sync_schedule(client, provider["pk"])
        if schedule is not None:
            before = client.paginate("/tasks/tasks/", {"rel_obj_id": schedule["id"], "ordering": "-mtime",
                                                       "actor_name": FULL_SYNC_ACTOR, "page_size": 1},
                                     what="read the sync tasks of SCIM provider %r" % provider.get("name"), limit=1)
            client.post("/tasks/schedules/%s/send/" % quote(str(schedule["id"]), safe=""), None,
                        what="start a full sync of SCIM provider %r" % provider.get("name"))
            return "schedule", (before[0].get("mtime") if before else "") or ""
    client.patch("%s%d/" % (SCIM_PATH, provider["pk"]), {"name": provider["name"]},
                 what="start a full sync of SCIM provider %r" % provider.get("name"))
    return "save", ""


def _problems(task):
    return [entry.get("event") for entry in task.get("logs") or []
            if entry.get("log_level") in ("warning", "error", "critical")]


def sync_report(client, provider):
    """The provider's sync as the API shows it: ``status`` (sync/status, which says "done" even when every
    push failed), the full-sync tasks (newest first) and their warnings and errors, and ``running``."""
    pk = provider["pk"]
    status = client.get("%s%d/sync/status/" % (SCIM_PATH, pk), what="read the sync status of SCIM provider %r"
                        % provider.get("name")) or {}
    report = {"status": status, "running": bool(status.get("is_running")), "tasks": [], "errors": [],
              "last_task": None, "tasks_api": False}
    if not client.at_least(*TASKS_SINCE):
        return report
    schedule = full_sync_schedule(client, pk)
    report["tasks_api"] = True
    tasks = []
    if schedule is not None:
        tasks = client.paginate("/tasks/tasks/", {"rel_obj_id": schedule["id"], "ordering": "-mtime"},
                                what="read the sync tasks of SCIM provider %r" % provider.get("name"), limit=50)
    direct = client.paginate("/tasks/tasks/", {"rel_obj_id": str(pk), "ordering": "-mtime"},
                             what="read the tasks of SCIM provider %r" % provider.get("name"), limit=50)
    all_tasks = sorted(tasks + direct, key=lambda t: _sort_key(t.get("mtime")), reverse=True)
    report["tasks"] = [{"actor": t.get("actor_name"), "state": t.get("state"), "mtime": t.get("mtime"),
                        "uid": t.get("uid"), "problems": _problems(t)} for t in all_tasks]
    full = [t for t in tasks if t.get("actor_name") == FULL_SYNC_ACTOR]
    report["last_task"] = report["tasks"][all_tasks.index(full[0])] if full else None
    report["running"] = report["running"] or any(t.get("state") in RUNNING_STATES for t in all_tasks)
    return report


_TIMESTAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?\s*(Z|[+-]\d\d:?\d\d)?$", re.I)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def parse_time(text):
    """An ISO 8601 time as authentik writes it (``2026-08-05T10:00:00.123456Z``, ``...+02:00``) as an aware
    datetime, UTC when it names no offset; None when ``text`` is empty or not such a time."""
    match = _TIMESTAMP.match(str(text or "").strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = datetime.timedelta(0)
    if zone and zone.upper() != "Z":
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
    try:
        return datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                                 int((fraction or "0")[:6].ljust(6, "0")), tzinfo=datetime.timezone(offset))
    except ValueError:
        return None


def _sort_key(text):
    """Task times in time order; a task without a readable time sorts as the oldest."""
    return parse_time(text) or _EPOCH


def is_after(text, since):
    """Whether the task time ``text`` is later than ``since``: always when ``since`` is empty or unreadable,
    never when ``text`` is."""
    when = parse_time(text)
    start = parse_time(since)
    if start is None:
        return True
    return when is not None and when > start


def wait_for_sync(client, provider, since, timeout, interval=1.0):
    """Poll until a full sync whose task changed after ``since`` (a task time as authentik writes it) has
    finished, and nothing is running. Returns ``(finished, report)``. The deadline runs on the monotonic
    clock (a clock step does not shorten or stretch the wait); the times are compared parsed."""
    deadline = time.monotonic() + timeout
    while True:
        report = sync_report(client, provider)
        last = report["last_task"]
        if report["tasks_api"]:
            finished = (not report["running"] and last is not None and last["state"] not in RUNNING_STATES
                        and is_after(last["mtime"], since))
        else:
            finished = not report["running"] and bool(report["status"].get("last_successful_sync"))
        if finished or time.monotonic() >= deadline:
            if report["tasks_api"] and last is not None:
                problems = []
                newest = [t for t in report["tasks"] if is_after(t["mtime"], since)]
                for task in newest:
                    problems.extend(task["problems"])
                report["errors"] = problems
            return finished, report
        time.sleep(interval)


# ---- authentik: the provider ------------------------------------------------------------------------
class ScimProvider(ManagedObject):
    """authentik's SCIM provider, identified by name."""

    kind = "SCIM provider"
    secret_keys = frozenset(("token",))

    def __init__(self, module, client):
        super(ScimProvider, self).__init__(module, client)
        self.token_readable = None

    def label(self):
        return "authentik SCIM provider %r" % self.params["name"]

    def find(self):
        return scim_provider_by_name(self.client, self.params["name"])

    def group_key(self, current):
        """``group_filters`` (2026.2) or ``filter_group`` (before): the object's fields tell, else the release."""
        if current is not None:
            return "group_filters" if "group_filters" in current else "filter_group"
        return "group_filters" if self.client.at_least(*GROUP_FILTERS_SINCE) else "filter_group"

    def normalize(self, obj):
        out = {"name": obj.get("name")}
        for key in PLAIN_KEYS:
            if key in obj:
                out[key] = obj.get(key)
        out["property_mappings"] = sorted(obj.get("property_mappings") or [])
        out["property_mappings_group"] = sorted(obj.get("property_mappings_group") or [])
        if "group_filters" in obj:
            out["group_filters"] = sorted(obj.get("group_filters") or [])
        elif "filter_group" in obj:
            out["group_filters"] = [obj["filter_group"]] if obj.get("filter_group") else []
        if "token" in obj:
            out["token"] = obj.get("token") or ""
        return out

    def desired(self, current):
        p = self.params
        if current is None and not p.get("scim_url"):
            raise Refused("Creating %s needs scim_url (the SCIM service's base URL)" % self.label())
        want = {"name": p["name"]}
        for key in PLAIN_KEYS:
            option = OPTION_NAMES.get(key, key)
            if p.get(option) is not None:
                want[key] = p[option]
        if (p.get("compatibility_mode") is not None or p.get("dry_run") is not None) and not self._has_compatibility(current):
            raise needs_release("compatibility_mode and dry_run", COMPATIBILITY_SINCE, self.client.running("an older release"))
        for option, managed in (("property_mappings", USER_MAPPING), ("property_mappings_group", GROUP_MAPPING)):
            names = p.get(option)
            if names is None and current is None:
                names = [managed]  # authentik's defaults (the API does not fill them in by itself)
            if names is not None:
                want[option] = scim_mapping_pks(self.client, names)
        if p.get("group_filters") is not None:
            pks = sorted(set(self.client.group_pk(name) for name in p["group_filters"]))
            if len(pks) > 1 and self.group_key(current) == "filter_group":
                raise needs_release("More than one group in group_filters", GROUP_FILTERS_SINCE,
                                    self.client.running("a release before 2026.2 (one filter_group only)"),
                                    "Name one group")
            want["group_filters"] = pks
        if p.get("scim_token") is not None:
            self.token_readable = current is None or "token" in current
            if self.token_readable:
                want["token"] = p["scim_token"]
        elif current is None and not self.client.at_least(*TOKEN_OPTIONAL_SINCE):
            raise Refused("Creating %s needs scim_token on authentik %s (a blank token is allowed from 2025.10)"
                          % (self.label(), self.client.running("before 2025.10")))
        return want

    def _has_compatibility(self, current):
        if current is not None:
            return "compatibility_mode" in current
        return self.client.at_least(*COMPATIBILITY_SINCE)

    def force_update(self, current, desired):
        """A write-only token (2026.2.7 and later) cannot be compared: it is sent when update_token says so."""
        return (self.params.get("scim_token") is not None and not self.token_readable
                and self.params.get("update_token") == "always")

    def defaults(self):
        return {"pk": None, "url": None, "exclude_users_service_account": False, "dry_run": False,
                "compatibility_mode": "default", "verify_certificates": True, "group_filters": []}

    def body(self, fields, current):
        out = {}
        for key, value in fields.items():
            if key == "group_filters" and self.group_key(current) == "filter_group":
                out["filter_group"] = value[0] if value else None
            else:
                out[key] = value
        if self.params.get("scim_token") is not None and not self.token_readable \
                and self.params.get("update_token") == "always":
            out["token"] = self.params["scim_token"]
        return out

    def create(self, desired):
        body = self.body(desired, None)
        if self.params.get("scim_token") is not None:
            body["token"] = self.params["scim_token"]
        return self.client.post(SCIM_PATH, body, what="create %s" % self.label())

    def update(self, current, changes, desired):
        body = self.body(changes, current)
        return self.client.patch("%s%d/" % (SCIM_PATH, current["pk"]), body, what="update %s" % self.label())

    def delete(self, current):
        # 404: gone already (deleting the application deletes its SCIM providers too)
        self.client.delete("%s%d/" % (SCIM_PATH, current["pk"]), what="delete %s" % self.label())

    def present(self, obj):
        out = dict(obj or {})
        out.setdefault("pk", None)  # None when check mode predicts a new provider
        return out


def backchannel_pks(client, names, check_mode, warn):
    """pks of the SCIM providers named ``names`` (for an application's ``backchannel_providers``)."""
    pks = []
    for name in names:
        found = scim_provider_by_name(client, name)
        if found is None and check_mode:
            warn("The authentik SCIM provider %r does not exist; check mode assumes an earlier task creates it" % name)
            pks.append(PENDING % name)
            continue
        if found is None:
            raise LookupFailed("No authentik SCIM provider is named %r; create it first (authentik_provider_scim)" % name)
        pks.append(found["pk"])
    return sorted(pks, key=str)
