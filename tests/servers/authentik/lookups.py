"""Read-only resources of the authentik test server: the version, flows, certificate-key pairs,
scope mappings, groups, users and policies (lists, details and how each is rendered)."""

from __future__ import annotations

import copy

from tests.servers._control import HTTPError, Request, Response
from tests.servers.authentik import drf
from tests.servers.authentik.common import API, _DATE, _bool_arg, _is_true


DESIGNATIONS = ("authentication", "authorization", "invalidation", "enrollment", "unenrollment", "recovery",
                "stage_configuration")
KEY_TYPES = ("rsa", "ec", "ed25519", "ed448")
DENIED_ACTIONS = ("message_continue", "message", "continue")

GROUP_AUTOCOMPLETE = {
    "current_model": "authentik_core.group",
    "models": {"authentik_core.group": {
        "name": {"type": "str", "nullable": False, "options": None},
        "is_superuser": {"type": "bool", "nullable": True, "options": None},
        "attributes": {"type": "relation", "nullable": False, "options": None,
                       "relation": "authentik_core.group_attributes"},
    }},
}

USER_AUTOCOMPLETE = {
    "current_model": "authentik_core.user",
    "models": {"authentik_core.user": {
        "username": {"type": "str", "nullable": False, "options": None},
        "name": {"type": "str", "nullable": False, "options": None},
        "email": {"type": "str", "nullable": False, "options": None},
        "path": {"type": "str", "nullable": False, "options": None},
        "is_active": {"type": "bool", "nullable": True, "options": None},
        "type": {"type": "str", "nullable": False,
                 "options": ["internal", "external", "service_account", "internal_service_account"]},
        "attributes": {"type": "relation", "nullable": False, "options": None,
                       "relation": "authentik_core.user_attributes"},
    }},
}


