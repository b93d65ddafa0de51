#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_identity_provider_info
short_description: List or read Cloudflare Access (Zero Trust) login methods
version_added: 0.1.0
description:
  - Lists every login method (Access identity provider) of a Cloudflare Zero Trust account or, for the legacy zone-level
    Access, of a zone, reading all pages.
  - With O(identity_provider_id) reads one login method by id; with O(name) finds the one login method with that name.
    Two or more login methods with the name are an error that lists their ids.
  - Client secrets are never returned (Cloudflare does not return them either); SCIM secrets are masked.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.zone
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._attributes.info_module
  - idpbridge.authentik_cloudflare._attributes
options:
  name:
    description:
      - Return only the login method with this name. Mutually exclusive with O(identity_provider_id).
    type: str
  identity_provider_id:
    description:
      - Return only the login method with this id (a UUID). Mutually exclusive with O(name).
    type: str
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_identity_provider
  - module: idpbridge.authentik_cloudflare.cloudflare_access_organization_info
"""

EXAMPLES = r"""
- name: All login methods of the account (connection from CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_info:
  register: login_methods

- name: Their names and ids
  ansible.builtin.debug:
    msg: "{{ login_methods.identity_providers | items2dict(key_name='name', value_name='id') }}"

- name: The authentik login method
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_info:
    api_token: "{{ vault_cloudflare_api_token }}"
    account_id: 0123456789abcdef0123456789abcdef
    name: authentik
  register: authentik_login

- name: Fail when it is missing
  ansible.builtin.assert:
    that: authentik_login.identity_providers | length == 1
    fail_msg: The authentik login method is not set up yet
"""

RETURN = r"""
identity_providers:
  description:
    - The login methods found, without client secrets. With O(name) or O(identity_provider_id), zero or one.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b
      name: authentik
      type: oidc
      config:
        client_id: qOhGlpPILx0ChBY9wx994Bs0Ldq2KkqVjkT76Z1h
        auth_url: https://auth.example.com/application/o/authorize/
        token_url: https://auth.example.com/application/o/token/
        certs_url: https://auth.example.com/application/o/cloudflare-access/jwks/
        scopes: [openid, email, profile]
        redirect_url: https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
      scim_config: {enabled: false}
      read_only: false
test_url:
  description: The dashboard's test link for the login method asked for.
  returned: when the login method asked for exists and the team domain is known
  type: str
  sample: https://myteam.cloudflareaccess.com/cdn-cgi/access/test-idp/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b
callback_url:
  description: The redirect URI to register at an OpenID Connect provider.
  returned: when the team domain is known
  type: str
  sample: https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import SECRET_KEYS, callback_url
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._login_method import (
    LOGIN_METHODS,
    LoginMethodClient,
    idp_test_url,
    present_identity_provider,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import sanitize
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._info import info_module_args, run_info


def shown(obj):
    return sanitize(present_identity_provider(obj), SECRET_KEYS)


def gather(client, params):
    items = client.select(LOGIN_METHODS, params.get("identity_provider_id"), params.get("name"))
    extra = {}
    domain = client.team_domain(items)
    if domain:
        extra["callback_url"] = callback_url(domain)
        asked = params.get("identity_provider_id") or params.get("name") is not None
        if asked and items and items[0].get("id"):
            extra["test_url"] = idp_test_url(domain, items[0]["id"])
    return "identity_providers", [shown(item) for item in items], extra


def main():
    module = AnsibleModule(**info_module_args("identity_provider_id"))
    run_info(module, "identity_provider_id", "a login method id", LoginMethodClient.from_module, gather)


if __name__ == "__main__":
    main()
