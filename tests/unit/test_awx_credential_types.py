# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX credential types in awx/credential_types/: valid for AWX, and injecting exactly the
environment variables the modules' argument specs fall back to."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml
from jinja2 import StrictUndefined, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible.module_utils.parsing.convert_bool import boolean

REPO = Path(__file__).resolve().parents[2]
TYPES_DIR = REPO / "awx" / "credential_types"

# What AWX accepts (conventions §15; AWX's credential type input and injector schemas).
TYPE_KEYS = {"name", "description", "kind", "inputs", "injectors", "natural_key"}
INPUT_KEYS = {"fields", "required"}
FIELD_KEYS = {"id", "label", "type", "secret", "help_text", "multiline", "choices", "format", "ask_at_runtime", "default"}
FIELD_TYPES = {"string", "boolean"}
INJECTOR_KEYS = {"env", "extra_vars", "file"}
ID_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
ENV_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

# file -> (credential type name, the argument spec function's module, options the credential must cover)
EXPECTED = {
    "authentik.yml": ("authentik API", "_authentik", "authentik_argument_spec", {"url", "token", "validate_certs"}),
    "cloudflare.yml": ("Cloudflare API", "_cloudflare", "cloudflare_argument_spec", {"api_token", "account_id", "api_url"}),
}


def load(name):
    data = yaml.safe_load((TYPES_DIR / name).read_text(encoding="utf-8"))
    assert set(data) == {"credential_types"}, "%s: the awx import format has one top-level key, credential_types" % name
    (entry,) = data["credential_types"]
    return entry


def argument_spec(module_name, function_name):
    """The connection options of one API, from the function every module of that API merges in."""
    module = importlib.import_module("ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils." + module_name)
    return getattr(module, function_name)()


def env_fallbacks(spec):
    """{ENV_NAME: (option, option spec)} for every option whose fallback is env_fallback."""
    found = {}
    for option, opt_spec in spec.items():
        fallback = opt_spec.get("fallback")
        if not fallback:
            continue
        strategy, args = fallback[0], list(fallback[1:])
        if getattr(strategy, "__name__", "") != "env_fallback":
            continue
        names = args[0] if args and isinstance(args[0], (list, tuple)) else args
        for name in names:
            found[name] = (option, opt_spec)
    return found


def _cloudflare_account_from_env():
    """CLOUDFLARE_ACCOUNT_ID has no fallback in the spec on purpose (an explicit zone_id must win over
    it): the client reads it in scope_from_params. Prove that it does, instead of trusting a list."""
    from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import scope_from_params

    account = "0123456789abcdef0123456789abcdef"
    scope = scope_from_params({"account_id": None, "zone_id": None}, environ={"CLOUDFLARE_ACCOUNT_ID": account})
    return scope.kind == "account" and scope.id == account


# Variables a module reads outside its argument spec: {file: {ENV_NAME: (option, probe)}}
READ_OUTSIDE_SPEC = {
    "cloudflare.yml": {"CLOUDFLARE_ACCOUNT_ID": ("account_id", _cloudflare_account_from_env)},
}


def env_readers(name, spec):
    """Every environment variable the modules of this API read: spec fallbacks, plus the variables
    read elsewhere whose probe shows the module really uses them."""
    found = env_fallbacks(spec)
    for env_name, (option, probe) in READ_OUTSIDE_SPEC.get(name, {}).items():
        assert env_name not in found, "%s now has a spec fallback; drop it from READ_OUTSIDE_SPEC" % env_name
        assert probe(), "the modules do not read %s" % env_name
        found[env_name] = (option, spec[option])
    return found


def render_like_awx(entry, inputs):
    """The environment AWX builds from a credential's inputs: empty values are left out of the
    template namespace, unset booleans become False, templates run in Jinja's immutable sandbox."""
    namespace = {}
    for key, value in inputs.items():
        if isinstance(value, bool) or value:
            namespace[key] = value
    for field in entry["inputs"]["fields"]:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    return {name: sandbox.from_string(tmpl).render(**namespace) for name, tmpl in entry["injectors"].get("env", {}).items()}