class LookupsMixin:
    """Renderers and handlers of the read-only resources (mixed into AuthentikApp)."""

    def render_flow(self, flow: dict) -> dict:
        return dict((k, copy.deepcopy(flow[k])) for k in self.profile.fields("flow"))

    def render_keypair(self, item: dict) -> dict:
        material = item["material"]
        base = "%s/crypto/certificatekeypairs/%s/" % (API, item["pk"])
        return {
            "pk": item["pk"],
            "name": item["name"],
            "fingerprint_sha256": material.fingerprint_sha256,
            "fingerprint_sha1": material.fingerprint_sha1,
            "cert_expiry": material.cert_expiry,
            "cert_subject": material.cert_subject,
            "private_key_available": item["has_key"],
            "key_type": "rsa",
            "certificate_download_url": base + "view_certificate/?download",
            "private_key_download_url": base + "view_private_key/?download",
            "managed": item["managed"],
        }

    @staticmethod
    def render_scope_mapping(item: dict) -> dict:
        return {
            "pk": item["pk"], "managed": item["managed"], "name": item["name"], "expression": item["expression"],
            "component": "ak-property-mapping-provider-scope-form", "verbose_name": "Scope Mapping",
            "verbose_name_plural": "Scope Mappings", "meta_model_name": "authentik_providers_oauth2.scopemapping",
            "scope_name": item["scope_name"], "description": item["description"],
        }

    @staticmethod
    def render_partial_group(group: dict) -> dict:
        return dict((k, copy.deepcopy(group[k])) for k in ("pk", "num_pk", "name", "is_superuser", "attributes"))

    def render_partial_user(self, user: dict) -> dict:
        return {"pk": user["pk"], "username": user["username"], "name": user["name"], "is_active": user["is_active"],
                "last_login": None, "email": user["email"], "attributes": copy.deepcopy(user["attributes"]),
                "uid": user["uid"]}

    def render_group(self, group: dict, include_users: bool = True) -> dict:
        members = [u for u in self._sorted(self.users.values(), "pk") if group["pk"] in u["groups"]]
        return {
            "pk": group["pk"], "num_pk": group["num_pk"], "name": group["name"], "is_superuser": group["is_superuser"],
            "parents": [], "parents_obj": None, "users": [u["pk"] for u in members],
            "users_obj": [self.render_partial_user(u) for u in members] if include_users else None,
            "attributes": copy.deepcopy(group["attributes"]), "roles": [], "roles_obj": [],
            "inherited_roles_obj": None, "children": [], "children_obj": None,
        }

    def render_user(self, user: dict, include_groups: bool = True, include_roles: bool = True) -> dict:
        """A user as the API answers it; ``include_groups=false`` / ``include_roles=false`` (list and detail
        query) leave ``groups_obj`` / ``roles_obj`` null, the pk lists stay."""
        groups = [self.groups[g] for g in user["groups"] if g in self.groups]
        return {
            "pk": user["pk"], "username": user["username"], "name": user["name"], "is_active": user["is_active"],
            "last_login": None, "date_joined": _DATE, "is_superuser": self.is_superuser(user["pk"]),
            "groups": [g["pk"] for g in groups],
            "groups_obj": [self.render_partial_group(g) for g in groups] if include_groups else None,
            "roles": [], "roles_obj": [] if include_roles else None, "email": user["email"],
            "avatar": "/static/dist/assets/images/user_default.png", "attributes": copy.deepcopy(user["attributes"]),
            "uid": user["uid"], "path": "users", "type": "internal", "uuid": user["uuid"],
            "password_change_date": _DATE, "last_updated": _DATE,
        }

    def render_policy(self, policy: dict, expression: bool = False) -> dict:
        body = {
            "pk": policy["pk"], "name": policy["name"], "execution_logging": policy["execution_logging"],
            "component": "ak-policy-expression-form", "verbose_name": "Expression Policy",
            "verbose_name_plural": "Expression Policies",
            "meta_model_name": "authentik_policies_expression.expressionpolicy",
            "bound_to": sum(1 for b in self.bindings.values() if b["policy"] == policy["pk"]),
        }
        if expression:
            body["expression"] = policy["expression"]
        return body

    def version_info(self, req: Request) -> Response:
        return Response(200, {"version_current": self.version, "version_latest": "0.0.0",
                              "version_latest_valid": False, "build_hash": "", "outdated": False,
                              "outpost_outdated": False})

    def flow_list(self, req: Request) -> Response:
        items = [self.render_flow(f) for f in self.flows.values()]
        items = self.filter_exact(req, items, "slug")
        items = self.filter_exact(req, items, "name")
        items = self.filter_exact(req, items, "flow_uuid", "pk")
        items = self.filter_choice(req, items, "designation", DESIGNATIONS)
        items = self.filter_choice(req, items, "denied_action", DENIED_ACTIONS)
        items = self.search(req, items, ["name", "slug", "designation", "title"])
        return self.paginated(req, self.ordered(req, items, ["slug", "name"]))

    def flow_detail(self, req: Request) -> Response:
        flow = self.flow_by_slug(req.params["slug"])
        if flow is None:
            raise HTTPError(404, {"detail": "No Flow matches the given query."})
        return Response(200, self.render_flow(flow))

    def keypair_list(self, req: Request) -> Response:
        items = [self.render_keypair(k) for k in self.keypairs.values()]
        items = self.filter_exact(req, items, "name")
        items = self.filter_exact(req, items, "managed")
        items = self.filter_choice(req, items, "key_type", KEY_TYPES)
        if _bool_arg(req.arg("has_key")):
            items = [i for i in items if i["private_key_available"]]
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    def keypair_detail(self, req: Request) -> Response:
        return Response(200, self.render_keypair(self.detail_or_404(self.keypairs, req.params["pk"], "CertificateKeyPair")))

    def scope_list(self, req: Request) -> Response:
        items = [self.render_scope_mapping(m) for m in self.scope_mappings.values()]
        managed = [m for m in req.args("managed") if m != ""]
        if managed:
            existing = set(i["managed"] for i in items if i["managed"])
            for value in managed:
                if value not in existing:  # django-filter AllValuesMultipleFilter: only existing values
                    raise HTTPError(400, {"managed": [drf.FILTER_INVALID_CHOICE % value]})
            items = [i for i in items if i["managed"] in managed]
        wanted_null = _bool_arg(req.arg("managed__isnull"))
        if wanted_null is not None:
            items = [i for i in items if (i["managed"] is None) == wanted_null]
        items = self.filter_exact(req, items, "name")
        items = self.filter_exact(req, items, "scope_name")
        items = self.search(req, items, ["name", "scope_name"])
        return self.paginated(req, self.ordered(req, items, ["scope_name", "name"]))

    def scope_detail(self, req: Request) -> Response:
        item = self.detail_or_404(self.scope_mappings, req.params["pk"], "ScopeMapping")
        return Response(200, self.render_scope_mapping(item))

    def group_list(self, req: Request) -> Response:
        include_users = _is_true(req.arg("include_users"), default=True)
        items = [self.render_group(g, include_users) for g in self.groups.values()]
        items = self.filter_exact(req, items, "name")
        items = self.filter_bool(req, items, "is_superuser", "is_superuser")
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]), autocomplete=GROUP_AUTOCOMPLETE)

    def group_detail(self, req: Request) -> Response:
        group = self.detail_or_404(self.groups, req.params["pk"], "Group")
        return Response(200, self.render_group(group, _is_true(req.arg("include_users"), default=True)))

    def user_list(self, req: Request) -> Response:
        include = (_is_true(req.arg("include_groups"), default=True), _is_true(req.arg("include_roles"), default=True))
        items = [self.render_user(u, *include) for u in self.users.values()]
        for param in ("username", "name", "email", "uuid", "path", "type"):
            items = self.filter_exact(req, items, param)
        items = self.filter_user_groups(req, items)
        items = self.filter_bool(req, items, "is_active", "is_active")
        items = self.filter_bool(req, items, "is_superuser", "is_superuser")
        items = self.search(req, items, ["username", "name", "email"])
        return self.paginated(req, self.ordered(req, items, ["username"]), autocomplete=USER_AUTOCOMPLETE)

    def user_me(self, req: Request) -> Response:
        return Response(200, {"user": self.render_user(self.users[self.token_user])})

    def user_detail(self, req: Request) -> Response:
        try:
            pk = int(req.params["pk"])
        except ValueError:
            pk = -1
        include = (_is_true(req.arg("include_groups"), default=True), _is_true(req.arg("include_roles"), default=True))
        return Response(200, self.render_user(self.detail_or_404(self.users, pk, "User"), *include))

    def filter_user_groups(self, req: Request, items: list[dict]) -> list[dict]:
        """``groups_by_name`` / ``groups_by_pk`` (repeatable; a user in any of them): django-filter's
        ModelMultipleChoiceFilter answers 400 for a group that does not exist."""
        wanted: set[str] = set()
        for param, key in (("groups_by_name", "name"), ("groups_by_pk", "pk")):
            for value in [v for v in req.args(param) if v != ""]:
                found = [g["pk"] for g in self.groups.values() if str(g[key]) == value]
                if not found:
                    raise HTTPError(400, {param: [drf.FILTER_INVALID_CHOICE % value]})
                wanted.update(found)
        if not wanted and not any(req.args(p) for p in ("groups_by_name", "groups_by_pk")):
            return items
        return [i for i in items if wanted & set(i["groups"])]

    def policy_list(self, req: Request) -> Response:
        # /policies/all/ has no ``name`` filter (only search): ?name= is ignored, like authentik does.
        items = [self.render_policy(p) for p in self.policies.values()]
        items = self.filter_bool(req, items, "bindings__isnull", lambda i: i["bound_to"] == 0)
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    def policy_detail(self, req: Request) -> Response:
        return Response(200, self.render_policy(self.detail_or_404(self.policies, req.params["pk"], "Policy")))

    def expression_policy_list(self, req: Request) -> Response:
        items = [self.render_policy(p, expression=True) for p in self.policies.values()]
        items = self.filter_exact(req, items, "name")
        items = self.filter_exact(req, items, "policy_uuid", "pk")
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    def expression_policy_detail(self, req: Request) -> Response:
        policy = self.detail_or_404(self.policies, req.params["pk"], "ExpressionPolicy")
        return Response(200, self.render_policy(policy, expression=True))
