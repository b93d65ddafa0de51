#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_review
short_description: Review who can and who did get into the applications Cloudflare Access protects through authentik
version_added: 0.2.0
description:
  - For every authentik user and every protected application of O(login_method), tells whether they may enter (and
    why not), what Access knows of them (Access user, seat, last successful sign-in, an active session, the login
    method of their last seen identity), and how often they were allowed in and blocked in the last O(since) days,
    from Access's request log.
  - "Flags each row: C(leaver_with_session) (not admitted any more but holding a session, or revoked in this run),
    C(revoked_this_run) (named in O(revoked)), C(granted_unused) (may enter but did not in O(since) days),
    C(signed_in_not_allowed) (signed in within O(since) days but may no longer enter), C(blocked_attempts)."
  - People Access knows through this login method who are no longer in authentik get rows too, when they still hold
    a session.
  - "Returns the review and, with O(dest), writes it to a file whose format follows the extension: C(.json) (the stable
    schema described in the collection's docs/offboarding.md), C(.md) or C(.csv). The file is rewritten only when
    more than its generation time changed. It holds no secret, but it names people: it is created readable by its
    owner only."
  - Reads only from both APIs.
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
    description: Returns the review and reports whether O(dest) would change, without writing it.
    support: full
  diff_mode:
    description: The review is returned whole; there is no diff.
    support: none
  idempotent:
    description: A second run with nothing new in the review leaves O(dest) alone and reports no change.
    support: full
options:
  applications:
    description:
      - The protected applications to review, by name, domain or id.
      - When not set, every Access application that offers O(login_method) in its login methods (C(allowed_idps)), or
        offers every login method and names O(login_method) in a policy rule.
    type: list
    elements: str
  since:
    description:
      - How many days of Access's request log to count sign-ins over.
    type: int
    default: 30
  revoked:
    description:
      - "The people whose sessions this run ended, to flag them C(revoked_this_run): the C(revoked) result of
        M(idpbridge.authentik_cloudflare.cloudflare_access_leavers), or a list of e-mail addresses."
    type: list
    elements: raw
    default: []
  dest:
    description:
      - A file to write the review to, ending in C(.json), C(.md) or C(.csv). Its directory must exist.
    type: path
  all_sessions:
    description:
      - Read the active sessions and the last seen identity of everybody who may still hold a session, not only of
        the people a session matters for (those authentik no longer admits where they signed in lately).
      - Costs two requests per such person; Cloudflare allows 1,200 requests in five minutes.
    type: bool
    default: false
notes:
  - "Sessions and the last seen identity are read only for people who signed in within the longest session Access
    can have given them (for everybody else C(active_session) is V(false)), and, unless O(all_sessions), only for
    those of them whom authentik no longer admits where they signed in lately: for the others C(active_session)
    and C(last_seen_login_method) are V(null)."
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_leavers
"""

EXAMPLES = r"""
- name: Write the monthly access review for the auditors
  idpbridge.authentik_cloudflare.cloudflare_access_review:
    account_id: 0123456789abcdef0123456789abcdef
    login_method: authentik
    authentik_url: https://auth.example.com
    authentik_token: "{{ vault_authentik_token }}"
    since: 30
    dest: /srv/reviews/access-review.md
  register: review

- name: Fail when a leaver still holds a session
  ansible.builtin.assert:
    that: review.review.flag_counts.leaver_with_session == 0
