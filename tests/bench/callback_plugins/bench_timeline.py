# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark helper: write when each task started and ended (wall clock) to IDPB_BENCH_TIMELINE.

Used by tools/bench.py only, to give each request the test servers logged to the task that sent it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: bench_timeline
type: aggregate
short_description: Task start and end times for tools/bench.py
description:
  - Appends one JSON line per task result (name, module, start, end) to the file named by IDPB_BENCH_TIMELINE.
options: {}
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._path = os.environ.get("IDPB_BENCH_TIMELINE")
        self._started = {}

    def _write(self, record):
        if self._path:
            with open(self._path, "a") as handle:
                handle.write(json.dumps(record) + "\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.time()

    def v2_playbook_on_handler_task_start(self, task):
        self._started[task._uuid] = time.time()

    def _done(self, result, status):
        task = result._task
        self._write({"task": task.get_name(include_role_fqcn=False), "action": task.action, "status": status,
                     "start": self._started.get(task._uuid), "end": time.time()})

    def v2_runner_on_ok(self, result):
        self._done(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._done(result, "skipped")
