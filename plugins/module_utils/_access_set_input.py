# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is private to the idpbridge.authentik_cloudflare collection and may change
# at any time without notice. Do not import it from other collections.

"""The entries of ``cloudflare_access_applications``, checked as a whole before any request: unknown keys,
types (a string where a list belongs), white space and control characters in names, e-mail addresses and
domains, empty rules, duplicate names and domains, and the authentik groups. Every message names its entry,
such as ``applications[3] (grafana)``. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import re

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import DURATION

ENTRY_KEYS = ("name", "domain", "destinations", "allow_groups", "allow_emails", "allow_email_domains", "include",
              "exclude", "require", "session_duration", "app_launcher_visible", "auto_redirect_to_identity",
              "auto_redirect")
LIST_KEYS = ("destinations", "allow_groups", "allow_emails", "allow_email_domains")
RULE_KEYS = ("include", "exclude", "require")
# Rule kinds whose inner object is empty by design.
EMPTY_RULES = ("everyone", "any_valid_service_token", "certificate")
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
HOST = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(:\d+)?$")
MAIL_DOMAIN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$")
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


# ---- the entries, checked as a whole before any request ------------------------------------------
def entry_label(index, entry):
    name = entry.get("name") if isinstance(entry, dict) else None
    if isinstance(name, str) and name.strip():
        return "applications[%d] (%s)" % (index, name.strip())
    return "applications[%d]" % index


def _closest(word, choices):
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


def _as_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError("must be true or false, got %r" % (value,))


def _text(value, what):
    if not isinstance(value, str):
        raise ValueError("%s must be a string, got %s %r" % (what, type(value).__name__, value))
    if not value.strip():
        raise ValueError("%s must not be empty" % what)
    if value != value.strip():
        raise ValueError("%s %r starts or ends with white space (a stray space or newline?); remove it" % (what, value))
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise ValueError("%s %r holds a control character (a newline or tab?); remove it" % (what, value))
    return value


def _string_list(entry, key):
    value = entry.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        raise ValueError("%s must be a list, got the string %r; write it as a YAML list (one item per line, or "
                         "[a, b]), not one comma-separated string" % (key, value))
    if not isinstance(value, list):
        raise ValueError("%s must be a list, got %s" % (key, type(value).__name__))
    out = []
    for item in value:
        out.append(_text(item, "%s item" % key))
    if len(set(v.lower() for v in out)) != len(out):
        raise ValueError("%s lists an item twice: %s" % (key, ", ".join(out)))
    return out


def _location(value, what):
    """A domain or destination: host name (with an optional ``*.``, port and path), no scheme."""
    _text(value, what)
    if "://" in value:
        raise ValueError("%s %r holds a scheme; give the host name and optional path only, such as %s"
                         % (what, value, value.split("://", 1)[1]))
    host = value.split("/", 1)[0]
    if not HOST.match(host):
        raise ValueError("%s %r is not a host name (and optional path) such as grafana.example.com" % (what, value))
    return value


def _rules(entry, key):
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("%s must be a list of Access rules, got %s" % (key, type(value).__name__))
    out = []
    for position, rule in enumerate(value):
        if not isinstance(rule, dict) or len(rule) != 1:
            raise ValueError("%s[%d] must be one Access rule, an object with one key such as {\"group\": {\"id\": "
                             "\"...\"}}; got %r" % (key, position, rule))
        kind, inner = next(iter(rule.items()))
        if not isinstance(inner, dict):
            raise ValueError("%s[%d] (%s) must hold an object, got %r" % (key, position, kind, inner))
        if not inner and kind not in EMPTY_RULES:
            raise ValueError("%s[%d] (%s) is empty: it would match nobody or everybody; give its settings"
                             % (key, position, kind))
        out.append(copy.deepcopy(rule))
    return out


def check_entry(entry):
    """The normalised form of one entry; ``ValueError`` with every mistake in it, joined."""
    if not isinstance(entry, dict):
        raise ValueError("must be a dict with at least name and domain, got %s %r" % (type(entry).__name__, entry))
    problems = []
    out = {}
    for key in entry:
        if key not in ENTRY_KEYS:
            near = _closest(str(key), ENTRY_KEYS)
            problems.append("unknown key %r%s" % (key, " (did you mean %s?)" % near if near else ""))
    for key, check in (("name", _text), ("domain", _location)):
        try:
            if entry.get(key) is None:
                raise ValueError("%s is required" % key)
            out[key] = check(entry.get(key), key)
        except ValueError as exc:
            problems.append(str(exc))
    for key in LIST_KEYS:
        try:
            out[key] = _string_list(entry, key)
        except ValueError as exc:
            problems.append(str(exc))
    for dest in out.get("destinations") or []:
        try:
            _location(dest, "destinations item")
        except ValueError as exc:
            problems.append(str(exc))
    for email in out.get("allow_emails") or []:
        if not EMAIL.match(email):
            problems.append("allow_emails item %r is not an e-mail address (name@example.com)" % email)
    for domain in out.get("allow_email_domains") or []:
        if "@" in domain or not MAIL_DOMAIN.match(domain.lstrip(".")):
            problems.append("allow_email_domains item %r is not a domain; give example.com, without @" % domain)
    for key in RULE_KEYS:
        try:
            out[key] = _rules(entry, key)
        except ValueError as exc:
            problems.append(str(exc))
    duration = entry.get("session_duration")
    if duration is not None and (not isinstance(duration, str) or not DURATION.match(duration)):
        problems.append("session_duration must be a duration such as 30m, 8h or 2h45m, got %r" % (duration,))
    out["session_duration"] = duration
    if entry.get("auto_redirect") is not None and entry.get("auto_redirect_to_identity") is not None:
        problems.append("give auto_redirect_to_identity or its short form auto_redirect, not both")
    for key, target in (("app_launcher_visible", "app_launcher_visible"), ("auto_redirect_to_identity", "auto_redirect"),
                        ("auto_redirect", "auto_redirect")):
        if entry.get(key) is None:
            out.setdefault(target, None)
            continue
        try:
            out[target] = _as_bool(entry[key])
        except ValueError as exc:
            problems.append("%s %s" % (key, exc))
    if not problems and not (out["allow_groups"] or out["allow_emails"] or out["allow_email_domains"] or out["include"]):
        problems.append("says nobody may enter: give allow_groups, allow_emails, allow_email_domains or include rules")
    if problems:
        raise ValueError("; ".join(problems))
    return out


def check_entries(entries, policy_suffix):
    """The normalised entries, in order; ``ValueError`` listing every mistake, each naming its entry."""
    problems = []
    if not isinstance(entries, list):
        raise ValueError("applications must be a list of entries, got %s" % type(entries).__name__)
    if not isinstance(policy_suffix, str) or not policy_suffix.strip() or re.search(r"[\x00-\x1f\x7f]", policy_suffix):
        problems.append("policy_suffix %r must hold a visible character and no control character, such as "
                        "' (idpbridge)'" % (policy_suffix,))
    out = []
    names, places = {}, {}
    for index, entry in enumerate(entries):
        label = entry_label(index, entry)
        try:
            checked = check_entry(entry)
        except ValueError as exc:
            problems.append("%s: %s" % (label, exc))
            continue
        key = checked["name"].lower()
        if key in names:
            problems.append("%s: the name is also used by %s; each application needs its own name" % (label, names[key]))
        names.setdefault(key, label)
        for place in [checked["domain"]] + checked["destinations"]:
            spot = place.lower().rstrip("/")
            if spot in places and places[spot] != label:
                problems.append("%s: %s is also protected by %s; a domain belongs to one application" % (label, place, places[spot]))
            elif spot in places:
                problems.append("%s: %s is listed twice (domain and destinations)" % (label, place))
            places.setdefault(spot, label)
        out.append(checked)
    if problems:
        raise ValueError("The applications list has mistakes (nothing was sent): " + "; ".join(problems))
    return out


def check_groups(entries, known_groups):
    """Every allow_groups name must be an authentik group, with the same capitals; ``ValueError`` otherwise."""
    exact = set(known_groups)
    folded = {}
    for name in known_groups:
        folded.setdefault(name.lower(), name)
    problems = []
    for index, entry in enumerate(entries):
        for group in entry["allow_groups"]:
            if group in exact:
                continue
            if group.lower() in folded:
                problems.append("%s: authentik has no group %r, but has %r: the groups claim compares exactly, so write "
                                "it with those capitals" % (entry_label(index, entry), group, folded[group.lower()]))
                continue
            near = _closest(group, list(exact))
            problems.append("%s: authentik has no group %r%s; nobody would get in through it" % (
                entry_label(index, entry), group, " (the closest is %r)" % near if near else ""))
    if problems:
        raise ValueError("allow_groups names groups authentik does not have (nothing was sent): " + "; ".join(problems))
