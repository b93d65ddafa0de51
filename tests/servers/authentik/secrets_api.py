"""The Secret objects of the authentik test server (``/secrets/secrets/``, the 2026.11 profile)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tests.servers._control import HTTPError, Request, Response
from tests.servers.authentik import drf
from tests.servers.authentik.common import generate_client_secret


SECRET_TYPES = ("text", "multiline", "file")


class SecretsMixin:
    """The Secret API (mixed into AuthentikApp)."""

    def render_secret(self, secret: dict) -> dict:
        return dict((k, copy.deepcopy(secret[k])) for k in self.profile.fields("secret"))

    def secrets_api(self, req: Request) -> None:
        """Before 2026.11 the route does not exist."""
        if not self.profile.has("api.secrets"):
            raise HTTPError(404, self.not_found_body(req))

    def secret_or_404(self, req: Request) -> dict:
        self.secrets_api(req)
        try:
            pk = str(uuid.UUID(req.params["pk"]))
        except ValueError:
            pk = ""
        return self.detail_or_404(self.secrets, pk, "Secret")

    def secret_fields(self, instance: dict | None) -> list[tuple[str, drf.Field]]:
        def unique(value: Any) -> None:
            for other in self.secrets.values():
                if other["name"] == value and (instance is None or other["pk"] != instance["pk"]):
                    raise drf.Invalid(["secret with this name already exists."])
        spec: dict[str, drf.Field] = {
            "name": drf.Char(required=True, validators=[unique]),
            "type": drf.Choice(SECRET_TYPES),
            "value": drf.Char(allow_blank=True, trim=False),
        }
        return [(name, spec[name]) for name in self.profile.writable("secret")]

    def validate_secret(self, body: dict, instance: dict | None, partial: bool) -> dict:
        data = self.run_fields(self.secret_fields(instance), body, partial)
        if data.get("value") == "":
            del data["value"]  # an empty value keeps (or, on create, generates) the value
        kind = data.get("type", instance["type"] if instance else "text")
        if instance is not None and kind != instance["type"]:
            raise HTTPError(400, {"type": ["Type cannot be changed after creation."]})
        if instance is None and kind != "text" and not data.get("value"):
            raise HTTPError(400, {"value": ["A value is required for this type."]})
        return data

    def secret_list(self, req: Request) -> Response:
        self.secrets_api(req)
        items = [self.render_secret(x) for x in self.secrets.values()]
        items = self.filter_exact(req, items, "name")
        items = self.filter_choice(req, items, "type", SECRET_TYPES)
        items = self.filter_exact(req, items, "managed")
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    def secret_create(self, req: Request) -> Response:
        self.secrets_api(req)
        body = self.write_body(req)
        data = self.checked_write(req, "secret", body, False, lambda b: self.validate_secret(b, None, False))
        secret = self.new_secret(data["name"], data.get("value"), data.get("type", "text"))
        return Response(201, self.render_secret(secret))

    def secret_detail(self, req: Request) -> Response:
        return Response(200, self.render_secret(self.secret_or_404(req)))

    def secret_update(self, req: Request) -> Response:
        secret = self.secret_or_404(req)
        partial = req.method == "PATCH"
        body = self.write_body(req)
        data = self.checked_write(req, "secret", body, partial, lambda b: self.validate_secret(b, secret, partial))
        secret.update(data)
        return Response(200, self.render_secret(secret))

    def secret_delete(self, req: Request) -> Response:
        secret = self.secret_or_404(req)
        if any(p.get("client_secret_ref") == secret["pk"] for p in self.providers.values()):
            # the reference is PROTECTed; authentik answers with the view's ValidationError
            raise HTTPError(400, ["Secret is in use. Remove it from the objects referencing it first."])
        del self.secrets[secret["pk"]]
        return Response(204)

    def secret_view_value(self, req: Request) -> Response:
        return Response(200, {"value": self.secret_or_404(req)["value"]})

    def secret_rotate(self, req: Request) -> Response:
        secret = self.secret_or_404(req)
        if secret["type"] != "text":
            raise HTTPError(400, {"non_field_errors": ["Only text secrets can be rotated."]})
        secret["value"] = generate_client_secret()
        return Response(200, {"value": secret["value"]})
