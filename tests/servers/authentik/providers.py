"""OAuth2/OpenID providers of the authentik test server: fields per release, create, update,
delete, lists, setup_urls and the generic ``/providers/all/`` list."""

from __future__ import annotations

import copy
import re
from typing import Any, Callable

from tests.servers._control import Request, Response
from tests.servers.authentik import drf, oidc
from tests.servers.authentik.common import _bool_arg, generate_client_secret, generate_id


CLIENT_TYPES = ("confidential", "public")
GRANT_TYPES = (
    "authorization_code",
    "implicit",
    "hybrid",
    "refresh_token",
    "client_credentials",
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
)
SUB_MODES = ("hashed_user_id", "user_id", "user_uuid", "user_username", "user_email", "user_upn")
ISSUER_MODES = ("global", "per_provider")
LOGOUT_METHODS = ("backchannel", "frontchannel")
MATCHING_MODES = ("strict", "regex")
REDIRECT_URI_TYPES = ("authorization", "logout")

PROVIDER_DEFAULTS: dict[str, Any] = {
    "authentication_flow": None,
    "property_mappings": [],
    "client_type": "confidential",
    "access_code_validity": "minutes=1",
    "access_token_validity": "hours=1",
    "refresh_token_validity": "days=30",
    "refresh_token_threshold": "seconds=0",
    "include_claims_in_id_token": True,
    "signing_key": None,
    "encryption_key": None,
    "redirect_uris": [],
    "logout_uri": "",
    "logout_method": "backchannel",
    "sub_mode": "hashed_user_id",
    "issuer_mode": "per_provider",
    "jwt_federation_sources": [],
    "jwt_federation_providers": [],
}


def _regex_entries_validator(entries: Any) -> None:
    for entry in entries:
        if entry.get("matching_mode") == "regex":
            try:
                re.compile(entry["url"])
            except re.error as exc:
                raise drf.Invalid(["Invalid Regex Pattern: %s" % entry["url"]]) from exc


