# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the idpbridge.authentik_cloudflare collection.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  login_method:
    description:
      - The login method (name or id) that O(include.authentik_groups) and O(include.oidc_claims) read claims from,
        usually the authentik login method. Required when those are used.
    type: str
  include:
    description:
      - Who the policy is for; a user must match at least one of these rules (OR). Required to create a policy.

    type: dict
    # the same kinds of rules in include, exclude and require
    suboptions: &rule_kinds
      emails:
        description: E-mail addresses (Cloudflare compares them without regard to case).
        type: list
        elements: str
      email_domains:
        description: E-mail domains such as V(example.com), without C(@).
        type: list
        elements: str
      everyone:
        description: Match every user.
        type: bool
        default: false
      login_methods:
        description: Users who signed in through one of these login methods (names or ids).
        type: list
        elements: str
      authentik_groups:
        description:
          - Members of these authentik groups (group names). Each becomes an OIDC claim rule on the C(groups) claim of
            the login method O(login_method), so that login method must request the claim (C(claims=[groups])).
        type: list
        elements: str
      oidc_claims:
        description: OIDC claim rules; a user matches when the ID token's claim equals the value or, for a list claim,
          holds it.
        type: list
        elements: dict
        suboptions:
          claim_name:
            description: The claim, such as V(groups).
            type: str
            required: true
          claim_value:
            description: The value to match.
            type: str
            required: true
          login_method:
            description: The login method (name or id) whose ID token carries the claim. Defaults to O(login_method).
            type: str
      rules:
        description:
          - "Raw Access rules as the API takes them, for the kinds without an option here, such as
            C({group: {id: <Access group id>}}) or C({ip: {ip: 192.0.2.0/24}})."
        type: list
        elements: dict

  exclude:
    description:
      - Who the policy is never for; a user who matches any of these rules does not match the policy (NOT).
      - When not set, the current exclude rules are kept; an empty dictionary removes them.

    type: dict
    suboptions: *rule_kinds

  require:
    description:
      - What every user must also match; each of these rules must hold (AND).
      - When not set, the current require rules are kept; an empty dictionary removes them.

    type: dict
    suboptions: *rule_kinds
"""