"""

RETURN = r"""
review:
  description:
    - The review, in the JSON schema of docs/offboarding.md (C(schema_version) 1) with C(generated_at).
  returned: success
  type: dict
  contains:
    schema_version:
      description: The version of the schema; it grows only with a change that is not an added key.
      type: int
    generated_at:
      description: When the review was made (UTC, ISO 8601).
      type: str
    since_days:
      description: The days of request log counted.
      type: int
    login_method:
      description: The id and name of the login method.
      type: dict
    applications:
      description: The applications reviewed (id, name, domain).
      type: list
      elements: dict
    people:
      description: How many people the review covers.
      type: int
    flag_counts:
      description: How many rows carry each flag.
      type: dict
    rows:
      description: One row per person and application; docs/offboarding.md lists the keys.
      type: list
      elements: dict
  sample:
    schema_version: 1
    generated_at: "2026-12-03T06:00:00Z"
    since_days: 30
    login_method: {id: 4f1c0e5e-0000-4000-8000-000000000001, name: authentik}
    applications: [{id: 1c2d, name: Grafana, domain: grafana.example.com}]
    people: 1
    flag_counts: {leaver_with_session: 0, revoked_this_run: 0, granted_unused: 1, signed_in_not_allowed: 0,
                  blocked_attempts: 0}
    rows:
      - {username: alice, name: Alice, email: alice@example.org, in_authentik: true, active: true,
         application: Grafana, domain: grafana.example.com, may_enter: allowed, why_not: "", access_user: null,
         seat: null, last_successful_login: null, active_session: null, last_seen_login_method: null,
         allowed_sign_ins: 0, blocked_sign_ins: 0, last_allowed_sign_in: null, revoked_this_run: false,
         flags: [granted_unused]}
dest:
  description: The file written (or, in check mode, that would be written).
  returned: when O(dest) is set
  type: str
msg:
  description: A one-line summary of the flags.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import AuthentikClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import cloudflare_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._people import iso, people_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._people_client import People, PeopleClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._review import (
    RENDERERS,
    build,
    without_stamp,
)


def write(module, dest, text, extension):
    """Whether ``dest`` changed (would change, in check mode); writes it atomically, private when new."""
    try:
        with open(dest, "r") as handle:
            current = handle.read()
    except (IOError, OSError):
        current = None
    if current is not None and without_stamp(current, extension) == without_stamp(text, extension):
        return False
    if module.check_mode:
        return True
    temp = "%s.%d.tmp" % (dest, os.getpid())
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        if current is not None:
            os.chmod(temp, os.stat(dest).st_mode & 0o7777)
        os.rename(temp, dest)
    except (IOError, OSError) as exc:
        if os.path.exists(temp):
            os.unlink(temp)
        module.fail_json(msg="Could not write the review to %s (option dest): %s" % (dest, exc))
    return True


def main():
    spec = cloudflare_argument_spec()
    spec.update(people_argument_spec())
    spec.update(applications=dict(type="list", elements="str"), since=dict(type="int", default=30),
                revoked=dict(type="list", elements="raw", default=[]), dest=dict(type="path"),
                all_sessions=dict(type="bool", default=False))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    if p["since"] < 1:
        module.fail_json(msg="since must be a number of days, 1 or more (option since), got %d" % p["since"])
    extension = os.path.splitext(p["dest"] or "")[1].lower()
    if p["dest"] and extension not in RENDERERS:
        module.fail_json(msg="dest must end in .json, .md or .csv, which picks the format (option dest), got %r" % p["dest"])
    people = People(PeopleClient.from_module(module), AuthentikClient.from_module(module, prefix="authentik_"),
                    p["login_method"])
    try:
        missing = [] if module.check_mode else None
        data = people.review_inputs(p["since"], p.get("applications"), p.get("identity_provider"), missing,
                                    all_sessions=p["all_sessions"])
        for name in missing or []:
            module.warn("The application %r does not exist (yet); in check mode it is assumed to be created by an "
                        "earlier task, and left out of the review (option applications)" % name)
    except (ApiError, LookupFailed) as exc:
        fail(module, exc)
    review = build(data["login_method"], data["apps"], data["directory"], data["access_users"], data["sessions"],
                   data["identities"], data["log_rows"], p["since"], revoked=p["revoked"], unread=data["unread"])
    review["generated_at"] = iso(people.now)
    counts = review["flag_counts"]
    msg = "Reviewed %d people on %d applications: %s" % (
        review["people"], len(review["applications"]),
        ", ".join("%s %d" % (flag, count) for flag, count in sorted(counts.items()) if count) or "no flag")
    result = {"changed": False, "review": review, "msg": msg}
    if p["dest"]:
        result["dest"] = p["dest"]
        result["changed"] = write(module, p["dest"], RENDERERS[extension](review), extension)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
