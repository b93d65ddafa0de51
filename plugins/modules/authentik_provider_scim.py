#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: authentik_provider_scim
short_description: Manage an authentik SCIM provider, which pushes users and groups to a SCIM service
version_added: 0.2.0
description:
  - Create, update or delete an outgoing SCIM provider in authentik, identified by its name, and optionally start a
    full sync.
  - authentik pushes the users of the application the provider is attached to (see the C(backchannel_providers) option
    of M(idpbridge.authentik_cloudflare.authentik_application)) and B(all) groups, unless O(group_filters) limits them.
    With no policy binding on that application, B(every) user is pushed, the admin and service accounts included.
  - Only the options you set are compared, and an update sends only the fields that differ (PATCH). Every save of a
    provider starts a full sync in authentik.
  - Works with authentik 2024.10 and newer. The fields differ by release; an option a release cannot honour fails and
    names the release it needs.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._authentik
  - idpbridge.authentik_cloudflare._authentik.actiongroup
  - idpbridge.authentik_cloudflare._attributes
options:
  name:
    description: The provider's name, unique among authentik's providers. It identifies the provider.
    type: str
    required: true
  scim_url:
    description:
      - The SCIM service's base URL, usually ending in C(/v2); authentik adds C(/Users), C(/Groups) and
        C(/ServiceProviderConfig). For Cloudflare Access, the login method's SCIM base URL.
      - Required to create the provider.
    type: str
  scim_token:
    description:
      - The bearer token authentik sends to the SCIM service (for Cloudflare Access, the login method's SCIM secret).
      - Required to create the provider on authentik before 2025.10.
      - Up to 2026.2.2 authentik returns the token, so it is compared; later releases never return it, and then
        O(update_token) says when it is sent.
    type: str
  update_token:
    description:
      - When authentik does not return the token (2026.2.7 and later), V(on_create) sends it only when the provider is
        created; V(always) sends it on every run (and reports a change). Where the token is returned it is compared.
    type: str
    choices: [on_create, always]
    default: on_create
  property_mappings:
    description:
      - The user property mappings, by name or managed id. When the provider is created without them, authentik's
        default C(goauthentik.io/providers/scim/user) is used (the API does not fill it in by itself).
    type: list
    elements: str
  property_mappings_group:
    description:
      - The group property mappings, by name or managed id. Default on create C(goauthentik.io/providers/scim/group).
    type: list
    elements: str
  group_filters:
    description:
      - Names of the groups to push; V([]) pushes all groups (authentik's default).
      - Before authentik 2026.2 only one group can be given (the provider's C(filter_group)).
    type: list
    elements: str
  exclude_users_service_account:
    description: Whether service accounts are left out of the push.
    type: bool
  dry_run:
    description:
      - With V(true) authentik reads from the SCIM service but sends no change (it logs what it would send). Needs
        authentik 2025.4 or newer.
    type: bool
  compatibility_mode:
    description: authentik's adjustments for some SCIM services. Needs authentik 2025.4 or newer.
    type: str
    choices: [default, aws, slack, sfdc, gitlab, vcenter, webex]
  verify_certificates:
    description: Whether authentik checks the SCIM service's TLS certificate.
    type: bool
  start_sync:
    description:
      - Start a full sync after the provider is ensured (through its task schedule from 2025.8, before by saving the
        provider unchanged). It counts as a change. Not done in check mode.
    type: bool
    default: false
  state:
    description: V(present) to create or update the provider, V(absent) to delete it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Deleting the application the provider is attached to deletes the provider too (authentik cascades it).
  - Follow a sync with M(idpbridge.authentik_cloudflare.authentik_provider_scim_info) and its
    O(idpbridge.authentik_cloudflare.authentik_provider_scim_info#module:wait=true).
seealso:
  - module: idpbridge.authentik_cloudflare.authentik_provider_scim_info
  - module: idpbridge.authentik_cloudflare.authentik_application
  - module: idpbridge.authentik_cloudflare.cloudflare_access_identity_provider
"""

EXAMPLES = r"""
- name: Push users and groups to Cloudflare Access
  idpbridge.authentik_cloudflare.authentik_provider_scim:
    name: cloudflare-access-scim
    scim_url: "{{ login_method.scim_base_url }}"
    scim_token: "{{ login_method.scim_secret }}"

- name: Only the engineering group, and try it first without writing
  idpbridge.authentik_cloudflare.authentik_provider_scim:
    name: cloudflare-access-scim
    group_filters: [engineering]
    dry_run: true

- name: Remove it
  idpbridge.authentik_cloudflare.authentik_provider_scim:
    name: cloudflare-access-scim
    state: absent
"""

RETURN = r"""
sync_started:
  description: How a full sync was started (V(schedule) or V(save)), or None.
  returned: success
  type: str
sync_since:
  description:
    - When a sync was started, the time of the newest full-sync task before it (empty when there was none); pass it
      as O(idpbridge.authentik_cloudflare.authentik_provider_scim_info#module:since) to wait for this sync.
  returned: success
  type: str
existing:
  description: The provider before the run, C(token) masked.
  returned: always
  type: dict
end_state:
  description:
    - The provider after the run (predicted in check mode), C(token) masked. Empty when absent.
    - Its C(pk) is None in check mode before it exists; C(assigned_backchannel_application_slug) names the application
      it is attached to (as a backchannel provider), or is None.
  returned: always
  type: dict
changes:
  description: The keys that were (or would be) changed.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    AuthentikClient,
    authentik_argument_spec,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import ensure, fail
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import validate_base_url
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._scim import (
    COMPATIBILITY_MODES,
    ScimProvider,
    start_full_sync,
)


def main():
    argument_spec = authentik_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        scim_url=dict(type="str"),
        scim_token=dict(type="str", no_log=True),
        update_token=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
        property_mappings=dict(type="list", elements="str"),
        property_mappings_group=dict(type="list", elements="str"),
        group_filters=dict(type="list", elements="str"),
        exclude_users_service_account=dict(type="bool"),
        dry_run=dict(type="bool"),
        compatibility_mode=dict(type="str", choices=list(COMPATIBILITY_MODES)),
        verify_certificates=dict(type="bool"),
        start_sync=dict(type="bool", default=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if not p["name"]:
        module.fail_json(msg="name must not be empty")
    if p.get("scim_url"):
        try:
            validate_base_url(p["scim_url"], "scim_url")
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    client = AuthentikClient.from_module(module)
    if p.get("scim_token"):
        client.redact.add(p["scim_token"])
    try:
        resource = ScimProvider(module, client)
        result = ensure(module, resource, p["state"])
        result["sync_started"], result["sync_since"] = None, None
        if p["state"] == "present" and p["start_sync"]:
            result["changed"] = True
            pk = result["end_state"].get("pk")
            if module.check_mode or pk is None:
                result["msg"] += "; a full sync would be started"
            else:
                result["sync_started"], result["sync_since"] = start_full_sync(client, {"pk": pk, "name": p["name"]})
                result["msg"] += "; full sync started"
    except (ApiError, LookupFailed, Refused) as exc:
        fail(module, exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
