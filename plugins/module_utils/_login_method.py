# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""Cloudflare Access login methods (the API's "identity providers"): the client with their paths and
lookups (by name, by id, a name or id to its id), the config the options ask for, the comparable form,
the bodies to send, their test URL and their SCIM side (base URL, secret, refresh, the ``scim_*`` options).

The connection, the envelope, pages, the scope and finding by name or id come from ``_cloudflare``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from urllib.parse import quote

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import (
    CloudflareClient,
    Kind,
    callback_url,
)

TEST_IDP_PATH = "/cdn-cgi/access/test-idp/"

IDP_TYPES = ("onetimepin", "azureAD", "saml", "centrify", "facebook", "github", "google-apps", "google",
             "linkedin", "oidc", "okta", "onelogin", "pingone", "yandex", "cloudflare")
# Types whose config holds config.client_secret (the SDK's config TypedDicts).
SECRET_TYPES = frozenset(("azureAD", "centrify", "facebook", "github", "google-apps", "google", "linkedin",
                          "oidc", "okta", "onelogin", "pingone", "yandex"))
# Keys the API adds to config by itself; never compared and never sent back.
SERVER_CONFIG_KEYS = frozenset(("redirect_url",))
# Lists whose order means nothing; compared sorted.
ORDER_FREE_CONFIG_KEYS = frozenset(("scopes", "claims"))
SCIM_WRITABLE_KEYS = ("enabled", "user_deprovision", "seat_deprovision", "identity_update_behavior")

# The options of type oidc that map to config keys (the module's field mapping)
OIDC_OPTIONS = ("auth_url", "token_url", "certs_url", "scopes", "claims", "email_claim_name", "pkce_enabled")
OIDC_URLS = ("auth_url", "token_url", "certs_url")
OIDC_REQUIRED = ("client_id", "client_secret", "auth_url", "token_url", "certs_url")
DEFAULT_SCOPES = ["openid", "email", "profile"]


# ---- the client: paths and lookups ------------------------------------------------------------------
class LoginMethodClient(CloudflareClient):
    """The Cloudflare client with the login methods of its scope (listed once per run)."""

    @property
    def idp_path(self):
        return self.scope.path + "/access/identity_providers"

    def idp_item_path(self, idp_id):
        return "%s/%s" % (self.idp_path, quote(str(idp_id), safe=""))

    def identity_providers(self):
        """Every login method of the scope (all pages), read once per run."""
        return self.list_once("identity_providers", self.idp_path,
                              "list the login methods (identity providers) of %s" % self.scope)

    def listed_identity_providers(self):
        """The login methods as last listed in this run; None when nothing was listed."""
        return self._cache.get("identity_providers")

    def forget_identity_providers(self):
        """Read the list afresh next time (after a create, to see what other runs made meanwhile)."""
        self._cache.pop("identity_providers", None)

    def copies_after_create(self, created, name):
        """``(keep, others)`` when the list, read afresh after ``created`` was made, holds several login methods of its
        name and type (another run created one at the same time): ``keep`` has the lowest id. None when it is alone."""
        self.forget_identity_providers()
        same = [idp for idp in self.identity_providers_named(created.get("name") or name)
                if idp.get("type") == created.get("type") and idp.get("id")]
        if len(same) < 2:
            return None
        keep = sorted(same, key=lambda idp: str(idp["id"]))[0]
        return keep, [idp for idp in same if idp["id"] != keep["id"]]

    def identity_providers_named(self, name):
        return [idp for idp in self.identity_providers() if isinstance(idp, dict) and idp.get("name") == name]

    def identity_provider(self, idp_id):
        """One login method by id, or None when Cloudflare does not know the id."""
        return self.read_or_none(self.idp_item_path(idp_id), what="read the login method %s in %s" % (idp_id, self.scope))

    def identity_provider_by_known_id(self, name, known_ids):
        """The login method by the id ``known_ids`` gives for ``name`` (one GET, no listing), when it still has
        that name; else None."""
        hint = (known_ids or {}).get(name)
        if not hint or not isinstance(hint, str):
            return None
        found = self.identity_provider(hint)
        if found is not None and found.get("name") == name:
            return found
        return None

    def unique_identity_provider(self, name):
        """The one login method named ``name``, None when there is none; ``LookupFailed`` when several."""
        return self.unique(LOGIN_METHODS, name)

    def login_method_id(self, ref):
        """The id of a login method given by name or id; ``LookupFailed`` when there is none or several."""
        def missing():
            names = ", ".join(sorted("%r" % idp.get("name") for idp in self.identity_providers() if isinstance(idp, dict)))
            return ("No login method in %s is named %r or has that id (there are: %s); create it first "
                    "(cloudflare_access_identity_provider), or check the name" % (self.scope, ref, names or "none"))
        return self.id_of(LOGIN_METHODS, ref, missing)

    def login_method_name(self, idp_id):
        for idp in self.identity_providers():
            if isinstance(idp, dict) and idp.get("id") == idp_id:
                return idp.get("name")
        return None

    def team_domain(self, objects=(), optional=True):
        """``CloudflareClient.team_domain``, also looking at the login methods this run listed."""
        return super(LoginMethodClient, self).team_domain(
            list(objects) + list(self.listed_identity_providers() or []), optional=optional)


