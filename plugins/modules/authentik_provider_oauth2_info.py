#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: authentik_provider_oauth2_info
short_description: Read authentik OAuth2/OpenID Connect providers, their application and OIDC endpoints
version_added: 0.1.0
description:
  - Reads one OAuth2/OpenID Connect provider (by name) or all of them (every page), each with the slug of the
    application it is bound to and its OIDC endpoints.
  - Changes nothing, so it runs the same in check mode.
  - "B(This is the one place where the collection hands out a client secret), and only when asked with
    O(include_secret=true). Such a task must run with C(no_log: true): the module refuses to return a secret otherwise,
    so that it cannot end up in the output, a log or a callback by accident."
  - Without O(include_secret), the client secret is masked like everywhere else.
  - With authentik 2026.11 and newer the client secret is a Secret object the provider references; with
    O(include_secret=true) its value is read through the Secret's C(view_value) endpoint (one request per provider),
    which needs the permissions Can view Secret and View secret's value on it.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._authentik
  - idpbridge.authentik_cloudflare._authentik.actiongroup
  - idpbridge.authentik_cloudflare._attributes.info_module
  - idpbridge.authentik_cloudflare._attributes
options:
  name:
    description:
      - Name of the provider to read. When not set, every OAuth2 provider is read.
      - A provider that does not exist is not an error; RV(providers) is then empty.
    type: str
  include_secret:
    description:
      - "B(Returns the client secret in clear) in each provider's C(client_secret) (RV(providers[].client_secret)), for a
        later task that hands it to Cloudflare Access."
      - "The task B(must) set C(no_log: true), otherwise the module fails without reading anything: the secret would
        otherwise show with C(-v), in callbacks and in AWX job events. Keep the registered variable out of C(debug)
        tasks and templates that are logged."
      - A secret you chose yourself does not need this option; pass the same (vaulted) variable to both modules.
    type: bool
    default: false
  public_url:
    description:
      - The base URL users' browsers and Cloudflare reach authentik at, used to build the endpoints. Defaults to O(url).
    type: str
notes:
  - Only OAuth2/OpenID Connect providers are read; other provider types are not listed.
seealso:
  - module: idpbridge.authentik_cloudflare.authentik_provider_oauth2
  - module: idpbridge.authentik_cloudflare.authentik_application
"""

EXAMPLES = r"""
- name: Read the provider and its endpoints
  idpbridge.authentik_cloudflare.authentik_provider_oauth2_info:
    name: cloudflare-access
    public_url: https://auth.example.com
  register: info

- name: Show where Cloudflare finds the keys
  ansible.builtin.debug:
    msg: "{{ info.providers[0].endpoints.jwks }}"

- name: Read the generated client secret for Cloudflare (never without no_log)
  idpbridge.authentik_cloudflare.authentik_provider_oauth2_info:
    name: cloudflare-access
    include_secret: true
  register: provider_secret
  no_log: true

- name: Keep it for the task that configures Cloudflare Access (that task needs no_log too)
  ansible.builtin.set_fact:
    cloudflare_client_secret: "{{ provider_secret.providers[0].client_secret }}"
  no_log: true

- name: List every OAuth2 provider and the application it serves
  idpbridge.authentik_cloudflare.authentik_provider_oauth2_info:
  register: all_providers
"""

RETURN = r"""
providers:
  description:
    - The providers read, as authentik returns them, each with RV(providers[].application) and RV(providers[].endpoints)
      added. C(client_secret) is masked unless O(include_secret=true).
  returned: always
  type: list
  elements: dict
  contains:
    pk:
      description: The provider's primary key.
      type: int
    name:
      description: The provider's name.
      type: str
    client_id:
      description: The client ID.
      type: str
    client_secret:
      description: The client secret, masked as C(********) unless O(include_secret=true).
      type: str
    application:
      description: Slug of the application the provider is bound to; None when unbound.
      type: str
    endpoints:
      description: The OIDC endpoints; the per-application ones only when an application is bound.
      type: dict
  sample:
    - pk: 9
      name: cloudflare-access
      client_id: qOhGlpPILx0ChBY9wx994Bs0Ldq2KkqVjkT76Z1h
      client_secret: "********"
      application: cloudflare-access
      endpoints:
        authorize: https://auth.example.com/application/o/authorize/
        token: https://auth.example.com/application/o/token/
        jwks: https://auth.example.com/application/o/cloudflare-access/jwks/
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    AuthentikClient,
    authentik_argument_spec,
    oidc_endpoints,
    secret_ref_key,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail, sanitize
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import MASK, validate_base_url

SECRET_KEYS = frozenset(("client_secret",))

NO_LOG_NEEDED = ("include_secret=true returns the client secret in clear, so this task must set no_log: true; "
                 "add it to the task (the module read nothing)")


def describe_provider(provider, public_url, include_secret, secret=None):
    """A provider as this module returns it: with its application slug and endpoints, secret masked if asked.

    ``secret`` is the value of the Secret a 2026.11 provider references (read only with ``include_secret``).
    """
    out = dict(provider) if include_secret else sanitize(provider, SECRET_KEYS)
    key = secret_ref_key(provider)
    if key and provider.get(key):
        out["client_secret"] = secret if include_secret else MASK
    slug = provider.get("assigned_application_slug")
    out["application"] = slug
    out["endpoints"] = oidc_endpoints(public_url, slug, provider.get("issuer_mode") or "per_provider")
    return out


def main():
    argument_spec = authentik_argument_spec()
    argument_spec.update(
        name=dict(type="str"),
        include_secret=dict(type="bool", default=False),
        public_url=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if p["include_secret"] and not module.no_log:
        module.fail_json(msg=NO_LOG_NEEDED)
    if p.get("public_url"):
        try:
            validate_base_url(p["public_url"], "public_url")
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    client = AuthentikClient.from_module(module)
    public = p.get("public_url") or client.root_url
    try:
        if p.get("name") is not None:
            one = client.provider_by_name(p["name"])
            found = [one] if one is not None else []
        else:
            found = client.paginate("/providers/oauth2/", {"ordering": "name"}, what="list the OAuth2 providers")
    except (ApiError, LookupFailed) as exc:
        fail(module, exc)
    try:
        secrets = [client.provider_secret(item) if p["include_secret"] else None for item in found]
    except ApiError as exc:
        fail(module, exc)
    providers = [describe_provider(item, public, p["include_secret"], secret) for item, secret in zip(found, secrets)]
    result = {"changed": False, "providers": providers}
    if p.get("name") is not None:
        result["msg"] = ("authentik OAuth2 provider %r found" if providers else
                         "authentik OAuth2 provider %r does not exist") % p["name"]
    else:
        result["msg"] = "%d authentik OAuth2 provider(s) found" % len(providers)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
