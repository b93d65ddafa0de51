# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The engine for a set of API objects reconciled together (``ManagedSet``, ``ensure_set``).

The same contract as the single-object engine in ``_engine.py`` over a list: ``existing`` and
``end_state`` are the members before and after (sanitised), ``actions`` says what happened to
each, ``diff`` only with ``--diff``. Members are separate objects others may also have made,
so the ones the user did not list are deleted only with ``purge`` (the module's
``purge_<list>`` option, default false).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import (
    _Managed, differences, merge, sanitize)


class ManagedSet(_Managed):
    """A set of API objects reconciled together, such as the policy bindings of one application.

    Members are told apart by an identity (a hashable value, e.g. ``("group", "<uuid>")``).
    ``ensure_set()`` lists the members once, matches them to the wanted items and plans
    creates, partial updates and deletes; check mode, diff and sanitising behave as in
    ``ensure()``. ``label()`` names the set, e.g. "the policy bindings of application 'x'".
    """

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


def ensure_set(module, resource, purge=False):
    """Bring the members of ``resource`` to what ``wanted()`` says and return the module result.

    * a wanted member that is missing is created; one that differs gets a partial update;
    * several members with one identity are collapsed: the closest one is kept (and updated),
      the others are deleted;
    * ``state: absent`` items are deleted (every member with that identity);
    * with ``purge``, members whose identity is not wanted are deleted.

    Writes run deletes first, then updates, then creates (so a freed slot can be reused).
    The result has ``changed``, ``msg``, ``actions`` (one entry per member touched or kept),
    ``existing`` and ``end_state`` (the members before and after the run);
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

    if purge:
        for ident in order:
            if ident in seen:
                continue
            for obj in groups[ident]:
                plan_delete(ident, obj, "not listed (purge)")

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
    result = {
        "changed": changed,
        "msg": msg,
        "actions": actions,
        "existing": [sanitize(resource.present(obj), secrets) for obj in current],
        "end_state": [sanitize(resource.present(obj), secrets) for obj in end],
    }
    if module._diff:
        result["diff"] = {"before": before_diff, "after": after_diff}
    return result
