# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The action plugin of the cloudflare_access_review module: it runs the module inside Ansible's worker process when
# the module would run on the controller anyway, and as a normal module otherwise.
# See plugins/plugin_utils/_on_controller.py.

from __future__ import annotations

from ansible_collections.idpbridge.authentik_cloudflare.plugins.plugin_utils._on_controller import make_action

ActionModule = make_action("cloudflare_access_review")
