# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The option specs of the friendly Access rule sets (documented in the _access_rules doc fragment)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def rule_set_spec():
    """One rule set option (include, exclude or require): a dict of friendly rule kinds."""
    return dict(type="dict", options=dict(
        emails=dict(type="list", elements="str"),
        email_domains=dict(type="list", elements="str"),
        everyone=dict(type="bool", default=False),
        login_methods=dict(type="list", elements="str"),
        authentik_groups=dict(type="list", elements="str"),
        oidc_claims=dict(type="list", elements="dict", options=dict(
            claim_name=dict(type="str", required=True),
            claim_value=dict(type="str", required=True),
            login_method=dict(type="str"),
        )),
        rules=dict(type="list", elements="dict"),
    ))
