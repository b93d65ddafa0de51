# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The errors every layer raises, at the bottom: clients, resources and the engine import them from here.

* ``ApiError``: an API call failed (the HTTP layer builds it: what we tried, the API's words, the status);
* ``LookupFailed``: a referenced object (flow, key, group, login method...) does not exist or is ambiguous;
  ``for_option`` adds the module option that gave the reference;
* ``Refused``: understood, but the module will not do it (a read-only object, a type change, a field that
  cannot travel in a write).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ApiError(Exception):
    """A failed API call, with a message that is safe to show.

    ``status`` is the HTTP status (None when no answer came), ``api_message`` the API's own
    words, ``method``/``path`` the request and ``hint`` a sentence saying what to fix.
    """

    def __init__(self, message, method=None, path=None, status=None, api_message=None, hint=None, codes=None):
        super(ApiError, self).__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.api_message = api_message
        self.hint = hint
        self.codes = codes or []

    def __str__(self):
        return self.message

    def with_context(self, what):
        """A copy whose message starts with ``what`` (what we were trying to do)."""
        err = ApiError(
            "%s: %s" % (what, self.message), method=self.method, path=self.path, status=self.status,
            api_message=self.api_message, hint=self.hint, codes=self.codes,
        )
        return err


class LookupFailed(Exception):
    """A referenced object (flow, key, group, ...) does not exist or is ambiguous."""


def for_option(option, lookup, *args):
    """``lookup(*args)``; a LookupFailed it raises names the module option that gave the reference."""
    try:
        return lookup(*args)
    except LookupFailed as exc:
        raise LookupFailed("%s (option %s)" % (exc, option))


class Refused(Exception):
    """The request is understood but the module will not do it (read-only object, type change)."""
