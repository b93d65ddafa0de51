# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""What the Cloudflare info modules share: the options and ``main()`` (the client's ``select`` finds one or all).

The result contract of an info module (docs/development.md, "Result contract"): ``changed``
(always false), ``msg`` and the objects read as a list named after them (``applications``,
``policies``, ``identity_providers``); with ``name`` or the id option, zero or one. The objects
appear once; values that are not fields of them (derived URLs) are documented in RETURN.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import SAFE_ID, cloudflare_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import fail


def info_module_args(id_option, zone=True):
    """The ``AnsibleModule`` keyword arguments of an info module that reads one object by ``name`` or ``id_option``,
    or all of them."""
    spec = cloudflare_argument_spec(zone=zone)
    spec.update(name=dict(type="str"))
    spec[id_option] = dict(type="str")
    return dict(argument_spec=spec, supports_check_mode=True, mutually_exclusive=[("name", id_option)])


def run_info(module, id_option, id_what, client_factory, gather):
    """The whole ``main()`` of an info module after building ``module``: check the id, read, exit.

    ``gather(client, params)`` returns ``(key, objects, extra)``: the result key named after the objects, the
    list read, and documented derived values (a dict)."""
    ident = module.params.get(id_option)
    if ident is not None and not SAFE_ID.match(ident):
        module.fail_json(msg="%s must be %s (a UUID), got %r" % (id_option, id_what, ident))
    client = client_factory(module)
    try:
        key, objects, extra = gather(client, module.params)
    except (ApiError, LookupFailed) as exc:
        fail(module, exc)
    result = dict(extra)
    result.update({"changed": False, key: objects, "msg": "%s found: %d" % (key.replace("_", " "), len(objects))})
    module.exit_json(**result)