class ProvidersMixin:
    """The OAuth2 provider API (mixed into AuthentikApp)."""

    def render_provider(self, provider: dict, table: str = "oauth2") -> dict:
        application = self.application_for_provider(provider["pk"])
        values = dict(provider)
        values.update({
            "component": "ak-provider-oauth2-form",
            "assigned_application_slug": application["slug"] if application else None,
            "assigned_application_name": application["name"] if application else None,
            "assigned_backchannel_application_slug": None,
            "assigned_backchannel_application_name": None,
            "verbose_name": "OAuth2/OpenID Provider",
            "verbose_name_plural": "OAuth2/OpenID Providers",
            "meta_model_name": "authentik_providers_oauth2.oauth2provider",
            "property_mappings": [m["pk"] for m in self.provider_scope_mappings(provider)],
            # None: created by a release without grant types; the 2026.5 migration enabled them all
            "grant_types": list(GRANT_TYPES) if provider["grant_types"] is None else provider["grant_types"],
            "redirect_uris": [dict((k, e[k]) for k in self.profile.fields("redirect_uri"))
                              for e in provider["redirect_uris"]],
            "backchannel_logout_uri": provider["logout_uri"],
            "jwks_sources": provider["jwt_federation_sources"],
            "client_secret": self.provider_secret(provider),
            "client_secret_ref": provider.get("client_secret_ref"),
        })
        return copy.deepcopy(dict((k, values[k]) for k in self.profile.fields(table)))

    def provider_all_list(self, req: Request) -> Response:
        items = [self.render_provider(p, "provider_obj") for p in self.providers.values()]
        wanted = _bool_arg(req.arg("application__isnull"))
        if wanted is not None:
            items = [i for i in items if (i["assigned_application_slug"] is None) == wanted]
        if _bool_arg(req.arg("backchannel")):
            items = []
        items = self.search(req, items, ["name", "assigned_application_name"])
        return self.paginated(req, self.ordered(req, items, ["pk"]))

    def _flow_exists(self, designation: str) -> Callable[[str], bool]:
        # Flows of another designation are treated like unknown pks (a limit_choices_to queryset).
        return lambda pk: pk in self.flows and self.flows[pk]["designation"] == designation

    def provider_fields(self, instance: dict | None) -> list[tuple[str, drf.Field]]:
        def unique(key: str, message: str) -> Callable[[Any], None]:
            def check(value: Any) -> None:
                for other in self.providers.values():
                    if other[key] == value and (instance is None or other["pk"] != instance["pk"]):
                        raise drf.Invalid([message])
            return check

        keypair = drf.PrimaryKey(lambda pk: pk in self.keypairs, allow_null=True)
        redirect_entry = {
            "matching_mode": drf.Choice(MATCHING_MODES, required=True),
            "url": drf.Char(required=True),
            "redirect_uri_type": drf.Choice(REDIRECT_URI_TYPES),
        }
        spec: dict[str, drf.Field] = {
            "name": drf.Char(required=True, validators=[unique("name", "provider with this name already exists.")]),
            "authentication_flow": drf.PrimaryKey(self._flow_exists("authentication"), allow_null=True),
            "authorization_flow": drf.PrimaryKey(self._flow_exists("authorization"), required=True),
            "invalidation_flow": drf.PrimaryKey(self._flow_exists("invalidation"), required=True),
            "property_mappings": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: pk in self.scope_mappings)),
            "client_type": drf.Choice(CLIENT_TYPES),
            "grant_types": drf.ListOf(drf.Choice(GRANT_TYPES)),
            "client_id": drf.Char(max_length=255, validators=[
                unique("client_id", "OAuth2/OpenID Provider with this Client ID already exists.")]),
            "client_secret": drf.Char(allow_blank=True, max_length=255),
            "client_secret_ref": drf.PrimaryKey(lambda pk: pk in self.secrets, allow_null=True),
            "access_code_validity": drf.Char(validators=[drf.duration_validator]),
            "access_token_validity": drf.Char(validators=[drf.duration_validator]),
            "refresh_token_validity": drf.Char(validators=[drf.duration_validator]),
            "refresh_token_threshold": drf.Char(validators=[drf.duration_validator]),
            "include_claims_in_id_token": drf.Boolean(),
            "signing_key": keypair,
            "encryption_key": keypair,
            "redirect_uris": drf.NestedList(
                [(name, redirect_entry[name]) for name in self.profile.writable("redirect_uri")],
                defaults={"redirect_uri_type": "authorization"}, required=True,
                validators=[_regex_entries_validator]),
            "backchannel_logout_uri": drf.Char(allow_blank=True, validators=[drf.url_validator]),
            "logout_uri": drf.Char(allow_blank=True, validators=[drf.url_validator]),
            "logout_method": drf.Choice(LOGOUT_METHODS),
            "sub_mode": drf.Choice(SUB_MODES),
            "issuer_mode": drf.Choice(ISSUER_MODES),
            "jwks_sources": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: False)),
            "jwt_federation_sources": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: False)),
            "jwt_federation_providers": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: pk in self.providers,
                                                                           pk_type="int")),
        }
        return [(name, spec[name]) for name in self.profile.writable("oauth2")]

    def apply_provider(self, record: dict, data: dict) -> None:
        for key, value in data.items():
            if key == "client_secret" and record.get("client_secret_ref") in self.secrets:
                self.secrets[record["client_secret_ref"]]["value"] = value  # a downgraded 2026.11 provider
            elif key == "client_secret_ref" and value is None:
                continue  # an empty reference: keep the secret (a new provider gets a generated one)
            elif key == "jwks_sources":
                record["jwt_federation_sources"] = value
            elif key == "backchannel_logout_uri":
                record["logout_uri"] = value
                record["logout_method"] = "backchannel"
            else:
                record[key] = copy.deepcopy(value)

    def provider_or_404(self, raw_pk: str) -> dict:
        try:
            pk = int(raw_pk)
        except ValueError:
            pk = -1
        return self.detail_or_404(self.providers, pk, "OAuth2Provider")

    def provider_list(self, req: Request) -> Response:
        records = list(self.providers.values())
        records = self.filter_object(req, records, "application", set(self.applications),
                                     lambda p, v: self.applications[v]["provider"] == p["pk"])
        records = self.filter_object(req, records, "authorization_flow", set(self.flows),
                                     lambda p, v: p["authorization_flow"] == v)
        records = self.filter_object(req, records, "signing_key", set(self.keypairs), lambda p, v: p["signing_key"] == v)
        records = self.filter_object(req, records, "property_mappings", set(self.scope_mappings),
                                     lambda p, v: v in p["property_mappings"], multi=True)
        items = [self.render_provider(p) for p in records]
        for param in ("name", "client_id", "access_code_validity", "access_token_validity", "refresh_token_validity"):
            items = self.filter_exact(req, items, param)
        items = self.filter_choice(req, items, "client_type", CLIENT_TYPES)
        items = self.filter_choice(req, items, "sub_mode", SUB_MODES)
        items = self.filter_choice(req, items, "issuer_mode", ISSUER_MODES)
        items = self.filter_bool(req, items, "include_claims_in_id_token", "include_claims_in_id_token")
        items = self.search(req, items, ["name"])
        return self.paginated(req, self.ordered(req, items, ["name"]))

    @staticmethod
    def empty_reference_is_null(body: Any) -> Any:
        """DRF's related fields read "" as null (an empty secret picker)."""
        if isinstance(body, dict) and body.get("client_secret_ref") == "":
            return dict(body, client_secret_ref=None)
        return body

    def provider_create(self, req: Request) -> Response:
        body = self.empty_reference_is_null(self.write_body(req))
        data = self.checked_write(req, "oauth2", body, False,
                                  lambda b: self.run_fields(self.provider_fields(None), b, False))
        self.provider_seq += 1
        record = copy.deepcopy(PROVIDER_DEFAULTS)
        record.update({
            "pk": self.provider_seq,
            "name": None,
            "client_id": generate_id(),
            "client_secret": generate_client_secret(),
            "grant_types": [] if self.profile.has("oauth2.grant_types") else None,
            "seq": self.next_seq(),
        })
        self.apply_provider(record, data)
        if self.profile.has("oauth2.client_secret_ref") and not record.get("client_secret_ref"):
            # no secret given: authentik creates one with a generated value
            record["client_secret_ref"] = self.new_secret("%s client secret" % record["name"])["pk"]
            record["client_secret"] = ""
        self.providers[record["pk"]] = record
        return Response(201, self.render_provider(record))

    def provider_detail(self, req: Request) -> Response:
        return Response(200, self.render_provider(self.provider_or_404(req.params["pk"])))

    def provider_update(self, req: Request) -> Response:
        record = self.provider_or_404(req.params["pk"])
        partial = req.method == "PATCH"
        body = self.empty_reference_is_null(self.write_body(req))
        data = self.checked_write(req, "oauth2", body, partial,
                                  lambda b: self.run_fields(self.provider_fields(record), b, partial))
        self.apply_provider(record, data)
        return Response(200, self.render_provider(record))

    def provider_delete(self, req: Request) -> Response:
        record = self.provider_or_404(req.params["pk"])
        del self.providers[record["pk"]]
        for application in self.applications.values():
            if application["provider"] == record["pk"]:
                application["provider"] = None
        for other in self.providers.values():
            if record["pk"] in other["jwt_federation_providers"]:
                other["jwt_federation_providers"].remove(record["pk"])
        return Response(204)

    def provider_setup_urls(self, req: Request) -> Response:
        provider = self.provider_or_404(req.params["pk"])
        application = self.application_for_provider(provider["pk"])
        prefix = oidc.PREFIX
        values: dict[str, Any] = {
            "issuer": oidc.issuer(self, req, provider),
            "authorize": oidc.absolute(self, req, prefix + "authorize/"),
            "token": oidc.absolute(self, req, prefix + "token/"),
            "user_info": oidc.absolute(self, req, prefix + "userinfo/"),
            "provider_info": None,
            "logout": None,
            "dcr_registration": None,
        }
        if application is not None:
            slug = application["slug"]
            values["provider_info"] = oidc.absolute(self, req, "%s%s/.well-known/openid-configuration" % (prefix, slug))
            values["logout"] = oidc.absolute(self, req, "%s%s/end-session/" % (prefix, slug))
            values["jwks"] = oidc.absolute(self, req, "%s%s/jwks/" % (prefix, slug))
        # without an application the jwks key is missing altogether (sample 10)
        return Response(200, dict((k, values[k]) for k in self.profile.fields("setup_urls") if k in values))
