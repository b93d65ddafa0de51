#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_application
short_description: Manage a self-hosted Cloudflare Access application, such as grafana.example.com behind authentik
version_added: 0.1.0
description:
  - Create, update or delete a self-hosted Access application of a Cloudflare Zero Trust account or, for the legacy
    zone-level Access, of a zone. The application protects O(domain) (and O(destinations)); who gets in is said by the
    reusable policies it links (see M(idpbridge.authentik_cloudflare.cloudflare_access_policy)).
  - The application is found by O(name) (one filtered query), or by O(application_id). Cloudflare does not keep names
    unique; when two or more applications carry the name, the module fails and lists their ids instead of guessing.
  - Only the options you set are compared. O(allowed_login_methods) and O(destinations) are compared as sets;
    O(policies) in order, because the order is the precedence. Cloudflare replaces the whole application on every
    update (PUT), so an update sends every field the API returned (CORS, iframe, C(mfa_config), custom pages, tags,
    other destinations, ...) with yours on top; C(--diff) shows all of them. An application whose fields cannot be sent
    back as read (SCIM provisioning with credentials) is refused, never weakened.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.zone
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._attributes
options:
  name:
    description:
      - The application's name, shown in the App Launcher. Required unless O(application_id) is given; with
        O(application_id), a different name renames the application.
    type: str
  application_id:
    description:
      - The id of the application to manage. With O(state=present) the application must exist.
    type: str
  state:
    description:
      - V(present) creates or updates the application, V(absent) deletes it (its reusable policies stay).
    type: str
    choices: [present, absent]
    default: present
  domain:
    description:
      - The primary host name (and optional path) Access protects, such as V(grafana.example.com). Required to create.
      - It must be in a zone of the account; Cloudflare refuses a domain another application already protects.
    type: str
  destinations:
    description:
      - Further public host names (and paths) the application protects besides O(domain). Compared as a set; an empty
        list leaves only O(domain). When not set, the current destinations are kept.
    type: list
    elements: str
  allowed_login_methods:
    description:
      - The login methods (names or ids) users may pick for this application, resolved to Cloudflare's C(allowed_idps).
        Compared as a set. An empty list offers every login method of the account. When not set, the current list is kept.
    type: list
    elements: str
  auto_redirect_to_identity:
    description:
      - Send users straight to the login method without the chooser. Needs exactly one login method in
        O(allowed_login_methods); the module checks that before sending anything.
    type: bool
  session_duration:
    description:
      - How long an application session lasts, such as V(24h) or V(30m).
    type: str
  app_launcher_visible:
    description:
      - Whether the application is shown in the App Launcher.
    type: bool
  policies:
    description:
      - The reusable policies (names or ids) of the application, in order of precedence (the first is evaluated first).
        Compared in order. An empty list removes every policy, which leaves nobody able to enter. When not set, the
        current policies are kept.
      - Zone-level applications cannot link reusable policies.
    type: list
    elements: str
notes:
  - "The API token needs the account permission C(Access: Apps and Policies Write) (C(Read) for lookups only)."
  - Only self-hosted applications are managed; an application of another type with the name is refused.
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_policy
  - module: idpbridge.authentik_cloudflare.cloudflare_access_application_info
  - module: idpbridge.authentik_cloudflare.cloudflare_access_identity_provider
"""

EXAMPLES = r"""
- name: Grafana, only through the authentik login method, for the policy made before
  idpbridge.authentik_cloudflare.cloudflare_access_application:
    name: Grafana
    domain: grafana.example.com
    allowed_login_methods: [authentik]
    auto_redirect_to_identity: true
    session_duration: 8h
    policies: [Grafana]
  register: app

- name: Show where it lives
  ansible.builtin.debug:
    msg: "Application {{ app.end_state.id }} protects {{ app.url }}"

- name: Remove it
  idpbridge.authentik_cloudflare.cloudflare_access_application:
    name: Grafana
    state: absent
"""

RETURN = r"""
existing:
  description: The application before the run; empty when it did not exist.
  returned: always
  type: dict
end_state:
  description:
    - The application after the run (predicted in check mode); empty when absent. Cloudflare adds keys of its own,
      such as C(aud), C(self_hosted_domains) and its defaults; C(policies) holds the linked policies with their
      C(precedence).
    - Its C(id) is None in check mode when the application would be created.
  returned: always
  type: dict
  sample:
    id: 7a6b5c4d-3e2f-1a0b-9c8d-7e6f5a4b3c2d
    name: Grafana
    domain: grafana.example.com
    type: self_hosted
    allowed_idps: [0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b]
    auto_redirect_to_identity: true
    session_duration: 8h
    policies: [{id: 2e3f4a5b-0f1e-2d3c-4b5a-69788a9b0c1d, name: Grafana, decision: allow, precedence: 1}]
