#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: authentik_policy_binding
short_description: Bind groups, users or policies to an authentik application
version_added: 0.1.0
description:
  - Decides who may use an authentik application by binding a group (by name), a user (by username) or a policy
    (by name) to it, with the binding's order, enabled, negate, timeout (O(policy_timeout)) and failure result.
  - A binding is identified by its application and the group, user or policy it binds. The order and the flags are
    attributes that the module updates in place (PATCH of the differing fields only).
  - Either one binding (O(group), O(user) or O(policy)) or a list of them (O(bindings)); with O(purge_bindings=true)
    the list is exactly the bindings the application ends up with.
  - The application's bindings are listed once per run (all pages) and compared as a set.
  - Works with authentik 2024.10 and newer; the bindings API is the same in every release it supports. Only the
    attributes above are sent and compared, never fields only some releases have (such as C(expires) and C(expiring)
    of 2026.8).
  - If authentik holds several bindings for the same group, user or policy on the application, they are collapsed;
    the one closest to the wanted settings is kept (and updated if needed) and the others are deleted. Such
    duplicates have no meaning of their own, and collapsing them keeps the module converging. RV(actions) names
    every deleted duplicate.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._authentik
  - idpbridge.authentik_cloudflare._authentik.actiongroup
  - idpbridge.authentik_cloudflare._attributes
options:
  application:
    description:
      - Slug of the application the bindings belong to. It is looked up by slug with the detail endpoint.
      - With O(state=absent) (and no item present) a missing application is not an error, as it has no bindings.
      - In check mode, an application that does not exist yet is assumed to be created by an earlier task of the play
        (with a warning), so a whole play can be checked against an empty authentik; a real run fails.
    type: str
    required: true
  group:
    description:
      - Name of the group to bind. Members of the group pass the binding.
      - Exactly one of O(group), O(user), O(policy) and O(bindings) is required.
    type: str
  user:
    description:
      - Username of the user to bind.
    type: str
  policy:
    description:
      - Name of the policy to bind.
    type: str
  order:
    description:
      - Position of the binding among the application's bindings (lower first).
      - When not set, an existing binding keeps its order and a new one gets V(0).
    type: int
  enabled:
    description:
      - Whether the binding is evaluated. When not set, an existing binding keeps its value and a new one is enabled.
    type: bool
  negate:
    description:
      - Inverts the binding's result. When not set, an existing binding keeps its value and a new one is not negated.
    type: bool
  policy_timeout:
    description:
      - The binding's C(timeout), the seconds a policy may run before it counts as failed (V(0) or more). When not set,
        an existing binding keeps its value and a new one gets authentik's default V(30).
      - Named so because O(timeout) is the HTTP timeout every module of the collection shares.
    type: int
  failure_result:
    description:
      - The result used when the policy fails or times out. When not set, an existing binding keeps its value and a new
        one gets V(false).
    type: bool
  bindings:
    description:
      - Several bindings of the application at once, instead of O(group), O(user) or O(policy).
      - Each item names exactly one of O(bindings[].group), O(bindings[].user) or O(bindings[].policy), once.
      - Settings an item leaves out are handled as for the single form.
    type: list
    elements: dict
    suboptions:
      group:
        description: Name of the group to bind.
        type: str
      user:
        description: Username of the user to bind.
        type: str
      policy:
        description: Name of the policy to bind.
        type: str
      order:
        description: Position of the binding; V(0) for a new binding when not set.
        type: int
      enabled:
        description: Whether the binding is evaluated.
        type: bool
      negate:
        description: Inverts the binding's result.
        type: bool
      policy_timeout:
        description: The binding's C(timeout) in seconds (V(0) or more).
        type: int
      failure_result:
        description: The result used when the policy fails.
        type: bool
      state:
        description: V(present) or V(absent) for this item; defaults to O(state).
        type: str
        choices: [present, absent]
  purge_bindings:
    description:
      - With V(true), the application ends up with exactly the bindings of O(bindings); every other binding of the
        application is deleted. V(bindings=[]) with V(purge_bindings=true) removes all of them.
      - With V(false) (the default), bindings not listed are kept (bindings are separate objects that others may have
        made too).
      - Only with O(bindings).
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the binding(s), V(absent) deletes them (every binding of that group, user or
        policy on the application).
      - With V(absent), a group, user or policy that does not exist (any more) is not an error; nothing can be bound
        to it, so its binding is already absent.
    type: str
    choices: [present, absent]
    default: present
