#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_applications
short_description: Protect a whole list of applications with one Cloudflare Access login method, as one set
version_added: 0.1.0
description:
  - Reconciles every self-hosted Access application protected by one login method (such as the authentik OIDC login
    method) with the list in O(applications). Each entry becomes one reusable Access policy (named after the entry plus
    O(policy_suffix)) that lets in the listed authentik groups, e-mail addresses and domains, and one self-hosted
    application that offers only this login method and uses only that policy.
  - The module reads the account's Access applications and reusable policies once each (every page, at the largest page
    size), plans, and writes only the differences, a few at a time (O(concurrency)). Entries no longer listed are
    removed, with a guard (O(max_removals)). A converged run sends no write; check mode sends none at all and predicts
    the same result; C(--diff) shows each application and its policy before and after.
  - "Ownership: an application belongs to this module and login method only when it carries the Access tag
    C(idpbridge-<login method id>) (the module creates the tag once per login method). Each application of ours also
    carries the tag C(idpbridge-n-<first 16 hex digits of the SHA-256 of the login method's name>), written when the
    application is created or updated (a renamed login method's applications get the new one). A reusable policy belongs to it
    only when its C(require) rules hold C({login_method: {id: <login method id>}}) and no application other than ours
    links it. Applications and policies made by hand, or for another login method, are never changed or removed, whatever
    their names; an entry whose domain such an application already protects is an error before anything is sent."
  - Entries are matched to the applications by name, then by domain, so renaming an entry renames its application and
    policy in place. A policy left without its application (a run that stopped half-way) is used again or removed.
  - All entries are checked before the first request (unknown keys, duplicate names and domains, an e-mail address
    without a domain, a scheme in a domain, empty rules, a string where a list belongs, white space around names); each
    mistake names its entry, such as C(applications[3] (grafana)).
  - Every update sends every field the API returned with the managed ones on top (Cloudflare replaces the whole object),
    so settings made in the dashboard (CORS, MFA, approval groups, ...) stay. Options an entry leaves out go back to
    Cloudflare's defaults (such as C(session_duration) V(24h)); destinations left out are removed.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._authentik.from_cloudflare
  - idpbridge.authentik_cloudflare._attributes
options:
  login_method:
    description:
      - The login method (its id, or its name) whose applications the list holds.
      - In check mode, a login method that does not exist yet is assumed to be created by an earlier task (with a
        warning), and every application is shown as to be created.
      - With O(state=absent) the login method may already be deleted. Given by id, its applications and policies are
        removed; given by name, only the applications that carry both the tag of that name and the id tag of a login
        method that no longer exists are removed (with the policies only they use, and both tags). A name that never
        existed, a typo, or the name of another login method's orphaned applications matches none of them; then nothing
        is removed and the result says so. When applications of several deleted login methods of that name are left,
        the module fails, listing the ids; give the id then.
    type: str
    required: true
  applications:
    description:
      - The applications to protect, the whole list. An empty list removes every application and policy this module
        made for the login method (within O(max_removals)).
      - Each entry is a dict with the keys below; an unknown key is an error.
      - C(name) (required) - the application's name; its policy is named C(name) plus O(policy_suffix).
      - C(domain) (required) - the host name and optional path to protect, such as V(grafana.example.com), without
        C(https://).
      - C(destinations) - further host names (and paths) of the application (a list).
      - C(allow_groups) - authentik group names whose members may enter (a list), checked against the O(groups_claim)
        claim of the ID token. With the authentik connection options, each must be an existing group with exactly those
        capitals.
      - C(allow_emails), C(allow_email_domains) - e-mail addresses and e-mail domains (such as V(example.com)) that may
        enter (lists).
      - C(include), C(exclude), C(require) - raw Access rules (lists of one-key dicts, such as a C(geo) rule with a
        C(country_code)) for anything else; C(include) adds to the C(allow_*) rules.
      - C(session_duration) - such as V(8h); when left out, Cloudflare's default V(24h).
      - C(app_launcher_visible) - default V(true). C(auto_redirect_to_identity) (or C(auto_redirect)) - go straight to the
        login method without the chooser, default V(true).
      - At least one C(allow_*) or C(include) rule is required, so that somebody can enter.
    type: list
    elements: raw
    required: true
  state:
    description:
      - V(present) makes the applications match O(applications). V(absent) removes every application and policy this
        module made for the login method (and its tag), whatever O(applications) says.
    type: str
    choices: [present, absent]
    default: present
  max_removals:
    description:
      - A run that would remove more applications than this fails before any write and lists them; in check mode it
        warns and shows the list. V(-1) means no limit.
    type: int
    default: 3
  concurrency:
    description:
      - How many writes are in flight at once (1 to 16).
    type: int
    default: 4
  max_requests:
    description:
      - The request budget of one run. A plan that needs more Cloudflare requests fails before its first write.
        Cloudflare allows 1200 requests per five minutes per user. V(-1) means no limit.
    type: int
    default: 1000
  policy_suffix:
    description:
      - Appended to an entry's name to name its policy. It names the policies only; ownership is decided by the tag and
        the login-method rule, so it must not be empty but may be changed.
    type: str
    default: " (idpbridge)"
  groups_claim:
    description:
      - The ID token claim that holds the authentik group names.
    type: str
    default: groups
notes:
  - "The API token needs the account permission C(Access: Apps and Policies Write) (tags are part of it)."
  - When O(authentik_url) and O(authentik_token) are given, every C(allow_groups) name is checked against authentik's
    groups (one list read) before anything is sent; the token must then be allowed to list groups.
  - "Requests: a run reads the login methods, the applications and the policies once each (one request per page of
    1000), plus each of the two tags once when an application is to be written and no application carries it yet. A new
    application costs two writes (its policy, then the application), plus two for the tags (id and name) the first time
    for a login method: a first run of N applications writes 2N+2 times."
  - Writes are retried after HTTP 429 as the server's C(Retry-After) says (see O(retries)).
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_application
  - module: idpbridge.authentik_cloudflare.cloudflare_access_policy
"""

EXAMPLES = r"""
- name: Protect Grafana and Vault with the authentik login method
  idpbridge.authentik_cloudflare.cloudflare_access_applications:
    login_method: authentik
    applications:
      - name: Grafana
        domain: grafana.example.com
        allow_groups: [sre, developers]
        session_duration: 8h
      - name: Vault
        domain: vault.example.com
        destinations: [vault-ui.example.com]
        allow_emails: [oncall@example.com]
        exclude:
          - geo:
              country_code: XX
  register: protected

- name: Remove everything protected through a login method that was deleted by hand
  idpbridge.authentik_cloudflare.cloudflare_access_applications:
    login_method: authentik
    applications: []
    state: absent
    max_removals: -1
"""

RETURN = r"""
applications:
  description: One result per entry, in the order of O(applications).
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: The entry's name., type: str, returned: always}
    domain: {description: The entry's domain., type: str, returned: always}
    action: {description: "V(created), V(updated), V(unchanged) (in check mode: what would happen), or V(failed).",
             type: str, returned: always}
    application_id: {description: The application's id (None when it would be created in check mode)., type: str,
                     returned: always}
    policy_id: {description: The id of the application's policy., type: str, returned: always}
    aud: {description: The application's audience tag (for verifying Access tokens)., type: str, returned: always}
    changes: {description: "What was (or would be) changed, such as C(application.session_duration).", type: list,
              elements: str, returned: when updated}
  sample:
    - {name: Grafana, domain: grafana.example.com, action: created, application_id: 7a6b5c4d-3e2f-1a0b-9c8d-7e6f5a4b3c2d,
       policy_id: 2e3f4a5b-0f1e-2d3c-4b5a-69788a9b0c1d, aud: 0123abcd}
removed:
  description: The applications (with their policy) and the policies left without an application that were (or in check
    mode would be) removed.
  returned: success
  type: list
  elements: dict
  sample:
    - {name: Wiki, domain: wiki.example.com, application_id: 1a2b3c4d-3e2f-1a0b-9c8d-7e6f5a4b3c2d, policy_id: null}
requests:
  description: The requests this run sent (C(reads) include the authentik group list), for budgeting.
  returned: success
  type: dict
  sample: {reads: 3, writes: 0}
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import AccessClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set_input import check_entries
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set_apply import Reconciler
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import AuthentikClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import cloudflare_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail


def argument_spec():
    spec = cloudflare_argument_spec()
    spec.update(
        login_method=dict(type="str", required=True),
        applications=dict(type="list", elements="raw", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        max_removals=dict(type="int", default=3),
        concurrency=dict(type="int", default=4),
        max_requests=dict(type="int", default=1000),
        policy_suffix=dict(type="str", default=" (idpbridge)"),
        groups_claim=dict(type="str", default="groups"),
        authentik_url=dict(type="str", fallback=(env_fallback, ["AUTHENTIK_URL"])),
        authentik_token=dict(type="str", no_log=True, fallback=(env_fallback, ["AUTHENTIK_TOKEN"])),
        authentik_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["AUTHENTIK_VALIDATE_CERTS"])),
        authentik_ca_path=dict(type="path", fallback=(env_fallback, ["AUTHENTIK_CA_PATH"])),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        if not p["login_method"].strip():
            raise ValueError("login_method must name the login method (its id or name)")
        if not 1 <= p["concurrency"] <= 16:
            raise ValueError("concurrency must be between 1 and 16, got %d" % p["concurrency"])
        if p["max_removals"] < -1:
            raise ValueError("max_removals must be 0 or more, or -1 for no limit")
        if not (p["groups_claim"] or "").strip():
            raise ValueError("groups_claim must name the ID token claim that holds the groups")
        entries = check_entries(p["applications"], p["policy_suffix"]) if p["state"] == "present" else []
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    client = AccessClient.from_module(module)
    authentik = None
    if p.get("authentik_url") and p.get("authentik_token"):
        authentik = AuthentikClient.from_module(module, prefix="authentik_")
    try:
        result = Reconciler(module, client, entries, authentik).run()
    except (ApiError, LookupFailed, Refused) as exc:
        fail(module, exc)
    if result.get("errors"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