@pytest.fixture(params=sorted(EXPECTED))
def case(request):
    name = request.param
    type_name, module_name, function_name, must_cover = EXPECTED[name]
    return name, load(name), type_name, argument_spec(module_name, function_name), must_cover


def test_every_file_is_expected():
    assert sorted(p.name for p in TYPES_DIR.glob("*.yml")) == sorted(EXPECTED)


def test_shape_and_allowed_keys(case):
    name, entry, type_name, _spec, _cover = case
    assert set(entry) <= TYPE_KEYS, "%s: unknown keys %s" % (name, set(entry) - TYPE_KEYS)
    assert entry["name"] == type_name
    assert entry["kind"] == "cloud"
    assert entry.get("description")
    assert entry["natural_key"] == {"name": type_name, "kind": "cloud", "type": "credential_type"}
    assert set(entry["inputs"]) <= INPUT_KEYS
    assert set(entry["injectors"]) <= INJECTOR_KEYS
    # only environment variables: extra_vars would put the secrets into the job's variables
    assert set(entry["injectors"]) == {"env"}


def test_fields_are_valid_and_documented(case):
    name, entry, _type_name, _spec, _cover = case
    fields = entry["inputs"]["fields"]
    ids = [f["id"] for f in fields]
    assert len(ids) == len(set(ids)), "%s: duplicate field ids" % name
    labels = [f["label"] for f in fields]
    assert len(labels) == len(set(labels)), "%s: duplicate labels" % name
    for field in fields:
        assert set(field) <= FIELD_KEYS, "%s: field %s has unknown keys %s" % (name, field["id"], set(field) - FIELD_KEYS)
        assert ID_RE.match(field["id"]) and field["id"] != "tower", field["id"]
        assert field.get("type", "string") in FIELD_TYPES
        assert field["label"].strip()
        assert field.get("help_text", "").strip(), "%s: field %s is not documented (help_text)" % (name, field["id"])
        if field.get("type") == "boolean":
            assert not field.get("secret") and not field.get("multiline") and "choices" not in field
            assert isinstance(field.get("default", False), bool)
        if "default" in field and field.get("type", "string") == "string":
            assert isinstance(field["default"], str)
    required = entry["inputs"].get("required", [])
    assert set(required) <= set(ids), "%s: required names unknown fields %s" % (name, set(required) - set(ids))


def test_injected_env_names_are_module_fallbacks(case):
    name, entry, _type_name, spec, must_cover = case
    fallbacks = env_readers(name, spec)
    env = entry["injectors"]["env"]
    for env_name in env:
        assert ENV_RE.match(env_name), env_name
        assert not env_name.upper().startswith("ANSIBLE_"), "%s: AWX refuses ANSIBLE_* injectors: %s" % (name, env_name)
        assert env_name in fallbacks, "%s: %s is not an env fallback of any option (known: %s)" % (name, env_name, sorted(fallbacks))
    injected_options = {fallbacks[e][0] for e in env}
    assert must_cover <= injected_options, "%s: the credential leaves %s to job variables" % (name, must_cover - injected_options)
    assert len(injected_options) == len(env), "%s: two variables feed the same option" % name


def test_field_and_option_agree_on_type_and_secrecy(case):
    name, entry, _type_name, spec, _cover = case
    fallbacks = env_readers(name, spec)
    fields = {f["id"]: f for f in entry["inputs"]["fields"]}
    for env_name, template in entry["injectors"]["env"].items():
        used = meta.find_undeclared_variables(ImmutableSandboxedEnvironment().parse(template))
        assert used and used <= set(fields), "%s: %s uses %s, fields are %s" % (name, env_name, used, sorted(fields))
        option, opt_spec = fallbacks[env_name]
        for field_id in used:
            field = fields[field_id]
            if field.get("type") == "boolean":
                assert opt_spec.get("type") == "bool", "%s: boolean field %s feeds %s (%s)" % (name, field_id, option, opt_spec.get("type"))
            else:
                assert opt_spec.get("type", "str") in ("str", "path"), "%s: %s feeds %s" % (name, field_id, option)
            assert bool(field.get("secret")) == bool(opt_spec.get("no_log")), \
                "%s: field %s secret=%s but option %s no_log=%s" % (name, field_id, field.get("secret"), option, opt_spec.get("no_log"))


