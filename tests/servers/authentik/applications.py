"""Applications of the authentik test server: fields, the per-user list cache, create, update,
delete (with its cascades) and the icon URL call."""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any, Callable
from urllib.parse import urlparse, urlunparse

from tests.servers._control import HTTPError, Request, Response
from tests.servers.authentik import drf
from tests.servers.authentik.common import _is_true


POLICY_ENGINE_MODES = ("all", "any")
_LAUNCH_URL = re.compile(r"^(?:https?|ftps?|blank)://\S+$", re.IGNORECASE)

APPLICATION_DEFAULTS: dict[str, Any] = {
    "provider": None,
    "backchannel_providers": [],
    "open_in_new_tab": False,
    "meta_launch_url": "",
    "meta_icon": "",
    "meta_description": "",
    "meta_publisher": "",
    "policy_engine_mode": "any",
    "group": "",
    "meta_hide": False,
}


def _launch_url_validator(value: Any) -> None:
    if value and not _LAUNCH_URL.match(str(value)):
        raise drf.Invalid([drf.INVALID_URL])


class ApplicationsMixin:
    """The application API (mixed into AuthentikApp)."""

    def launch_url(self, application: dict) -> str | None:
        if application["meta_launch_url"]:
            return application["meta_launch_url"]
        provider = self.providers.get(application["provider"]) if application["provider"] is not None else None
        if provider is None or not provider["redirect_uris"]:
            return None
        try:
            return urlunparse(urlparse(provider["redirect_uris"][0]["url"])._replace(path=""))
        except ValueError:
            return None

    def render_application(self, application: dict) -> dict:
        provider = self.providers.get(application["provider"]) if application["provider"] is not None else None
        icon = application["meta_icon"]
        if self.profile.has("app.meta_icon_writable"):
            icon_value: Any = icon
        else:
            icon_value = icon or None
        icon_url = None
        if icon:
            icon_url = icon if "://" in icon or icon.startswith("/") else "/files/media/public/" + icon
        values = dict(application)
        values.update({
            "pbm_uuid": application["pk"],
            "provider_obj": self.render_provider(provider, "provider_obj") if provider else None,
            "backchannel_providers_obj": [self.render_scim_provider_obj(self.scim_providers[pk])
                                          for pk in application["backchannel_providers"] if pk in self.scim_providers],
            "launch_url": self.launch_url(application),
            "meta_icon": icon_value,
            "meta_icon_url": icon_url,
            "meta_icon_themed_urls": None,
        })
        return copy.deepcopy(dict((k, values[k]) for k in self.profile.fields("application")))

    def application_fields(self, instance: dict | None) -> list[tuple[str, drf.Field]]:
        def unique(key: str, message: str) -> Callable[[Any], None]:
            def check(value: Any) -> None:
                for other in self.applications.values():
                    if other[key] == value and (instance is None or other["pk"] != instance["pk"]):
                        raise drf.Invalid([message])
            return check

        def backchannel_free(pks: Any) -> None:
            # a provider is the backchannel of one application at most (Provider.backchannel_application)
            for pk in pks:
                other = self.scim_application(pk)
                if other is not None and (instance is None or other["pk"] != instance["pk"]):
                    raise drf.Invalid(["Provider %s is already a backchannel provider of %s." % (pk, other["slug"])])

        slug_max = 50 if self.profile.has("app.slug_max_50") else None
        spec: dict[str, drf.Field] = {
            "name": drf.Char(required=True),
            "slug": drf.Char(required=True, max_length=slug_max, validators=[
                drf.slug_validator, unique("slug", "Application with this slug already exists.")]),
            "provider": drf.PrimaryKey(lambda pk: pk in self.providers, pk_type="int", allow_null=True,
                                       validators=[unique("provider", "Application with this provider already exists.")]),
            # only backchannel provider types (SCIM here) may be listed; OAuth2 providers are not
            "backchannel_providers": drf.ManyPrimaryKeys(drf.PrimaryKey(lambda pk: pk in self.scim_providers,
                                                                        pk_type="int"),
                                                         validators=[backchannel_free]),
            "open_in_new_tab": drf.Boolean(),
            "meta_launch_url": drf.Char(allow_blank=True, validators=[_launch_url_validator]),
            "meta_icon": drf.Char(allow_blank=True),
            "meta_description": drf.Char(allow_blank=True),
            "meta_publisher": drf.Char(allow_blank=True),
            "policy_engine_mode": drf.Choice(POLICY_ENGINE_MODES),
            "group": drf.Char(allow_blank=True),
            "meta_hide": drf.Boolean(),
        }
        return [(name, spec[name]) for name in self.profile.writable("application")]

    def application_or_404(self, slug: str) -> dict:
        application = self.application_by_slug(slug)
        if application is None:
            raise HTTPError(404, {"detail": "No Application matches the given query."})
        return application

    def application_list(self, req: Request) -> Response:
        """The list with authentik's per-user page cache (sample README, surprise 3).

        Pagination is computed from the filtered list, but unless ``search`` is given or a
        superuser asks for ``superuser_full_list=true``, the results are the ones cached for
        that page number (filters ignored), or the page's applications the caller passes the
        policies of, which are then cached. The cache is cleared when an application is
        created and when a policy binding is saved or deleted.
        """
        items = self._sorted(self.applications.values(), "name")
        for param in ("name", "slug", "group", "meta_launch_url", "meta_description", "meta_publisher"):
            items = self.filter_exact(req, items, param)
        items = self.search(req, items, ["name", "slug", "meta_launch_url", "meta_description", "meta_publisher",
                                         "group"])
        rendered = [self.render_application(a) for a in items]
        ordered_pks = [r["pk"] for r in self.ordered(req, rendered, ["name"])]
        records = [self.applications[pk] for pk in ordered_pks]
        page_records, pagination = self.page_of(req, records)
        if _is_true(req.arg("superuser_full_list")) and self.is_superuser(self.token_user):
            results = page_records
        else:
            allowed = [a for a in page_records if self.passes_policies(a["pk"], self.token_user)]
            if (req.arg("search") or "") != "":
                results = allowed
            else:
                cached = self.app_list_cache.get(pagination["current"])
                if cached:
                    results = [self.applications[pk] for pk in cached if pk in self.applications]
                else:
                    results = allowed
                    self.app_list_cache[pagination["current"]] = [a["pk"] for a in allowed]
            if _is_true(req.arg("only_with_launch_url")):
                results = [a for a in results if self.launch_url(a)]
        body = {"pagination": pagination, "results": [self.render_application(a) for a in results], "autocomplete": {}}
        return Response(200, body)

    def application_create(self, req: Request) -> Response:
        body = self.write_body(req)
        data = self.checked_write(req, "application", body, False,
                                  lambda b: self.run_fields(self.application_fields(None), b, False))
        record = copy.deepcopy(APPLICATION_DEFAULTS)
        record.update({"pk": str(uuid.uuid4()), "seq": self.next_seq()})
        record.update(copy.deepcopy(data))
        self.applications[record["pk"]] = record
        self.clear_app_list_cache()  # post_save(created=True) clears every user's list cache
        return Response(201, self.render_application(record))

    def application_detail(self, req: Request) -> Response:
        return Response(200, self.render_application(self.application_or_404(req.params["slug"])))

    def application_update(self, req: Request) -> Response:
        record = self.application_or_404(req.params["slug"])
        partial = req.method == "PATCH"
        body = self.write_body(req)
        data = self.checked_write(req, "application", body, partial,
                                  lambda b: self.run_fields(self.application_fields(record), b, partial))
        record.update(copy.deepcopy(data))  # an update does not clear the list cache
        return Response(200, self.render_application(record))

    def application_delete(self, req: Request) -> Response:
        record = self.application_or_404(req.params["slug"])
        doomed = [pk for pk, b in self.bindings.items() if b["target"] == record["pk"]]
        for pk in doomed:
            del self.bindings[pk]
        if doomed:
            self.clear_app_list_cache()  # pre_delete of each cascaded binding
        self.scim_application_deleted(record)  # its SCIM providers are deleted with it
        del self.applications[record["pk"]]
        return Response(204)

    def application_set_icon_url(self, req: Request) -> Response:
        if not self.profile.has("app.set_icon_url"):
            return self.method_not_allowed(req, ["GET"])
        record = self.application_or_404(req.params["slug"])
        body = self.write_body(req)
        url = body.get("url") if isinstance(body, dict) else None
        if url is None:
            return Response(400, "<h1>Bad Request (400)</h1>", content_type="text/html; charset=utf-8")
        record["meta_icon"] = str(url)
        return Response(200, {})
