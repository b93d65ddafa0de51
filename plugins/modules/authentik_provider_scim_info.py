#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: authentik_provider_scim_info
short_description: Read an authentik SCIM provider and the state of its sync, optionally waiting for a sync to finish
version_added: 0.2.0
description:
  - Reads one SCIM provider by name, the application it is attached to, its sync status and (authentik 2025.8 and
    newer) the tasks of its syncs with their warnings and errors.
  - authentik's sync status says C(done) even when every request of the sync failed; the failures show only in the
    tasks' logs. RV(finished) and RV(errors) are therefore judged from the tasks.
  - With O(wait=true) it polls until a full sync has finished and nothing is queued or running, at most
    O(wait_timeout) seconds. Changes nothing, so it runs the same in check mode. The token is masked.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._authentik
  - idpbridge.authentik_cloudflare._authentik.actiongroup
  - idpbridge.authentik_cloudflare._attributes.info_module
  - idpbridge.authentik_cloudflare._attributes
options:
  name:
    description: Name of the SCIM provider. One that does not exist is not an error (RV(providers) is then empty).
    type: str
    required: true
  wait:
    description: Wait for a full sync to finish (see O(since)).
    type: bool
    default: false
  since:
    description:
      - With O(wait), only a full sync whose task changed after this time counts (a task time as authentik writes it,
        such as RV(idpbridge.authentik_cloudflare.authentik_provider_scim#module:sync_since)). Default any.
    type: str
  wait_timeout:
    description: How long O(wait) waits, in seconds.
    type: int
    default: 120
  fail_on_timeout:
    description: With O(wait), fail when the sync has not finished in time (otherwise RV(finished) is false).
    type: bool
    default: true
seealso:
  - module: idpbridge.authentik_cloudflare.authentik_provider_scim
"""

EXAMPLES = r"""
- name: Wait for the first sync
  idpbridge.authentik_cloudflare.authentik_provider_scim_info:
    name: cloudflare-access-scim
    wait: true
    wait_timeout: 300
  register: scim_sync

- name: Show problems
  ansible.builtin.debug:
    var: scim_sync.errors
"""

RETURN = r"""
providers:
  description:
    - The provider asked for, C(token) masked, as a list of one; empty when it does not exist.
    - Its C(assigned_backchannel_application_slug) names the application it is attached to, or is None.
  returned: always
  type: list
  elements: dict
status:
  description: authentik's C(sync/status) answer (C(is_running), C(last_successful_sync), C(last_sync_status)).
  returned: when the provider exists
  type: dict
running:
  description: Whether a sync or a direct push is queued or running.
  returned: when the provider exists
  type: bool
finished:
  description: Whether a full sync (since O(since)) has finished and nothing is running.
  returned: when the provider exists
  type: bool
errors:
  description: Warnings and errors logged by the tasks of the last sync (since O(since)), such as failed pushes.
  returned: when the provider exists
  type: list
  elements: str
last_task:
  description: The newest full-sync task (C(actor), C(state), C(mtime), C(uid), C(problems)), or None.
  returned: when the provider exists
  type: dict
tasks:
  description: The provider's recent tasks, newest first, each with C(actor), C(state), C(mtime), C(uid), C(problems).
  returned: when the provider exists
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    AuthentikClient,
    authentik_argument_spec,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail, sanitize
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._scim import (
    scim_provider_by_name,
    sync_report,
    wait_for_sync,
)


def main():
    argument_spec = authentik_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        wait=dict(type="bool", default=False),
        since=dict(type="str"),
        wait_timeout=dict(type="int", default=120),
        fail_on_timeout=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    client = AuthentikClient.from_module(module)
    try:
        provider = scim_provider_by_name(client, p["name"])
        if provider is None:
            module.exit_json(changed=False, providers=[],
                             msg="authentik SCIM provider %r does not exist" % p["name"])
        if p["wait"]:
            finished, report = wait_for_sync(client, provider, p.get("since"), max(0, p["wait_timeout"]))
        else:
            report = sync_report(client, provider)
            last = report["last_task"]
            finished = not report["running"] and (last is not None or not report["tasks_api"])
            report["errors"] = list(last["problems"]) if last else []
    except (ApiError, LookupFailed) as exc:
        fail(module, exc)
    result = {
        "changed": False, "providers": [sanitize(provider, frozenset(("token",)))],
        "status": report["status"], "running": report["running"], "finished": finished,
        "errors": report["errors"], "last_task": report["last_task"], "tasks": report["tasks"],
    }
    if p["wait"] and not finished:
        msg = ("The first sync of authentik SCIM provider %r did not finish within %d seconds (sync status: %s, "
               "running: %s). Look at its tasks under System > Tasks in authentik, or raise wait_timeout"
               % (p["name"], p["wait_timeout"], report["status"].get("last_sync_status"), report["running"]))
        if p["fail_on_timeout"]:
            module.fail_json(msg=msg, **result)
        result["msg"] = msg
    else:
        result["msg"] = "authentik SCIM provider %r: %s%s" % (
            p["name"], "sync finished" if finished else "sync running or not started",
            (" with %d problem(s): %s" % (len(report["errors"]), "; ".join(report["errors"][:3]))) if report["errors"] else "")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
