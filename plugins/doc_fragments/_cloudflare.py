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
  api_url:
    description:
      - Base URL of the Cloudflare API. Change it only for a proxy or a test server.
      - If not set, the value of the E(CLOUDFLARE_API_URL) environment variable is used, and
        V(https://api.cloudflare.com/client/v4) when that is not set either.
    type: str
    default: https://api.cloudflare.com/client/v4
  api_token:
    description:
      - "A Cloudflare API token. Writing login methods needs the account permission
        C(Access: Organizations, Identity Providers, and Groups Write); reading needs the same group's C(Read)."
      - If not set, the value of the E(CLOUDFLARE_API_TOKEN) environment variable is used.
      - Give either O(api_token) or the legacy pair O(api_email) and O(api_key).
    type: str
  api_email:
    description:
      - E-mail address of the Cloudflare user, for the legacy global API key. Prefer O(api_token).
      - If not set, the value of the E(CLOUDFLARE_EMAIL) environment variable is used.
    type: str
  api_key:
    description:
      - The legacy global API key of the user named by O(api_email). Prefer O(api_token).
      - If not set, the value of the E(CLOUDFLARE_API_KEY) environment variable is used.
    type: str
  account_id:
    description:
      - The Cloudflare account that holds the Zero Trust organization (32 hexadecimal characters, shown as
        Account ID in the dashboard).
      - If not set, the value of the E(CLOUDFLARE_ACCOUNT_ID) environment variable is used, unless the module has a
        C(zone_id) option and it is set.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API server.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM file) to verify the API server's certificate with, for example behind a TLS-inspecting proxy.
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

    ZONE = r"""
options:
  zone_id:
    description:
      - Manage the zone-level object of this zone instead of the account-level one (the legacy Access mode).
      - Mutually exclusive with O(account_id); give exactly one of them. An account ID from
        E(CLOUDFLARE_ACCOUNT_ID) is ignored when O(zone_id) is set.
    type: str
"""

    ACTIONGROUP = r"""
attributes:
  action_group:
    description: Use C(group/idpbridge.authentik_cloudflare.cloudflare) in C(module_defaults) to set the connection options once for all Cloudflare modules.
    support: full
    membership:
      - idpbridge.authentik_cloudflare.cloudflare
"""
