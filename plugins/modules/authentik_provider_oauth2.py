#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: authentik_provider_oauth2
short_description: Manage an authentik OAuth2/OpenID Connect provider
version_added: 0.1.0
description:
  - Create, update or delete an OAuth2/OpenID Connect provider in authentik, found by its unique name.
  - Flows are given by slug, the signing key by name and the scopes by scope name; the module resolves them once per run
    with filtered queries.
  - Only the options you set are compared, and an update sends only the fields that differ (PATCH).
  - The client secret is never returned and never shown in a diff; read it with
    M(idpbridge.authentik_cloudflare.authentik_provider_oauth2_info) in a task with C(no_log) when another system needs it.
  - Works with authentik 2024.10 and newer. Fields a release does not have are never sent and never compared; an option
    a release cannot honour fails and names the release it needs. Which fields the server has is read from an
    existing provider's own fields; only a new provider needs the server's version (C(GET /api/v3/admin/version/), once
    per run). A server older than 2024.10 is refused.
  - "From authentik 2026.11 (not released when this module was written; its behaviour is taken from authentik's
    source), the client secret is a Secret object the provider references (C(client_secret_ref)). The module then
    reads and sets the secret through that object (C(/api/v3/secrets/secrets/)), behind the same O(client_secret)
    option; see the notes."
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._authentik
  - idpbridge.authentik_cloudflare._authentik.actiongroup
  - idpbridge.authentik_cloudflare._attributes
