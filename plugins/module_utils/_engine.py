# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The one find -> compare -> create/update/delete engine for a single object.

A module describes its object with a ``ManagedObject`` subclass (how to find it, what the user
wants in API terms, how to normalise the server's answer, how to write) and hands it to
``ensure()``. The engine owns everything else, the same way for every object:

* ``changed`` computed from the normalised forms, so a rerun sends no write;
* check mode: every read happens, no write is sent, the end state is predicted;
* ``diff`` (only with ``--diff``): before/after of the normalised forms, secrets masked,
  identical in check mode and in a real run;
* the result contract (docs/development.md, "Result contract"): ``changed``, ``msg``,
  ``existing`` (the object before, ``{}`` when it did not exist), ``end_state`` (the object
  after, ``{}`` when absent; predicted in check mode), ``changes`` (the compared fields that
  differ) and ``diff`` only with ``--diff``; both objects sanitised by one function. The
  object appears once, as ``end_state``: the role reads ``end_state.<field>``. Values that are
  not fields of the API object (derived URLs, ids of other objects) come from
  ``ManagedObject.derived()`` and must be documented in the module's RETURN.

Sets of objects (policy bindings of one application) have their own engine in
``_engine_set.py``, with the same contract over a list.

Lists (docs/development.md, "Lists"): an option that lists entries is exact by default when
the list is a field of one object we own (a ``purge_<list>`` option, default true, may keep
entries the user did not list); when the entries are separate objects others may also have
made, a ``purge_<list>`` option defaults to false, so that a mistake never deletes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import MASK

CHANGED_MASK = MASK + " (changed)"


def sanitize(obj, secret_keys):
    """A deep copy of ``obj`` with the value of every key in ``secret_keys`` masked, at any depth."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key in secret_keys and value not in (None, ""):
                out[key] = value if value in (MASK, CHANGED_MASK) else MASK
            else:
                out[key] = sanitize(value, secret_keys)
        return out
    if isinstance(obj, list):
        return [sanitize(item, secret_keys) for item in obj]
    return copy.deepcopy(obj)


def differences(current, desired):
    """The keys of ``desired`` whose value differs from ``current`` (dicts compared per key).

    Both sides must already be normalised. A nested dict in ``desired`` is compared only on the
    keys it names, so a server that adds keys of its own never causes a change.
    """
    changed = {}
    for key, want in desired.items():
        have = current.get(key) if isinstance(current, dict) else None
        if isinstance(want, dict) and isinstance(have, dict):
            sub = differences(have, want)
            if sub:
                changed[key] = want
        elif have != want:
            changed[key] = want
    return changed


def merge(base, changes):
    """``base`` updated with ``changes``; nested dicts merged key by key."""
    out = copy.deepcopy(base) if base else {}
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class _Managed:
    """What every managed thing has: the module, its client, its parameters and a label."""

    kind = "object"
    secret_keys = frozenset()

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params

    def label(self):
        """How messages name the thing, e.g. "OAuth2 provider 'cf-access'"."""
        raise NotImplementedError

    def update(self, current, changes, desired):
        """Send ``changes`` (the differing keys of ``desired``) for ``current``; return the object after."""
        raise NotImplementedError

    def delete(self, current):
        raise NotImplementedError

    def present(self, obj):
        """The object as returned to the user (before sanitising). Default: the API object."""
        return obj


class ManagedObject(_Managed):
    """What the engine needs to know about one kind of API object.

    Subclasses set ``kind`` (a label for messages) and ``secret_keys``, and implement the methods below. ``find`` and ``desired``
    may raise ``LookupFailed``; every method may raise ``ApiError``.
    """

    def find(self):
        """The current object as the API returns it, or None."""
        raise NotImplementedError

    # -- wanted state --------------------------------------------------------------------
    def desired(self, current):
        """The wanted state, normalised, holding only the keys the user set (None = leave alone)."""
        raise NotImplementedError

    def normalize(self, obj):
        """The comparable form of an API object: the managed keys only, in canonical form."""
        raise NotImplementedError

    def defaults(self):
        """What the server fills in on create for keys the user did not set (for predictions)."""
        return {}

    def force_update(self, current, desired):
        """True when an update must be sent even though no compared key differs."""
        return False

    def refuse(self, current, desired):
        """Raise ``Refused`` when the change cannot be made (type change, read-only object)."""

    # -- writes (update, delete: see _Managed) --------------------------------------------
    def create(self, desired):
        raise NotImplementedError

    # -- results (present: see _Managed) -----------------------------------------------------
    def derived(self, obj):
        """Values added to the result that are not fields of the object (derived URLs, ids of other
        objects), each documented in RETURN; never a secret and never a field of ``end_state``."""
        return {}


def ensure(module, resource, state="present"):
    """Bring ``resource`` to ``state`` and return the module result (not yet sent)."""
    check = module.check_mode
    secrets = resource.secret_keys
    current = resource.find()
    before = resource.normalize(current) if current is not None else {}
    result = {"changed": False, "existing": sanitize(resource.present(current), secrets) if current is not None else {}}

    if state == "absent":
        if current is None:
            result.update(msg="%s is already absent" % resource.label(), end_state={})
        else:
            resource.refuse(current, None)
            if not check:
                resource.delete(current)
            result.update(changed=True, msg="%s %s" % (resource.label(), "would be deleted" if check else "deleted"),
                          end_state={})
        if module._diff:
            result["diff"] = {"before": sanitize(before, secrets), "after": {}}
        return result

    desired = resource.desired(current)
    if current is None:
        after = merge(resource.defaults(), desired)
        if check:
            end = after
        else:
            end = resource.create(desired)
        verb = "would be created" if check else "created"
        result.update(changed=True, msg="%s %s" % (resource.label(), verb))
        changes = desired
    else:
        changes = differences(before, desired)
        forced = resource.force_update(current, desired)
        after = merge(before, changes)
        if changes or forced:
            resource.refuse(current, desired)
            end = merge(current, changes) if check else resource.update(current, changes, desired)
            verb = "would be updated" if check else "updated"
            what = ", ".join(sorted(changes)) or "secret"
            result.update(changed=True, msg="%s %s (%s)" % (resource.label(), verb, what))
        else:
            end = current
            result.update(msg="%s is up to date" % resource.label())
    if module._diff:
        before_shown = sanitize(before, secrets)
        after_shown = sanitize(after, secrets)
        for key in secrets:
            if key in changes and after_shown.get(key) == MASK:
                after_shown[key] = CHANGED_MASK
        result["diff"] = {"before": before_shown, "after": after_shown}
    result["changes"] = sorted(changes) if result["changed"] else []
    presented = resource.present(end)
    result["end_state"] = sanitize(presented, secrets)
    result.update(resource.derived(end))
    return result


def run(module, resource_factory, state_key="state", extra=None):
    """Build the resource, call ``ensure`` and exit the module with one clear message on failure."""
    try:
        resource = resource_factory()
        result = ensure(module, resource, module.params.get(state_key) or "present")
        if extra:
            result.update(extra(resource, result))
    except (ApiError, LookupFailed, Refused) as exc:
        fail(module, exc)
    module.exit_json(**result)


def fail(module, exc):
    """``fail_json`` with the exception's message and, for API errors, the HTTP status."""
    kwargs = {"msg": str(exc)}
    if isinstance(exc, ApiError):
        if exc.status is not None:
            kwargs["status"] = exc.status
        if exc.codes:
            kwargs["api_error_codes"] = exc.codes
    module.fail_json(**kwargs)
