#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_organization_info
short_description: Read the Cloudflare Access (Zero Trust) organization, its team domain and callback URL
version_added: 0.1.0
description:
  - Reads the Access organization of a Cloudflare account (or, for the legacy zone-level Access, of a zone) and returns
    its team domain (C(auth_domain)), its name and the OpenID Connect callback URL that an identity provider such as
    authentik must allow as redirect URI.
  - Fails with a message that says so when Zero Trust was never set up on the account, since there is no team domain
    then.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.zone
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._attributes.info_module
  - idpbridge.authentik_cloudflare._attributes
options: {}
notes:
  - "The token needs the account permission C(Access: Organizations, Identity Providers, and Groups Read) (or C(Write))."
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_identity_provider
  - module: idpbridge.authentik_cloudflare.authentik_provider_oauth2
"""

EXAMPLES = r"""
- name: Read the team domain
  idpbridge.authentik_cloudflare.cloudflare_access_organization_info:
    api_token: "{{ vault_cloudflare_api_token }}"
    account_id: 0123456789abcdef0123456789abcdef
  register: zero_trust

- name: Allow Cloudflare's callback at authentik
  idpbridge.authentik_cloudflare.authentik_provider_oauth2:
    name: cloudflare-access
    redirect_uris:
      - "{{ zero_trust.callback_url }}"
"""

RETURN = r"""
organization:
  description: The Access organization as Cloudflare returns it.
  returned: success
  type: dict
  sample:
    name: My team
    auth_domain: myteam.cloudflareaccess.com
    session_duration: 24h
    auto_redirect_to_identity: false
team_name:
  description: The team name, the first label of a C(cloudflareaccess.com) team domain.
  returned: when the team domain is under cloudflareaccess.com
  type: str
  sample: myteam
callback_url:
  description: The OpenID Connect redirect URI of Cloudflare Access, C(https://<auth_domain>/cdn-cgi/access/callback).
  returned: success
  type: str
  sample: https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import (
    SECRET_KEYS,
    CloudflareClient,
    callback_url,
    clean_auth_domain,
    cloudflare_argument_spec,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail, sanitize

TEAM_SUFFIX = ".cloudflareaccess.com"


def describe(org):
    """The module result for an organization object."""
    domain = clean_auth_domain(org.get("auth_domain"))
    result = {"organization": sanitize(org, SECRET_KEYS), "callback_url": callback_url(domain),
              "msg": "Access organization %r, team domain %s" % (org.get("name"), domain)}
    if domain.lower().endswith(TEAM_SUFFIX):
        result["team_name"] = domain[: -len(TEAM_SUFFIX)]
    return result


def main():
    module = AnsibleModule(argument_spec=cloudflare_argument_spec(zone=True), supports_check_mode=True)
    client = CloudflareClient.from_module(module)
    try:
        result = describe(client.organization())
    except (ApiError, LookupFailed) as exc:
        fail(module, exc)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
