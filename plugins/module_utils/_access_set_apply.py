# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The protected applications of one login method, reconciled: the reads (each list once, all pages, at
the largest page size), the guards (removals, request budget), the writes with bounded concurrency, and
the result per application. The plan itself is pure and lives in ``_access_set``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import threading

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import ApiError, LookupFailed, Refused
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import (
    UUID,
    application_body,
    check_carriable_application,
    normalize_application,
    normalize_policy,
    policy_body,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set import (
    Ownership,
    make_plan,
    name_tag,
    owner_tag,
    tag_owner,
    tags_after,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_set_input import check_groups
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import merge

# The largest page asked for. Neither the SDK 5.9 types nor the Terraform provider state a maximum for the
# applications and policies lists; a server that refuses it (HTTP 400 naming per_page) is asked again
# with its own page size, and a server that answers fewer per page is followed page by page.
PAGE_SIZE = 1000


def list_all(client, path, what):
    """Every item of a Cloudflare list, at the largest page size."""
    try:
        return pages(client, path, what, PAGE_SIZE)
    except ApiError as exc:
        if exc.status == 400 and "per_page" in (exc.api_message or "").lower():
            client.warn("Cloudflare refused per_page=%d for %s; listing with its own page size" % (PAGE_SIZE, path))
            return pages(client, path, what, None)
        raise


def _number(info, key):
    try:
        return int(info.get(key))
    except (TypeError, ValueError):
        return None


def pages(client, path, what, per_page, max_pages=1000):
    """Walk the pages of a list. A page shorter than asked ends the walk only when the answer says how many it
    holds per page (a server may cut ``per_page`` down); ``total_count``/``total_pages`` win when given, and
    without any of them an empty page ends it. Items seen on an earlier page (same id) count once."""
    items, seen = [], set()
    for page in range(1, max_pages + 1):
        query = {"page": page}
        if per_page:
            query["per_page"] = per_page
        status, result, info = client.call("GET", path, params=query, what=what)
        if not isinstance(result, list):
            if result is None:
                result = []
            else:
                raise ApiError("Could not %s: GET %s returned HTTP %s without a list" % (what, path, status),
                               method="GET", path=path, status=status)
        for item in result:
            ident = item.get("id") if isinstance(item, dict) else None
            if ident is not None and ident in seen:
                continue
            seen.add(ident)
            items.append(item)
        info = info if isinstance(info, dict) else {}
        total_count, total_pages, size = _number(info, "total_count"), _number(info, "total_pages"), _number(info, "per_page")
        if not result:
            return items
        if total_count is not None:
            if len(items) >= total_count:
                return items
            continue
        if total_pages is not None:
            if page >= total_pages:
                return items
            continue
        if size and len(result) < size:
            return items
    raise ApiError("Gave up listing %s after %d pages; the list never ended" % (path, max_pages), method="GET", path=path)


def bounded(calls, limit):
    """Run ``calls`` (functions without arguments) with at most ``limit`` at a time; ``(result, error)`` each."""
    outcomes = [(None, None)] * len(calls)
    queue = list(enumerate(calls))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                index, call = queue.pop(0)
            try:
                outcomes[index] = (call(), None)
            except Exception as exc:  # pylint: disable=broad-except  # reported per application
                outcomes[index] = (None, exc)

    count = max(1, min(int(limit), len(calls)))
    if count == 1:
        worker()
        return outcomes
    threads = [threading.Thread(target=worker) for _n in range(count)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def authentik_groups(authentik):
    """The names of every authentik group (one paged list, without members)."""
    found = authentik.paginate("/core/groups/", {"include_users": "false", "page_size": 1000},
                               what="list the authentik groups (to check allow_groups)")
    return [g.get("name") for g in found if isinstance(g, dict) and g.get("name")]


class Reconciler:
    """One run of the set module: ``run()`` returns the module result or raises ``Refused``/``LookupFailed``/
    ``ApiError`` before the first write."""

    def __init__(self, module, client, entries, authentik=None):
        self.module = module
        self.client = client
        self.entries = entries
        self.authentik = authentik
        p = module.params
        self.state = p["state"]
        self.suffix = p["policy_suffix"]
        self.claim = p["groups_claim"]
        self.max_removals = p["max_removals"]
        self.concurrency = p["concurrency"]
        self.max_requests = p["max_requests"]
        self.check = module.check_mode
        self.errors = []
        self.done_apps = {}      # item index -> application after the run
        self.done_policies = {}  # item index -> policy after the run
        self.only_named = False  # absent by the name of a deleted login method: only its name-tagged applications

    # ---- reads -----------------------------------------------------------------------------------
    def owner(self):
        """``(login method id, its name or None)``; None for the id when there is nothing to do (absent)."""
        ref = self.module.params["login_method"]
        idps = [i for i in self.client.identity_providers() if isinstance(i, dict)]
        for idp in idps:
            if idp.get("id") == ref:
                return ref, idp.get("name")
        named = [i for i in idps if i.get("name") == ref]
        if len(named) > 1:
            raise LookupFailed("%d login methods are named %r (%s); give login_method as the id"
                               % (len(named), ref, ", ".join(i.get("id") for i in named)))
        if named:
            return named[0]["id"], ref
        if self.state == "present" and self.check:
            # an earlier task of this check-mode run would have created it (the role does): predict
            self.module.warn("The login method %r does not exist (yet); in check mode it is assumed to be created by an "
                             "earlier task, so every application is shown as to be created" % ref)
            return "(not yet created: %s)" % ref, ref
        if self.state == "present":
            raise LookupFailed("No login method in %s is named %r or has that id (option login_method); create it "
                               "first (cloudflare_access_identity_provider)" % (self.client.scope, ref))
        if UUID.match(ref):
            self.module.warn("The login method %s no longer exists; removing the applications and policies made for it"
                             % ref)
            return ref, None
        # Given by name and gone: only applications that carry the tag of that name AND the id tag of a login
        # method that no longer exists are provably its own; a typo or a name that never existed matches none.
        known = set(i.get("id") for i in idps)
        wanted = name_tag(ref)
        lost = {}
        for app in self.apps:
            tags = app.get("tags") or []
            if wanted not in tags:
                continue
            for tag in tags:
                oid = tag_owner(tag)
                if oid and oid not in known:
                    lost.setdefault(oid, []).append(app.get("name"))
        if not lost:
            return None, ref
        if len(lost) > 1:
            listed = "; ".join("%s (%s)" % (oid, ", ".join(sorted(names))) for oid, names in sorted(lost.items()))
            raise LookupFailed("The login method %r no longer exists, and applications of %d deleted login methods of "
                               "that name remain: %s. Give login_method as the id of the one to clean up"
                               % (ref, len(lost), listed))
        oid = next(iter(lost))
        self.only_named = True
        self.module.warn("The login method %r no longer exists; removing the applications tagged with its name and its "
                         "id %s, and their policies" % (ref, oid))
        return oid, ref

    def read(self):
        self.apps = list_all(self.client, self.client.apps_path,
                             "list the Access applications of %s" % self.client.scope)
        self.policies = list_all(self.client, self.client.policies_path,
                                 "list the reusable Access policies of %s" % self.client.scope)

    # ---- the run -----------------------------------------------------------------------------------
    def run(self):
        if self.authentik is not None and any(e["allow_groups"] for e in self.entries) and self.state == "present":
            try:
                check_groups(self.entries, authentik_groups(self.authentik))
            except ValueError as exc:
                raise Refused(str(exc))
        self.read()
        owner_id, owner_name = self.owner()
        self.owner_name = owner_name or self.module.params["login_method"]
        if owner_id is None:
            return self.result(None, None, msg="The login method %r does not exist and no application carries both its "
                               "name tag and the id tag of a deleted login method: nothing to remove"
                               % self.module.params["login_method"])
        ownership = Ownership(self.apps, self.policies, owner_id, owner_name, self.only_named)
        plan = make_plan(self.entries if self.state == "present" else [], ownership, self.suffix, self.claim, self.state)
        if plan.errors:
            raise Refused("Nothing was sent: " + "; ".join(plan.errors))
        self.guard_removals(plan)
        need_tags, drop_tags = self.plan_tags(ownership, plan)
        self.tag_change = bool(need_tags or drop_tags)
        planned = len(self.client.calls) + plan.writes + len(need_tags) + len(drop_tags)
        if self.max_requests >= 0 and planned > self.max_requests:
            raise Refused("The plan needs %d Cloudflare requests (%d writes), more than max_requests (%d) allows; "
                          "Cloudflare allows 1200 per five minutes. Raise max_requests, or add the applications over "
                          "several runs" % (planned, plan.writes, self.max_requests))
        if not self.check:
            self.write(plan, ownership, need_tags, drop_tags)
        return self.result(plan, ownership)

    def guard_removals(self, plan):
        count = len(plan.remove_apps)
        if self.max_removals < 0 or count <= self.max_removals:
            return
        listed = ", ".join("%r (%s)" % (a.get("name"), a.get("domain"))
                           for a in sorted(plan.remove_apps, key=lambda a: (str(a.get("name")), str(a.get("domain")))))
        text = ("The run would remove %d protected applications, more than max_removals (%d): %s. If that is meant, "
                "raise max_removals (-1 for no limit) for this run" % (count, self.max_removals, listed))
        if self.check:
            self.module.warn(text)
            return
        raise Refused(text + "; nothing was changed")

    def plan_tags(self, ownership, plan):
        """``(tags to create, tags to remove)``. A tag that an application of the account carries exists; any
        other is read once (404: missing) only when a write needs it or ``state: absent`` may remove it."""
        owner_id = ownership.owner_id
        mine = [owner_tag(owner_id)] + ([ownership.name_tag] if ownership.name_tag else [])
        carried = set()
        for app in self.apps:
            carried.update(app.get("tags") or [])
        if self.state == "absent":
            removed = set(a.get("id") for a in plan.remove_apps)
            still = set()
            for app in self.apps:
                if app.get("id") not in removed:
                    still.update(app.get("tags") or [])
            drop = [t for t in mine if t not in still and (t in carried or self.tag_exists(t))]
            return [], drop
        if not any(i.app is None or i.app_changes for i in plan.items):
            return [], []
        if owner_id.startswith("(not yet created"):
            return list(mine), []
        return [t for t in mine if t not in carried and not self.tag_exists(t)], []

    def tag_exists(self, tag):
        status, _result, _info = self.client.call(
            "GET", self.client.tag_path(tag), ok_statuses=(404,), what="read the Access tag %s of %s" % (tag, self.client.scope))
        return status != 404

    # ---- writes ------------------------------------------------------------------------------------------
    def write(self, plan, ownership, need_tags, drop_tags):
        client = self.client
        owner_id = ownership.owner_id

        def remove_app(app):
            return lambda: client.call("DELETE", client.app_path(app["id"]), ok_statuses=(404,),
                                       what="remove the application %r (id %s)" % (app.get("name"), app["id"]))

        for (_r, exc), app in zip(bounded([remove_app(a) for a in plan.remove_apps], self.concurrency), plan.remove_apps):
            if exc is not None:
                self.errors.append(str(exc))
        for tag in need_tags:
            try:
                client.call("POST", client.tags_path, body={"name": tag},
                            what="create the Access tag %s that marks this login method's applications" % tag)
            except ApiError as exc:
                raise ApiError("%s (nothing else was written after it)" % exc, status=exc.status)

        def upsert(item):
            def work():
                policy = item.policy
                if policy is None:
                    policy = client.result("POST", client.policies_path, body=policy_body(None, item.want_policy),
                                           what="%s: create the policy %r" % (item.label, item.want_policy["name"]))
                elif item.policy_changes:
                    policy = client.result("PUT", client.policy_path(policy["id"]), body=policy_body(policy, item.want_policy),
                                           what="%s: update the policy %r (id %s)" % (item.label, policy.get("name"), policy["id"]))
                self.done_policies[item.index] = policy
                want = dict(item.want_app, policies=[policy["id"]])
                app = item.app
                if app is None:
                    body = application_body(None, want)
                    body["tags"] = tags_after(None, owner_id, ownership.owner_name)
                    app = client.result("POST", client.apps_path, body=body,
                                        what="%s: create the application" % item.label)
                elif item.app_changes or item.policy is None:
                    check_carriable_application(app)
                    body = application_body(app, want)
                    body["tags"] = tags_after(app, owner_id, ownership.owner_name)
                    app = client.result("PUT", client.app_path(app["id"]), body=body,
                                        what="%s: update the application (id %s)" % (item.label, app["id"]))
                self.done_apps[item.index] = app
            return work

        busy = [i for i in plan.items if i.action != "unchanged"]
        for item, (_r, exc) in zip(busy, bounded([upsert(i) for i in busy], self.concurrency)):
            if exc is not None:
                item.action = "failed"
                item.error = str(exc)
                self.errors.append(str(exc))

        def remove_policy(pol):
            return lambda: client.call("DELETE", client.policy_path(pol["id"]), ok_statuses=(404,),
                                       what="remove the policy %r (id %s)" % (pol.get("name"), pol["id"]))

        for (_r, exc) in bounded([remove_policy(p) for p in plan.remove_policies], self.concurrency):
            if exc is not None:
                self.errors.append(str(exc))
        for tag in drop_tags:
            if not self.errors:
                client.call("DELETE", client.tag_path(tag), ok_statuses=(404,), what="remove the Access tag %s" % tag)

    # ---- results -----------------------------------------------------------------------------------------
    def result(self, plan, ownership, msg=None):
        apps, removed, diffs = [], [], []
        if plan is not None:
            want_diff = bool(self.module._diff)  # the diff is built only when asked for
            for item in plan.items:
                apps.append(self.item_result(item))
                if want_diff:
                    diffs.append(self.item_diff(item))
            for app in plan.remove_apps:
                pids = [pid for pid in normalize_application(app)["policies"] if ownership.policy_is_ours(pid)]
                removed.append({"name": app.get("name"), "domain": app.get("domain"), "application_id": app.get("id"),
                                "policy_id": pids[0] if pids else None})
                diffs.append({"before_header": "application %r" % app.get("name"), "after_header": "(removed)",
                              "before": {"application": normalize_application(app)}, "after": {}})
            linked = set(r["policy_id"] for r in removed)
            for pol in plan.remove_policies:
                if pol["id"] in linked:
                    continue
                removed.append({"name": pol.get("name"), "domain": None, "application_id": None, "policy_id": pol["id"]})
                diffs.append({"before_header": "policy %r" % pol.get("name"), "after_header": "(removed)",
                              "before": {"policy": normalize_policy(pol)}, "after": {}})
        changed = bool(plan is not None and (plan.changed or getattr(self, "tag_change", False)))
        counts = {}
        for entry in apps:
            counts[entry["action"]] = counts.get(entry["action"], 0) + 1
        if msg is None:
            would = "would be " if self.check else ""
            parts = ["%d %s%s" % (counts[a], would, a) for a in ("created", "updated", "failed") if counts.get(a)]
            if removed:
                parts.append("%d %sremoved" % (len(removed), would))
            if getattr(self, "tag_change", False) and self.state == "absent":
                parts.append("its tags %sremoved" % would)
            msg = "Protected applications of the login method %r: %s" % (
                self.owner_name, ", ".join(parts) if parts else "up to date (%d)" % len(apps))
        writes = [c for c in self.client.calls if c[0] not in ("GET", "HEAD")]
        reads = len(self.client.calls) - len(writes) + (len(self.authentik.calls) if self.authentik is not None else 0)
        result = {"changed": changed, "msg": msg, "applications": apps, "removed": removed,
                  "requests": {"reads": reads, "writes": len(writes)}}
        if self.module._diff:
            result["diff"] = [d for d in diffs if d["before"] != d["after"]]
        if self.errors:
            result["errors"] = list(self.errors)
            result["changed"] = bool(len(writes))
            result["msg"] = "%d of the writes failed (the others were made; a rerun continues): %s" % (
                len(self.errors), " | ".join(self.errors))
        return result

    def item_result(self, item):
        app = self.done_apps.get(item.index, item.app) or {}
        policy = self.done_policies.get(item.index, item.policy) or {}
        out = {"name": item.entry["name"], "domain": item.entry["domain"], "action": item.action,
               "application_id": app.get("id"), "policy_id": policy.get("id"), "aud": app.get("aud")}
        if item.action == "updated":
            out["changes"] = (["application.%s" % k for k in item.app_changes]
                              + ["policy.%s" % k for k in item.policy_changes]
                              + (["policy (new)"] if item.policy is None else []))
        if item.action == "failed":
            out["error"] = getattr(item, "error", None)
        return out

    def item_diff(self, item):
        before_app = normalize_application(item.app) if item.app is not None else {}
        before_pol = normalize_policy(item.policy) if item.policy is not None else {}
        after_pol = merge(before_pol, item.want_policy)
        want_app = copy.deepcopy(item.want_app)
        if item.policy is None:
            want_app["policies"] = ["(new policy %s)" % item.want_policy["name"]]
        after_app = merge(before_app, want_app)
        return {"before_header": "application %r" % item.entry["name"] if item.app is not None else "(absent)",
                "after_header": "application %r" % item.entry["name"],
                "before": {"application": before_app, "policy": before_pol} if item.app or item.policy else {},
                "after": {"application": after_app, "policy": after_pol}}
