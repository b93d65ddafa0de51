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
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import POLICIES, AccessClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._info import info_module_args, run_info


def gather(client, params):
    return "policies", client.select(POLICIES, params.get("policy_id"), params.get("name")), {}


def main():
    module = AnsibleModule(**info_module_args("policy_id", zone=False))
    run_info(module, "policy_id", "a policy id", AccessClient.from_module, gather)


if __name__ == "__main__":
    main()
