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
  authentik_url:
    description:
      - Base URL of the authentik API, such as V(https://auth.example.com).
      - If not set, the value of the E(AUTHENTIK_URL) environment variable is used.
    type: str
    required: true
  authentik_token:
    description:
      - An authentik API token that may list users and their groups (the directory).
      - If not set, the value of the E(AUTHENTIK_TOKEN) environment variable is used.
    type: str
    required: true
  authentik_validate_certs:
    description:
      - Whether to verify authentik's TLS certificate.
      - If not set, the value of the E(AUTHENTIK_VALIDATE_CERTS) environment variable is used, and V(true) when that
        is not set either.
    type: bool
    default: true
  authentik_ca_path:
    description:
      - A CA bundle (PEM file) to verify authentik's certificate with.
      - If not set, the value of the E(AUTHENTIK_CA_PATH) environment variable is used.
    type: path
notes:
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