LOGIN_METHODS = Kind(
    "The login method", "login methods", "Zero Trust > Settings > Authentication", "identity_provider_id",
    read=lambda client, ident: client.identity_provider(ident),
    named=lambda client, name: client.identity_providers_named(name),
    every=lambda client: client.identity_providers(),
    describe=lambda idp: "%s (%s)" % (idp.get("id"), idp.get("type")),
)


def login_method_ids(client, params, result):
    """Name -> id of the login methods this run listed (unique names only) and of this one after the run."""
    ids = {}
    seen = client.listed_identity_providers() or []
    for idp in seen:
        if isinstance(idp, dict) and idp.get("name") and idp.get("id"):
            ids[idp["name"]] = None if idp["name"] in ids else idp["id"]
    ids = dict((name, ident) for name, ident in ids.items() if ident)
    end = result.get("end_state") or {}
    name = end.get("name") or params.get("name")
    if end.get("id") and name:
        ids[name] = end["id"]
    elif name and params.get("state") == "absent":
        ids.pop(name, None)
    return ids


# ---- URLs -------------------------------------------------------------------------------------------
def idp_test_url(auth_domain, idp_id):
    return "https://%s%s%s" % (auth_domain, TEST_IDP_PATH, quote(str(idp_id), safe=""))


def team_urls(client, resource, result):
    """``callback_url`` and ``test_url`` for the result, when the team domain can be known."""
    if resource.params["state"] == "absent":
        return {}
    domain = client.team_domain([resource.end] if resource.end else [])
    if not domain:
        return {}
    out = {"callback_url": callback_url(domain)}
    ident = result["end_state"].get("id")
    if ident:
        out["test_url"] = idp_test_url(domain, ident)
    return out


# ---- the config the options ask for -------------------------------------------------------------------
def config_options(idp_type):
    """The options that map to ``config`` keys for ``idp_type`` (the secret is handled apart)."""
    if idp_type not in SECRET_TYPES:
        return ()
    return ("client_id",) + (OIDC_OPTIONS if idp_type == "oidc" else ())


def wanted_config(params, creating, normalized=True):
    """The config keys the user set, without the secret (plus default scopes on create).

    ``normalized`` gives the comparable form (lists sorted); otherwise the keys as given, which
    is what a write sends.
    """
    config = dict(params.get("config") or {})
    for key in config_options(params["type"]):
        if params.get(key) is not None:
            config[key] = params[key]
    if params["type"] == "oidc" and creating and "scopes" not in config:
        config["scopes"] = list(DEFAULT_SCOPES)
    config.pop("client_secret", None)
    return normalize_config(config) if normalized else config


def missing_for_create(params, config):
    """The options an oidc login method needs on create that were not given."""
    if params["type"] != "oidc":
        return []
    have = dict(config, client_secret=params.get("client_secret"))
    return [key for key in OIDC_REQUIRED if not have.get(key)]


def secret_goes_out(params, creating):
    """Whether this run sends the secret even if no other setting differs (and so reports a change)."""
    return bool(params.get("client_secret")) and (creating or params["update_secret"] == "always")


# ---- comparable form, presentation, bodies ----------------------------------------------------------
def normalize_config(config):
    """The comparable form of a config dict: no secret, no server-made keys, order-free lists sorted.

    The secret is dropped whatever the server sent in its place (nothing, null or ``****``): it
    can never be compared, so it never causes a change by itself.
    """
    out = {}
    for key, value in (config or {}).items():
        if key in SERVER_CONFIG_KEYS or key == "client_secret":
            continue
        if key in ORDER_FREE_CONFIG_KEYS and isinstance(value, list):
            value = sorted(set(value), key=str)
        out[key] = copy.deepcopy(value)
    return out


def writable_scim(scim):
    return dict((k, scim[k]) for k in SCIM_WRITABLE_KEYS if isinstance(scim, dict) and k in scim)


def normalize_identity_provider(obj):
    """The comparable form of a login method: name, type, config (see above) and the writable SCIM keys."""
    out = {"name": obj.get("name"), "type": obj.get("type"), "config": normalize_config(obj.get("config"))}
    if isinstance(obj.get("scim_config"), dict):
        out["scim_config"] = writable_scim(obj["scim_config"])
    return out


def present_identity_provider(obj):
    """A login method as modules return it: the client secret left out entirely."""
    out = copy.deepcopy(obj) if isinstance(obj, dict) else {}
    if isinstance(out.get("config"), dict):
        out["config"].pop("client_secret", None)
    return out


