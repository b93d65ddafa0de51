#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_policy_info
short_description: List or read reusable Cloudflare Access policies
version_added: 0.1.0
description:
  - Lists the reusable Access policies of a Cloudflare Zero Trust account, reading all pages (the API has no name filter).
  - With O(policy_id) reads one policy by id; with O(name) finds the one policy with that name. Two or more policies with
    the name are an error that lists their ids.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._attributes.info_module
  - idpbridge.authentik_cloudflare._attributes
options:
  name:
    description:
      - Return only the policy with this name. Mutually exclusive with O(policy_id).
    type: str
  policy_id:
    description:
      - Return only the policy with this id. Mutually exclusive with O(name).
    type: str
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_policy
  - module: idpbridge.authentik_cloudflare.cloudflare_access_application_info
"""

EXAMPLES = r"""
- name: All reusable policies of the account (connection from CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)
  idpbridge.authentik_cloudflare.cloudflare_access_policy_info:
  register: policies

- name: Policies that no application uses
  ansible.builtin.debug:
    msg: "{{ policies.policies | selectattr('app_count', 'equalto', 0) | map(attribute='name') | list }}"

- name: The Grafana policy
  idpbridge.authentik_cloudflare.cloudflare_access_policy_info:
    name: Grafana
  register: grafana
"""

RETURN = r"""
policies:
  description: The policies found, as Cloudflare returns them (C(app_count) is the number of applications using each).
  returned: always
  type: list
  elements: dict
policy:
  description: The one policy asked for by O(name) or O(policy_id); empty when there is none.
  returned: when O(name) or O(policy_id) is given
  type: dict
exists:
  description: Whether the policy asked for exists.
  returned: when O(name) or O(policy_id) is given
  type: bool
id:
  description: The id of the policy asked for; None when there is none.
  returned: when O(name) or O(policy_id) is given
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import POLICIES, AccessClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import SAFE_ID, cloudflare_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail


def gather(client, params):
    ident, name = params.get("policy_id"), params.get("name")
    items = client.select(POLICIES, ident, name)
    result = {"policies": items}
    if ident or name is not None:
        one = items[0] if items else None
        result.update(policy=one or {}, exists=one is not None, id=one.get("id") if one else None)
    return result


def main():
    spec = cloudflare_argument_spec()
    spec.update(name=dict(type="str"), policy_id=dict(type="str"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, mutually_exclusive=[("name", "policy_id")])
    ident = module.params.get("policy_id")
    if ident is not None and not SAFE_ID.match(ident):
        module.fail_json(msg="policy_id must be a policy id (a UUID), got %r" % ident)
    client = AccessClient.from_module(module)
    try:
        result = gather(client, module.params)
    except (ApiError, LookupFailed) as exc:
        fail(module, exc)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
