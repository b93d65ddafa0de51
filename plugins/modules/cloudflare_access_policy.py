#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_policy
short_description: Manage a reusable Cloudflare Access policy, such as "members of these authentik groups"
version_added: 0.1.0
description:
  - Create, update or delete a reusable Access policy of a Cloudflare Zero Trust account. Applications link to it
    (see M(idpbridge.authentik_cloudflare.cloudflare_access_application)).
  - The policy is found by O(name), or by O(policy_id). Cloudflare does not keep names unique; when two or more policies
    carry the name, the module fails and lists their ids instead of guessing.
  - The rules are given in a friendly form per rule set (O(include), O(exclude), O(require)), and as raw API rules for
    anything else. Rule order inside a set is not significant; a given set replaces the set as a whole.
  - Only the options you set are compared. Cloudflare replaces the whole policy on every update (PUT), so an update
    sends every field the API returned (approval groups, purpose justification, isolation, MFA settings, ...) with your
    settings on top; C(--diff) shows all of them.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._attributes
  - idpbridge.authentik_cloudflare._access_rules
options:
  name:
    description:
      - The policy's name. Required unless O(policy_id) is given; with O(policy_id), a different name renames the policy.
    type: str
  policy_id:
    description:
      - The id of the policy to manage. With O(state=present) the policy must exist.
    type: str
  state:
    description:
      - V(present) creates or updates the policy, V(absent) deletes it. Cloudflare refuses to delete a policy that
        applications still use; the module then says which change to make.
    type: str
    choices: [present, absent]
    default: present
  decision:
    description:
      - What Access does for users who match. V(non_identity) is Cloudflare's "Service Auth".
    type: str
    choices: [allow, deny, bypass, non_identity]
    default: allow
  session_duration:
    description:
      - How long a session started through this policy lasts, such as V(8h) or V(30m). Not compared when not set.
    type: str
notes:
  - Reusable policies live in an account; zone-level Access has none.
  - "The API token needs the account permission C(Access: Apps and Policies Write) (C(Read) for lookups only)."
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_application
  - module: idpbridge.authentik_cloudflare.cloudflare_access_policy_info
"""

EXAMPLES = r"""
- name: Members of the authentik group sre, signed in through the authentik login method
  idpbridge.authentik_cloudflare.cloudflare_access_policy:
    name: Grafana
    decision: allow
    login_method: authentik
    include:
      authentik_groups: [sre]
      emails: [oncall@example.com]
    exclude:
      emails: [contractor@example.com]
    session_duration: 8h
  register: policy

- name: Anyone from example.com with a raw rule for an Access group
  idpbridge.authentik_cloudflare.cloudflare_access_policy:
    name: Staff
    include:
      email_domains: [example.com]
    require:
      rules:
        - group:
            id: 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b

- name: Remove the policy
  idpbridge.authentik_cloudflare.cloudflare_access_policy:
    name: Staff
    state: absent
"""

RETURN = r"""
existing:
  description: The policy before the run; empty when it did not exist.
  returned: always
  type: dict
end_state:
  description:
    - The policy after the run (predicted in check mode); empty when absent.
    - Its C(id) is what applications link; None in check mode when it would be created.
  returned: always
  type: dict
  sample:
    id: 2e3f4a5b-0f1e-2d3c-4b5a-69788a9b0c1d
    name: Grafana
    decision: allow
    include: [{oidc: {claim_name: groups, claim_value: sre, identity_provider_id: 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b}}]
    exclude: []
    require: []
    session_duration: 8h
    reusable: true
    app_count: 1
changes:
  description: The top-level fields that were (or in check mode would be) sent as changed.
  returned: always
  type: list
  elements: str
  sample: [include]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import (
    DECISIONS,
    POLICIES,
    AccessClient,
    build_rules,
    check_duration,
    normalize_policy,
    normalize_rules,
    policy_body,
    rule_sets,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_options import rule_set_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import SAFE_ID, cloudflare_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import ManagedObject, run

UNKNOWN_ID = "No reusable Access policy has the id %s in %s; leave policy_id out to create one by name"


class Policy(ManagedObject):
    kind = "Access policy"

    def __init__(self, module, client):
        super(Policy, self).__init__(module, client)
        self._found_name = None

    def label(self):
        name = self.params.get("name") or self._found_name
        if name:
            return "Cloudflare Access policy %r in %s" % (name, self.client.scope)
        return "Cloudflare Access policy %s in %s" % (self.params["policy_id"], self.client.scope)

    def find(self):
        p = self.params
        found = self.client.find_by_name_or_id(POLICIES, p.get("policy_id"), p.get("name"),
                                               unknown_id=UNKNOWN_ID if p["state"] == "present" else None)
        if found is not None:
            self._found_name = found.get("name")
        return found

    def normalize(self, obj):
        return normalize_policy(obj)

    def defaults(self):
        return {"exclude": [], "require": [], "session_duration": "24h"}

    def desired(self, current):
        p = self.params
        want = {"name": p.get("name") or (current or {}).get("name"), "decision": p["decision"]}
        try:
            for key in rule_sets():
                if p.get(key) is not None:
                    want[key] = normalize_rules(build_rules(p[key], self.client.login_method_id, p.get("login_method")))
        except ValueError as exc:
            raise Refused(str(exc))
        if current is None and not want.get("include"):
            raise Refused("Creating %s needs include: at least one rule saying who the policy is for" % self.label())
        if "include" in want and not want["include"]:
            raise Refused("include must hold at least one rule; Cloudflare refuses a policy without one")
        if p.get("session_duration") is not None:
            want["session_duration"] = p["session_duration"]
        return want

    def create(self, desired):
        body = policy_body(None, desired)
        result = self.client.result("POST", self.client.policies_path, body=body, what="create %s" % self.label())
        return result if isinstance(result, dict) else body

    def update(self, current, changes, desired):
        body = policy_body(current, desired)
        result = self.client.result("PUT", self.client.policy_path(current["id"]), body=body,
                                    what="update %s" % self.label())
        return result if isinstance(result, dict) else dict(body, id=current["id"])

    def delete(self, current):
        self.client.call("DELETE", self.client.policy_path(current["id"]), ok_statuses=(404,),
                         what="delete %s (id %s, used by %s application(s))" % (
                             self.label(), current.get("id"), current.get("app_count", "some")))

    def present(self, obj):
        out = dict(obj)
        out.setdefault("id", None)
        return out


def argument_spec():
    spec = cloudflare_argument_spec()
    spec.update(
        name=dict(type="str"),
        policy_id=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        decision=dict(type="str", default="allow", choices=list(DECISIONS)),
        login_method=dict(type="str"),
        include=rule_set_spec(),
        exclude=rule_set_spec(),
        require=rule_set_spec(),
        session_duration=dict(type="str"),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_one_of=[("name", "policy_id")])
    p = module.params
    try:
        if p.get("name") is not None and not p["name"].strip():
            raise ValueError("name must not be empty")
        if p.get("policy_id") is not None and not SAFE_ID.match(p["policy_id"]):
            raise ValueError("policy_id must be a policy id (a UUID), got %r" % p["policy_id"])
        check_duration(p.get("session_duration"), "session_duration")
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    client = AccessClient.from_module(module)
    client.predict_missing = module.check_mode
    run(module, lambda: Policy(module, client))


if __name__ == "__main__":
    main()
