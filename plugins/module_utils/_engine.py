# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The one find -> compare -> create/update/delete engine.

A module describes its object with a ``ManagedObject`` subclass (how to find it, what the user
wants in API terms, how to normalise the server's answer, how to write) and hands it to
``ensure()``. The engine owns everything else, the same way for every object:

* ``changed`` computed from the normalised forms, so a rerun sends no write;
* check mode: every read happens, no write is sent, the end state is predicted;
* ``diff`` (only with ``--diff``): before/after of the normalised forms, secrets masked,
  identical in check mode and in a real run;
* the result contract: ``changed``, ``msg``, the object under its own key, ``existing``,
  ``end_state`` and the flat ids the role chains on, all sanitised by one function.
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
    result_key = "object"
    secret_keys = frozenset()

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params

    def label(self):
        """How messages name the thing, e.g. "OAuth2 provider 'cf-access'"."""
        raise NotImplementedError


class ManagedObject(_Managed):
    """What the engine needs to know about one kind of API object.

    Subclasses set ``kind`` (a label for messages), ``result_key`` (the key of the object in the
    module result) and ``secret_keys``, and implement the methods below. ``find`` and ``desired``
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

    # -- writes ----------------------------------------------------------------------------
    def create(self, desired):
        raise NotImplementedError

    def update(self, current, changes, desired):
        raise NotImplementedError

    def delete(self, current):
        raise NotImplementedError

    # -- results ---------------------------------------------------------------------------
    def present(self, obj):
        """The object as returned to the user (before sanitising). Default: the API object."""
        return obj

    def flat(self, obj):
        """Flat values the role chains on (ids, slugs); never a secret."""
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
            result[resource.result_key] = {}
        else:
            resource.refuse(current, None)
            if not check:
                resource.delete(current)
            result.update(changed=True, msg="%s %s" % (resource.label(), "would be deleted" if check else "deleted"),
                          end_state={})
            result[resource.result_key] = {}
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
    result[resource.result_key] = result["end_state"]
    result.update(resource.flat(end))
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


class ManagedSet(_Managed):
    """A set of API objects reconciled together, such as the policy bindings of one application.

    Members are told apart by an identity (a hashable value, e.g. ``("group", "<uuid>")``).
    ``ensure_set()`` lists the members once, matches them to the wanted items and plans
    creates, partial updates and deletes; check mode, diff and sanitising behave as in
    ``ensure()``. ``label()`` names the set, e.g. "the policy bindings of application 'x'".
    """

    result_key = "objects"

    def find_all(self):
        """Every current member, as the API returns them (one listing, all pages)."""
        raise NotImplementedError

    def identity(self, obj):
        """The identity of a current member."""
        raise NotImplementedError

    def describe(self, identity):
        """How messages name one member, e.g. "group 'admins'"."""
        return str(identity)

    def wanted(self):
        """The wanted members: a list of ``(identity, state, desired)``.

        ``state`` is "present" or "absent"; ``desired`` is normalised and holds only the keys
        the user set. Each identity may appear once.
        """
        raise NotImplementedError

    def normalize(self, obj):
        raise NotImplementedError

    def defaults(self, identity):
        """What the server fills in on create, for check-mode predictions."""
        return {}

    def rank(self, obj, desired):
        """Sort key among members sharing one identity: the lowest is kept, the others deleted."""
        return len(differences(self.normalize(obj), desired))

    def create(self, identity, desired):
        raise NotImplementedError

    def update(self, current, changes, desired):
        raise NotImplementedError

    def delete(self, current):
        raise NotImplementedError

    def present(self, obj):
        return obj


def ensure_set(module, resource, exclusive=False):
    """Bring the members of ``resource`` to what ``wanted()`` says and return the module result.

    * a wanted member that is missing is created; one that differs gets a partial update;
    * several members with one identity are collapsed: the closest one is kept (and updated),
      the others are deleted;
    * ``state: absent`` items are deleted (every member with that identity);
    * with ``exclusive``, members whose identity is not wanted are deleted.

    Writes run deletes first, then updates, then creates (so a freed slot can be reused).
    The result has ``changed``, ``msg``, ``actions`` (one entry per member touched or kept),
    ``existing``, ``end_state`` and the members after the run under ``resource.result_key``;
    ``diff`` (with ``--diff``) maps each touched member's description to its normalised,
    sanitised form before and after, the same in check mode and in a real run.
    """
    check = module.check_mode
    secrets = resource.secret_keys
    current = resource.find_all()
    groups = {}
    order = []
    for obj in current:
        ident = resource.identity(obj)
        if ident not in groups:
            groups[ident] = []
            order.append(ident)
        groups[ident].append(obj)

    wanted = resource.wanted()
    seen = set()
    for ident, _state, _desired in wanted:
        if ident in seen:
            raise Refused("%s is listed more than once; give each member once" % resource.describe(ident))
        seen.add(ident)

    deletes, updates, creates, actions = [], [], [], []
    before_diff, after_diff = {}, {}

    def note(name, obj_before, obj_after):
        before_diff[name] = sanitize(obj_before, secrets) if obj_before is not None else {}
        after_diff[name] = sanitize(obj_after, secrets) if obj_after is not None else {}

    def plan_delete(ident, obj, reason):
        deletes.append(obj)
        name = resource.describe(ident)
        if len(groups.get(ident) or []) > 1:
            name = "%s [%s]" % (name, obj.get("pk"))
        actions.append({"item": resource.describe(ident), "action": "delete", "reason": reason,
                        "pk": obj.get("pk"), "changes": []})
        note(name, resource.normalize(obj), None)

    for ident, state, desired in wanted:
        have = groups.get(ident) or []
        if state == "absent":
            for obj in have:
                plan_delete(ident, obj, "absent")
            if not have:
                actions.append({"item": resource.describe(ident), "action": "none", "reason": "already absent",
                                "pk": None, "changes": []})
            continue
        if not have:
            predicted = merge(resource.defaults(ident), desired)
            creates.append((ident, desired, predicted))
            actions.append({"item": resource.describe(ident), "action": "create", "reason": "missing",
                            "pk": None, "changes": sorted(desired)})
            note(resource.describe(ident), None, resource.normalize(predicted))
            continue
        ranked = sorted(enumerate(have), key=lambda pair: (resource.rank(pair[1], desired), pair[0]))
        keep = ranked[0][1]
        for _index, extra in ranked[1:]:
            plan_delete(ident, extra, "duplicate of %s" % keep.get("pk"))
        before = resource.normalize(keep)
        changes = differences(before, desired)
        if changes:
            updates.append((ident, keep, changes, desired))
            actions.append({"item": resource.describe(ident), "action": "update", "reason": "differs",
                            "pk": keep.get("pk"), "changes": sorted(changes)})
            name = resource.describe(ident)
            if len(have) > 1:
                name = "%s [%s]" % (name, keep.get("pk"))
            note(name, before, merge(before, changes))
        else:
            actions.append({"item": resource.describe(ident), "action": "none", "reason": "up to date",
                            "pk": keep.get("pk"), "changes": []})

    if exclusive:
        for ident in order:
            if ident in seen:
                continue
            for obj in groups[ident]:
                plan_delete(ident, obj, "not listed (exclusive)")

    # Writes (none in check mode), then the members as they end up.
    replaced = {}
    removed = set()
    for obj in deletes:
        if not check:
            resource.delete(obj)
        removed.add(id(obj))
    for ident, keep, changes, desired in updates:
        replaced[id(keep)] = merge(keep, changes) if check else resource.update(keep, changes, desired)
    created = []
    for ident, desired, predicted in creates:
        created.append(predicted if check else resource.create(ident, desired))

    end = [replaced.get(id(obj), obj) for obj in current if id(obj) not in removed] + created
    counts = {}
    for action in actions:
        counts[action["action"]] = counts.get(action["action"], 0) + 1
    changed = bool(deletes or updates or creates)
    if changed:
        words = ({"create": "to create", "update": "to update", "delete": "to delete"} if check
                 else {"create": "created", "update": "updated", "delete": "deleted"})
        done = ", ".join("%d %s" % (counts[a], words[a]) for a in ("create", "update", "delete") if counts.get(a))
        msg = "%s: %s" % (resource.label(), done)
    else:
        msg = "%s are up to date" % resource.label()
    presented_end = [sanitize(resource.present(obj), secrets) for obj in end]
    result = {
        "changed": changed,
        "msg": msg,
        "actions": actions,
        "existing": [sanitize(resource.present(obj), secrets) for obj in current],
        "end_state": presented_end,
    }
    result[resource.result_key] = presented_end
    if module._diff:
        result["diff"] = {"before": before_diff, "after": after_diff}
    return result