options:
  name:
    description:
      - The provider's name, unique in authentik. It identifies the provider.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the provider, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  client_type:
    description:
      - V(confidential) clients authenticate with a client secret (what Cloudflare Access uses); V(public) clients do not.
    type: str
    choices: [confidential, public]
    default: confidential
  client_id:
    description:
      - The client ID. When not set, authentik generates one on create and it is kept afterwards.
    type: str
  client_secret:
    description:
      - The client secret. When not set, authentik generates one on create and it is kept afterwards.
      - Changing it rotates the secret; RV(secret_changed) then tells the next task to hand the new one on.
      - With authentik 2026.11 and newer the value lives in the Secret object the provider references. Comparing it
        reads the value (C(view_value)); a new value is written to that Secret, so every object that shares the
        Secret gets it too. A new provider gets a Secret that authentik creates, which then receives the value.
    type: str
  redirect_uris:
    description:
      - The allowed redirect URIs, for Cloudflare Access C(https://<team>.cloudflareaccess.com/cdn-cgi/access/callback).
      - Each entry is a URL string (matched strictly) or a dictionary with the keys C(url), C(matching_mode) (V(strict) or
        V(regex), default V(strict)) and, for authentik 2026.5 and newer, C(redirect_uri_type) (V(authorization) or
        V(logout), default V(authorization)).
      - The list is compared in order. When not set, the redirect URIs are left as they are (a new provider gets none).
    type: list
    elements: raw
  purge_redirect_uris:
    description:
      - With V(true), the provider ends up with exactly O(redirect_uris). With V(false), missing entries are added and
        others are kept.
    type: bool
    default: true
  authorization_flow:
    description:
      - Slug of the flow that authorizes users (designation C(authorization)).
    type: str
    default: default-provider-authorization-implicit-consent
  invalidation_flow:
    description:
      - Slug of the flow run when users log out (designation C(invalidation)).
    type: str
    default: default-provider-invalidation-flow
  authentication_flow:
    description:
      - Slug of the flow that authenticates users who are not logged in (designation C(authentication)).
      - V("") removes it, so the brand's default flow is used. When not set, it is left as it is.
    type: str
  signing_key:
    description:
      - Name of the certificate-key pair that signs the tokens. It must have a private key, because Cloudflare Access
        verifies ID tokens with the provider's JWKS.
    type: str
    default: authentik Self-signed Certificate
  scopes:
    description:
      - Scope names the provider offers, resolved to authentik's scope mappings (the managed ones first).
    type: list
    elements: str
    default: [openid, email, profile]
  grant_types:
    description:
      - Grant types the provider allows. Sent only to authentik 2026.5 and newer, which has the field; older releases allow
        the usual grants without it. Setting the option for an older release fails.
      - When not set, authentik 2026.5 and newer get V([authorization_code, refresh_token]), because a provider created
        without grant types rejects every login.
      - V(urn:ietf:params:oauth:grant-type:token-exchange) needs authentik 2026.8 or newer.
    type: list
    elements: str
    choices:
      - authorization_code
      - implicit
      - hybrid
      - refresh_token
      - client_credentials
      - password
      - urn:ietf:params:oauth:grant-type:device_code
      - urn:ietf:params:oauth:grant-type:token-exchange
  sub_mode:
    description:
      - What the C(sub) claim holds. When not set, it is left as it is (authentik's default is V(hashed_user_id)).
    type: str
    choices: [hashed_user_id, user_id, user_uuid, user_username, user_email, user_upn]
  issuer_mode:
    description:
      - V(per_provider) gives each application its own issuer; V(global) uses one issuer for all.
        When not set, it is left as it is (authentik's default is V(per_provider)).
    type: str
    choices: [global, per_provider]
  include_claims_in_id_token:
    description:
      - Whether user claims go into the ID token as well as the userinfo answer. Cloudflare reads them from the ID token.
    type: bool
  access_code_validity:
    description:
      - How long an authorization code is valid, in authentik's format such as V(minutes=1) or V(hours=1;minutes=30).
    type: str
  access_token_validity:
    description:
      - How long an access token is valid, such as V(hours=1).
    type: str
  refresh_token_validity:
    description:
      - How long a refresh token is valid, such as V(days=30).
    type: str
  logout_uri:
    description:
      - The URL authentik calls (back-channel) or sends the browser to (front-channel) when a user logs out.
        V("") removes it. When not set, it is left as it is.
      - Needs authentik 2025.8 or newer. authentik 2025.8 has only back-channel logout and stores the URL in its
        C(backchannel_logout_uri) field; 2025.10 and newer store it in C(logout_uri), with O(logout_method).
    type: str
  logout_method:
    description:
      - How authentik tells the application about a logout. When not set, it is left as it is (authentik's default is
        V(backchannel)).
      - V(frontchannel) needs authentik 2025.10 or newer. V(backchannel) needs 2025.8 or newer; 2025.8 has no such
        field, back-channel being the only method there, so nothing is sent for it.
    type: str
    choices: [backchannel, frontchannel]
  public_url:
    description:
      - The base URL users' browsers and Cloudflare reach authentik at, used to build RV(endpoints). Defaults to O(url),
        which may be an internal address.
    type: str
notes:
  - The OIDC endpoints that depend on the application (issuer, JWKS, discovery, end session) are returned once an
    application is bound to the provider; see M(idpbridge.authentik_cloudflare.authentik_application).
  - "What each authentik release gets: 2024.10 to 2025.6 neither grant types nor logout settings; 2025.8 the logout URL
    as C(backchannel_logout_uri); 2025.10 and newer C(logout_uri) and C(logout_method); 2026.5 and newer
    C(grant_types) (always sent) and a C(redirect_uri_type) per redirect URI (C(logout) entries need 2026.5)."
  - "authentik 2026.11 (client secrets in Secret objects) is supported as far as authentik's source showed it when
    this module was written: the provider's reference C(client_secret_ref) (C(secret) in earlier development
    snapshots, also understood), C(GET /api/v3/secrets/secrets/<uuid>/view_value/) to read a value and
    C(PATCH /api/v3/secrets/secrets/<uuid>/) to set one. The token then needs the permissions Can view Secret, View
    secret's value and Rotate secret's value on the provider's Secret (authentik's initial permissions cover secrets
    it creates with a provider only when configured so). The module never attaches another existing Secret, and
    deleting the provider leaves its Secret in place (System > Secrets)."
seealso:
  - module: idpbridge.authentik_cloudflare.authentik_application
  - module: idpbridge.authentik_cloudflare.authentik_provider_oauth2_info
  - module: idpbridge.authentik_cloudflare.cloudflare_access_identity_provider
"""

EXAMPLES = r"""
- name: An OIDC provider for Cloudflare Access
  idpbridge.authentik_cloudflare.authentik_provider_oauth2:
    url: https://auth.example.com
    token: "{{ vault_authentik_token }}"
    name: cloudflare-access
    redirect_uris:
      - https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
  register: provider

- name: Show the client ID
  ansible.builtin.debug:
    msg: "Client ID {{ provider.end_state.client_id }}, authorize at {{ provider.endpoints.authorize }}"

- name: Use the explicit consent flow and a regex redirect URI (connection from the environment)
  idpbridge.authentik_cloudflare.authentik_provider_oauth2:
    name: cloudflare-access
    authorization_flow: default-provider-authorization-explicit-consent
    redirect_uris:
      - url: https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
        matching_mode: strict
      - url: "https://[a-z]+\\.example\\.com/callback"
        matching_mode: regex
    access_token_validity: minutes=10

- name: Remove the provider
  idpbridge.authentik_cloudflare.authentik_provider_oauth2:
    name: cloudflare-access
    state: absent
"""

RETURN = r"""
existing:
  description: The provider before the run, client secret masked. Empty when it did not exist.
  returned: always
  type: dict
end_state:
  description:
    - The provider as authentik stores it after the run (predicted in check mode), client secret masked. Empty when absent.
    - The role reads its C(pk) and C(client_id) (the App ID in Cloudflare); in check mode, when authentik would create the
      provider, they are None.
  returned: always
  type: dict
  sample:
    pk: 9
    name: cloudflare-access
    client_type: confidential
    client_id: qOhGlpPILx0ChBY9wx994Bs0Ldq2KkqVjkT76Z1h
    client_secret: "********"
    authorization_flow: 892c0a1d-c29a-4a26-9a36-a6bb974d12f5
    invalidation_flow: b18b8a3e-f03d-408a-9e33-367e56d66be9
    signing_key: ca7af4bb-e650-4376-a1d1-44d5d58ee772
    redirect_uris:
      - matching_mode: strict
        url: https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
    assigned_application_slug: cloudflare-access
secret_changed:
  description:
    - Whether this run set a new client secret (on create or on rotation), so the other side must be updated.
    - With authentik 2026.11 and newer, a new provider gets a Secret authentik creates; that counts as a new secret too.
  returned: always
  type: bool
  sample: false
changes:
  description: The names of the fields that were (or in check mode would be) sent.
  returned: always
  type: list
  elements: str
  sample: [access_token_validity]
endpoints:
  description:
    - The OIDC endpoints built from O(public_url). C(issuer), C(jwks), C(openid_configuration) and C(end_session) appear
      once an application is bound.
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

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed, for_option
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    OLDEST_SUPPORTED,
    UNKNOWN_VERSION,
    AuthentikClient,
    authentik_argument_spec,
    needs_release,
    oidc_endpoints,
    release_text,
    secret_ref_key,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import ManagedObject, run
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import concurrently

DEFAULT_GRANT_TYPES = ["authorization_code", "refresh_token"]
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
# the first release with each field (or behaviour) the module handles
GRANT_TYPES_SINCE = (2026, 5)
TOKEN_EXCHANGE_SINCE = (2026, 8)
BACKCHANNEL_LOGOUT_SINCE = (2025, 8)    # backchannel_logout_uri (2025.8 only)
LOGOUT_URI_SINCE = (2025, 10)           # logout_uri + logout_method
SECRET_OBJECT_SINCE = (2026, 11)        # client_secret_ref to a Secret
DURATION = re.compile(r"^(?:(?:weeks|days|hours|minutes|seconds|milliseconds|microseconds)=\d+(?:\.\d+)?;?)+$")
VALIDITIES = ("access_code_validity", "access_token_validity", "refresh_token_validity")
CREDENTIAL_MAX = 255
PLAIN_FIELDS = ("client_type", "sub_mode", "issuer_mode", "include_claims_in_id_token") + VALIDITIES


def normalize_redirect_uris(entries, with_type=False):
    """Redirect URIs as a list of ``{"matching_mode", "url"}`` dicts (strings are strict)."""
    out = []
    for entry in entries or []:
        if isinstance(entry, str):
            item = {"matching_mode": "strict", "url": entry}
        else:
            item = {"matching_mode": entry.get("matching_mode") or "strict", "url": entry.get("url")}
            if with_type:
                item["redirect_uri_type"] = entry.get("redirect_uri_type") or "authorization"
        if with_type:
            item.setdefault("redirect_uri_type", "authorization")
        out.append(item)
    return out


def check_redirect_uris(entries):
    """Raise ValueError for an entry that is neither a URL string nor a ``{url, matching_mode}`` dict."""
    for index, entry in enumerate(entries or []):
        if isinstance(entry, str):
            if not entry:
                raise ValueError("redirect_uris[%d] is empty" % index)
            _check_strict_uri(index, entry)
            continue
        if not isinstance(entry, dict) or not entry.get("url") or not isinstance(entry.get("url"), str):
            raise ValueError("redirect_uris[%d] must be a URL string or a dictionary with a url key" % index)
        unknown = set(entry) - set(("url", "matching_mode", "redirect_uri_type"))
        if unknown:
            raise ValueError("redirect_uris[%d] has unknown keys: %s" % (index, ", ".join(sorted(unknown))))
        if entry.get("matching_mode", "strict") not in ("strict", "regex"):
            raise ValueError("redirect_uris[%d].matching_mode must be strict or regex, got %r" % (index, entry.get("matching_mode")))
        if entry.get("redirect_uri_type", "authorization") not in ("authorization", "logout"):
            raise ValueError("redirect_uris[%d].redirect_uri_type must be authorization or logout, got %r"
                             % (index, entry.get("redirect_uri_type")))
        if entry.get("matching_mode") == "regex":
            try:
                re.compile(entry["url"])
            except re.error as exc:
                raise ValueError("redirect_uris[%d] is not a valid regular expression: %s" % (index, exc))
        else:
            _check_strict_uri(index, entry["url"])


def _check_strict_uri(index, url):
    """A strict redirect URI is compared as given: it must be an absolute URI (a scheme, no white space)."""
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$", url):
        raise ValueError("redirect_uris[%d] must be an absolute URI such as https://team.cloudflareaccess.com/cdn-cgi/access/callback, "
                         "got %r (set matching_mode: regex for a pattern)" % (index, url))


def check_credentials(params):
    """Raise ValueError when client_id or client_secret breaks authentik's limits (never showing the secret)."""
    client_id = params.get("client_id")
    if client_id is not None and not 1 <= len(client_id) <= CREDENTIAL_MAX:
        raise ValueError("client_id must be 1 to %d characters long, got %d" % (CREDENTIAL_MAX, len(client_id)))
    secret = params.get("client_secret")
    if secret is not None and len(secret) > CREDENTIAL_MAX:
        raise ValueError("client_secret must be at most %d characters long, got %d" % (CREDENTIAL_MAX, len(secret)))


class Capabilities:
    """What the server's release has, from an existing provider's fields or, for a new one, its version.

    ``grant_types``: grant types and per-URI types (2026.5); ``logout``: the logout field, None,
    ``"backchannel_logout_uri"`` (2025.8) or ``"logout_uri"`` (2025.10); ``secret_ref``: the key of
    the Secret reference (2026.11) or None when the secret is a plain field; ``known``: whether the
    release is known (False: a new provider on a server whose version could not be read, treated
    as the newest).
    """

    def __init__(self, grant_types, logout, secret_ref, known=True):
        self.grant_types = grant_types
        self.logout = logout
        self.secret_ref = secret_ref
        self.known = known

    @classmethod
    def from_object(cls, obj):
        if "invalidation_flow" not in obj:
            # Providers got an invalidation flow with 2024.10; without one the server is older.
            raise LookupFailed("This authentik is older than %s, the oldest release this collection supports (its OAuth2 "
                               "providers have no invalidation flow); upgrade authentik" % release_text(OLDEST_SUPPORTED))
        logout = "logout_uri" if "logout_uri" in obj else (
            "backchannel_logout_uri" if "backchannel_logout_uri" in obj else None)
        return cls("grant_types" in obj, logout, secret_ref_key(obj))

    @classmethod
    def from_version(cls, version):
        logout = "logout_uri" if version >= LOGOUT_URI_SINCE else (
            "backchannel_logout_uri" if version >= BACKCHANNEL_LOGOUT_SINCE else None)
        return cls(version >= GRANT_TYPES_SINCE, logout,
                   "client_secret_ref" if version >= SECRET_OBJECT_SINCE else None, version != UNKNOWN_VERSION)


def logout_wanted(params, capabilities, running):
    """The logout fields to send for ``logout_uri``/``logout_method``; raise when the release cannot have them."""
    uri, method = params.get("logout_uri"), params.get("logout_method")
    if uri is None and method is None:
        return {}
    if capabilities.logout == "logout_uri":
        return dict((k, v) for k, v in (("logout_uri", uri), ("logout_method", method)) if v is not None)
    if method == "frontchannel":
        raise needs_release("logout_method frontchannel", LOGOUT_URI_SINCE, running)
    if capabilities.logout == "backchannel_logout_uri":
        # 2025.8: back-channel is the only method, so logout_method backchannel needs nothing sent
        return {"backchannel_logout_uri": uri} if uri is not None else {}
    raise needs_release("logout_uri" if uri is not None else "logout_method", BACKCHANNEL_LOGOUT_SINCE, running)


class OAuth2Provider(ManagedObject):
    kind = "OAuth2 provider"
    secret_keys = frozenset(("client_secret",))

    def label(self):
        return "authentik OAuth2 provider %r" % self.params["name"]

    def find(self):
        if self.params["state"] == "present":
            current = self._find_and_prefetch()
        else:
            current = self.client.provider_by_name(self.params["name"])
        # The provider's own fields show what the server's release has; only a new one needs the version.
        if self.params["state"] != "present":
            self.caps = Capabilities(False, None, None)
        elif current is not None:
            self.caps = Capabilities.from_object(current)
        else:
            self.caps = Capabilities.from_version(self.client.version())
        self._new_fields = self.caps.grant_types
        self._with_type = self._new_fields
        return current

    def _find_and_prefetch(self):
        """The provider, looked up at the same time as the flows, key and scopes ``desired()`` needs.

        The lookups do not depend on each other; sent one after another they cost the sum of their
        times (a flow lookup alone takes about half a second on a real authentik), sent together the
        longest one. Their answers wait in the client's per-run cache, their errors are raised when
        ``desired()`` asks, in the order it asks.
        """
        p = self.params
        c = self.client
        slugs = [p["authorization_flow"], p["invalidation_flow"], p.get("authentication_flow")]
        found = {}

        def provider():
            found["provider"] = c.provider_by_name(p["name"])
        calls = [provider, lambda: c.load_flows(slugs), lambda: c.keypair_pk(p["signing_key"]),
                 lambda: c.scope_mappings(p["scopes"])]
        (_found, error) = next(iter(concurrently(calls)))  # the provider's own lookup fails the module
        if error is not None:
            raise error
        return found["provider"]

    def _release(self):
        """The server's release for messages (its version when read, else what its provider's fields show)."""
        return self.client.running("a release before 2026.5 (its providers have no grant types)")

    def normalize(self, obj):
        out = {"name": obj.get("name")}
        for key in PLAIN_FIELDS + ("client_id", "client_secret", "authorization_flow", "invalidation_flow",
                                   "authentication_flow", "signing_key", "logout_uri", "logout_method",
                                   "backchannel_logout_uri"):
            if key in obj:
                out[key] = obj[key]
        out["property_mappings"] = sorted(obj.get("property_mappings") or [])
        out["redirect_uris"] = normalize_redirect_uris(obj.get("redirect_uris"), self._with_type)
        if "grant_types" in obj:
            out["grant_types"] = sorted(obj.get("grant_types") or [])
        key = secret_ref_key(obj)
        if key and self.params.get("client_secret") is not None and obj.get(key) and obj.get("pk") is not None:
            # 2026.11: compare the value of the Secret the provider references (read only when asked for)
            out["client_secret"] = self.client.provider_secret(obj)
        return out

    def desired(self, current):
        p = self.params
        c = self.client
        want = {"name": p["name"], "client_type": p["client_type"]}
        for key in ("client_id", "client_secret") + PLAIN_FIELDS[1:]:
            if p.get(key) is not None:
                want[key] = p[key]
        want["authorization_flow"] = for_option("authorization_flow", c.flow_pk, p["authorization_flow"], "authorization")
        want["invalidation_flow"] = for_option("invalidation_flow", c.flow_pk, p["invalidation_flow"], "invalidation")
        if p.get("authentication_flow") is not None:
            want["authentication_flow"] = (for_option("authentication_flow", c.flow_pk, p["authentication_flow"], "authentication")
                                           if p["authentication_flow"] else None)
        want["signing_key"] = for_option("signing_key", c.keypair_pk, p["signing_key"])
        want["property_mappings"] = sorted(c.scope_mappings(p["scopes"]).values())
        if p.get("redirect_uris") is not None:
            if not self._with_type and any(isinstance(e, dict) and e.get("redirect_uri_type") == "logout"
                                           for e in p["redirect_uris"]):
                raise needs_release("redirect_uri_type logout", GRANT_TYPES_SINCE, self._release(),
                                    "Remove the logout entries")
            uris = normalize_redirect_uris(p["redirect_uris"], self._with_type)
            if not p["purge_redirect_uris"] and current is not None:
                have = normalize_redirect_uris(current.get("redirect_uris"), self._with_type)
                uris = have + [u for u in uris if u not in have]
            want["redirect_uris"] = uris
        if self._new_fields:
            want["grant_types"] = sorted(p["grant_types"] if p.get("grant_types") is not None else DEFAULT_GRANT_TYPES)
            if TOKEN_EXCHANGE in want["grant_types"] and not c.at_least(*TOKEN_EXCHANGE_SINCE):
                raise needs_release("grant type %s" % TOKEN_EXCHANGE, TOKEN_EXCHANGE_SINCE, self._release())
        elif p.get("grant_types") is not None:
            raise needs_release("grant_types", GRANT_TYPES_SINCE, self._release())
        want.update(logout_wanted(p, self.caps, self.client.running(
            "a release before 2025.10 (its providers have no logout_uri)" if self.caps.logout else
            "a release before 2025.8 (its providers have no logout URI)")))
        return want

    def defaults(self):
        # Only what the server fills in and the module compares: the predicted end state and the
        # diff of a create show these. pk, client_id and the secret are unknown until authentik answers.
        return {
            "client_type": "confidential", "authentication_flow": None, "redirect_uris": [], "sub_mode": "hashed_user_id",
            "issuer_mode": "per_provider", "include_claims_in_id_token": True, "access_code_validity": "minutes=1",
            "access_token_validity": "hours=1", "refresh_token_validity": "days=30",
        }

    def create(self, desired):
        body = dict(desired)
        body.setdefault("redirect_uris", [])
        secret = body.pop("client_secret", None) if self.caps.secret_ref or not self.caps.known else None
        created = self.client.post("/providers/oauth2/", body, what="create %s" % self.label())
        if secret is not None:
            if secret_ref_key(created):
                # 2026.11: authentik created a Secret for the provider; it gets the value asked for
                self._set_secret(created, secret)
            elif "client_secret" in created:
                # the version was not readable and the server turned out to have the plain field
                created = self.client.patch("/providers/oauth2/%d/" % created["pk"], {"client_secret": secret},
                                            what="set the client secret of %s" % self.label())
        return created

    def _set_secret(self, provider, value):
        """Write a new client secret into the Secret the provider references (2026.11); one without gets its own."""
        key = secret_ref_key(provider)
        ref = provider.get(key)
        what = "set the client secret of %s" % self.label()
        if ref:
            self.client.set_secret_value(ref, value, what=what)
            return provider
        ref = self.client.create_secret("%s client secret" % self.params["name"], value, what=what)
        return self.client.patch("/providers/oauth2/%d/" % provider["pk"], {key: ref}, what=what)

    def update(self, current, changes, desired):
        body = dict(changes)
        updated = current
        if self.caps.secret_ref and "client_secret" in body:
            updated = self._set_secret(current, body.pop("client_secret"))
        if body:
            updated = self.client.patch("/providers/oauth2/%d/" % current["pk"], body, what="update %s" % self.label())
        return updated

    def delete(self, current):
        self.client.delete("/providers/oauth2/%d/" % current["pk"], what="delete %s" % self.label())

    def present(self, obj):
        out = dict(obj or {})
        # the keys the role reads exist also when check mode predicts a new provider (then None)
        out.setdefault("pk", None)
        out.setdefault("client_id", None)
        return out

    def derived(self, obj):
        p = self.params
        public = p.get("public_url") or self.client.root_url
        return {
            "endpoints": oidc_endpoints(public, obj.get("assigned_application_slug"), obj.get("issuer_mode") or "per_provider"),
        }


def main():
    argument_spec = authentik_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        client_type=dict(type="str", default="confidential", choices=["confidential", "public"]),
        client_id=dict(type="str"),
        client_secret=dict(type="str", no_log=True),
        redirect_uris=dict(type="list", elements="raw"),
        purge_redirect_uris=dict(type="bool", default=True),
        authorization_flow=dict(type="str", default="default-provider-authorization-implicit-consent"),
        invalidation_flow=dict(type="str", default="default-provider-invalidation-flow"),
        authentication_flow=dict(type="str"),
        signing_key=dict(type="str", default="authentik Self-signed Certificate", no_log=False),
        scopes=dict(type="list", elements="str", default=["openid", "email", "profile"]),
        grant_types=dict(type="list", elements="str", choices=[
            "authorization_code", "implicit", "hybrid", "refresh_token", "client_credentials", "password",
            "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange"]),
        sub_mode=dict(type="str", choices=["hashed_user_id", "user_id", "user_uuid", "user_username", "user_email", "user_upn"]),
        issuer_mode=dict(type="str", choices=["global", "per_provider"]),
        include_claims_in_id_token=dict(type="bool"),
        access_code_validity=dict(type="str"),
        access_token_validity=dict(type="str", no_log=False),
        refresh_token_validity=dict(type="str", no_log=False),
        logout_uri=dict(type="str"),
        logout_method=dict(type="str", choices=["backchannel", "frontchannel"]),
        public_url=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    for key in VALIDITIES:
        if p.get(key) is not None and not DURATION.match(p[key]):
            module.fail_json(msg="%s must look like hours=1 or minutes=5;seconds=30 (units: weeks, days, hours, minutes, "
                                 "seconds), got %r" % (key, p[key]))
    try:
        check_redirect_uris(p.get("redirect_uris"))
        check_credentials(p)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    client = AuthentikClient.from_module(module)

    def secret_changed(resource, result):
        return {"secret_changed": bool(result["changed"] and p["state"] == "present"
                                       and (not result["existing"] or "client_secret" in result.get("changes", [])))}

    run(module, lambda: OAuth2Provider(module, client), extra=secret_changed)


if __name__ == "__main__":
    main()
