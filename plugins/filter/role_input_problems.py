# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: role_input_problems
short_description: The problems in the inputs of the cloudflare_access role, before any request
version_added: 0.1.0
author: idpbridge maintainers
description:
  - Checks the variables of the role C(idpbridge.authentik_cloudflare.cloudflare_access) on the controller, with the
    rules the modules apply to their own options (the same code), and returns one message per problem, naming the
    role variable and the environment variable that can set it.
  - First the types and choices of the role's argument spec; when one is wrong, only those are reported (the other
    rules assume the right types).
  - Then the base URL of authentik (not a page of its web interface), the two API tokens, the Cloudflare account
    id and API URL, the slug, and with C(cloudflare_access_state=present) the public URL (https, except for
    loopback addresses), a client secret given together with a rotation, a test user without a password and the
    team domain.
  - A value left empty is taken from the environment variable the O(environment) table gives for it, as the
    modules do.
  - The role's preflight (C(tasks/preflight.yml)) calls it; it is not meant for other use.
positional: spec, environment
options:
  _input:
    description: The role's variables, by name (C(cloudflare_access_*)), with the values the role runs with. A value
      of V(null) counts as not given.
    type: dict
    required: true
  spec:
    description: The options of the role's argument spec (C(meta/argument_specs.yml), entry point C(main)).
    type: dict
    required: true
  environment:
    description: The environment variable behind each role variable that can be set by one.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Check the role's inputs before the first request
  ansible.builtin.fail:
    msg: "{{ _problems | join(' ') }}"
  when: _problems | length > 0
  vars:
    _spec: "{{ (lookup('ansible.builtin.file', role_path ~ '/meta/argument_specs.yml') | from_yaml).argument_specs.main.options }}"
    _given: "{{ _spec.keys() | list | intersect(lookup('ansible.builtin.varnames', '^cloudflare_access_', wantlist=True)) }}"
    _problems: >-
      {{ dict(_given | zip(query('ansible.builtin.vars', *_given)))
         | idpbridge.authentik_cloudflare.role_input_problems(_spec, {'cloudflare_access_authentik_url': 'AUTHENTIK_URL'}) }}
"""

RETURN = r"""
_value:
  description: One message per problem, each a sentence; empty when the inputs are fine. Never holds a token.
  type: list
  elements: str
"""

import os
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set_input import HOST
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    authentik_base_url, check_slug,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import (
    api_base_url, auth_headers, check_scope_id, check_url,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import MASK, check_token

PREFIX = "cloudflare_access_"
# The legacy Cloudflare credentials have no role variable: the modules read them from the environment.
LEGACY_ENV = ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY")


def _sentence(text):
    text = str(text).strip()
    return text if text.endswith(".") else text + "."


def _plain(value):
    """``value`` with plain dicts and lists: the validator deep-copies what it gets, and a copy of the templar's
    lazy containers would copy the templar (and its plugin loaders, which warn when rebuilt)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def type_problems(spec, values):
    """The type and choice errors of ``values`` against ``spec``, as one short message (empty list when none)."""
    # a variable given as null counts as not given
    result = ArgumentSpecValidator(_plain(spec)).validate({k: _plain(v) for k, v in values.items() if v is not None})
    if not result.error_messages:
        return [], result.validated_parameters
    text = "; ".join(result.error_messages)
    secrets = (str(values[k]) for k, option in spec.items()
               if isinstance(option, Mapping) and option.get("no_log") and values.get(k) not in (None, ""))
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)  # the options marked no_log (tokens, secrets) never appear
    return ["%s. Fix these role variables (see the role README)." % text], None


def role_input_problems(values, spec, environment=None, environ=None):
    """The problems of the role's inputs (see DOCUMENTATION); ``environ`` defaults to the controller's."""
    if not isinstance(values, Mapping) or not isinstance(spec, Mapping):
        raise AnsibleFilterError("role_input_problems takes the role's variables and its argument spec, both mappings")
    environment = dict(environment or {})
    environ = os.environ if environ is None else environ
    problems, given = type_problems(spec, values)
    if problems:
        return problems

    def name(key):
        """The role variable of ``key``, with its environment variable when it has one."""
        var = PREFIX + key
        return "%s (or %s)" % (var, environment[var]) if var in environment else var

    def value(key):
        var = PREFIX + key
        return given.get(var) or (environ.get(environment[var]) if var in environment else None) or ""

    def check(rule, *args, **kwargs):
        try:
            return rule(*args, **kwargs)
        except ValueError as exc:
            problems.append(_sentence(exc))
            return None

    authentik = check(authentik_base_url, value("authentik_url"), name("authentik_url"))
    check(check_token, value("authentik_token"), name("authentik_token"), "an authentik API token (intent API)")
    check(auth_headers, {"api_token": value("cloudflare_api_token"), "api_email": environ.get(LEGACY_ENV[0]),
                         "api_key": environ.get(LEGACY_ENV[1])},
          token_option=name("cloudflare_api_token"), legacy_options=" and ".join(LEGACY_ENV))
    check(check_scope_id, value("cloudflare_account_id"), name("cloudflare_account_id"))
    if value("cloudflare_api_url"):
        check(api_base_url, value("cloudflare_api_url"), name("cloudflare_api_url"))
    _check_slug(given, problems)
    if given.get(PREFIX + "state") == "present":
        public = given.get(PREFIX + "authentik_public_url") or authentik
        if public:
            check(check_url, public, "%s (or, when unset, %s / %s)" % (
                PREFIX + "authentik_public_url", PREFIX + "authentik_url", environment.get(PREFIX + "authentik_url")))
        problems.extend(_present_problems(given))
    return problems


def _check_slug(given, problems):
    if not str(given.get(PREFIX + "name") or "").strip():
        problems.append("cloudflare_access_name is empty and gives no slug: set cloudflare_access_name (or "
                        "cloudflare_access_slug).")
        return
    try:
        check_slug(given.get(PREFIX + "slug") or "", PREFIX + "slug")
    except ValueError as exc:
        problems.append("%s: it is not a valid authentik slug; set cloudflare_access_slug, or a cloudflare_access_name "
                        "with letters or digits in it." % exc)


def _present_problems(given):
    """The rules of the role's own variables (no module has them) that apply to state present."""
    problems = []
    if given.get(PREFIX + "client_secret") and given.get(PREFIX + "rotate_secret"):
        problems.append("cloudflare_access_client_secret and cloudflare_access_rotate_secret are both set: give a secret "
                        "or ask for a new one, not both.")
    if bool(given.get(PREFIX + "test_username")) != bool(given.get(PREFIX + "test_password")):
        problems.append("cloudflare_access_test_username and cloudflare_access_test_password go together: set both, "
                        "or neither.")
    team = given.get(PREFIX + "team_domain")
    if team:
        host = team.split("://", 1)[1] if team.startswith(("http://", "https://")) else team
        host = host.split("/", 1)[0]
        if host.startswith("*.") or ":" in host or not HOST.match(host):
            problems.append("cloudflare_access_team_domain %r is not a host name such as myteam.cloudflareaccess.com."
                            % team)
    return problems


class FilterModule(object):
    """The filters of the idpbridge.authentik_cloudflare collection."""

    def filters(self):
        return {"role_input_problems": role_input_problems}