notes:
  - An application without any binding is open to every user who can log in to authentik; bind a group to restrict it.
  - Deleting an application deletes its bindings too.
seealso:
  - module: idpbridge.authentik_cloudflare.authentik_application
"""

EXAMPLES = r"""
- name: Only members of "Cloudflare users" may use the application
  idpbridge.authentik_cloudflare.authentik_policy_binding:
    application: cloudflare-access
    group: Cloudflare users
    order: 10
  register: binding

- name: Exactly these bindings, nothing else (connection from the environment)
  idpbridge.authentik_cloudflare.authentik_policy_binding:
    application: cloudflare-access
    purge_bindings: true
    bindings:
      - group: Cloudflare users
        order: 10
      - user: break-glass-admin
        order: 20
      - policy: office-network-only
        order: 30
        negate: false
  register: bindings

- name: Show what the run did
  ansible.builtin.debug:
    msg: "{{ bindings.actions | selectattr('action', 'ne', 'none') | list }}"

- name: Remove a user's binding
  idpbridge.authentik_cloudflare.authentik_policy_binding:
    application: cloudflare-access
    user: former-employee
    state: absent
"""

RETURN = r"""
end_state:
  description:
    - With O(bindings), every binding of the application after the run (predicted in check mode), in the server's
      order, with the name of what it binds (a list).
    - With O(group), O(user) or O(policy), that one binding after the run (a dict); empty when it is absent. Its C(pk)
      (a UUID) is None when it would be created in check mode.
  returned: always
  type: raw
  sample:
    - pk: 981cfacf-a5cb-4828-982d-5ad6818431b9
      target: d2304f93-0549-4601-8b01-922e918845ea
      kind: group
      name: Cloudflare users
      group: 2ba50f22-f2e3-4e02-95a5-e196d7dbd8f6
      user: null
      policy: null
      order: 10
      enabled: true
      negate: false
      timeout: 30
      failure_result: false
existing:
  description: The same as RV(end_state), before the run.
  returned: always
  type: raw
target:
  description: The application's pk (UUID), the target of its bindings. None when the application does not exist.
  returned: always
  type: str
actions:
  description: What happened (or in check mode would happen) to each listed binding and to each binding deleted.
  returned: always
  type: list
  elements: dict
  contains:
    item:
      description: The binding, such as C(group 'Cloudflare users').
      type: str
    action:
      description: V(create), V(update), V(delete) or V(none).
      type: str
    reason:
      description: Why, for example V(missing), V(differs), V(absent), V(not listed (purge)) or V(duplicate of <pk>).
      type: str
    pk:
      description: The binding's pk, None for a binding to create.
      type: str
    changes:
      description: The fields sent.
      type: list
      elements: str
  sample:
    - item: group 'Cloudflare users'
      action: update
      reason: differs
      pk: 981cfacf-a5cb-4828-982d-5ad6818431b9
      changes: [order]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed, Refused, for_option
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    AuthentikClient,
    authentik_argument_spec,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine_set import ManagedSet, ensure_set

KINDS = ("group", "user", "policy")
# authentik stores order and timeout as 32-bit integers
INT32_MIN = -2 ** 31
INT32_MAX = 2 ** 31 - 1
ATTRIBUTES = ("order", "enabled", "negate", "timeout", "failure_result")
# The option that sets each attribute: the binding's timeout is policy_timeout, since timeout is the HTTP timeout.
OPTIONS = {"order": "order", "enabled": "enabled", "negate": "negate", "timeout": "policy_timeout",
           "failure_result": "failure_result"}
BINDING_DEFAULTS = {"order": 0, "enabled": True, "negate": False, "timeout": 30, "failure_result": False}
NAME_KEYS = {"group": ("group_obj", "name"), "user": ("user_obj", "username"), "policy": ("policy_obj", "name")}


def binding_identity(obj):
    """``(kind, pk as text)`` of an API binding, or ``(None, pk)`` for one without a subject."""
    for kind in KINDS:
        if obj.get(kind) is not None:
            return (kind, str(obj[kind]))
    return (None, str(obj.get("pk")))