url:
  description: The protected URL, C(https://) and O(domain).
  returned: when state is present
  type: str
  sample: https://grafana.example.com
changes:
  description: The top-level fields that were (or in check mode would be) sent as changed.
  returned: always
  type: list
  elements: str
  sample: [policies]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import (
    APP_TYPE,
    APPLICATIONS,
    AccessClient,
    application_body,
    check_carriable_application,
    check_duration,
    normalize_application,
    present_application,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import SAFE_ID, cloudflare_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import ManagedObject, run

UNKNOWN_ID = "No Access application has the id %s in %s; leave application_id out to create one by name"


class Application(ManagedObject):
    kind = "Access application"

    def __init__(self, module, client):
        super(Application, self).__init__(module, client)
        self._found_name = None

    def label(self):
        name = self.params.get("name") or self._found_name
        if name:
            return "Cloudflare Access application %r in %s" % (name, self.client.scope)
        return "Cloudflare Access application %s in %s" % (self.params["application_id"], self.client.scope)

    def find(self):
        p = self.params
        found = self.client.find_by_name_or_id(APPLICATIONS, p.get("application_id"), p.get("name"),
                                               unknown_id=UNKNOWN_ID if p["state"] == "present" else None)
        if found is not None:
            self._found_name = found.get("name")
        return found

    def normalize(self, obj):
        return normalize_application(obj)

    def defaults(self):
        return {"type": APP_TYPE, "allowed_idps": [], "auto_redirect_to_identity": False, "session_duration": "24h",
                "app_launcher_visible": True, "policies": []}

    def desired(self, current):
        p = self.params
        current = current or {}
        domain = p.get("domain") or current.get("domain")
        if not domain:
            raise Refused("Creating %s needs domain, the host name Access protects (such as grafana.example.com)"
                          % self.label())
        want = {"name": p.get("name") or current.get("name"), "domain": domain, "type": APP_TYPE}
        if p.get("allowed_login_methods") is not None:
            want["allowed_idps"] = sorted(set(self.client.login_method_id(ref) for ref in p["allowed_login_methods"]))
        redirect = p.get("auto_redirect_to_identity")
        if redirect is not None:
            want["auto_redirect_to_identity"] = redirect
        if redirect or (redirect is None and current.get("auto_redirect_to_identity")):
            idps = want.get("allowed_idps", current.get("allowed_idps") or [])
            if len(idps) != 1:
                raise Refused("auto_redirect_to_identity sends users straight to one login method, so "
                              "allowed_login_methods must name exactly one (it names %d); give one login method or set "
                              "auto_redirect_to_identity: false" % len(idps))
        for key in ("session_duration", "app_launcher_visible"):
            if p.get(key) is not None:
                want[key] = p[key]
        if p.get("destinations") is not None:
            want["destinations"] = sorted(set([domain] + list(p["destinations"])))
        elif p.get("domain") is not None and current and current.get("domain") != p["domain"]:
            # A new primary domain: the old one must not stay protected through the destinations.
            extra = [uri for uri in normalize_application(current)["destinations"] if uri != current.get("domain")]
            want["destinations"] = sorted(set([domain] + extra))
        if p.get("policies") is not None:
            if p["policies"] and self.client.scope.kind != "account":
                raise Refused("Reusable policies live in an account: a zone-level application cannot link them. Use "
                              "account_id, or manage the zone application's policies in the dashboard")
            ids = [self.client.policy_id(ref) for ref in p["policies"]]
            if len(set(ids)) != len(ids):
                raise Refused("policies names one policy twice; give each once, in order of precedence")
            want["policies"] = ids
        return want

    def refuse(self, current, desired):
        if current.get("type") not in (None, APP_TYPE):
            raise Refused("%s (id %s) is of type %s, not self_hosted; this module manages only self-hosted applications"
                          % (self.label(), current.get("id"), current.get("type")))
        if desired is not None:
            check_carriable_application(current)

    def create(self, desired):
        body = application_body(None, desired)
        result = self.client.result("POST", self.client.apps_path, body=body, what="create %s" % self.label())
        return result if isinstance(result, dict) else body

    def update(self, current, changes, desired):
        body = application_body(current, desired)
        result = self.client.result("PUT", self.client.app_path(current["id"]), body=body,
                                    what="update %s" % self.label())
        return result if isinstance(result, dict) else dict(body, id=current["id"])

    def delete(self, current):
        self.client.call("DELETE", self.client.app_path(current["id"]), ok_statuses=(404,),
                         what="delete %s (id %s)" % (self.label(), current.get("id")))

    def present(self, obj):
        out = present_application(obj)
        if isinstance(out.get("policies"), list) and out["policies"] and isinstance(out["policies"][0], str):
            out["policies"] = [{"id": ident, "precedence": index + 1} for index, ident in enumerate(out["policies"])]
        out.setdefault("id", None)
        return out

    def derived(self, obj):
        out = {}
        if obj.get("domain"):
            out["url"] = "https://%s" % obj["domain"]
        return out


def argument_spec():
    spec = cloudflare_argument_spec(zone=True)
    spec.update(
        name=dict(type="str"),
        application_id=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        domain=dict(type="str"),
        destinations=dict(type="list", elements="str"),
        allowed_login_methods=dict(type="list", elements="str"),
        auto_redirect_to_identity=dict(type="bool"),
        session_duration=dict(type="str"),
        app_launcher_visible=dict(type="bool"),
        policies=dict(type="list", elements="str"),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_one_of=[("name", "application_id")])
    p = module.params
    try:
        if p.get("name") is not None and not p["name"].strip():
            raise ValueError("name must not be empty")
        if p.get("application_id") is not None and not SAFE_ID.match(p["application_id"]):
            raise ValueError("application_id must be an application id (a UUID), got %r" % p["application_id"])
        if p.get("domain") is not None and ("://" in p["domain"] or not p["domain"].strip()):
            raise ValueError("domain is a host name and optional path such as grafana.example.com, without "
                             "https://; got %r" % p["domain"])
        check_duration(p.get("session_duration"), "session_duration")
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    client = AccessClient.from_module(module)
    client.predict_missing = module.check_mode
    run(module, lambda: Application(module, client))


if __name__ == "__main__":
    main()
