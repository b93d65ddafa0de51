"""Policy bindings of the authentik test server: validation, list filters, create, update, delete."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tests.servers._control import HTTPError, Request, Response
from tests.servers.authentik import drf
from tests.servers.authentik.common import _bool_arg


BINDING_DEFAULTS: dict[str, Any] = {
    "policy": None,
    "group": None,
    "user": None,
    "negate": False,
    "enabled": True,
    "timeout": 30,
    "failure_result": False,
}


class PoliciesMixin:
    """The policy binding API (mixed into AuthentikApp)."""

    def render_binding(self, binding: dict) -> dict:
        policy = self.policies.get(binding["policy"]) if binding["policy"] else None
        group = self.groups.get(binding["group"]) if binding["group"] else None
        user = self.users.get(binding["user"]) if binding["user"] is not None else None
        values = dict(binding)
        values.update({
            "policy_obj": self.render_policy(policy) if policy else None,
            "group_obj": self.render_partial_group(group) if group else None,
            "user_obj": self.render_partial_user(user) if user else None,
            "expires": None,
            "expiring": False,
        })
        return copy.deepcopy(dict((k, values[k]) for k in self.profile.fields("binding")))

    def binding_fields(self) -> list[tuple[str, drf.Field]]:
        spec: dict[str, drf.Field] = {
            "policy": drf.PrimaryKey(lambda pk: pk in self.policies, allow_null=True),
            "group": drf.PrimaryKey(lambda pk: pk in self.groups, allow_null=True),
            "user": drf.PrimaryKey(lambda pk: pk in self.users, pk_type="int", allow_null=True),
            "target": drf.PrimaryKey(lambda pk: pk in self.target_pks(), required=True),
            "negate": drf.Boolean(),
            "enabled": drf.Boolean(),
            "order": drf.Integer(required=True, min_value=-2147483648, max_value=2147483647),
            "timeout": drf.Integer(min_value=0, max_value=2147483647),
            "failure_result": drf.Boolean(),
        }
        return [(name, spec[name]) for name in self.profile.writable("binding")]

    def validate_binding(self, body: dict, instance: dict | None, partial: bool) -> dict:
        data = self.run_fields(self.binding_fields(), body, partial)
        merged = dict(instance or BINDING_DEFAULTS)
        merged.update(data)
        supported = ["group", "policy", "user"]
        count = sum(1 for key in supported if merged.get(key) is not None and merged.get(key) != "")
        names = ", ".join("'%s'" % key for key in supported)
        if count > 1:
            raise HTTPError(400, {"non_field_errors": ["Only one of %s can be set." % names]})
        if count < 1:
            raise HTTPError(400, {"non_field_errors": ["One of %s must be set." % names]})
        if merged.get("policy") is not None:
            for other in self.bindings.values():
                if instance is not None and other["pk"] == instance["pk"]:
                    continue
                mine = (merged["policy"], merged["target"], merged["order"])
                if (other["policy"], other["target"], other["order"]) == mine:
                    raise HTTPError(400, {"non_field_errors": ["The fields policy, target, order must make a unique set."]})
        return data

    def binding_or_404(self, raw_pk: str) -> dict:
        try:
            pk = str(uuid.UUID(raw_pk))
        except ValueError:
            pk = ""
        return self.detail_or_404(self.bindings, pk, "PolicyBinding")

    def binding_list(self, req: Request) -> Response:
        # The real filter set is policy, policy__isnull, target, target_in, enabled, order, timeout
        # (+ search on the policy name): ``?group=`` and ``?user=`` are ignored, like authentik does.
        records = list(self.bindings.values())
        records = self.filter_object(req, records, "target", self.target_pks(), lambda b, v: b["target"] == v)
        records = self.filter_object(req, records, "target_in", self.target_pks(), lambda b, v: b["target"] == v,
                                     multi=True)
        records = self.filter_object(req, records, "policy", set(self.policies), lambda b, v: b["policy"] == v)
        wanted_null = _bool_arg(req.arg("policy__isnull"))
        if wanted_null is not None:
            records = [b for b in records if (b["policy"] is None) == wanted_null]
        items = [dict(self.render_binding(b), _seq=b["seq"], _policy_name=(self.policies.get(b["policy"]) or {}).get("name"))
                 for b in records]
        items = self.filter_bool(req, items, "enabled", "enabled")
        for param in ("order", "timeout"):
            value = req.arg(param)
            if value not in (None, ""):
                try:
                    number = int(value)
                except ValueError as exc:
                    raise HTTPError(400, {param: ["Enter a number."]}) from exc
                items = [i for i in items if i[param] == number]
        items = self.search(req, items, ["_policy_name"])
        items = self.ordered(req, sorted(items, key=lambda i: i["_seq"]), ["target", "order"])
        for item in items:
            item.pop("_seq")
            item.pop("_policy_name")
        return self.paginated(req, items)

    def binding_create(self, req: Request) -> Response:
        body = self.write_body(req)
        data = self.checked_write(req, "binding", body, False, lambda b: self.validate_binding(b, None, False))
        record = dict(BINDING_DEFAULTS)
        record.update({"pk": str(uuid.uuid4()), "seq": self.next_seq()})
        record.update(data)
        self.bindings[record["pk"]] = record
        self.clear_app_list_cache()  # post_save of a binding
        return Response(201, self.render_binding(record))

    def binding_detail(self, req: Request) -> Response:
        return Response(200, self.render_binding(self.binding_or_404(req.params["pk"])))

    def binding_update(self, req: Request) -> Response:
        record = self.binding_or_404(req.params["pk"])
        partial = req.method == "PATCH"
        body = self.write_body(req)
        data = self.checked_write(req, "binding", body, partial, lambda b: self.validate_binding(b, record, partial))
        record.update(data)
        self.clear_app_list_cache()
        return Response(200, self.render_binding(record))

    def binding_delete(self, req: Request) -> Response:
        record = self.binding_or_404(req.params["pk"])
        del self.bindings[record["pk"]]
        self.clear_app_list_cache()  # pre_delete of a binding
        return Response(204)