def binding_subject_name(obj):
    """The name of what an API binding binds (group name, username, policy name), or None."""
    kind = binding_identity(obj)[0]
    if kind is None:
        return None
    nested, key = NAME_KEYS[kind]
    return (obj.get(nested) or {}).get(key)


def normalize_binding(obj):
    """The compared attributes of a binding."""
    return dict((key, obj.get(key)) for key in ATTRIBUTES)


def wanted_items(params):
    """The wanted bindings as ``[(kind, name, state, attributes)]`` from the single or the list form."""
    if params.get("bindings") is None:
        kind = [k for k in KINDS if params.get(k) is not None][0]
        attrs = dict((k, params[OPTIONS[k]]) for k in ATTRIBUTES if params.get(OPTIONS[k]) is not None)
        return [(kind, params[kind], params["state"], attrs)]
    items = []
    for index, item in enumerate(params["bindings"]):
        kinds = [k for k in KINDS if item.get(k) is not None]
        if len(kinds) != 1:
            raise ValueError("bindings[%d] must name exactly one of group, user or policy" % index)
        attrs = dict((k, item[OPTIONS[k]]) for k in ATTRIBUTES if item.get(OPTIONS[k]) is not None)
        items.append((kinds[0], item[kinds[0]], item.get("state") or params["state"], attrs))
    return items


def check_attributes(items):
    for kind, name, _state, attrs in items:
        if not name:
            raise ValueError("the %s of a binding must not be empty" % kind)
        if attrs.get("timeout") is not None and not 0 <= attrs["timeout"] <= INT32_MAX:
            raise ValueError("policy_timeout of the %s %r must be 0 or more (at most %d), got %d"
                             % (kind, name, INT32_MAX, attrs["timeout"]))
        if attrs.get("order") is not None and not INT32_MIN <= attrs["order"] <= INT32_MAX:
            raise ValueError("order of the %s %r must be between %d and %d, got %d"
                             % (kind, name, INT32_MIN, INT32_MAX, attrs["order"]))


class ApplicationBindings(ManagedSet):
    kind = "policy binding"

    def __init__(self, module, client, application):
        super(ApplicationBindings, self).__init__(module, client)
        self.application = application
        self.target = application["pk"]
        self.slug = application.get("slug") or module.params["application"]
        self.names = {}
        self.raw_pk = {}
        self.wanted_identities = []
        self.skipped = []

    def label(self):
        return "the policy bindings of authentik application %r" % self.slug

    def find_all(self):
        if self.target is None:  # check mode, the application is not created yet: no bindings
            return []
        found = self.client.paginate("/policies/bindings/", {"target": self.target, "ordering": "order"},
                                     what="list %s" % self.label())
        # The target filter is exact; keep only this application's bindings in case a server ignores it.
        found = [b for b in found if str(b.get("target")) == str(self.target)]
        for obj in found:
            ident = binding_identity(obj)
            name = binding_subject_name(obj)
            if name is not None:
                self.names.setdefault(ident, name)
        return found

    def identity(self, obj):
        return binding_identity(obj)

    def describe(self, identity):
        kind, pk = identity
        if kind is None:
            return "binding %s without group, user or policy" % pk
        name = self.names.get(identity)
        return "%s %r" % (kind, name) if name is not None else "%s %s" % (kind, pk)

    def resolve(self, kind, name):
        c = self.client
        lookup = {"group": c.group_pk, "user": c.user_pk}.get(kind, c.policy_pk)
        option = kind if self.params.get(kind) == name else "bindings, %s" % kind
        return for_option(option, lookup, name)

    def wanted(self):
        out = []
        for kind, name, state, attrs in wanted_items(self.params):
            try:
                pk = self.resolve(kind, name)
            except LookupFailed as exc:
                if state != "absent":
                    raise
                # Nothing can be bound to a missing group, user or policy: already absent.
                self.skipped.append({"item": "%s %r" % (kind, name), "action": "none", "pk": None, "changes": [],
                                     "reason": "already absent (%s)" % exc})
                continue
            ident = (kind, str(pk))
            self.names[ident] = name
            self.raw_pk[ident] = pk
            self.wanted_identities.append(ident)
            out.append((ident, state, attrs))
        return out

    def normalize(self, obj):
        return normalize_binding(obj)

    def defaults(self, identity):
        kind = identity[0]
        base = {"pk": None, "target": self.target, "group": None, "user": None, "policy": None}
        base[kind] = self.raw_pk.get(identity, identity[1])
        base.update(BINDING_DEFAULTS)
        return base

    def create(self, identity, desired):
        kind = identity[0]
        body = {"target": self.target, kind: self.raw_pk.get(identity, identity[1]),
                "order": desired.get("order", BINDING_DEFAULTS["order"])}
        body.update(desired)
        return self.client.post("/policies/bindings/", body,
                                what="bind the %s to authentik application %r" % (self.describe(identity), self.slug))

    def update(self, current, changes, desired):
        return self.client.patch("/policies/bindings/%s/" % current["pk"], dict(changes),
                                 what="update the binding of the %s on authentik application %r"
                                 % (self.describe(binding_identity(current)), self.slug))

    def delete(self, current):
        self.client.delete("/policies/bindings/%s/" % current["pk"],
                           what="delete the binding of the %s on authentik application %r"
                           % (self.describe(binding_identity(current)), self.slug))

    def present(self, obj):
        ident = binding_identity(obj)
        out = {"pk": obj.get("pk"), "target": obj.get("target"), "kind": ident[0],
               "name": self.names.get(ident, binding_subject_name(obj))}
        for key in KINDS + ATTRIBUTES:
            out[key] = obj.get(key)
        return out


