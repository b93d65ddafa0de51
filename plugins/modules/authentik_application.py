#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: authentik_application
short_description: Manage an authentik application and the provider it uses
version_added: 0.1.0
description:
  - Create, update or delete an application in authentik, identified by its slug, and bind an OAuth2/OpenID Connect
    provider to it.
  - The application is read with the detail endpoint C(GET /api/v3/core/applications/<slug>/), never with the list
    endpoint, whose answers authentik filters by the caller's policies and caches per user.
  - Only the options you set are compared, and an update sends only the fields that differ (PATCH).
  - A provider can back only one application. When the provider named by O(provider) is already bound to another
    application, the module fails before writing anything and names that application.
  - Once an OAuth2 provider is bound, the module returns the OIDC endpoints Cloudflare Access needs.
  - Works with authentik 2024.10 and newer. Fields a release does not have are never sent and never compared (such as
    the read-only C(pbm_uuid) of 2026.8); an option a release cannot honour fails and names the release it needs. The
    application's own fields tell which release the server runs; the version is read only for a new application
    whose icon or O(meta_hide) is set.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._authentik
  - idpbridge.authentik_cloudflare._authentik.actiongroup
  - idpbridge.authentik_cloudflare._attributes
options:
  slug:
    description:
      - The application's slug, unique in authentik and part of its OIDC URLs. It identifies the application.
      - Letters, digits, C(-) and C(_) only; at most 50 characters (older authentik releases reject longer slugs).
      - Not one of the names of authentik's OAuth2 endpoints (V(authorize), V(token), V(device), V(userinfo),
        V(introspect), V(revoke)).
    type: str
    required: true
  name:
    description:
      - The name users see. When not set, a new application is named after its slug and an existing one keeps its name.
    type: str
  provider:
    description:
      - Name of the OAuth2/OpenID Connect provider the application uses (see
        M(idpbridge.authentik_cloudflare.authentik_provider_oauth2)).
      - V("") unbinds the provider. When not set, the binding is left as it is.
      - In check mode, a provider that does not exist yet is assumed to be created by an earlier task of the play (with
        a warning), so a whole play can be checked against an empty authentik; a real run fails.
    type: str
  group:
    description:
      - The group the application is listed under in the user's library. V("") for none.
    type: str
  policy_engine_mode:
    description:
      - How the application's policy bindings combine. V(any) lets a user in when one binding passes, V(all) when all pass.
    type: str
    choices: [any, all]
  meta_launch_url:
    description:
      - The URL the user's library opens, such as the Cloudflare Access application. V("") for the provider's default.
    type: str
  meta_description:
    description:
      - A description shown in the user's library.
    type: str
  meta_publisher:
    description:
      - The publisher shown in the user's library.
    type: str
  open_in_new_tab:
    description:
      - Whether the library opens the launch URL in a new browser tab.
    type: bool
  meta_icon:
    description:
      - URL of the application's icon. V("") removes the icon.
      - authentik 2025.12 and newer store it in the application's C(meta_icon) field (sent with the other fields).
        Older releases take it through a separate call (C(POST .../set_icon_url/)), so a change of the icon is one extra
        request there. Which way applies is read from the application's own fields, or for a new application from
        authentik's version (if the token may not read the version, from the created application).
      - The icon is compared loosely, because authentik may hand back a rewritten address (for example a signed URL
        from object storage). The values are compared without query string and fragment, and a server value that ends
        with the wanted URL's path counts as the same icon. So an icon never causes a change on every run.
    type: str
  meta_hide:
    description:
      - Whether the application is hidden from the users' library (it still works for sign-ins).
        When not set, it is left as it is.
      - Needs authentik 2026.5 or newer.
    type: bool
  backchannel_providers:
    description:
      - Names of the SCIM providers (M(idpbridge.authentik_cloudflare.authentik_provider_scim)) that push this
        application's users and groups to another system. The list replaces the application's backchannel providers;
        V([]) removes them. When not set, they are left as they are.
      - Attaching a provider does not start a sync by itself (authentik starts one when the provider is saved, or see
        O(idpbridge.authentik_cloudflare.authentik_provider_scim#module:start_sync)).
      - Deleting the application deletes its SCIM providers too.
    type: list
    elements: str
  public_url:
    description:
      - The base URL users' browsers and Cloudflare reach authentik at, used to build RV(endpoints). Defaults to O(url),
        which may be an internal address.
    type: str
  state:
    description:
      - V(present) creates or updates the application, V(absent) deletes it (and with it its policy bindings; the
        provider stays).
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: idpbridge.authentik_cloudflare.authentik_provider_oauth2
  - module: idpbridge.authentik_cloudflare.authentik_policy_binding
"""

EXAMPLES = r"""
- name: The application that uses the Cloudflare Access provider
  idpbridge.authentik_cloudflare.authentik_application:
    url: https://auth.example.com
    token: "{{ vault_authentik_token }}"
    slug: cloudflare-access
    name: Cloudflare Access
    provider: cloudflare-access
    meta_launch_url: https://myteam.cloudflareaccess.com/
    meta_icon: https://www.cloudflare.com/favicon.ico
  register: app

- name: Hand the OIDC endpoints on
  ansible.builtin.debug:
    msg: "JWKS at {{ app.endpoints.jwks }}, bindings target {{ app.end_state.pk }}"

- name: Let a user in only when every binding passes (connection from the environment)
  idpbridge.authentik_cloudflare.authentik_application:
    slug: cloudflare-access
    policy_engine_mode: all

- name: Remove the application (its bindings go with it)
  idpbridge.authentik_cloudflare.authentik_application:
    slug: cloudflare-access
    state: absent
"""

RETURN = r"""
existing:
  description: The application before the run. Empty when it did not exist.
  returned: always
  type: dict
end_state:
  description:
    - The application as authentik stores it after the run (predicted in check mode). Empty when absent.
    - Its C(pk) (a UUID) is the C(target) of its policy bindings; None in check mode when it would be created.
  returned: always
  type: dict
  sample:
    pk: d2304f93-0549-4601-8b01-922e918845ea
    name: Cloudflare Access
    slug: cloudflare-access
    provider: 9
    group: ""
    policy_engine_mode: any
    meta_launch_url: https://myteam.cloudflareaccess.com/
    meta_icon: https://www.cloudflare.com/favicon.ico
    meta_description: ""
    meta_publisher: ""
    open_in_new_tab: false
changes:
  description: The names of the fields that were (or in check mode would be) sent.
  returned: always
  type: list
  elements: str
  sample: [meta_launch_url]
endpoints:
  description:
    - The OIDC endpoints of the bound OAuth2 provider, built from O(public_url) and the slug. Empty when no OAuth2
      provider is bound.
  returned: when state is present
  type: dict
  sample:
    authorize: https://auth.example.com/application/o/authorize/
    token: https://auth.example.com/application/o/token/
    userinfo: https://auth.example.com/application/o/userinfo/
    jwks: https://auth.example.com/application/o/cloudflare-access/jwks/
    issuer: https://auth.example.com/application/o/cloudflare-access/
    openid_configuration: https://auth.example.com/application/o/cloudflare-access/.well-known/openid-configuration
    end_session: https://auth.example.com/application/o/cloudflare-access/end-session/
"""


from ansible.module_utils.basic import AnsibleModule
from urllib.parse import quote, urlsplit

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    UNKNOWN_VERSION,
    AuthentikClient,
    authentik_argument_spec,
    check_slug,
    needs_release,
    oidc_endpoints,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import ManagedObject, run
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import (
    concurrently, validate_base_url,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._scim import backchannel_pks

TEXT_FIELDS = ("name", "group", "policy_engine_mode", "meta_launch_url", "meta_description", "meta_publisher",
               "open_in_new_tab")
OAUTH2_COMPONENT = "ak-provider-oauth2-form"
PENDING = "(provider %r, not created yet)"  # stands for a provider's pk in check mode
OAUTH2_MODEL = "authentik_providers_oauth2.oauth2provider"
META_HIDE_SINCE = (2026, 5)


def _icon_parts(value):
    """``(comparable text, path)`` of an icon value: no query string or fragment, no trailing slash."""
    text = (value or "").strip()
    parts = urlsplit(text)
    if parts.scheme and parts.netloc:
        base = "%s://%s%s" % (parts.scheme.lower(), parts.netloc.lower(), parts.path)
        path = parts.path
    else:
        base = text.split("?", 1)[0].split("#", 1)[0]
        path = base
    return base.rstrip("/"), path.rstrip("/")


def icon_matches(have, want):
    """Whether the server's icon value ``have`` stands for the wanted icon ``want`` (a loose comparison).

    authentik may store or return a rewritten address (a signed object-storage URL, a media prefix), so
    query strings and fragments are ignored, and a value ending with the wanted URL's path matches.
    """
    if not want:
        return not have
    if not have:
        return False
    have_base, have_path = _icon_parts(have)
    want_base, want_path = _icon_parts(want)
    if have_base == want_base:
        return True
    # A rewritten address keeps the file's path at its end; a bare "/" path says nothing.
    return len(want_path) > 1 and (have_base.endswith(want_path) or have_path.endswith(want_path))


def current_icon(obj, want=None):
    """The icon as compared: ``want`` when one of the server's icon values matches it loosely."""
    values = [v for v in (obj.get("meta_icon"), obj.get("meta_icon_url")) if v]
    if want is not None and want != "" and any(icon_matches(v, want) for v in values):
        return want
    return values[0] if values else ""


def is_oauth2(provider_obj):
    """Whether a short provider object (an application's ``provider_obj``) is an OAuth2 provider."""
    if not isinstance(provider_obj, dict):
        return False
    return provider_obj.get("component") == OAUTH2_COMPONENT or provider_obj.get("meta_model_name") == OAUTH2_MODEL


def bound_elsewhere_message(provider_name, other_slug, other_name, slug):
    return ("The authentik OAuth2 provider %r is already bound to the application %r (slug %r), and a provider can back "
            "only one application. Unbind it there (provider: \"\") or give the application %r another provider"
            % (provider_name, other_name or other_slug, other_slug, slug))


class Application(ManagedObject):
    kind = "application"

    def __init__(self, module, client):
        super(Application, self).__init__(module, client)
        self.provider = None  # the provider named by the provider option, once looked up
        self.icon_separately = False  # True: set_icon_url; None: not known yet (see _icon_separately)

    def label(self):
        return "authentik application %r" % self.params["slug"]

    def find(self):
        name = self.params.get("provider")
        if self.params["state"] != "present" or not name:
            return self.client.application(self.params["slug"])
        # The provider's lookup does not depend on the application's: both at once (the application's
        # read is the slow one on a real authentik). desired() then finds the provider in the cache.
        (current, error), (_provider, _error) = concurrently([
            lambda: self.client.application(self.params["slug"]),
            lambda: self.client.cached_provider_by_name(name)])
        if error is not None:
            raise error
        return current

    def normalize(self, obj):
        out = {"slug": obj.get("slug")}
        for key in TEXT_FIELDS:
            out[key] = obj.get(key)
        out["provider"] = obj.get("provider")
        out["meta_icon"] = current_icon(obj, self.params.get("meta_icon"))
        if "meta_hide" in obj:
            out["meta_hide"] = obj["meta_hide"]
        if self.params.get("backchannel_providers") is not None:
            out["backchannel_providers"] = sorted(obj.get("backchannel_providers") or [], key=str)
        return out

    def desired(self, current):
        p = self.params
        want = {"slug": p["slug"]}
        for key in TEXT_FIELDS:
            if p.get(key) is not None:
                want[key] = p[key]
        if current is None and "name" not in want:
            want["name"] = p["slug"]
        if p.get("provider") is not None:
            want["provider"] = self._provider_pk(p["provider"])
        if p.get("meta_icon") is not None:
            want["meta_icon"] = p["meta_icon"]
            self.icon_separately = self._icon_separately(current)
        if p.get("backchannel_providers") is not None:
            want["backchannel_providers"] = backchannel_pks(self.client, p["backchannel_providers"],
                                                            self.module.check_mode, self.module.warn)
        if p.get("meta_hide") is not None:
            if not self._has_meta_hide(current):
                raise needs_release("meta_hide", META_HIDE_SINCE, self.client.running(
                    "a release before 2026.5 (its applications have no meta_hide)"))
            want["meta_hide"] = p["meta_hide"]
        return want

    def _has_meta_hide(self, current):
        """Whether the server's applications have ``meta_hide`` (2026.5): their own fields tell, else the
        version (assumed to be the newest when the token may not read it)."""
        if current is not None:
            return "meta_hide" in current
        return self.client.at_least(*META_HIDE_SINCE)

    def _icon_separately(self, current):
        """Whether the icon needs its own call (``set_icon_url``, before 2025.12) or goes in the body.

        An existing application tells by its fields (``meta_icon_url`` came with the writable
        ``meta_icon``); for a new one the release decides, and None means "unknown, look at the
        created application" (the version was not readable).
        """
        if current is not None:
            return "meta_icon_url" not in current
        if self.client.version() == UNKNOWN_VERSION:
            return None
        return not self.client.at_least(2025, 12)

    def _provider_pk(self, name):
        if name == "":
            return None
        provider = self.client.cached_provider_by_name(name)
        if provider is None and self.module.check_mode:
            # In a check-mode run of a play, the task before this one only pretended to create the provider.
            self.module.warn("The authentik OAuth2 provider %r does not exist; check mode assumes an earlier task creates "
                             "it (a real run fails here if none does)" % name)
            self.provider = {"pk": PENDING % name, "name": name, "issuer_mode": "per_provider"}
            return self.provider["pk"]
        if provider is None:
            raise LookupFailed("No authentik OAuth2 provider is named %r; create it first (authentik_provider_oauth2) or "
                               "check the name under Applications > Providers (option provider)" % name)
        self.provider = provider
        other = provider.get("assigned_application_slug")
        if other and other != self.params["slug"]:
            raise Refused(bound_elsewhere_message(name, other, provider.get("assigned_application_name"), self.params["slug"]))
        return provider["pk"]

    def defaults(self):
        return {
            "pk": None, "provider": None, "group": "", "policy_engine_mode": "any", "meta_launch_url": "",
            "meta_description": "", "meta_publisher": "", "open_in_new_tab": False, "meta_icon": "",
        }

    # -- writes ----------------------------------------------------------------------------
    def _explain(self, exc):
        """Turn the server's 400 on ``provider`` into the message naming the other application."""
        if isinstance(exc, ApiError) and exc.status == 400 and "provider:" in (exc.api_message or "") and self.provider:
            fresh = self.client.get_or_none("/providers/oauth2/%d/" % self.provider["pk"],
                                            what="look up OAuth2 provider %r" % self.provider["name"]) or {}
            other = fresh.get("assigned_application_slug")
            if other and other != self.params["slug"]:
                return Refused(bound_elsewhere_message(self.provider["name"], other, fresh.get("assigned_application_name"),
                                                       self.params["slug"]))
        return exc

    def _set_icon(self, slug, url):
        self.client.post("/core/applications/%s/set_icon_url/" % quote(slug, safe=""), {"url": url},
                         what="set the icon of %s" % self.label())

    def create(self, desired):
        body = dict(desired)
        icon = body.pop("meta_icon", None) if self.icon_separately is not False else None
        try:
            created = self.client.post("/core/applications/", body, what="create %s" % self.label())
        except ApiError as exc:
            raise self._explain(exc)
        if icon:
            if self.icon_separately is None:
                # The release was not known: the new application's fields tell.
                self.icon_separately = "meta_icon_url" not in created
            slug = created.get("slug") or desired["slug"]
            if self.icon_separately:
                self._set_icon(slug, icon)
                created = dict(created, meta_icon=icon)
            else:
                created = self.client.patch("/core/applications/%s/" % quote(slug, safe=""), {"meta_icon": icon},
                                            what="set the icon of %s" % self.label())
        return created

    def update(self, current, changes, desired):
        body = dict(changes)
        icon = body.pop("meta_icon", None) if self.icon_separately else None
        updated = current
        if body:
            try:
                updated = self.client.patch("/core/applications/%s/" % quote(current["slug"], safe=""), body,
                                            what="update %s" % self.label())
            except ApiError as exc:
                raise self._explain(exc)
        if icon is not None:
            self._set_icon(current["slug"], icon)
            updated = dict(updated, meta_icon=icon)
        return updated

    def delete(self, current):
        self.client.delete("/core/applications/%s/" % quote(current["slug"], safe=""), what="delete %s" % self.label())

    # -- results ---------------------------------------------------------------------------
    def present(self, obj):
        out = dict(obj or {})
        out.setdefault("pk", None)  # None when check mode predicts a new application
        return out

    def _issuer_mode(self, provider_pk):
        if self.provider is not None and self.provider.get("pk") == provider_pk:
            return self.provider.get("issuer_mode") or "per_provider"
        found = self.client.get_or_none("/providers/oauth2/%d/" % provider_pk, what="look up OAuth2 provider %s" % provider_pk)
        return (found or {}).get("issuer_mode") or "per_provider"

    def derived(self, obj):
        provider_pk = obj.get("provider")
        endpoints = {}
        oauth2 = False
        if provider_pk is not None:
            if self.provider is not None and self.provider.get("pk") == provider_pk:
                oauth2 = True
            else:
                oauth2 = is_oauth2(obj.get("provider_obj"))
        if oauth2:
            public = self.params.get("public_url") or self.client.root_url
            endpoints = oidc_endpoints(public, obj.get("slug") or self.params["slug"], self._issuer_mode(provider_pk))
        return {"endpoints": endpoints}


def check_options(params):
    """Raise ValueError for option values authentik would reject, before any request."""
    check_slug(params["slug"], "slug")
    if params.get("name") == "":
        raise ValueError("name must not be empty")
    if params.get("public_url"):
        validate_base_url(params["public_url"], "public_url")


def main():
    argument_spec = authentik_argument_spec()
    argument_spec.update(
        slug=dict(type="str", required=True),
        name=dict(type="str"),
        provider=dict(type="str"),
        group=dict(type="str"),
        policy_engine_mode=dict(type="str", choices=["any", "all"]),
        meta_launch_url=dict(type="str"),
        meta_description=dict(type="str"),
        meta_publisher=dict(type="str"),
        open_in_new_tab=dict(type="bool"),
        meta_icon=dict(type="str"),
        meta_hide=dict(type="bool"),
        backchannel_providers=dict(type="list", elements="str"),
        public_url=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        check_options(module.params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    client = AuthentikClient.from_module(module)
    run(module, lambda: Application(module, client))


if __name__ == "__main__":
    main()
