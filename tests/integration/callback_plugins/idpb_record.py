# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# A test-only callback: writes every task result and the final stats as JSON to the file named
# by IDPB_RECORD_FILE, so the integration tests can assert on results while the normal output
# stays on stdout (where the tests look for leaked secrets).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: idpb_record
type: aggregate
short_description: Record task results as JSON for the collection's integration tests
description:
  - Writes task results and play stats to the file named by E(IDPB_RECORD_FILE).
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "idpb_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._records = []

    def _add(self, result, status):
        self._records.append({
            "task": result._task.get_name(),
            "action": result._task.action,
            "host": result._host.get_name(),
            "status": status,
            "result": self._clean(result._result),
        })

    @staticmethod
    def _clean(data):
        try:
            return json.loads(json.dumps(data, default=str))
        except (TypeError, ValueError):
            return {"unserialisable": str(data)}

    def v2_runner_on_ok(self, result):
        self._add(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._add(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._add(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("IDPB_RECORD_FILE")
        if not path:
            return
        summary = {}
        for host in sorted(stats.processed.keys()):
            summary[host] = stats.summarize(host)
        with open(path, "w") as handle:
            json.dump({"results": self._records, "stats": summary}, handle)
