"""Writes to users and groups on the authentik test server, as far as the SCIM tests need them:
``PATCH /core/users/{pk}/`` (``is_active``, ``name``, ``email``) and ``POST /core/groups/{pk}/add_user/`` /
``remove_user/`` (``{"pk": <user pk>}``, answered 204). Each change also starts a direct SCIM push of
that user or group (scim_sync.py), as authentik's signals do."""

from __future__ import annotations

from tests.servers._control import HTTPError, Request, Response
from tests.servers.authentik import drf, scim_sync
from tests.servers.authentik.common import API


def setup_routes(app) -> None:
    app.route("PATCH", API + r"/core/users/(?P<pk>[^/]+)/", app.user_update)
    app.route("POST", API + r"/core/groups/(?P<pk>[^/]+)/add_user/", lambda req: app.group_membership(req, True))
    app.route("POST", API + r"/core/groups/(?P<pk>[^/]+)/remove_user/", lambda req: app.group_membership(req, False))


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
        user.update(data)
        self.clear_app_list_cache()  # post_save of a user
        scim_sync.start_direct(self, "user", user["pk"])
        return Response(200, self.render_user(user))

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
