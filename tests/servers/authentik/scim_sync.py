"""The outgoing SCIM sync of the authentik test server: it really sends SCIM 2.0 requests to a provider's
``url``, the way authentik 2026.2.2 did in the captures (30-scim-push-*, 30-scim-sequence-*, README).

Full sync (started by a provider save or by sending its schedule), in a worker thread, one at a time:

1. ``GET /ServiceProviderConfig`` once per cache period (a failed or invalid answer is replaced by a
   fallback without PATCH support, cached as well);
2. users in pk order: those who pass the application's policies (every user when the application has no
   binding; inactive users included, pushed with ``active: false``). No stored id: ``POST /Users``; a 409
   looks the user up with ``filter=userName eq "…"`` and keeps ``Resources[0].id``. A stored id: a full
   ``PUT /Users/{id}`` only when the body differs from the last one sent; a 404 forgets the id and POSTs;
3. groups, all of them (or ``group_filters`` / ``filter_group``): ``POST /Groups`` without members, then
   one ``PATCH`` adding the members; a stored group is read with ``GET /Groups/{id}`` and members are
   added or removed with PATCH (without PATCH support: a ``PUT`` with the complete list); a rename is a
   PATCH ``replace`` without path, followed by a GET;
4. users no longer in scope and groups that no longer exist are deleted (``DELETE``).

Each object that fails is logged once as a warning in the page task ("Failed to sync … due to
transient error: …") and the sync goes on; the task still ends ``done`` and ``last_successful_sync``
moves on, so the sync status never shows the errors (only ``/tasks/tasks/`` does). ``dry_run`` sends the
GETs only and logs each dropped write. Without an application the sync logs "No provider found. Is it
assigned to an application?" and ends ``done``.

Direct pushes (a user saved, a membership changed: directory.py) run the same per-object steps at once,
in a task whose ``rel_obj_id`` is the provider pk. Simplification: a failed direct push is tried once and
the task ends ``rejected``; the real worker retries it up to five times over several minutes.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_JSON = "application/scim+json"
FALLBACK_SPC = {"patch": {"supported": False}, "filter": {"supported": False},
                "bulk": {"supported": False, "maxOperations": 0}}
START_DELAY = 0.2   # the worker picks the task up a moment after the API call
SPC_CACHE_SECONDS = 3600
_RUN_LOCK = threading.Lock()


def stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ScimError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__("HTTP %d" % status)
        self.status = status
        self.body = body


# ---- tasks --------------------------------------------------------------------------------------------
def new_task(app: Any, actor: str, uid: str, rel_model: str, rel_obj_id: str, description: str) -> dict:
    task = {"message_id": str(uuid.uuid4()), "queue_name": "default", "actor_name": actor, "state": "queued",
            "mtime": stamp(), "retries": 0, "eta": None,
            "rel_obj_app_label": "authentik_tasks_schedules" if rel_model == "schedule" else "authentik_providers_scim",
            "rel_obj_model": rel_model, "rel_obj_id": rel_obj_id, "uid": uid, "logs": [], "previous_logs": [],
            "aggregated_status": "queued", "description": description}
    log(task, "info", "Task has been queued", {"delay": None}, "authentik.tasks.middleware.TaskLogMiddleware")
    app.tasks.append(task)
    return task


def log(task: dict, level: str, event: str, attributes: dict | None = None, logger: str | None = None) -> None:
    task["logs"].append({"timestamp": stamp(), "log_level": level, "logger": logger or task["uid"], "event": event,
                         "attributes": attributes or {}})
    task["mtime"] = stamp()


def finish(task: dict, state: str = "done") -> None:
    ok = state == "done"
    log(task, "info" if ok else "error", "Task finished processing without errors" if ok else "Task failed",
        logger="authentik.tasks.middleware.TaskLogMiddleware")
    task["state"] = state
    task["aggregated_status"] = state


def render_task(task: dict) -> dict:
    return json.loads(json.dumps(task))


# ---- starting ----------------------------------------------------------------------------------------
def start_full_sync(app: Any, provider_pk: int) -> None:
    """Queue a full sync of the provider (called with the app lock held) and run it in a thread."""
    record = app.scim_providers.get(provider_pk)
    if record is None:
        return
    schedule = app.scim_schedule(provider_pk)
    rel = schedule["id"] if schedule else str(provider_pk)
    task = new_task(app, "authentik.providers.scim.tasks.scim_sync",
                    "authentik.providers.scim.tasks.scim_sync:%s" % record["name"], "schedule", rel,
                    "Full sync for SCIM provider.")
    generation = app.scim_generation
    threading.Thread(target=_run_full, args=(app, provider_pk, task, generation), daemon=True,
                     name="scim-sync-%d" % provider_pk).start()


def start_direct(app: Any, kind: str, object_pk: Any) -> None:
    """A user or group changed: push it to every SCIM provider whose application is set (lock held)."""
    for provider_pk, record in list(app.scim_providers.items()):
        if app.scim_application(provider_pk) is None:
            continue
        task = new_task(app, "authentik.providers.scim.tasks.scim_sync_direct_dispatch",
                        "authentik.providers.scim.tasks.scim_sync_direct:%s:%s:%s" % (record["name"], kind, object_pk),
                        "scimprovider", str(provider_pk), "Sync objects directly.")
        threading.Thread(target=_run_direct, args=(app, provider_pk, task, kind, object_pk, app.scim_generation),
                         daemon=True).start()


def sync_object(app: Any, provider_pk: int, kind: str, object_pk: Any, override_dry_run: bool) -> None:
    """``sync/object``: synchronous; the task is recorded against the provider."""
    record = app.scim_providers[provider_pk]
    task = new_task(app, "authentik.providers.scim.tasks.scim_sync_objects",
                    "authentik.providers.scim.tasks.scim_sync_objects:%s:%s:%s" % (record["name"], kind, object_pk),
                    "scimprovider", str(provider_pk), "Sync object.")
    job = Job(app, provider_pk, task, override_dry_run)
    job.begin()
    job.one(kind, object_pk)
    finish(task)


def _run_full(app: Any, provider_pk: int, task: dict, generation: int) -> None:
    time.sleep(START_DELAY)
    with _RUN_LOCK:
        if app.scim_generation != generation:
            return
        with app.lock:
            if provider_pk not in app.scim_providers:
                return
            job = Job(app, provider_pk, task, False)
            job.begin()
            log(task, "info", "Starting full provider sync")
        job.full()
        with app.lock:
            if app.scim_generation != generation:
                return
            finish(task)
            record = app.scim_providers.get(provider_pk)
            if record is not None:
                record["last_successful_sync"] = stamp()  # even when every request failed
            schedule = app.scim_schedule(provider_pk)
            if schedule is not None:
                schedule["last_task_status"] = "done"


def _run_direct(app: Any, provider_pk: int, task: dict, kind: str, object_pk: Any, generation: int) -> None:
    time.sleep(START_DELAY)
    with _RUN_LOCK:
        with app.lock:
            if app.scim_generation != generation or provider_pk not in app.scim_providers:
                return
            job = Job(app, provider_pk, task, False)
            job.begin()
        failed = job.one(kind, object_pk)
        with app.lock:
            if app.scim_generation == generation:
                finish(task, "rejected" if failed else "done")


# ---- one run -------------------------------------------------------------------------------------------
class Job:
    """One sync run of one provider. State is read and written under ``app.lock``; HTTP runs without it."""

    def __init__(self, app: Any, provider_pk: int, task: dict, override_dry_run: bool):
        self.app = app
        self.pk = provider_pk
        self.task = task
        self.override_dry_run = override_dry_run
        self.record: dict = {}
        self.spc: dict = FALLBACK_SPC

    def begin(self) -> None:
        self.task["state"] = "consumed"
        self.task["aggregated_status"] = "consumed"
        log(self.task, "info", "Task is being processed", logger="authentik.tasks.middleware.TaskLogMiddleware")
        self.record = dict(self.app.scim_providers[self.pk])

    @property
    def dry_run(self) -> bool:
        return bool(self.record.get("dry_run")) and not self.override_dry_run

    # -- HTTP ----------------------------------------------------------------------------------------
    def send(self, method: str, path: str, body: Any = None, query: dict | None = None) -> tuple[int, Any]:
        url = self.record["url"].rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        if method != "GET" and self.dry_run:
            with self.app.lock:
                log(self.task, "info", "Dropping mutating request due to dry run",
                    {"method": method, "url": url, "body": body})
            return 0, None
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": "Bearer %s" % self.record.get("token", ""), "Accept": SCIM_JSON,
            "Content-Type": SCIM_JSON, "User-Agent": "authentik@%s" % self.app.version})
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - loopback test traffic
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise ScimError(exc.code, parsed) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ScimError(0, str(exc)) from exc

    def warn_failed(self, what: str, exc: ScimError) -> None:
        with self.app.lock:
            log(self.task, "warning", "Failed to sync %s due to transient error: Network error: %s" % (what, exc.body))

    def load_spc(self) -> None:
        cached = self.app.scim_spc_cache.get(self.pk)
        if cached and cached[0] > time.monotonic():
            self.spc = cached[1]
            return
        try:
            _status, body = self.send("GET", "/ServiceProviderConfig")
            valid = isinstance(body, dict) and isinstance((body.get("bulk") or {}).get("maxOperations"), int)
            self.spc = body if valid else FALLBACK_SPC
        except ScimError:
            self.spc = FALLBACK_SPC
        with self.app.lock:
            self.app.scim_spc_cache[self.pk] = (time.monotonic() + SPC_CACHE_SECONDS, self.spc)

    @property
    def patch_supported(self) -> bool:
        return bool((self.spc.get("patch") or {}).get("supported"))

    # -- scope and bodies (read under the lock) --------------------------------------------------------
    def application(self) -> dict | None:
        return self.app.scim_application(self.pk)

    def users_in_scope(self) -> list[dict]:
        application = self.application()
        if application is None:
            return []
        users = [u for u in self.app._sorted(self.app.users.values(), "pk")  # pylint: disable=protected-access
                 if self.app.passes_policies(application["pk"], u["pk"])]
        if self.record.get("exclude_users_service_account"):
            users = [u for u in users if u.get("type", "internal") not in ("service_account", "internal_service_account")]
        return users

    def groups_in_scope(self) -> list[dict]:
        groups = sorted(self.app.groups.values(), key=lambda g: g["num_pk"])
        filters = list(self.record.get("group_filters") or [])
        if self.record.get("filter_group"):
            filters.append(self.record["filter_group"])
        return [g for g in groups if not filters or g["pk"] in filters]

    @staticmethod
    def user_body(user: dict) -> dict:
        name = user["name"]
        given, family, formatted = name, " ", name + " "
        if " " in name:
            given, _sep, family = name.partition(" ")
            formatted = name
        emails = [{"value": user["email"], "type": "other", "primary": True}] if user["email"] else []
        return {"userName": user["username"], "name": {"formatted": formatted, "givenName": given, "familyName": family},
                "displayName": name, "active": user["is_active"], "emails": emails, "schemas": [USER_SCHEMA],
                "externalId": user["uid"]}

    @staticmethod
    def group_body(group: dict) -> dict:
        return {"displayName": group["name"], "schemas": [GROUP_SCHEMA], "externalId": group["pk"]}

    def link(self, kind: str, object_pk: Any) -> dict | None:
        return self.app.scim_links.get((self.pk, kind, object_pk))

    def store_link(self, kind: str, object_pk: Any, scim_id: str, attributes: Any, sent: Any) -> None:
        with self.app.lock:
            key = (self.pk, kind, object_pk)
            if self.pk not in self.app.scim_providers:
                return
            old = self.app.scim_links.get(key)
            self.app.scim_links[key] = {
                "id": old["id"] if old else str(uuid.uuid4()), "seq": old["seq"] if old else self.app.next_seq(),
                "scim_id": scim_id, "object": object_pk, "provider": self.pk,
                "attributes": attributes if isinstance(attributes, dict) else {}, "sent": sent}

    def drop_link(self, kind: str, object_pk: Any) -> None:
        with self.app.lock:
            self.app.scim_links.pop((self.pk, kind, object_pk), None)

    # -- the steps ----------------------------------------------------------------------------------
    def full(self) -> None:
        with self.app.lock:
            application = self.application()
            if application is None:
                log(self.task, "info", "No provider found. Is it assigned to an application?")
                return
            has_user_mappings = bool(self.record.get("property_mappings"))
            has_group_mappings = bool(self.record.get("property_mappings_group"))
            users = [(u["pk"], self.user_body(u)) for u in self.users_in_scope()]
            groups = [g["pk"] for g in self.groups_in_scope()]
        self.load_spc()
        if not has_user_mappings:
            with self.app.lock:
                log(self.task, "warning", "No mappings configured")
        else:
            for user_pk, body in users:
                self.push_user(user_pk, body)
        if has_group_mappings:
            for group_pk in groups:
                self.push_group(group_pk)
        with self.app.lock:
            in_scope = set(pk for pk, _b in users)
            stale_users = [(k[2], v["scim_id"]) for k, v in self.app.scim_links.items()
                           if k[0] == self.pk and k[1] == "user" and k[2] not in in_scope]
            stale_groups = [(k[2], v["scim_id"]) for k, v in self.app.scim_links.items()
                            if k[0] == self.pk and k[1] == "group" and k[2] not in groups]
        for kind, stale, path in (("user", stale_users, "/Users/"), ("group", stale_groups, "/Groups/")):
            for object_pk, scim_id in stale:
                try:
                    self.send("DELETE", path + scim_id)
                    if not self.dry_run:
                        self.drop_link(kind, object_pk)
                except ScimError as exc:
                    if exc.status == 404:
                        self.drop_link(kind, object_pk)
                    else:
                        self.warn_failed("%s %s" % (kind, object_pk), exc)

    def one(self, kind: str, object_pk: Any) -> bool:
        """Push one user or group (direct push, sync/object); True when it failed."""
        with self.app.lock:
            if kind == "user":
                user = self.app.users.get(object_pk)
                in_scope = user is not None and any(u["pk"] == object_pk for u in self.users_in_scope())
                body = self.user_body(user) if user is not None else None
            else:
                in_scope = any(g["pk"] == object_pk for g in self.groups_in_scope())
        self.load_spc()
        if kind == "user":
            if not in_scope:
                return False
            return not self.push_user(object_pk, body)
        return not self.push_group(object_pk) if in_scope else False

    def push_user(self, user_pk: int, body: dict) -> bool:
        with self.app.lock:
            link = self.link("user", user_pk)
            username = self.app.users[user_pk]["username"] if user_pk in self.app.users else body["userName"]
        what = "User %s" % username
        try:
            if link is not None:
                if link.get("sent") == body:
                    return True
                try:
                    _status, answer = self.send("PUT", "/Users/" + link["scim_id"], dict(body, id=link["scim_id"]))
                    if not self.dry_run:
                        self.store_link("user", user_pk, link["scim_id"], answer, body)
                    return True
                except ScimError as exc:
                    if exc.status != 404:
                        raise
                    self.drop_link("user", user_pk)  # forgotten remotely: create it again
            try:
                _status, answer = self.send("POST", "/Users", body)
            except ScimError as exc:
                if exc.status != 409 or not (self.spc.get("filter") or {}).get("supported"):
                    raise
                _status, found = self.send("GET", "/Users", query={"filter": 'userName eq "%s"' % body["userName"]})
                resources = (found or {}).get("Resources") or []
                if resources:
                    self.store_link("user", user_pk, resources[0]["id"], resources[0], None)
                return True
            if not self.dry_run and isinstance(answer, dict) and answer.get("id"):
                self.store_link("user", user_pk, answer["id"], answer, body)
            return True
        except ScimError as exc:
            self.warn_failed(what, exc)
            return False

    def _member_ids(self, group_pk: str) -> list[str]:
        with self.app.lock:
            ids = []
            for user in self.app._sorted(self.app.users.values(), "pk"):  # pylint: disable=protected-access
                if group_pk in user["groups"]:
                    link = self.link("user", user["pk"])
                    if link is not None:
                        ids.append(link["scim_id"])
            return ids

    def push_group(self, group_pk: str) -> bool:
        with self.app.lock:
            group = self.app.groups.get(group_pk)
            if group is None:
                return True
            body = self.group_body(group)
            link = self.link("group", group_pk)
        members = self._member_ids(group_pk)
        try:
            if link is None:
                try:
                    _status, answer = self.send("POST", "/Groups", body)
                except ScimError as exc:
                    if exc.status != 409 or not (self.spc.get("filter") or {}).get("supported"):
                        raise
                    _status, found = self.send("GET", "/Groups",
                                               query={"filter": 'displayName eq "%s"' % body["displayName"]})
                    resources = (found or {}).get("Resources") or []
                    if resources:
                        self.store_link("group", group_pk, resources[0]["id"], resources[0], None)
                    return True
                if self.dry_run or not isinstance(answer, dict) or not answer.get("id"):
                    return True
                self.store_link("group", group_pk, answer["id"], answer, body)
                if members:
                    self.change_members(answer["id"], body, members, [], members)
                return True
            _status, remote = self.send("GET", "/Groups/" + link["scim_id"])
            remote = remote if isinstance(remote, dict) else {}
            if remote.get("displayName") != body["displayName"]:
                self.send("PATCH", "/Groups/" + link["scim_id"],
                          {"Operations": [{"op": "replace", "value": dict(body, id=link["scim_id"])}]})
                _status, remote = self.send("GET", "/Groups/" + link["scim_id"])
                remote = remote if isinstance(remote, dict) else {}
                self.store_link("group", group_pk, link["scim_id"], remote, body)
            have = [m.get("value") for m in remote.get("members") or []]
            add = [m for m in members if m not in have]
            remove = [m for m in have if m not in members]
            if add or remove:
                self.change_members(link["scim_id"], body, add, remove, members)
            return True
        except ScimError as exc:
            self.warn_failed("Group %s" % body["displayName"], exc)
            return False

    def change_members(self, scim_id: str, body: dict, add: list[str], remove: list[str], members: list[str]) -> None:
        if not self.patch_supported:
            self.send("PUT", "/Groups/" + scim_id, dict(body, id=scim_id, members=[{"value": m} for m in members]))
            self.send("GET", "/Groups/" + scim_id)
            return
        operations = [{"op": "add", "path": "members", "value": [{"value": m}]} for m in add]
        operations += [{"op": "remove", "path": "members", "value": [{"value": m}]} for m in remove]
        self.send("PATCH", "/Groups/" + scim_id, {"Operations": operations, "schemas": [PATCH_SCHEMA]})
