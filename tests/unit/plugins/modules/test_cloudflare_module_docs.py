"""The Cloudflare modules' documentation against their argument specs and meta/runtime.yml.

ansible-test's validate-modules compares docs and specs too; this runs in a second and also
checks what it does not: the action group membership and the RETURN keys the code produces.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.idpbridge.authentik_cloudflare.plugins.doc_fragments import _access_rules, _attributes, _authentik, _cloudflare
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import cloudflare_argument_spec
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import (
    cloudflare_access_identity_provider as idp,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import (
    cloudflare_access_identity_provider_info as idp_info,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import (
    cloudflare_access_organization_info as org_info,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import cloudflare_access_application as app
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import cloudflare_access_application_info as app_info
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import cloudflare_access_policy as pol
from ansible_collections.idpbridge.authentik_cloudflare.plugins.modules import cloudflare_access_policy_info as pol_info

ROOT = Path(__file__).resolve().parents[4]
GROUP = "idpbridge.authentik_cloudflare.cloudflare"
FRAGMENTS = {
    "idpbridge.authentik_cloudflare._cloudflare": _cloudflare.ModuleDocFragment.DOCUMENTATION,
    "idpbridge.authentik_cloudflare._cloudflare.zone": _cloudflare.ModuleDocFragment.ZONE,
    "idpbridge.authentik_cloudflare._cloudflare.actiongroup": _cloudflare.ModuleDocFragment.ACTIONGROUP,
    "idpbridge.authentik_cloudflare._attributes": _attributes.ModuleDocFragment.DOCUMENTATION,
    "idpbridge.authentik_cloudflare._attributes.info_module": _attributes.ModuleDocFragment.INFO_MODULE,
    "idpbridge.authentik_cloudflare._authentik.from_cloudflare": _authentik.ModuleDocFragment.FROM_CLOUDFLARE,
    "idpbridge.authentik_cloudflare._access_rules": _access_rules.ModuleDocFragment.DOCUMENTATION,
}
SPECS = {
    "cloudflare_access_identity_provider": (idp, idp.argument_spec()),
    "cloudflare_access_identity_provider_info": (
        idp_info, dict(cloudflare_argument_spec(zone=True), name=dict(type="str"), identity_provider_id=dict(type="str"))),
    "cloudflare_access_organization_info": (org_info, cloudflare_argument_spec(zone=True)),
    "cloudflare_access_application": (app, app.argument_spec()),
    "cloudflare_access_application_info": (
        app_info, dict(cloudflare_argument_spec(zone=True), name=dict(type="str"), application_id=dict(type="str"))),
    "cloudflare_access_policy": (pol, pol.argument_spec()),
    "cloudflare_access_policy_info": (
        pol_info, dict(cloudflare_argument_spec(), name=dict(type="str"), policy_id=dict(type="str"))),
}


def documentation(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get("options") or {})
    attributes = dict(doc.get("attributes") or {})
    for name in doc["extends_documentation_fragment"]:
        fragment = yaml.safe_load(FRAGMENTS[name])
        options.update(fragment.get("options") or {})
        for key, value in (fragment.get("attributes") or {}).items():
            attributes[key] = dict(value, **attributes.get(key, {}))
    return doc, options, attributes


def compare(spec, documented, where):
    assert sorted(spec) == sorted(documented), where
    for name, option in spec.items():
        doc = documented[name]
        here = "%s.%s" % (where, name)
        assert option.get("type", "str") == doc.get("type", "str"), here
        assert option.get("default") == doc.get("default"), here
        assert option.get("choices") == doc.get("choices"), here
        assert option.get("elements") == doc.get("elements"), here
        assert all(isinstance(line, str) for line in doc["description"]) if isinstance(doc["description"], list) \
            else isinstance(doc["description"], str), here
        if "options" in option:
            compare(option["options"], doc["suboptions"], here)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_docs_match_the_argument_spec(name):
    module, spec = SPECS[name]
    doc, options, attributes = documentation(module)
    assert doc["module"] == name
    compare(spec, options, name)
    assert attributes["action_group"]["membership"] == [GROUP]
    assert attributes["check_mode"]["support"] == "full"
    yaml.safe_load(module.EXAMPLES)
    returns = yaml.safe_load(module.RETURN)
    for key, value in returns.items():
        assert value["description"] and value["returned"], key
    assert "client_secret" not in returns


def test_examples_use_fqcn():
    for module, _spec in SPECS.values():
        for play_task in yaml.safe_load(module.EXAMPLES):
            modules = [k for k in play_task if "." in k]
            assert modules and all(k.startswith(("idpbridge.authentik_cloudflare.", "ansible.builtin.")) for k in modules)


def test_runtime_action_group_lists_the_modules():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert set(SPECS) <= set(runtime["action_groups"]["cloudflare"])


def test_returned_keys_are_documented():
    returns = yaml.safe_load(idp.RETURN)
    # the result contract (docs/development.md): the object once, as end_state; derived values documented
    assert {"existing", "end_state", "test_url", "callback_url", "changes"} <= set(returns)
    assert {"identity_providers", "test_url", "callback_url"} <= set(yaml.safe_load(idp_info.RETURN))
    assert {"organization", "team_name", "callback_url"} <= set(yaml.safe_load(org_info.RETURN))
    assert {"existing", "end_state", "url", "changes"} <= set(yaml.safe_load(app.RETURN))
    assert {"existing", "end_state", "changes"} <= set(yaml.safe_load(pol.RETURN))
    for module in (idp, idp_info, org_info, app, pol):
        documented = set(yaml.safe_load(module.RETURN))
        assert not documented & {"identity_provider", "application", "policy", "id", "exists", "auth_domain", "name"}
    assert set(yaml.safe_load(app_info.RETURN)) == {"applications"}
    assert set(yaml.safe_load(pol_info.RETURN)) == {"policies"}
