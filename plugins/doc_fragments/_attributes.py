# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the idpbridge.authentik_cloudflare collection.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and predict C(changed) exactly; no write request is sent.
    support: full
  diff_mode:
    description: Returns the before and after state of the object with C(--diff); secrets are masked.
    support: full
  idempotent:
    description: A second run with the same options changes nothing and sends no write request.
    support: full
"""

    INFO_MODULE = r"""
attributes:
  check_mode:
    description: Reads only, so it runs the same in check mode.
    support: full
  diff_mode:
    description: Reads only; there is nothing to diff.
    support: N/A
  idempotent:
    description: Reads only.
    support: full
"""
