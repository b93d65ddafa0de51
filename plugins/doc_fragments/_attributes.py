# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the idpbridge.authentik_cloudflare collection.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Every module's attributes, as a module that changes objects has them. An info module lists INFO_MODULE before
    # this fragment: the first fragment that documents an attribute keeps it, so its check mode, diff and
    # idempotence read as those of a module that only reads.
    DOCUMENTATION = r"""
attributes:
  action:
    description: >-
      Has an action plugin of the same name. When the module would run on the controller with the controller's own
      Python (a local connection, the same interpreter, no C(become), no C(async)), it runs inside Ansible's worker
      process, which saves starting a Python process per task; otherwise, and whenever that path is not available
      on the running ansible-core, it runs as a normal module.
    support: full
  async:
    description: Runs with C(async) and C(poll) as a normal module process.
    support: full
  delegation:
    description: >-
      Can be delegated with C(delegate_to), usually to C(localhost), since it talks only to HTTP APIs; it runs where
      it is delegated to and needs C(requests) in that host's Python.
    support: full
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
