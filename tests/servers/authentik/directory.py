"""Writes to users and groups on the authentik test server, as far as the SCIM tests need them:
``PATCH /core/users/{pk}/`` (``is_active``, ``name``, ``email``, ``groups``: the full list of group pks;
deactivating ends the user's sessions, codes and access tokens) and ``POST /core/groups/{pk}/add_user/`` /
``remove_user/`` (``{"pk": <user pk>}``, answered 204). Each change also starts a direct SCIM push of
that user or group (scim_sync.py), as authentik's signals do.

Control action for tests and the benchmark: ``POST /_test/users`` with ``{"users": [{"username", "name"?,
"email"?, "groups"?: [names], "password"?, "is_active"?}]}`` adds users at once (groups that do not exist
yet are made); answers ``{"users": [{"pk", "username", "uuid", "uid"}]}``."""

from __future__ import annotations

import uuid

from tests.servers._control import HTTPError, Request, Response
from tests.servers.authentik import drf, scim_sync
from tests.servers.authentik.common import API


def setup_routes(app) -> None:
    app.route("PATCH", API + r"/core/users/(?P<pk>[^/]+)/", app.user_update)
    app.route("POST", API + r"/core/groups/(?P<pk>[^/]+)/add_user/", lambda req: app.group_membership(req, True))
    app.route("POST", API + r"/core/groups/(?P<pk>[^/]+)/remove_user/", lambda req: app.group_membership(req, False))
    app.control_actions[("POST", "users")] = app.plant_users


class DirectoryMixin:
    """User and group writes (mixed into AuthentikApp)."""

    def user_update(self, req: Request) -> Response:
        try:
            pk = int(req.params["pk"])
        except ValueError:
            pk = -1
        user = self.detail_or_404(self.users, pk, "User")
        body = self.write_body(req)
        if not isinstance(body, dict):
            raise HTTPError(400, {"non_field_errors": [drf.NOT_A_DICT % drf.js_type(body)]})
        fields = [("is_active", drf.Boolean()), ("name", drf.Char(allow_blank=True)),
                  ("email", drf.Char(allow_blank=True))]
        data = self.run_fields(fields, dict((k, v) for k, v in body.items() if k in dict(fields)), True)
        if "groups" in body:  # a PATCH with the full list of group pks replaces the memberships
            data["groups"] = self._group_pks(body["groups"])
        was_active = user["is_active"]
        user.update(data)
        if was_active and not user["is_active"]:
            self.end_user_sessions(user["pk"])
        self.clear_app_list_cache()  # post_save of a user
        scim_sync.start_direct(self, "user", user["pk"])
        return Response(200, self.render_user(user))

    def end_user_sessions(self, user_pk: int) -> None:
        """A deactivated user is signed out everywhere, as authentik does on ``user_deactivated``: their
        browser sessions, unredeemed codes and access tokens are gone."""
        state = self.oidc
        for key in [k for k, session in state.sessions.items() if session.user_pk == user_pk]:
            del state.sessions[key]
        for code in [c for c, grant in state.grants.items() if grant.user_pk == user_pk]:
            del state.grants[code]
        for token in [t for t, info in state.access_tokens.items() if info["user_pk"] == user_pk]:
            del state.access_tokens[token]

    def plant_users(self, req: Request) -> Response:
        body = req.json()
        specs = body.get("users") if isinstance(body, dict) else None
        if not isinstance(specs, list) or not all(isinstance(s, dict) and isinstance(s.get("username"), str) for s in specs):
            raise HTTPError(400, {"detail": "users must be a list of objects with a username"})
        out = []
        with self.lock:
            for spec in specs:
                for name in spec.get("groups") or []:
                    if not any(g["name"] == name for g in self.groups.values()):
                        pk = str(uuid.uuid4())
                        num = max([g["num_pk"] for g in self.groups.values()] or [58000]) + 1
                        self.groups[pk] = {"pk": pk, "num_pk": num, "name": name, "is_superuser": False, "attributes": {}}
                try:
                    user = self.add_user(spec["username"], spec.get("name") or "", spec.get("email") or "",
                                         spec.get("groups") or [], spec.get("password"))
                except ValueError as exc:
                    raise HTTPError(400, {"detail": str(exc)}) from exc
                user["is_active"] = bool(spec.get("is_active", True))
                out.append({"pk": user["pk"], "username": user["username"], "uuid": user["uuid"], "uid": user["uid"]})
        return Response(200, {"users": out})

    def _group_pks(self, value) -> list[str]:
        if not isinstance(value, list):
            raise HTTPError(400, {"groups": ['Expected a list of items but got type "%s".' % drf.js_type(value)]})
        pks = []
        for item in value:
            if not isinstance(item, str) or item not in self.groups:
                raise HTTPError(400, {"groups": ['Invalid pk "%s" - object does not exist.' % item]})
            if item not in pks:
                pks.append(item)
        return pks

    def group_membership(self, req: Request, add: bool) -> Response:
        group = self.detail_or_404(self.groups, req.params["pk"], "Group")
        body = self.write_body(req)
        raw = body.get("pk") if isinstance(body, dict) else None
        user = self.users.get(raw) if isinstance(raw, int) else None
        if user is None:
            raise HTTPError(400, {"pk": ["User does not exist."]})
        if add and group["pk"] not in user["groups"]:
            user["groups"].append(group["pk"])
        if not add and group["pk"] in user["groups"]:
            user["groups"].remove(group["pk"])
        self.clear_app_list_cache()
        scim_sync.start_direct(self, "group", group["pk"])
        return Response(204)
