"""The SCIM provider API of the authentik test server (the captures 30-scim-* of authentik 2026.2.2).

* ``/providers/scim/`` CRUD, fields per release (versions.py ``scim``); only ``name`` and ``url`` are
  required from 2025.10 (``token`` before); the 201 carries ``Location: <url>``;
* ``/propertymappings/provider/scim/``: the two managed default mappings (never filled in by themselves);
* ``/providers/scim/{id}/sync/status/`` (GET), ``/sync/object/`` (POST, synchronous), ``/used_by/``;
* ``/providers/scim_users/`` and ``/providers/scim_groups/``: the remote ids authentik keeps;
* ``/tasks/schedules/`` (one full-sync schedule per provider, ``send`` starts it) and ``/tasks/tasks/``
  (where results and errors show), from 2025.8;
* a provider save (create or any PATCH/PUT) starts a full sync, as the real worker does;
  the sync itself, which really sends SCIM requests to the provider's ``url``, is in scim_sync.py.

Deleting the application that lists a provider under ``backchannel_providers`` deletes the provider
and its schedule too (applications.py calls ``scim_application_deleted``).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tests.servers._control import HTTPError, Request, Response
from tests.servers.authentik import contract, drf, scim_sync
from tests.servers.authentik.common import API, _bool_arg

USER_MAPPING = "goauthentik.io/providers/scim/user"
GROUP_MAPPING = "goauthentik.io/providers/scim/group"
# managed, name, pk (the real pks of the capture), expression (shortened)
SCIM_MAPPINGS = [
    (GROUP_MAPPING, "authentik default SCIM Mapping: Group", "06c70f79-39ce-4455-9b77-0a204c630162",
     'return {\n    "displayName": group.name,\n}'),
    (USER_MAPPING, "authentik default SCIM Mapping: User", "2779fedf-b09e-4a95-a189-4d94a69a4eeb",
     'return {\n    "userName": request.user.username,\n    "displayName": request.user.name,\n'
     '    "active": request.user.is_active,\n    "emails": emails,\n}'),
]
SCIM_DEFAULTS: dict[str, Any] = {
    "property_mappings": [], "property_mappings_group": [], "verify_certificates": True, "token": "",
    "auth_mode": "token", "auth_oauth": None, "auth_oauth_params": {}, "compatibility_mode": "default",
    "service_provider_config_cache_timeout": "hours=1", "exclude_users_service_account": False,
    "filter_group": None, "sync_page_size": 100, "sync_page_timeout": "minutes=30", "discovery_enabled": False,
    "group_filters": [], "dry_run": False,
}
FULL_SYNC_ACTOR = "authentik.providers.scim.tasks.scim_sync"


def reset(app: Any) -> None:
    app.scim_providers = {}
    app.scim_mappings = {}
    app.scim_links = {}        # (provider pk, "user"|"group", object pk) -> {"id", "scim_id", "attributes"}
    app.schedules = {}         # id -> schedule record
    app.tasks = []             # task records, oldest first
    app.scim_spc_cache = {}    # provider pk -> (expires at, config)
    for managed, name, pk, expression in SCIM_MAPPINGS:
        app.scim_mappings[pk] = {"pk": pk, "managed": managed, "name": name, "expression": expression}


def setup_routes(app: Any) -> None:
    r = app.route
    r("GET", API + r"/propertymappings/provider/scim/", app.scim_mapping_list)
    r("GET", API + r"/providers/scim/", app.scim_list)
    r("POST", API + r"/providers/scim/", app.scim_create)
    r("GET", API + r"/providers/scim/(?P<pk>[^/]+)/", app.scim_detail)
    r("PUT", API + r"/providers/scim/(?P<pk>[^/]+)/", app.scim_update)
    r("PATCH", API + r"/providers/scim/(?P<pk>[^/]+)/", app.scim_update)
    r("DELETE", API + r"/providers/scim/(?P<pk>[^/]+)/", app.scim_delete)
    r("GET", API + r"/providers/scim/(?P<pk>[^/]+)/sync/status/", app.scim_sync_status)
    r("POST", API + r"/providers/scim/(?P<pk>[^/]+)/sync/object/", app.scim_sync_object)
    r("GET", API + r"/providers/scim/(?P<pk>[^/]+)/used_by/", app.scim_used_by)
    r("GET", API + r"/providers/scim_users/", lambda req: app.scim_link_list(req, "user"))
    r("GET", API + r"/providers/scim_groups/", lambda req: app.scim_link_list(req, "group"))
    r("GET", API + r"/tasks/schedules/", app.schedule_list)
    r("GET", API + r"/tasks/schedules/(?P<id>[^/]+)/", app.schedule_detail)
    r("POST", API + r"/tasks/schedules/(?P<id>[^/]+)/send/", app.schedule_send)
    r("GET", API + r"/tasks/tasks/", app.task_list)
    r("GET", API + r"/tasks/tasks/(?P<id>[^/]+)/", app.task_detail)


class ScimMixin:
    """SCIM providers, their mappings, schedules and tasks (mixed into AuthentikApp)."""

    # ---- lookups for tests -------------------------------------------------------------------
    def scim_provider(self, pk_or_name: int | str) -> dict | None:
        if str(pk_or_name).isdigit() and int(pk_or_name) in self.scim_providers:
            return self.scim_providers[int(pk_or_name)]
        return next((p for p in self.scim_providers.values() if p["name"] == pk_or_name), None)

    def scim_application(self, provider_pk: int) -> dict | None:
        return next((a for a in self.applications.values() if provider_pk in a["backchannel_providers"]), None)

    def scim_schedule(self, provider_pk: int) -> dict | None:
        return next((s for s in self.schedules.values() if s["rel_obj_id"] == str(provider_pk)), None)

    # ---- renderers -------------------------------------------------------------------------------
    def render_scim_provider(self, record: dict) -> dict:
        application = self.scim_application(record["pk"])
        values = dict(record)
        values.update({
            "component": "ak-provider-scim-form",
            "assigned_backchannel_application_slug": application["slug"] if application else None,
            "assigned_backchannel_application_name": application["name"] if application else None,
            "verbose_name": "SCIM Provider", "verbose_name_plural": "SCIM Providers",
            "meta_model_name": "authentik_providers_scim.scimprovider",
            "auth_oauth_token_last_updated": None, "auth_oauth_token_expires": None,
            "auth_oauth_url_callback": None, "auth_oauth_url_start": None,
        })
        return copy.deepcopy(dict((k, values[k]) for k in self.profile.fields("scim")))

    def render_scim_provider_obj(self, record: dict) -> dict:
        """The short shape in an application's ``backchannel_providers_obj`` (30-scim-application-create-backchannel)."""
        application = self.scim_application(record["pk"])
        return {"pk": record["pk"], "name": record["name"], "authentication_flow": None, "authorization_flow": None,
                "invalidation_flow": None, "property_mappings": list(record["property_mappings"]), "component": "",
                "assigned_application_slug": None, "assigned_application_name": None,
                "assigned_backchannel_application_slug": application["slug"] if application else None,
                "assigned_backchannel_application_name": application["name"] if application else None,
                "verbose_name": "provider", "verbose_name_plural": "providers",
                "meta_model_name": "authentik_core.provider"}

    @staticmethod
    def render_scim_mapping(item: dict) -> dict:
        return {"pk": item["pk"], "managed": item["managed"], "name": item["name"], "expression": item["expression"],
                "component": "ak-property-mapping-provider-scim-form", "verbose_name": "SCIM Provider Mapping",
                "verbose_name_plural": "SCIM Provider Mappings",
                "meta_model_name": "authentik_providers_scim.scimmapping"}

    # ---- property mappings -----------------------------------------------------------------------
    def scim_mapping_list(self, req: Request) -> Response:
        items = [self.render_scim_mapping(m) for m in self.scim_mappings.values()]
        managed = [m for m in req.args("managed") if m != ""]
        if managed:
            existing = set(i["managed"] for i in items if i["managed"])
            for value in managed:
                if value not in existing:
                    raise HTTPError(400, {"managed": [drf.FILTER_INVALID_CHOICE % value]})
            items = [i for i in items if i["managed"] in managed]
        items = self.filter_exact(req, items, "name")
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    # ---- providers ---------------------------------------------------------------------------------
    def scim_fields(self, instance: dict | None) -> list[tuple[str, drf.Field]]:
        def unique(value: Any) -> None:
            for other in list(self.providers.values()) + list(self.scim_providers.values()):
                if other["name"] == value and (instance is None or other is not instance):
                    raise drf.Invalid(["provider with this name already exists."])
        enums = contract.field_set(self.profile)["models"].get("SCIMProviderRequest") or {}

        def choice(name: str, fallback: tuple) -> drf.Field:
            return drf.Choice(tuple((enums.get(name) or {}).get("enum") or fallback))
        mapping = drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: pk in self.scim_mappings))
        spec: dict[str, drf.Field] = {
            "name": drf.Char(required=True, validators=[unique]),
            "property_mappings": mapping,
            "property_mappings_group": mapping,
            "url": drf.Char(required=True, validators=[drf.url_validator]),
            "verify_certificates": drf.Boolean(),
            "token": drf.Char(required=self.profile.has("scim.token_required"),
                              allow_blank=not self.profile.has("scim.token_required")),
            "auth_mode": choice("auth_mode", ("token", "oauth")),
            "auth_oauth": drf.PrimaryKey(lambda pk: False, allow_null=True),
            "auth_oauth_params": drf.Field(),
            "compatibility_mode": choice("compatibility_mode", ("default",)),
            "service_provider_config_cache_timeout": drf.Char(validators=[drf.duration_validator]),
            "exclude_users_service_account": drf.Boolean(),
            "filter_group": drf.PrimaryKey(lambda pk: pk in self.groups, allow_null=True),
            "sync_page_size": drf.Integer(min_value=1, max_value=2147483647),
            "sync_page_timeout": drf.Char(validators=[drf.duration_validator]),
            "discovery_enabled": drf.Boolean(),
            "group_filters": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: pk in self.groups)),
            "dry_run": drf.Boolean(),
        }
        return [(name, spec[name]) for name in self.profile.writable("scim")]

    def scim_or_404(self, raw_pk: str) -> dict:
        try:
            pk = int(raw_pk)
        except ValueError:
            pk = -1
        return self.detail_or_404(self.scim_providers, pk, "SCIMProvider")

    def scim_list(self, req: Request) -> Response:
        items = [self.render_scim_provider(p) for p in self._sorted(self.scim_providers.values(), "pk")]
        for param in ("name", "url"):
            items = self.filter_exact(req, items, param)
        items = self.filter_bool(req, items, "exclude_users_service_account", "exclude_users_service_account")
        items = self.search(req, items, ["name", "url"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    def scim_create(self, req: Request) -> Response:
        body = self.write_body(req)
        data = self.checked_write(req, "scim", body, False, lambda b: self.run_fields(self.scim_fields(None), b, False))
        self.provider_seq += 1
        record = copy.deepcopy(SCIM_DEFAULTS)
        record.update({"pk": self.provider_seq, "seq": self.next_seq(), "last_successful_sync": None})
        record.update(copy.deepcopy(data))
        self.scim_providers[record["pk"]] = record
        if self.profile.has("api.tasks"):
            schedule_id = str(uuid.uuid4())
            self.schedules[schedule_id] = {
                "id": schedule_id, "identifier": str(record["pk"]),
                "uid": "%s:%s" % (FULL_SYNC_ACTOR, record["name"]), "actor_name": FULL_SYNC_ACTOR,
                "rel_obj_app_label": "authentik_providers_scim", "rel_obj_model": "scimprovider",
                "rel_obj_id": str(record["pk"]), "crontab": "%d */4 * * *" % (record["pk"] % 60), "paused": False,
                "next_run": "2026-12-02T04:00:00Z", "description": "Full sync for SCIM provider.",
                "last_task_status": None,
            }
        scim_sync.start_full_sync(self, record["pk"])  # every save starts a full sync
        return Response(201, self.render_scim_provider(record), headers={"Location": record["url"]})

    def scim_detail(self, req: Request) -> Response:
        return Response(200, self.render_scim_provider(self.scim_or_404(req.params["pk"])))

    def scim_update(self, req: Request) -> Response:
        record = self.scim_or_404(req.params["pk"])
        partial = req.method == "PATCH"
        body = self.write_body(req)
        data = self.checked_write(req, "scim", body, partial,
                                  lambda b: self.run_fields(self.scim_fields(record), b, partial))
        record.update(copy.deepcopy(data))
        scim_sync.start_full_sync(self, record["pk"])  # any save, even one that changes nothing
        return Response(200, self.render_scim_provider(record))

    def scim_delete(self, req: Request) -> Response:
        record = self.scim_or_404(req.params["pk"])
        self.scim_forget(record["pk"])
        return Response(204)

    def scim_forget(self, provider_pk: int) -> None:
        self.scim_providers.pop(provider_pk, None)
        for application in self.applications.values():
            if provider_pk in application["backchannel_providers"]:
                application["backchannel_providers"].remove(provider_pk)
        for key in [k for k in self.scim_links if k[0] == provider_pk]:
            del self.scim_links[key]
        for schedule_id in [s for s, v in self.schedules.items() if v["rel_obj_id"] == str(provider_pk)]:
            del self.schedules[schedule_id]

    def scim_application_deleted(self, application: dict) -> None:
        """The application's SCIM providers go with it (a cascade on the real server)."""
        for provider_pk in list(application["backchannel_providers"]):
            self.scim_forget(provider_pk)

    def scim_used_by(self, req: Request) -> Response:
        record = self.scim_or_404(req.params["pk"])
        application = self.scim_application(record["pk"])
        used = []
        if application is not None:
            used.append({"app": "authentik_core", "model_name": "application", "pk": application["pk"],
                         "name": application["name"], "action": "cascade"})
        return Response(200, used)

    # ---- sync status, sync object ---------------------------------------------------------------------
    def scim_sync_status(self, req: Request) -> Response:
        record = self.scim_or_404(req.params["pk"])
        schedule = self.scim_schedule(record["pk"])
        full = [t for t in self.tasks if schedule is not None and t["rel_obj_id"] == schedule["id"]
                and t["actor_name"] == FULL_SYNC_ACTOR]
        running = any(t["state"] in ("queued", "consumed") for t in full)
        last = full[-1]["aggregated_status"] if full and not running else ("done" if full else None)
        return Response(200, {"is_running": running, "last_successful_sync": record["last_successful_sync"],
                              "last_sync_status": last})

    def scim_sync_object(self, req: Request) -> Response:
        record = self.scim_or_404(req.params["pk"])
        body = self.write_body(req)
        model = body.get("sync_object_model") if isinstance(body, dict) else None
        if model not in ("authentik.core.models.User", "authentik.core.models.Group"):
            raise HTTPError(400, {"sync_object_model": [drf.INVALID_CHOICE % model]})
        kind = "user" if model.endswith("User") else "group"
        raw = str(body.get("sync_object_id") or "")
        found = self.users.get(int(raw)) if kind == "user" and raw.isdigit() else self.groups.get(raw)
        if found is None:
            raise HTTPError(400, {"sync_object_id": ["Object does not exist."]})
        scim_sync.sync_object(self, record["pk"], kind, found["pk"], bool(body.get("override_dry_run")))
        return Response(200, {"messages": []})

    def scim_link_list(self, req: Request, kind: str) -> Response:
        links = [link for key, link in self.scim_links.items() if key[1] == kind]
        wanted = req.arg("provider_id") or req.arg("provider__id")
        if wanted:
            links = [link for link in links if str(link["provider"]) == wanted]
        items = []
        for link in sorted(links, key=lambda item: item["seq"]):
            item = {"id": link["id"], "scim_id": link["scim_id"], kind: link["object"], "provider": link["provider"],
                    "attributes": copy.deepcopy(link["attributes"])}
            if kind == "user" and link["object"] in self.users:
                item["user_obj"] = self.render_partial_user(self.users[link["object"]])
            if kind == "group" and link["object"] in self.groups:
                item["group_obj"] = self.render_partial_group(self.groups[link["object"]])
            items.append(item)
        return self.paginated(req, items)

    # ---- schedules and tasks (2025.8 and later) --------------------------------------------------------
    def tasks_api(self, req: Request) -> None:
        if not self.profile.has("api.tasks"):
            raise HTTPError(404, self.not_found_body(req))

    def schedule_list(self, req: Request) -> Response:
        self.tasks_api(req)
        items = [copy.deepcopy(s) for s in self.schedules.values()]
        for param in ("rel_obj_id", "actor_name", "identifier", "uid"):
            items = self.filter_exact(req, items, param)
        wanted = _bool_arg(req.arg("paused"))
        if wanted is not None:
            items = [i for i in items if i["paused"] == wanted]
        return self.paginated(req, self.ordered(req, items, ["next_run"]))

    def schedule_or_404(self, req: Request) -> dict:
        self.tasks_api(req)
        return self.detail_or_404(self.schedules, req.params["id"], "Schedule")

    def schedule_detail(self, req: Request) -> Response:
        return Response(200, copy.deepcopy(self.schedule_or_404(req)))

    def schedule_send(self, req: Request) -> Response:
        schedule = self.schedule_or_404(req)
        scim_sync.start_full_sync(self, int(schedule["rel_obj_id"]))
        return Response(200, {})

    def task_list(self, req: Request) -> Response:
        self.tasks_api(req)
        items = [scim_sync.render_task(t) for t in self.tasks]
        for param in ("rel_obj_id", "actor_name", "state", "aggregated_status", "uid"):
            items = self.filter_exact(req, items, param)
        return self.paginated(req, self.ordered(req, items, ["mtime"]))

    def task_detail(self, req: Request) -> Response:
        self.tasks_api(req)
        found = next((t for t in self.tasks if t["message_id"] == req.params["id"]), None)
        if found is None:
            raise HTTPError(404, {"detail": "No Task matches the given query."})
        return Response(200, scim_sync.render_task(found))
