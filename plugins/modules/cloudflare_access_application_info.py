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
application:
  description: The one application asked for by O(name) or O(application_id); empty when there is none.
  returned: when O(name) or O(application_id) is given
  type: dict
exists:
  description: Whether the application asked for exists.
  returned: when O(name) or O(application_id) is given
  type: bool
id:
  description: The id of the application asked for; None when there is none.
  returned: when O(name) or O(application_id) is given
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import APPLICATIONS, AccessClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import SAFE_ID, cloudflare_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail


def gather(client, params):
    ident, name = params.get("application_id"), params.get("name")
    items = client.select(APPLICATIONS, ident, name)
    result = {"applications": items}
    if ident or name is not None:
        one = items[0] if items else None
        result.update(application=one or {}, exists=one is not None, id=one.get("id") if one else None)
    return result


def main():
    spec = cloudflare_argument_spec(zone=True)
    spec.update(name=dict(type="str"), application_id=dict(type="str"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, mutually_exclusive=[("name", "application_id")])
    ident = module.params.get("application_id")
    if ident is not None and not SAFE_ID.match(ident):
        module.fail_json(msg="application_id must be an application id (a UUID), got %r" % ident)
    client = AccessClient.from_module(module)
    try:
        result = gather(client, module.params)
    except (ApiError, LookupFailed) as exc:
        fail(module, exc)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
