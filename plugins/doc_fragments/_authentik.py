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
  url:
    description:
      - Base URL of the authentik server, such as V(https://auth.example.com). A trailing C(/api/v3) is accepted and ignored.
      - If not set, the value of the E(AUTHENTIK_URL) environment variable is used.
    type: str
    required: true
  token:
    description:
      - An authentik API token (a token with the intent C(API)) of a user allowed to manage the objects.
      - If not set, the value of the E(AUTHENTIK_TOKEN) environment variable is used.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the authentik server.
      - Set to V(false) only for test servers with self-signed certificates.
      - If not set, the value of the E(AUTHENTIK_VALIDATE_CERTS) environment variable is used, and V(true) when that is not set either.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM file) to verify the authentik server's certificate with, instead of the system's trust store.
      - If not set, the value of the E(AUTHENTIK_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer before giving up on it.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is retried after HTTP 429, 502, 503, 504 or a connection failure, with growing waits
        (the server's C(Retry-After) is honoured). Each retry is reported as a warning.
      - A create request (POST) is never sent again once the server may have acted on it.
    type: int
    default: 3
requirements:
  - requests
"""

    ACTIONGROUP = r"""
attributes:
  action_group:
    description: Use C(group/idpbridge.authentik_cloudflare.authentik) in C(module_defaults) to set the connection options once for all authentik modules.
    support: full
    membership:
      - idpbridge.authentik_cloudflare.authentik
"""

    # The authentik connection of the Cloudflare modules that also read authentik (their options carry an authentik_
    # prefix beside the Cloudflare ones). What the token must be allowed to read is in each module's own docs.
    FROM_CLOUDFLARE = r"""
options:
  authentik_url:
    description:
      - Base URL of the authentik API, such as V(https://auth.example.com).
      - If not set, the value of the E(AUTHENTIK_URL) environment variable is used.
    type: str
  authentik_token:
    description:
      - An authentik API token (with the intent C(API)).
      - If not set, the value of the E(AUTHENTIK_TOKEN) environment variable is used.
    type: str
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
"""
