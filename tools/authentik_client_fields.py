"""Derive the request-body field sets of several ``authentik-client`` releases, once, for the tests.

The authentik test server checks every write body against the client release that matches the
release it emulates. One venv can hold one ``authentik-client`` only, so this tool downloads the
wheels listed in ``RELEASES`` into a temporary directory, reads the generated pydantic models of
each one in a child interpreter and writes what the contract check needs to
``tests/servers/authentik/client_fields.json``:

* per request model (``OAuth2ProviderRequest``, ``Patched...``, ``RedirectURIRequest``,
  ``ApplicationRequest``, ``PolicyBindingRequest`` ...): every field with its JSON name, whether
  it is required, its type (str, bool, int, uuid, list, object, any), nullability, enum values
  and length/pattern limits;
* per response model (``OAuth2Provider``, ``Application``, ``PolicyBinding``): the field names
  and the required ones, so the server's answers can be compared with the release.

A series whose models equal the previous series' names it (``"same_as"``) instead of repeating them.

    python tools/authentik_client_fields.py            # download, derive, write the JSON file
    python tools/authentik_client_fields.py --check    # exit 1 when the JSON file is out of date
    python tools/authentik_client_fields.py --list     # newest build of each series on the index

It needs pip (with access to the package index) and pydantic 2 in the interpreter running it.

``RELEASES`` maps each release series the test server emulates to one wheel. Plain releases are
used where PyPI has them (the newest patch). The 2024.10 series only exists as builds of
authentik's main branch (``2024.10.N.postUNIXTIME``); the one chosen is the last build before the
2024.12 rename of ``jwks_sources``, which already has the list-of-entries ``redirect_uris`` of
2024.10.3 and later, i.e. the API of a 2024.10.4/2024.10.5 server.

``DERIVED`` adds a series no client release exists for yet (2026.11, unreleased): it is the
2026.8.5 set with the changes read from authentik's own source (see its entry). Everything in it
is marked ``"derived"`` in the output.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "servers" / "authentik" / "client_fields.json"

# emulated series -> authentik-client wheel
RELEASES = {
    "2024.10": "2024.10.4.post1732236734",
    "2024.12": "2024.12.5",
    "2025.2": "2025.2.4",
    "2025.4": "2025.4.4",
    "2025.6": "2025.6.4",
    "2025.8": "2025.8.6",
    "2025.10": "2025.10.4",
    "2025.12": "2025.12.6",
    "2026.2": "2026.2.7",
    "2026.5": "2026.5.8",
    "2026.8": "2026.8.5",
}

REQUEST_MODELS = {
    "OAuth2ProviderRequest": "o_auth2_provider_request",
    "PatchedOAuth2ProviderRequest": "patched_o_auth2_provider_request",
    "RedirectURIRequest": "redirect_uri_request",
    "ApplicationRequest": "application_request",
    "PatchedApplicationRequest": "patched_application_request",
    "PolicyBindingRequest": "policy_binding_request",
    "PatchedPolicyBindingRequest": "patched_policy_binding_request",
    "SCIMProviderRequest": "scim_provider_request",
    "PatchedSCIMProviderRequest": "patched_scim_provider_request",
}
RESPONSE_MODELS = {
    "OAuth2Provider": "o_auth2_provider",
    "Application": "application",
    "PolicyBinding": "policy_binding",
    "SCIMProvider": "scim_provider",
}

# A series without a client release: (base series, {model: (removed fields, added fields)}, source note)
_SECRET_REF = {"required": False, "type": "uuid", "nullable": True}
_SECRET_FIELDS = {
    "name": {"required": True, "type": "str", "nullable": False, "min_length": 1},
    "type": {"required": False, "type": "str", "nullable": False, "enum": ["file", "multiline", "text"]},
    "value": {"required": False, "type": "str", "nullable": False},
}
DERIVED = {
    "2026.11": {
        "base": "2026.8",
        "source": (
            "unreleased; no authentik-client exists. Derived from goauthentik/authentik main (Sep 2026): "
            "authentik/providers/oauth2/migrations/0039_managed_secrets.py adds OAuth2Provider.client_secret_ref "
            "(nullable FK to authentik_crypto_secrets.Secret) and the client_secret field leaves the API "
            "(website/docs/sys-mgmt/secrets/api-and-blueprints.mdx); authentik/crypto/secrets/api.py "
            "SecretSerializer fields pk, name, type, managed (read-only), value (write-only), created, last_updated; "
            "routes secrets/secrets (authentik/crypto/secrets/urls.py)"),
        "remove": {
            "OAuth2ProviderRequest": ["client_secret"],
            "PatchedOAuth2ProviderRequest": ["client_secret"],
            "OAuth2Provider": ["client_secret"],
        },
        "add": {
            "OAuth2ProviderRequest": {"client_secret_ref": _SECRET_REF},
            "PatchedOAuth2ProviderRequest": {"client_secret_ref": _SECRET_REF},
            "OAuth2Provider": {"client_secret_ref": {"required": False}},
        },
        "models": {
            "SecretRequest": _SECRET_FIELDS,
            "PatchedSecretRequest": dict((name, dict(spec, required=False)) for name, spec in _SECRET_FIELDS.items()),
            "Secret": dict((name, {"required": name in ("pk", "name", "managed", "created", "last_updated")})
                           for name in ("pk", "name", "type", "managed", "created", "last_updated")),
        },
    },
}

# Runs in a child interpreter with the unpacked wheel first on sys.path. It imports only the
# model modules it needs (the package __init__ files import hundreds of classes).
INTROSPECT = r'''
import enum, importlib, importlib.util, json, sys, types, typing, uuid

def stand_in(name):
    spec = importlib.util.find_spec(name)
    module = types.ModuleType(name)
    module.__path__ = list(spec.submodule_search_locations)
    module.__spec__ = spec
    sys.modules[name] = module

stand_in("authentik_client")
stand_in("authentik_client.models")

def strip(annotation, found):
    """``annotation`` without its Annotated layers; their constraints go into ``found``."""
    while typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        found.update(constraints(args[1:]))
        annotation = args[0]
    return annotation

def constraints(metadata):
    out = {}
    for item in metadata or []:
        for key in ("min_length", "max_length", "pattern", "ge", "le"):
            value = getattr(item, key, None)
            if value is not None:
                out[key] = value
        for sub in getattr(item, "metadata", None) or []:  # FieldInfo inside Annotated
            out.update(constraints([sub]))
    return out

def describe_type(annotation):
    """type (str, bool, int, uuid, list, object, model:Name, any), nullability, enum values, limits."""
    found = {}
    annotation = strip(annotation, found)
    nullable = False
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType"):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        annotation = strip(args[0], found) if len(args) == 1 else typing.Any
        origin = typing.get_origin(annotation)
    out = {"nullable": nullable}
    if origin in (list, typing.List):
        out["type"] = "list"
        out["items"] = describe_type(typing.get_args(annotation)[0])
    elif origin in (dict, typing.Dict):
        out["type"] = "object"
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        out["type"] = "str"
        out["enum"] = sorted(m.value for m in annotation)
    elif isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        out["type"] = "model:" + annotation.__name__
    else:
        out["type"] = {uuid.UUID: "uuid", bool: "bool", int: "int", str: "str"}.get(annotation, "any")
    out.update(found)
    return out

def describe(cls, full):
    fields = {}
    for name, info in cls.model_fields.items():
        entry = {"required": info.is_required()}
        if full:
            entry.update(describe_type(info.annotation))
            entry.update(constraints(info.metadata))
        fields[info.alias or name] = entry
    return fields

wanted = json.loads(sys.argv[1])
result = {}
for class_name, (module_name, full) in wanted.items():
    try:
        module = importlib.import_module("authentik_client.models." + module_name)
    except ImportError:
        continue
    result[class_name] = describe(getattr(module, class_name), full)
print(json.dumps(result, sort_keys=True))
'''


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False)


def download(version: str, into: Path) -> Path:
    target = into / version
    proc = pip("download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(target), "authentik-client==%s" % version)
    wheels = sorted(target.glob("authentik_client-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise SystemExit("pip download authentik-client==%s failed:\n%s" % (version, proc.stderr))
    unpacked = target / "unpacked"
    with zipfile.ZipFile(wheels[0]) as archive:
        archive.extractall(unpacked)
    return unpacked


def introspect(unpacked: Path) -> dict:
    wanted = dict((name, (module, True)) for name, module in REQUEST_MODELS.items())
    wanted.update((name, (module, False)) for name, module in RESPONSE_MODELS.items())
    env = dict(os.environ, PYTHONPATH=str(unpacked), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", INTROSPECT, json.dumps(wanted)], capture_output=True, text=True,
                          env=env, check=False, cwd=str(unpacked))
    if proc.returncode != 0:
        raise SystemExit("introspection failed in %s:\n%s" % (unpacked, proc.stderr))
    return json.loads(proc.stdout)


def apply_derived(series: dict) -> dict:
    out = {}
    for name, spec in DERIVED.items():
        base = series[spec["base"]]
        models = copy.deepcopy(base["models"])
        for model, fields in spec["remove"].items():
            for field in fields:
                models[model].pop(field, None)
        for model, fields in spec["add"].items():
            models[model].update(copy.deepcopy(fields))
        models.update(copy.deepcopy(spec["models"]))
        out[name] = {"client": None, "derived": spec["source"], "models": models}
    return out


def build() -> dict:
    series = {}
    with tempfile.TemporaryDirectory(prefix="ak-client-") as tmp:
        for name, version in RELEASES.items():
            print("authentik-client==%s (series %s)" % (version, name), file=sys.stderr)
            series[name] = {"client": version, "models": introspect(download(version, Path(tmp)))}
    series.update(apply_derived(series))
    # A series whose models equal the previous one's names it instead of repeating them.
    previous = None
    for name in sorted(series, key=lambda k: tuple(int(p) for p in k.split("."))):
        entry = series[name]
        if previous is not None and entry.get("models") == series[previous].get("models"):
            entry["same_as"] = series[previous].get("same_as", previous)
            del entry["models"]
        previous = name
    return {
        "generated_by": "tools/authentik_client_fields.py",
        "note": "request and response field sets per authentik release series; do not edit by hand",
        "series": series,
    }


def render(data: dict) -> str:
    """JSON with one line per field, so a regenerated file diffs field by field."""
    lines = ["{"]
    for key in ("generated_by", "note"):
        lines.append(" %s: %s," % (json.dumps(key), json.dumps(data[key])))
    lines.append(' "series": {')
    names = sorted(data["series"], key=lambda k: tuple(int(p) for p in k.split(".")))
    for index, name in enumerate(names):
        entry = data["series"][name]
        lines.append("  %s: {" % json.dumps(name))
        for key in ("client", "derived"):
            if key in entry:
                comma = "," if "models" in entry or "same_as" in entry else ""
                lines.append("   %s: %s%s" % (json.dumps(key), json.dumps(entry[key]), comma))
        if "same_as" in entry:
            lines.append('   "same_as": %s' % json.dumps(entry["same_as"]))
            lines.append("  }%s" % ("," if index < len(names) - 1 else ""))
            continue
        lines.append('   "models": {')
        models = sorted(entry["models"])
        for m_index, model in enumerate(models):
            lines.append("    %s: {" % json.dumps(model))
            fields = sorted(entry["models"][model])
            for f_index, field in enumerate(fields):
                spec = json.dumps(entry["models"][model][field], sort_keys=True)
                lines.append("     %s: %s%s" % (json.dumps(field), spec, "," if f_index < len(fields) - 1 else ""))
            lines.append("    }%s" % ("," if m_index < len(models) - 1 else ""))
        lines.append("   }")
        lines.append("  }%s" % ("," if index < len(names) - 1 else ""))
    lines.append(" }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def newest_builds() -> None:
    proc = pip("index", "versions", "authentik-client")
    line = next((l for l in proc.stdout.splitlines() if l.startswith("Available versions:")), "")
    versions = [v.strip() for v in line.split(":", 1)[-1].split(",") if v.strip()]
    newest = {}
    for version in versions:  # pip lists the newest first
        parts = version.split(".")
        key = ".".join(parts[:2])
        plain = "post" not in version and "rc" not in version
        if key not in newest or (plain and "post" in newest[key]):
            newest[key] = version if key not in newest or plain else newest[key]
    for key in sorted(newest, key=lambda k: tuple(int(p) for p in k.split("."))):
        mark = "*" if RELEASES.get(key) else " "
        print("%s %-8s %-28s chosen: %s" % (mark, key, newest[key], RELEASES.get(key, "-")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file differs")
    parser.add_argument("--list", action="store_true", help="show the newest build of each series")
    args = parser.parse_args()
    if args.list:
        newest_builds()
        return 0
    text = render(build())
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_text() == text
        print("%s is %s" % (OUTPUT.relative_to(ROOT), "up to date" if same else "OUT OF DATE"))
        return 0 if same else 1
    OUTPUT.write_text(text)
    print("wrote %s" % OUTPUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
