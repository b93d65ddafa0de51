#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_identity_provider
short_description: Manage a Cloudflare Access (Zero Trust) login method, such as authentik over OpenID Connect
version_added: 0.1.0
description:
  - Create, update or delete a login method (an Access identity provider) of a Cloudflare Zero Trust account or, for
    the legacy zone-level Access, of a zone.
  - The login method is found by O(name), or by O(identity_provider_id) when that is given. Cloudflare does not keep
    names unique; when two or more login methods carry the name, the module fails and lists their ids instead of guessing.
  - For O(type=oidc) (authentik and any other OpenID Connect provider) the settings are options of their own. Other
    types take their settings as a raw O(config) dictionary.
  - Only the settings you set are compared; Cloudflare's defaults and keys it adds are left alone. Cloudflare replaces
    the whole login method on every update (PUT), so an update sends the current settings with yours on top, and always
    the client secret.
  - Cloudflare never returns the client secret, so it cannot be compared. O(update_secret) says when it is sent.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.zone
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._authentik.from_cloudflare
  - idpbridge.authentik_cloudflare._attributes
attributes:
  diff_mode:
    details:
      - The diff shows the compared settings. The client secret appears as C(********) only when it is sent.
options:
  name:
    description:
      - The login method's name, shown to users on the Cloudflare Access login page. It identifies the login method.
      - Required unless O(identity_provider_id) is given; with O(identity_provider_id), a different O(name) renames the
        login method.
    type: str
  identity_provider_id:
    description:
      - The id (a UUID) of the login method to manage. When set, the login method is looked up by id instead of by name.
      - With O(state=present) the login method must exist, since Cloudflare picks the id of a new one.
    type: str
  known_ids:
    description:
      - Ids of login methods by name, as an earlier task of the same run returned them in RV(login_method_ids) (the
        role passes them from one application to the next).
      - When O(name) is in it and O(identity_provider_id) is not given, the login method is read by that id, one
        request, instead of listing every login method of the account (Cloudflare has no name filter). When that id
        is gone or now carries another name, the login methods are listed after all.
      - Found this way, a second login method of the same name made since the listing is not noticed.
    type: dict
  state:
    description:
      - V(present) creates or updates the login method, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - The kind of login method. V(oidc) is generic OpenID Connect, which is what authentik uses.
      - Cloudflare cannot change the type of an existing login method; see O(recreate).
    type: str
    choices: [onetimepin, azureAD, saml, centrify, facebook, github, google-apps, google, linkedin, oidc, okta, onelogin,
              pingone, yandex, cloudflare]
    default: oidc
  client_id:
    description:
      - The OAuth client ID (Cloudflare's "App ID"), for authentik the provider's client ID.
      - Required to create an V(oidc) login method. Used by every type that has a client ID and secret (all but
        V(onetimepin), V(saml) and V(cloudflare)).
    type: str
  client_secret:
    description:
      - The OAuth client secret. Never logged and never returned; a diff shows it as C(********) when it is sent.
      - Required to create an V(oidc) login method, and for every update of a type that has a secret, because Cloudflare
        replaces the whole configuration on update and does not return the stored secret.
      - Used by every type that has a client secret; for those, give the secret here and not in O(config).
    type: str
  client_secret_from_provider:
    description:
      - Name of an authentik OAuth2/OpenID provider whose client secret is the login method's client secret, for when
        O(client_secret) is not given. The module reads the secret from authentik only when it has to send it, that is when
        the login method is created, when another setting changes, or with O(update_secret=always). A rerun that changes
        nothing sends no request to authentik.
      - Needs O(authentik_url) and O(authentik_token) (a token that may read that provider and its client secret),
        which the module uses for nothing else. Mutually exclusive with O(client_secret).
      - In check mode, a provider that does not exist yet is assumed to be created by an earlier task of the play.
    type: str
  update_secret:
    description:
      - V(on_create) sends O(client_secret) when the login method is created and with every update that another setting
        causes; a secret alone never causes a change, so a rerun changes nothing.
      - V(always) sends O(client_secret) on every run and reports a change each time. Use it once after rotating the
        secret in authentik.
    type: str
    choices: [on_create, always]
    default: on_create
  auth_url:
    description:
      - The authorization endpoint of the OpenID Connect provider, for authentik
        C(https://auth.example.com/application/o/authorize/). Only for O(type=oidc); required to create.
    type: str
  token_url:
    description:
      - The token endpoint, for authentik C(https://auth.example.com/application/o/token/). Only for O(type=oidc);
        required to create.
    type: str
  certs_url:
    description:
      - The JWKS endpoint (C(jwks_uri)), for authentik C(https://auth.example.com/application/o/<application slug>/jwks/).
        Only for O(type=oidc); required to create.
    type: str
  scopes:
    description:
      - The OAuth scopes Cloudflare asks for. Compared as a set. Only for O(type=oidc).
      - When not set, a new login method gets V([openid, email, profile]) and an existing one keeps its scopes.
    type: list
    elements: str
  claims:
    description:
      - Extra claims of the ID token that Cloudflare copies into the user's identity, so that Access policies can match
        them (for example V(groups)). Compared as a set. Only for O(type=oidc).
    type: list
    elements: str
  email_claim_name:
    description:
      - The ID token claim that holds the user's e-mail address (Cloudflare uses V(email) when not set). Only for O(type=oidc).
    type: str
  pkce_enabled:
    description:
      - Whether Cloudflare uses PKCE (Proof Key for Code Exchange) for every login. Only for O(type=oidc).
    type: bool
  config:
    description:
      - The raw C(config) of a login method of another type, as the Cloudflare API names it (for example
        C(okta_account) for V(okta), C(sso_target_url) for V(saml)). Only the keys given are compared.
      - With O(type=oidc) it may add keys that have no option of their own; a key may not be set both here and as an option.
      - Never put C(client_secret) here; use O(client_secret), which is hidden from logs.
    type: dict
  scim_config:
    description:
      - SCIM provisioning settings. Only the keys given are compared; when not set, the settings are left as they are.
      - Cloudflare shows the SCIM secret only once, when SCIM is first enabled; see RV(scim_secret).
      - The same settings as the O(scim_enabled), O(scim_user_deprovision), O(scim_seat_deprovision) and
        O(scim_identity_update_behavior) options; use one form or the other.
    type: dict
    suboptions:
      enabled:
        description: Whether SCIM provisioning is on.
        type: bool
      user_deprovision:
        description: Revoke a user's sessions in Access and Gateway when the user is deprovisioned.
        type: bool
      seat_deprovision:
        description: Free a deprovisioned user's Zero Trust seat. Needs O(scim_config.user_deprovision).
        type: bool
      identity_update_behavior:
        description: How SCIM updates change users' identities.
        type: str
        choices: [automatic, reauth, no_action]
  scim_enabled:
    description:
      - Whether SCIM provisioning is on for the login method (so that an identity provider such as authentik can push
        users and groups to Cloudflare). When not set, it is left as it is.
      - "Switching SCIM on makes Cloudflare show the login method's SCIM secret, once, in its answer. The module returns
        it in RV(scim_secret) so a later task can hand it to the SCIM client, B(and so the task must set C(no_log: true)):
        otherwise the module fails before changing anything."
    type: bool
  scim_user_deprovision:
    description: Revoke a user's sessions in Access and Gateway when the SCIM client deprovisions the user.
    type: bool
  scim_seat_deprovision:
    description: Also free a deprovisioned user's Zero Trust seat. Needs O(scim_user_deprovision).
    type: bool
  scim_identity_update_behavior:
    description:
      - How SCIM updates change the identity used in policies. V(automatic) updates it with the SCIM user's fields,
        V(reauth) asks the user to sign in again after a group change, V(no_action) leaves it alone.
    type: str
    choices: [automatic, reauth, no_action]
  scim_rotate_secret:
    description:
      - "Ask Cloudflare for a new SCIM secret (its refresh call), for a lost or leaked one: the old secret stops working.
        The new one is returned in RV(scim_secret); the task must set C(no_log: true). Reports a change on every run
        where it is set, so set it only when a new secret is wanted. Needs SCIM to be on."
    type: bool
    default: false
  recreate:
    description:
      - When the login method exists with another O(type), V(true) deletes it and creates a new one (with a new id, so
        Access applications and policies that name the old id must be updated). V(false) fails instead.
    type: bool
    default: false
notes:
  - The callback URL to register at the OpenID Connect provider is RV(callback_url),
    C(https://<team>.cloudflareaccess.com/cdn-cgi/access/callback).
  - RV(test_url) and RV(callback_url) need the team domain. The module takes it from the login methods it read
    (Cloudflare reports the callback URL in C(config.redirect_url)), otherwise it reads the Access organization once.
    When that read fails, the module warns and leaves both out; the login method itself is still managed.
  - A login method marked C(read_only) by Cloudflare is managed elsewhere and cannot be changed or deleted through the
    API; the module refuses to try.
  - The module sends at most one write request per run (two with O(recreate)), none in check mode or when nothing changes.
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_info
  - module: idpbridge.authentik_cloudflare.cloudflare_access_organization_info
  - module: idpbridge.authentik_cloudflare.authentik_provider_oauth2
  - name: Generic OIDC login method
    description: Cloudflare's guide to OpenID Connect login methods.
    link: https://developers.cloudflare.com/cloudflare-one/integrations/identity-providers/generic-oidc/
"""

EXAMPLES = r"""
- name: authentik as the OpenID Connect login method of the Zero Trust account
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider:
    api_token: "{{ vault_cloudflare_api_token }}"
    account_id: 0123456789abcdef0123456789abcdef
    name: authentik
    type: oidc
    client_id: "{{ provider.end_state.client_id }}"
    client_secret: "{{ vault_authentik_client_secret }}"
    auth_url: https://auth.example.com/application/o/authorize/
    token_url: https://auth.example.com/application/o/token/
    certs_url: https://auth.example.com/application/o/cloudflare-access/jwks/
    claims: [groups, preferred_username]
    pkce_enabled: true
  register: login_method

- name: Show where to test it
  ansible.builtin.debug:
    msg: "Login method {{ login_method.end_state.id }}: test it at {{ login_method.test_url | default('(team domain unknown)') }}"

- name: Push a rotated client secret (connection from CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider:
    name: authentik
    client_id: "{{ provider.end_state.client_id }}"
    client_secret: "{{ new_client_secret }}"
    auth_url: https://auth.example.com/application/o/authorize/
    token_url: https://auth.example.com/application/o/token/
    certs_url: https://auth.example.com/application/o/cloudflare-access/jwks/
    update_secret: always
  no_log: true

- name: An Okta login method, settings as a raw config
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider:
    name: Okta
    type: okta
    client_id: "{{ okta_client_id }}"
    client_secret: "{{ vault_okta_client_secret }}"
    config:
      okta_account: https://example.okta.com

- name: Remove the login method
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider:
    name: authentik
    state: absent
"""

RETURN = r"""
login_method_ids:
  description:
    - The ids of the login methods of the account by name, when this run listed them (names held by one login method
      only), and this login method's own; give them to a later task as O(known_ids) to spare it the listing.
  returned: always
  type: dict
  sample: {authentik: 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b}
existing:
  description: The login method before the run, without the client secret. Empty when it did not exist.
  returned: always
  type: dict
end_state:
  description:
    - The login method after the run (predicted in check mode), without the client secret. Empty when absent.
    - Cloudflare adds keys of its own, such as C(config.redirect_url), C(scim_config) and C(read_only).
  returned: always
  type: dict
  contains:
    id:
      description: The login method's id. None in check mode when it would be created.
      type: str
      sample: 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b
    name:
      description: The name.
      type: str
      sample: authentik
    type:
      description: The type.
      type: str
      sample: oidc
    config:
      description: The configuration, without C(client_secret).
      type: dict
      sample:
        client_id: qOhGlpPILx0ChBY9wx994Bs0Ldq2KkqVjkT76Z1h
        auth_url: https://auth.example.com/application/o/authorize/
        token_url: https://auth.example.com/application/o/token/
        certs_url: https://auth.example.com/application/o/cloudflare-access/jwks/
        scopes: [email, openid, profile]
        claims: [groups]
        email_claim_name: email
        pkce_enabled: true
        redirect_url: https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
    scim_config:
      description: The SCIM settings; a SCIM secret is masked.
      type: dict
      sample: {enabled: false, user_deprovision: false, seat_deprovision: false, identity_update_behavior: no_action}
    read_only:
      description: Whether Cloudflare refuses API changes to this login method.
      type: bool
      sample: false
test_url:
  description: The dashboard's test link for the login method; open it to try a login.
  returned: when state is present, the id is known and the team domain is known
  type: str
  sample: https://myteam.cloudflareaccess.com/cdn-cgi/access/test-idp/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b
callback_url:
  description: The redirect URI to register at the OpenID Connect provider.
  returned: when state is present and the team domain is known
  type: str
  sample: https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
changes:
  description: The top-level fields that were (or in check mode would be) sent as changed.
  returned: always
  type: list
  elements: str
  sample: [config]
scim_base_url:
  description:
    - The URL a SCIM client pushes to, C(scim_config.scim_base_url) as Cloudflare reports it, else
      C(https://<team domain>/populations/<login method id>/scim/v2).
  returned: when SCIM is on
  type: str
  sample: https://myteam.cloudflareaccess.com/populations/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/scim/v2
scim_secret:
  description:
    - The login method's SCIM secret, B(only) in the run where Cloudflare showed it (SCIM switched on, or
      O(scim_rotate_secret)); the task then runs with C(no_log) (enforced). It is masked everywhere else, also in
      RV(end_state). Hand it to the SCIM client in the next task, such as the token of
      M(idpbridge.authentik_cloudflare.authentik_provider_scim), and keep the registered variable out of logged tasks.
  returned: when Cloudflare showed a SCIM secret in this run
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import (
    SAFE_ID,
    SECRET_KEYS,
    check_url,
    cloudflare_argument_spec,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import (
    ManagedObject, differences, run,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import AuthentikClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._login_method import (
    IDP_TYPES,
    LOGIN_METHODS,
    NO_LOG_FOR_SCIM_SECRET,
    OIDC_OPTIONS,
    OIDC_REQUIRED,
    OIDC_URLS,
    SECRET_TYPES,
    LoginMethodClient,
    config_options,
    create_body,
    fresh_scim_secret,
    login_method_ids,
    merge_scim_options,
    missing_for_create,
    normalize_identity_provider,
    present_identity_provider,
    put_body,
    scim_result,
    scim_secret_coming,
    secret_goes_out,
    team_urls,
    wanted_config,
)

UNKNOWN_ID = ("No login method has the id %s in %s; Cloudflare picks the id of a new login method, so leave "
              "identity_provider_id out to create one by name")


def check_params(params):
    """Raise ``ValueError`` for options that cannot work, before any request is sent."""
    idp_type = params["type"]
    if params.get("name") is not None and not params["name"].strip():
        raise ValueError("name must not be empty")
    ident = params.get("identity_provider_id")
    if ident is not None and not SAFE_ID.match(ident):
        raise ValueError("identity_provider_id must be a login method id (a UUID), got %r" % ident)
    if idp_type != "oidc":
        given = [key for key in OIDC_OPTIONS if params.get(key) is not None]
        if given:
            raise ValueError("%s only apply to type oidc; for type %s put the settings into config"
                             % (", ".join(given), idp_type))
    if idp_type not in SECRET_TYPES:
        given = [key for key in ("client_id", "client_secret") if params.get(key) is not None]
        if given:
            raise ValueError("A login method of type %s has no %s; leave %s out"
                             % (idp_type, " or ".join(given), " and ".join(given)))
    for key in OIDC_URLS:
        if params.get(key) is not None:
            check_url(params[key], key)
    config = params.get("config") or {}
    if "client_secret" in config:
        raise ValueError("Do not put client_secret into config, where logs would show it: use the client_secret option")
    both = [key for key in config_options(idp_type) if key in config and params.get(key) is not None]
    if both:
        raise ValueError("%s set both as an option and in config; set each once" % ", ".join(both))
    if idp_type == "oidc":
        for key in OIDC_URLS:
            if key in config:
                check_url(config[key], "config.%s" % key)
    if params["update_secret"] == "always" and params["state"] == "present" and not params.get("client_secret") \
            and not params.get("client_secret_from_provider"):
        raise ValueError("update_secret=always needs client_secret: there is no secret to send")
    if params.get("client_secret_from_provider") is not None:
        if params.get("client_secret") is not None:
            raise ValueError("Give either client_secret or client_secret_from_provider, not both")
        if idp_type not in SECRET_TYPES:
            raise ValueError("A login method of type %s has no client secret; leave client_secret_from_provider out"
                             % idp_type)
        missing = [key for key in ("authentik_url", "authentik_token") if not params.get(key)]
        if missing:
            raise ValueError("client_secret_from_provider needs %s (or the environment variables AUTHENTIK_URL and "
                             "AUTHENTIK_TOKEN)" % " and ".join(missing))


class IdentityProvider(ManagedObject):
    kind = "login method"
    secret_keys = SECRET_KEYS

    def __init__(self, module, client, read_secret=None):
        super(IdentityProvider, self).__init__(module, client)
        self.read_secret = read_secret  # reads the secret from authentik (client_secret_from_provider), or None
        self.recreating = False
        self.send_config = {}
        self.end = None
        self._found_name = None
        self.scim_secret = None  # shown by Cloudflare in this run's answer only (see scim_result)

    def label(self):
        name = self.params.get("name") or self._found_name
        if name:
            return "Cloudflare login method %r in %s" % (name, self.client.scope)
        return "Cloudflare login method %s in %s" % (self.params["identity_provider_id"], self.client.scope)

    def find(self):
        p = self.params
        found = None
        if not p.get("identity_provider_id"):
            found = self.client.identity_provider_by_known_id(p["name"], p.get("known_ids"))
        if found is None:
            found = self.client.find_by_name_or_id(LOGIN_METHODS, p.get("identity_provider_id"), p.get("name"),
                                                   unknown_id=UNKNOWN_ID if p["state"] == "present" else None)
        if found is not None:
            self._found_name = found.get("name")
        return found

    def normalize(self, obj):
        return normalize_identity_provider(obj)

    def type_changes(self, current):
        return current is not None and current.get("type") != self.params["type"]

    def desired(self, current):
        p = self.params
        if self.read_secret is not None and p.get("client_secret") is None and p["state"] == "present":
            # The secret is read from authentik only when it has to go out: on create, with an update (Cloudflare
            # replaces the whole configuration) or when asked to send it every time.
            if current is None or self.type_changes(current) or p["update_secret"] == "always":
                p["client_secret"] = self.read_secret()
            else:
                want = self._desired(current)
                if not differences(self.normalize(current), want):
                    return want
                p["client_secret"] = self.read_secret()
        return self._desired(current)

    def _desired(self, current):
        p = self.params
        creating = current is None or (self.type_changes(current) and p["recreate"] and not current.get("read_only"))
        config = wanted_config(p, creating)
        self.send_config = wanted_config(p, creating, normalized=False)
        if creating:
            missing = missing_for_create(p, config)
            if missing:
                raise Refused("Creating the %s login method %r needs %s; missing: %s"
                              % (p["type"], p.get("name") or self._found_name, ", ".join(OIDC_REQUIRED), ", ".join(missing)))
        if secret_goes_out(p, creating):
            config["client_secret"] = p["client_secret"]
        want = {"name": p.get("name") or (current or {}).get("name"), "type": p["type"], "config": config}
        if p.get("scim_config") is not None:
            want["scim_config"] = dict((k, v) for k, v in p["scim_config"].items() if v is not None)
        if scim_secret_coming(current, want, p.get("scim_rotate_secret")) and not self.module.no_log:
            raise Refused(NO_LOG_FOR_SCIM_SECRET)
        return want

    def refuse(self, current, desired):
        p = self.params
        if current.get("read_only"):
            raise Refused("%s (id %s) is read_only: it is managed outside the API (for example by Cloudflare itself or "
                          "another tool) and Cloudflare refuses to change or delete it through the API. Manage it where it "
                          "is defined, or pick another name" % (self.label(), current.get("id")))
        if desired is None:
            return
        if self.type_changes(current):
            if not p["recreate"]:
                raise Refused("%s (id %s) is of type %s, not %s, and Cloudflare cannot change the type of a login method. "
                              "Set recreate: true to delete it and create a new one (its id changes, so Access "
                              "applications and policies that name the old id must be updated), or use another name"
                              % (self.label(), current.get("id"), current.get("type"), p["type"]))
            self.recreating = True
            return
        if current.get("type") in SECRET_TYPES and not p.get("client_secret"):
            changed = sorted(differences(self.normalize(current), desired))
            raise Refused("%s needs an update (%s), and Cloudflare replaces the whole configuration on update but never "
                          "returns the stored client secret, so the update must carry it: give client_secret"
                          % (self.label(), ", ".join(changed)))

    def to_send(self, desired):
        """``desired`` with the config as the user gave it (list order kept) instead of the comparable form."""
        return dict(desired, config=self.send_config)

    def create(self, desired):
        body = create_body(self.to_send(desired), self.params.get("client_secret"))
        result = self.client.result("POST", self.client.idp_path, body=body, what="create %s" % self.label())
        self.keep_scim_secret(result)
        if not isinstance(result, dict):
            return body
        return self.settle_race(result)

    def settle_race(self, created):
        """Cloudflare does not keep names unique and returns no creation time: when another run created a login
        method of the same name at the same time, the run that sees both keeps the one with the lowest id and deletes
        the others (every interleaving ends with one: a run that saw only its own is settled by the other)."""
        if self.params.get("identity_provider_id") or not created.get("id"):
            return created
        copies = self.client.copies_after_create(created, self.params["name"])
        if copies is None:
            return created
        keep, others = copies
        self.module.warn("Another run created a login method named %r at the same time; keeping one (id %s) and "
                         "deleting the copies (%s)" % (keep.get("name"), keep["id"], ", ".join(str(o["id"]) for o in others)))
        for other in others:
            self.delete(other)
        return keep

    def keep_scim_secret(self, answer):
        secret = fresh_scim_secret(answer)
        if secret:
            self.scim_secret = secret
            self.client.redact.add(secret)

    def update(self, current, changes, desired):
        if self.recreating:
            self.delete(current)
            try:
                return self.create(desired)
            except ApiError as exc:
                raise exc.with_context("The old login method %s was deleted, but its replacement was not created; "
                                       "rerun to create it" % current.get("id"))
        body = put_body(current, self.to_send(desired), self.params.get("client_secret"))
        result = self.client.result("PUT", self.client.idp_item_path(current["id"]), body=body,
                                    what="update %s" % self.label())
        self.keep_scim_secret(result)
        return result if isinstance(result, dict) else dict(body, id=current["id"])

    def delete(self, current):
        self.client.call("DELETE", self.client.idp_item_path(current["id"]), ok_statuses=(404,),
                         what="delete %s (id %s)" % (self.label(), current.get("id")))

    def present(self, obj):
        out = present_identity_provider(obj)
        if self.recreating and self.module.check_mode:
            out["id"] = None
        out.setdefault("id", None)
        return out

    def derived(self, obj):
        self.end = obj  # the login method after the run, as the API returned it (for team_urls and scim_result)
        return {}


def argument_spec():
    spec = cloudflare_argument_spec(zone=True)
    spec.update(
        name=dict(type="str"),
        identity_provider_id=dict(type="str"),
        known_ids=dict(type="dict"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        type=dict(type="str", default="oidc", choices=list(IDP_TYPES)),
        client_id=dict(type="str"),
        client_secret=dict(type="str", no_log=True),
        update_secret=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
        auth_url=dict(type="str"),
        token_url=dict(type="str", no_log=False),
        certs_url=dict(type="str"),
        scopes=dict(type="list", elements="str"),
        claims=dict(type="list", elements="str"),
        email_claim_name=dict(type="str"),
        pkce_enabled=dict(type="bool"),
        config=dict(type="dict"),
        scim_config=dict(type="dict", options=dict(
            enabled=dict(type="bool"),
            user_deprovision=dict(type="bool"),
            seat_deprovision=dict(type="bool"),
            identity_update_behavior=dict(type="str", choices=["automatic", "reauth", "no_action"]),
        )),
        scim_enabled=dict(type="bool"),
        scim_user_deprovision=dict(type="bool"),
        scim_seat_deprovision=dict(type="bool"),
        scim_identity_update_behavior=dict(type="str", choices=["automatic", "reauth", "no_action"]),
        scim_rotate_secret=dict(type="bool", default=False, no_log=False),
        recreate=dict(type="bool", default=False),
        client_secret_from_provider=dict(type="str", no_log=False),
        authentik_url=dict(type="str", fallback=(env_fallback, ["AUTHENTIK_URL"])),
        authentik_token=dict(type="str", no_log=True, fallback=(env_fallback, ["AUTHENTIK_TOKEN"])),
        authentik_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["AUTHENTIK_VALIDATE_CERTS"])),
        authentik_ca_path=dict(type="path", fallback=(env_fallback, ["AUTHENTIK_CA_PATH"])),
    )
    return spec


def secret_reader(module, redact):
    """A function that reads the client secret of the provider ``client_secret_from_provider`` from authentik."""
    name = module.params["client_secret_from_provider"]

    def read():
        authentik = AuthentikClient.from_module(module, prefix="authentik_")
        provider = authentik.provider_by_name(name)
        if provider is None:
            if module.check_mode:
                # In a check-mode run of a play, the task that creates the provider only pretended to.
                return "not-known-in-check-mode"
            raise LookupFailed("No authentik OAuth2 provider is named %r, so there is no client secret to read for the "
                               "login method (client_secret_from_provider)" % name)
        secret = authentik.provider_secret(provider)
        if not secret:
            raise LookupFailed("The authentik OAuth2 provider %r has no client secret (a public client?); give "
                               "client_secret or make the provider confidential" % name)
        redact.add(secret)
        module.no_log_values.add(secret)
        return secret
    return read


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_one_of=[("name", "identity_provider_id")],
    )
    try:
        check_params(module.params)
        merge_scim_options(module.params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    client = LoginMethodClient.from_module(module)
    if module.params.get("client_secret"):
        client.redact.add(module.params["client_secret"])
    reader = secret_reader(module, client.redact) if module.params.get("client_secret_from_provider") else None

    def extra(resource, result):
        out = team_urls(client, resource, result)
        out.update(scim_result(module, client, resource, result))
        out["login_method_ids"] = login_method_ids(client, module.params, result)
        return out
    run(module, lambda: IdentityProvider(module, client, reader), extra=extra)


if __name__ == "__main__":
    main()
