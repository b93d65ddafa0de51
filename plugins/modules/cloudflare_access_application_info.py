#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_application_info
short_description: List or read Cloudflare Access applications
version_added: 0.1.0
description:
  - Lists the Access applications of a Cloudflare Zero Trust account or, for the legacy zone-level Access, of a zone,
    reading all pages.
  - With O(application_id) reads one application by id; with O(name) finds the one application with that name (one
    filtered query). Two or more applications with the name are an error that lists their ids.
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
      - Return only the application with this name. Mutually exclusive with O(application_id).
    type: str
  application_id:
    description:
      - Return only the application with this id. Mutually exclusive with O(name).
    type: str
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_application
  - module: idpbridge.authentik_cloudflare.cloudflare_access_policy_info
"""

EXAMPLES = r"""
- name: All Access applications of the account (connection from CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)
  idpbridge.authentik_cloudflare.cloudflare_access_application_info:
  register: apps

- name: Their domains
  ansible.builtin.debug:
    msg: "{{ apps.applications | map(attribute='domain') | list }}"

- name: Grafana
  idpbridge.authentik_cloudflare.cloudflare_access_application_info:
    name: Grafana
  register: grafana
"""

RETURN = r"""
applications:
  description: The applications found, as Cloudflare returns them (linked policies with their C(precedence)).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import APPLICATIONS, AccessClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._info import info_module_args, run_info


def gather(client, params):
    return "applications", client.select(APPLICATIONS, params.get("application_id"), params.get("name")), {}


def main():
    module = AnsibleModule(**info_module_args("application_id"))
    run_info(module, "application_id", "an application id", AccessClient.from_module, gather)


if __name__ == "__main__":
    main()