def binding_fields():
    """The options of one binding, the same at the top level and in each item of ``bindings``."""
    return dict(
        group=dict(type="str"),
        user=dict(type="str"),
        policy=dict(type="str"),
        order=dict(type="int"),
        enabled=dict(type="bool"),
        negate=dict(type="bool"),
        policy_timeout=dict(type="int"),
        failure_result=dict(type="bool"),
    )


def main():
    item_spec = binding_fields()
    item_spec["state"] = dict(type="str", choices=["present", "absent"])
    argument_spec = authentik_argument_spec()
    argument_spec.update(binding_fields())
    argument_spec.update(
        application=dict(type="str", required=True),
        bindings=dict(type="list", elements="dict", options=item_spec,
                      mutually_exclusive=[["group", "user", "policy"]],
                      required_one_of=[["group", "user", "policy"]]),
        purge_bindings=dict(type="bool", default=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["group", "user", "policy", "bindings"]] + [["bindings", OPTIONS[a]] for a in ATTRIBUTES],
        required_one_of=[["group", "user", "policy", "bindings"]],
    )
    p = module.params
    if p["purge_bindings"] and p["bindings"] is None:
        module.fail_json(msg="purge_bindings needs the list form: give the bindings option")
    try:
        items = wanted_items(p)
        check_attributes(items)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    single = p["bindings"] is None
    client = AuthentikClient.from_module(module)
    try:
        application = client.application(p["application"])
        if application is None:
            if all(state == "absent" for _k, _n, state, _a in items):
                result = {"changed": False, "target": None, "existing": {} if single else [],
                          "end_state": {} if single else [], "actions": [],
                          "msg": "authentik application %r does not exist, so it has no bindings" % p["application"]}
                if module._diff:
                    result["diff"] = {"before": {}, "after": {}}
                module.exit_json(**result)
            if not module.check_mode:
                raise LookupFailed("No authentik application has the slug %r; create it first (authentik_application) "
                                   "or check the slug under Applications > Applications" % p["application"])
            # In a check-mode run of a play, the task before this one only pretended to create the application.
            module.warn("The authentik application %r does not exist; check mode assumes an earlier task creates it "
                        "(a real run fails here if none does)" % p["application"])
            application = {"pk": None, "slug": p["application"]}
        resource = ApplicationBindings(module, client, application)
        result = ensure_set(module, resource, purge=p["purge_bindings"])
    except (ApiError, LookupFailed, Refused) as exc:
        fail(module, exc)
    result["target"] = resource.target
    result["actions"] = resource.skipped + result["actions"]
    if single:
        # the single form manages one binding: existing and end_state are that binding (empty when absent)
        ident = resource.wanted_identities[0] if resource.wanted_identities else (None, None)
        for key in ("existing", "end_state"):
            mine = [b for b in result[key] if ident[0] is not None and b["kind"] == ident[0]
                    and str(b[ident[0]]) == ident[1]]
            result[key] = mine[0] if mine else {}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