def test_templates_render_with_every_field_set(case):
    """AWX checks injector templates against a namespace holding every field (undefined names fail)."""
    name, entry, _type_name, _spec, _cover = case
    strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    namespace = {}
    for field in entry["inputs"]["fields"]:
        namespace[field["id"]] = True if field.get("type") == "boolean" else "EXAMPLE-" + field["id"]
    for env_name, template in entry["injectors"]["env"].items():
        assert strict.from_string(template).render(**namespace), env_name


def test_rendered_values_are_what_the_modules_expect(case):
    """Required fields only, as AWX would render them: every value converts to the option's type, and an
    optional field left empty yields the option's own default instead of an empty string."""
    name, entry, _type_name, spec, _cover = case
    fallbacks = env_readers(name, spec)
    fields = {f["id"]: f for f in entry["inputs"]["fields"]}
    inputs = {}
    for field_id in entry["inputs"].get("required", []):
        inputs[field_id] = True if fields[field_id].get("type") == "boolean" else "value-of-" + field_id
    for field_id, field in fields.items():
        if field.get("type") == "boolean" and "default" in field:
            inputs[field_id] = field["default"]  # the web UI pre-fills the default
    env = render_like_awx(entry, inputs)
    for env_name, value in env.items():
        option, opt_spec = fallbacks[env_name]
        if opt_spec.get("type") == "bool":
            assert boolean(value, strict=True) == opt_spec.get("default", True), (env_name, value)
        assert value != "", "%s: %s would be set to an empty string, which overrides the default of %s" % (name, env_name, option)
        used = meta.find_undeclared_variables(ImmutableSandboxedEnvironment().parse(entry["injectors"]["env"][env_name]))
        if not used & set(inputs) and "default" in opt_spec:
            assert value == str(opt_spec["default"]), "%s: %s defaults to %r, the module to %r" % (name, env_name, value, opt_spec["default"])


def test_credential_without_the_tls_box_verifies():
    """A credential created through the API or the awx CLI without the box: AWX renders the unset
    boolean as False, and that must mean "verify" (the module's default), never "do not verify"."""
    entry = load("authentik.yml")
    env = render_like_awx(entry, {"authentik_url": "https://auth.example.com", "authentik_token": "x"})
    assert boolean(env["AUTHENTIK_VALIDATE_CERTS"], strict=True) is True


@pytest.mark.parametrize("ticked, verify", [(False, True), (True, False)])
def test_skip_tls_box_turns_verification_off_only_when_ticked(ticked, verify):
    entry = load("authentik.yml")
    env = render_like_awx(entry, {"authentik_url": "https://auth.example.com", "authentik_token": "x",
                                  "authentik_skip_tls_verify": ticked})
    assert boolean(env["AUTHENTIK_VALIDATE_CERTS"], strict=True) is verify


def test_no_boolean_field_weakens_when_unset(case):
    """Every boolean field left unset (AWX: False) renders to the module options' own defaults, so that a
    credential made without a box is as safe as one made in the web UI."""
    name, entry, _type_name, spec, _cover = case
    fallbacks = env_readers(name, spec)
    required = {f["id"]: "value-of-" + f["id"] for f in entry["inputs"]["fields"]
                if f["id"] in entry["inputs"].get("required", []) and f.get("type") != "boolean"}
    env = render_like_awx(entry, required)
    for env_name, value in env.items():
        option, opt_spec = fallbacks[env_name]
        if opt_spec.get("type") == "bool":
            assert boolean(value, strict=True) == opt_spec.get("default", True), \
                "%s: %s unset gives %s=%s, the option %s defaults to %s" % (name, env_name, env_name, value, option, opt_spec.get("default"))