def put_body(current, desired, secret):
    """The full replacement (PUT) body: the current config and SCIM settings with the wanted keys
    on top, the secret always included when given (Cloudflare never returns it, so it cannot be
    carried over), server-made keys and unknown (null or masked) secrets left out."""
    config = {}
    if desired.get("type") == current.get("type"):
        for key, value in (current.get("config") or {}).items():
            if key in SERVER_CONFIG_KEYS or key == "client_secret" or value is None:
                continue
            config[key] = copy.deepcopy(value)
    config.update(copy.deepcopy(desired.get("config") or {}))
    config.pop("client_secret", None)
    if secret:
        config["client_secret"] = secret
    body = {"name": desired.get("name") or current.get("name"), "type": desired.get("type") or current.get("type"),
            "config": config}
    scim = writable_scim(current.get("scim_config"))
    scim.update(desired.get("scim_config") or {})
    if scim:
        body["scim_config"] = scim
    return body


def create_body(desired, secret):
    body = {"name": desired["name"], "type": desired["type"], "config": copy.deepcopy(desired.get("config") or {})}
    body["config"].pop("client_secret", None)
    if secret:
        body["config"]["client_secret"] = secret
    if desired.get("scim_config"):
        body["scim_config"] = dict(desired["scim_config"])
    return body


# ---- SCIM: the login method's SCIM URL, secret and options ---------------------------------------------
SCIM_FLAT_OPTIONS = (("scim_enabled", "enabled"), ("scim_user_deprovision", "user_deprovision"),
                     ("scim_seat_deprovision", "seat_deprovision"),
                     ("scim_identity_update_behavior", "identity_update_behavior"))
NO_LOG_FOR_SCIM_SECRET = (
    "This run makes Cloudflare hand out the login method's SCIM secret (SCIM is switched on, or scim_rotate_secret is "
    "set), and the module returns it as scim_secret so it can be passed on; the task must therefore set no_log: true. "
    "Add it to the task (nothing was changed)")


def scim_base_url(idp, team_domain):
    """The URL a SCIM client pushes to: the API's ``scim_config.scim_base_url`` when it gives one, else
    ``https://<team domain>/populations/<login method id>/scim/v2``."""
    scim = (idp or {}).get("scim_config") or {}
    if scim.get("scim_base_url"):
        return scim["scim_base_url"]
    if team_domain and (idp or {}).get("id"):
        return "https://%s/populations/%s/scim/v2" % (team_domain, idp["id"])
    return None


def fresh_scim_secret(obj):
    """The SCIM secret in a create, update or refresh answer (shown only there), else None."""
    secret = ((obj or {}).get("scim_config") or {}).get("secret")
    if not secret or "*" in str(secret):
        return None
    return secret


def refresh_scim_secret(client, idp_id, label):
    """Cloudflare's refresh call: a new SCIM secret (the old one stops working). Returns the login method."""
    return client.result("POST", client.idp_item_path(idp_id) + "/refresh_scim_secret", body=None,
                         what="refresh the SCIM secret of %s" % label)


def merge_scim_options(params):
    """Fold the flat ``scim_*`` options into ``scim_config``; ValueError when both forms are used or
    seat deprovisioning is asked without user deprovisioning."""
    flat = dict((key, params.get(option)) for option, key in SCIM_FLAT_OPTIONS if params.get(option) is not None)
    if flat and params.get("scim_config") is not None:
        raise ValueError("Set SCIM either with scim_config or with the scim_* options, not both")
    if flat:
        params["scim_config"] = dict((key, flat.get(key)) for _option, key in SCIM_FLAT_OPTIONS)
    scim = params.get("scim_config") or {}
    if scim.get("seat_deprovision") and scim.get("user_deprovision") is False:
        raise ValueError("scim_seat_deprovision needs scim_user_deprovision: Cloudflare frees a seat only for a "
                         "deprovisioned user")
    if params.get("scim_rotate_secret") and params.get("state") == "absent":
        raise ValueError("scim_rotate_secret applies to state present only")


def scim_secret_coming(current, desired, rotate):
    """Whether this run makes Cloudflare show a SCIM secret: SCIM switched on (first time, or again) or a refresh."""
    if rotate:
        return True
    want = (desired or {}).get("scim_config") or {}
    if not want.get("enabled"):
        return False
    return not (((current or {}).get("scim_config") or {}).get("enabled"))


def scim_result(module, client, resource, result):
    """The SCIM part of the result: a refresh of the SCIM secret when asked, ``scim_base_url`` and, only in the
    run where Cloudflare showed it, ``scim_secret`` (the task runs with no_log, see the module's ``desired``)."""
    p = module.params
    out = {}
    ident = result["end_state"].get("id")
    if p["state"] == "absent" or not ident:
        return out
    end = resource.end or {}
    if p.get("scim_rotate_secret"):
        out["changed"] = True
        out["msg"] = result["msg"] + ("; the SCIM secret would be refreshed" if module.check_mode else
                                      "; SCIM secret refreshed")
        if not module.check_mode:
            answer = refresh_scim_secret(client, ident, resource.label())
            resource.keep_scim_secret(answer)
            if isinstance(answer, dict):
                end = answer
    scim = end.get("scim_config") or {}
    if scim.get("enabled") or (module.check_mode and (p.get("scim_config") or {}).get("enabled")):
        out["scim_base_url"] = scim_base_url(end, client.team_domain([end]))
    if resource.scim_secret:
        out["scim_secret"] = resource.scim_secret
    return out
