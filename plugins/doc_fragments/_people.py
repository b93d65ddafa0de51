# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the idpbridge.authentik_cloudflare collection.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The options of the modules that compare authentik's directory with the people Access knows.
    DOCUMENTATION = r"""
options:
  login_method:
    description:
      - The Cloudflare Access login method (identity provider) that signs people in through authentik, by name or id.
      - Only people whose last seen identity came through this login method are looked at; the people of other login
        methods are never touched.
    type: str
    required: true
  identity_provider:
    description:
      - The login method as M(idpbridge.authentik_cloudflare.cloudflare_access_identity_provider) returned it earlier in
        the same play (its C(identity_provider) result). When its C(id) equals O(login_method), it is used instead of
        reading the login method again (one request less); otherwise it is ignored.
    type: dict
  # the rest of the authentik options: the fragment _authentik.from_cloudflare, listed after this one
  authentik_url:
    required: true
  authentik_token:
    required: true
notes:
  - O(authentik_token) must be allowed to list users and their groups (the directory).
  - "Who may enter is decided as Access decides at a sign-in (the same evaluation as the login method test), on
    authentik's directory data: the e-mail, and the group names as the C(groups) claim when the login method lists
    C(groups) in its claims. A rule that directory data cannot decide (IP ranges, Access groups, device posture) gives
    C(unknown), and an unknown verdict never revokes anything."
  - "People, sessions and the request log live in the account, not in a zone: give O(account_id)."
  - "The token needs the account permissions C(Access: Audit Logs Read) (people, sessions and the request log: the
    group Cloudflare's API schema names; some tools call the user reads C(Access: Users Read)),
    C(Access: Apps and Policies Read), and C(Access: Organizations, Identity Providers, and Groups Read) for the
    login method."
"""
