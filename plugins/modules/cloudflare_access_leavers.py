#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_leavers
short_description: End the Cloudflare Access sessions of people authentik no longer admits
version_added: 0.2.0
description:
  - Access checks its policies when a person signs in; the session it then gives stays valid until it expires, even
    after the person is deactivated in authentik or removed from the group a policy asks for. This module finds those
    people and ends their sessions with Access's user revocation (C(POST .../access/organizations/revoke_user)).
  - "A leaver is a person who holds an active Access session, whose last seen identity came through O(login_method),
    and whom authentik no longer admits: no authentik user has their e-mail any more (C(gone)), their account is
    deactivated (C(inactive)), or an application their session covers no longer lets them in (C(not_allowed))."
  - Revocation ends every Access session of the person; Access evaluates the policies again at their next sign-in, so
    people still allowed into other applications just sign in again.
  - "Few requests: the login method, the applications, authentik's users and Access's users are each read once, page
    by page; the access-request log once for the session window. Sessions and the last seen identity are read only for
    the candidates: people who signed in recently enough to still hold a session and whom authentik no longer admits
    where they signed in. A run with no leaver sends no write."
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._people
  - idpbridge.authentik_cloudflare._authentik.from_cloudflare
  - idpbridge.authentik_cloudflare._attributes
attributes:
  check_mode:
    description: Names the people who would lose their sessions and sends no write.
    support: full
  diff_mode:
    description: Returns the people with a session before and after.
    support: full
  idempotent:
    description: Once the leavers' sessions are ended, a second run finds no leaver and sends no write.
    support: full
options:
  remove_seats:
    description:
      - Also take the Access part of each revoked person's Zero Trust seat (C(PATCH .../access/seats) with
        C(access_seat=false)). Cloudflare frees the seat when neither Access nor Gateway uses it, so the seat of a
        person who also uses the WARP client (Gateway) stays.
      - "Needs the token permission C(Zero Trust: Seats Write)."
    type: bool
    default: false
notes:
  - "Revoking needs the account permission C(Access: Organizations Revoke) (tokens made before January 2026:
    C(Access: Organizations, Identity Providers, and Groups Revoke))."
  - "A session can only be alive if the person signed in within the organization's session duration plus the longest
    application or policy session duration (plus an hour for clocks); people who signed in longer ago are not looked
    at."
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_review
  - module: idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_test
"""

EXAMPLES = r"""
- name: End the sessions of people who left
  idpbridge.authentik_cloudflare.cloudflare_access_leavers:
    account_id: 0123456789abcdef0123456789abcdef
    login_method: authentik
    authentik_url: https://auth.example.com
    authentik_token: "{{ vault_authentik_token }}"
  register: leavers

- name: Who lost access, and why
  ansible.builtin.debug:
    msg: "{{ leavers.revoked | map(attribute='email') | zip(leavers.revoked | map(attribute='why')) | map('join', ': ') }}"
"""

RETURN = r"""
revoked:
  description:
    - The people whose sessions were ended (in check mode, would be ended), with why and the applications their
      sessions covered.
  returned: success
  type: list
  elements: dict
  contains:
    email:
      description: The person's e-mail address.
      type: str
    reason:
      description: C(gone), C(inactive) or C(not_allowed).
      type: str
    why:
      description: The reason in words.
      type: str
    applications:
      description: Names of the applications their active sessions covered.
      type: list
      elements: str
    seat_removed:
      description: Whether the Access part of their seat was removed (in check mode, would be).
      type: bool
  sample:
    - email: bob@example.org
      reason: inactive
      why: the authentik account bob is deactivated
      applications: [Grafana]
      seat_removed: false
login_method_id:
  description: The id of the login method looked at.
  returned: success
  type: str
stats:
  description: What was read, to show what a run costs.
  returned: success
  type: dict
  sample: {directory_users: 120, access_users: 80, sessions_read: 2, identities_read: 1}
msg:
  description: One line naming each person revoked and why, or saying there was nobody.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import AuthentikClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import cloudflare_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._people import people_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._people_client import People, PeopleClient


def message(revoked, check_mode):
    if not revoked:
        return "No leaver holds an Access session"
    verb = "Would revoke" if check_mode else "Revoked"
    return "%s the Access sessions of %d %s: %s" % (
        verb, len(revoked), "person" if len(revoked) == 1 else "people",
        "; ".join("%s (%s)" % (r["email"], r["why"]) for r in revoked))


def main():
    spec = cloudflare_argument_spec()
    spec.update(people_argument_spec())
    spec.update(remove_seats=dict(type="bool", default=False))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    cloudflare = PeopleClient.from_module(module)
    authentik = AuthentikClient.from_module(module, prefix="authentik_")
    people = People(cloudflare, authentik, module.params["login_method"])
    revoked = []
    try:
        leavers, stats = people.leavers(module.params.get("identity_provider"))
        for leaver in leavers:
            user = leaver.pop("access_user")
            seat = bool(module.params["remove_seats"] and user.get("seat_uid") and user.get("access_seat"))
            if not module.check_mode:
                people.revoke(leaver["email"])
                if seat:
                    people.remove_seat(user)
            leaver["seat_removed"] = seat
            revoked.append(leaver)
    except (ApiError, LookupFailed) as exc:
        if revoked:
            module.fail_json(msg="%s. Before that: %s" % (exc, message(revoked, module.check_mode)), revoked=revoked)
        fail(module, exc)
    result = {"changed": bool(revoked), "revoked": revoked, "stats": stats,
              "login_method_id": people.login_method().get("id"), "msg": message(revoked, module.check_mode)}
    if module._diff:
        emails = sorted(r["email"] for r in revoked)
        result["diff"] = {"before": {"leavers_with_sessions": emails}, "after": {"leavers_with_sessions": []}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
