"""What the authentik modules send and compare per authentik release (2024.10 to 2026.11).

The releases' field sets come from tests/servers/authentik/client_fields.json (derived from the
authentik-client package of each release by tools/authentik_client_fields.py), so the module
logic is held against what each release really has.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import UNKNOWN_VERSION
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._engine import differences
from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.plugins.modules.authentik_module_support import (
    ROOT, load,
)
from ansible_collections.idpbridge.authentik_cloudflare.tests.unit.fake_module import FakeModule

provider_mod = load("authentik_provider_oauth2")
application_mod = load("authentik_application")
binding_mod = load("authentik_policy_binding")
info_mod = load("authentik_provider_oauth2_info")

CALLBACK = "https://team.cloudflareaccess.com/cdn-cgi/access/callback"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def _series():
    raw = json.loads((ROOT / "tests" / "servers" / "authentik" / "client_fields.json").read_text())["series"]
    resolved = {}
    for name in sorted(raw, key=lambda k: tuple(int(p) for p in k.split("."))):
        entry = dict(raw[name])
        if "same_as" in entry:
            entry["models"] = resolved[entry["same_as"]]["models"]
        resolved[name] = entry
    return resolved


SERIES = _series()
SERIES_NAMES = sorted(SERIES, key=lambda k: tuple(int(p) for p in k.split(".")))


def as_version(series):
    return tuple(int(p) for p in series.split(".")) + (0,)


def fields(series, model):
    return set(SERIES[series]["models"][model])


class FakeClient:
    """The AuthentikClient calls the resources make, recorded; the release is ``version`` (a tuple or None)."""

    def __init__(self, version=None, provider=None, application=None, secret="stored-secret"):
        self._cache = {}
        self._version = version or UNKNOWN_VERSION
        if version:
            self._cache["version_text"] = "%d.%d.%d" % version
        self.provider = provider
        self.app = application
        self.secret = secret
        self.calls = []

    def version(self):
        self.calls.append(("GET", "/admin/version/"))
        return self._version

    def at_least(self, *wanted):
        return self.version() >= tuple(wanted) + (0,) * (3 - len(wanted))

    def running(self, fallback):
        return self._cache.get("version_text") or fallback

    def provider_by_name(self, name):
        return self.provider

    def application(self, slug):
        return self.app

    def flow_pk(self, slug, designation):
        return "flow-" + slug

    def keypair_pk(self, name):
        return "key-pk"

    def scope_mappings(self, scopes):
        return dict((s, "scope-" + s) for s in scopes)

    def provider_secret(self, obj):
        self.calls.append(("GET", "/secrets/secrets/%s/view_value/" % obj.get("client_secret_ref")))
        return self.secret

    def post(self, path, body, what=None):
        self.calls.append(("POST", path, body))
        created = dict(body, pk=7)
        if path == "/providers/oauth2/" and self._version >= (2026, 11, 0):
            created["client_secret_ref"] = "new-secret-uuid"
        return created

    def patch(self, path, body, what=None):
        self.calls.append(("PATCH", path, body))
        return dict(self.provider or {}, **body)

    def set_secret_value(self, ref, value, what=None):
        self.calls.append(("PATCH", "/secrets/secrets/%s/" % ref, {"value": value}))

    def create_secret(self, name, value, what=None):
        self.calls.append(("POST", "/secrets/secrets/", {"name": name, "value": value}))
        return "created-secret-uuid"

    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]


def provider_params(**options):
    params = dict(
        name="cf", state="present", client_type="confidential", client_id=None, client_secret=None,
        redirect_uris=[CALLBACK], purge_redirect_uris=True,
        authorization_flow="default-provider-authorization-implicit-consent",
        invalidation_flow="default-provider-invalidation-flow", authentication_flow=None,
        signing_key="authentik Self-signed Certificate", scopes=["openid", "email", "profile"], grant_types=None,
        sub_mode=None, issuer_mode=None, include_claims_in_id_token=None, access_code_validity=None,
        access_token_validity=None, refresh_token_validity=None, logout_uri=None, logout_method=None, public_url=None,
    )
    params.update(options)
    return params


def provider_resource(version=None, current=None, **options):
    client = FakeClient(version, provider=current)
    resource = provider_mod.OAuth2Provider(FakeModule(provider_params(**options)), client)
    return resource, client


def server_object(series, model, values):
    """An API answer of ``series``: every response field of ``model`` (None), then ``values`` where it has them."""
    obj = dict.fromkeys(fields(series, model))
    obj.update((k, v) for k, v in values.items() if k in obj)
    return obj


# ---- the provider ----------------------------------------------------------------------------------
@pytest.mark.parametrize("version, expected", [
    ((2024, 10, 5), (False, None, None)),
    ((2025, 6, 4), (False, None, None)),
    ((2025, 8, 4), (False, "backchannel_logout_uri", None)),
    ((2025, 10, 3), (False, "logout_uri", None)),
    ((2025, 12, 4), (False, "logout_uri", None)),
    ((2026, 5, 3), (True, "logout_uri", None)),
    ((2026, 8, 5), (True, "logout_uri", None)),
    ((2026, 11, 0), (True, "logout_uri", "client_secret_ref")),
    (UNKNOWN_VERSION, (True, "logout_uri", "client_secret_ref")),  # not readable: the newest
])
def test_capabilities_of_a_release(version, expected):
    caps = provider_mod.Capabilities.from_version(version)
    assert (caps.grant_types, caps.logout, caps.secret_ref) == expected
    assert caps.known is (version != UNKNOWN_VERSION)


@pytest.mark.parametrize("series", SERIES_NAMES)
def test_an_existing_providers_fields_tell_what_its_version_would(series):
    by_fields = provider_mod.Capabilities.from_object(server_object(series, "OAuth2Provider", {}))
    by_version = provider_mod.Capabilities.from_version(as_version(series))
    assert (by_fields.grant_types, by_fields.logout, by_fields.secret_ref) == (
        by_version.grant_types, by_version.logout, by_version.secret_ref)


def test_a_provider_without_invalidation_flow_is_from_before_2024_10():
    with pytest.raises(LookupFailed, match="This authentik is older than 2024.10, the oldest release this collection "
                                           "supports"):
        provider_mod.Capabilities.from_object({"pk": 1, "name": "x", "client_secret": "s", "redirect_uris": []})


def _everything_the_release_can_honour(series):
    version = as_version(series)
    options = {"client_id": "fixed-client-id", "client_secret": "S" * 40, "sub_mode": "user_email",
               "issuer_mode": "global", "include_claims_in_id_token": True, "access_code_validity": "minutes=2",
               "access_token_validity": "minutes=10", "refresh_token_validity": "days=7",
               "authentication_flow": "default-authentication-flow"}
    if version >= (2025, 8, 0):
        options["logout_uri"] = "https://app.example/logout"
        options["logout_method"] = "backchannel"
    if version >= (2025, 10, 0):
        options["logout_method"] = "frontchannel"
    if version >= (2026, 5, 0):
        options["grant_types"] = ["authorization_code", "refresh_token"]
        options["redirect_uris"] = [CALLBACK, {"url": "https://app.example/bye", "redirect_uri_type": "logout"}]
    if version >= (2026, 8, 0):
        options["grant_types"] = ["authorization_code", EXCHANGE]
    return options


@pytest.mark.parametrize("series", SERIES_NAMES)
def test_a_create_sends_only_fields_the_release_knows(series):
    resource, client = provider_resource(as_version(series), **_everything_the_release_can_honour(series))
    assert resource.find() is None
    desired = resource.desired(None)
    resource.create(desired)
    request_fields = fields(series, "OAuth2ProviderRequest")
    entry_fields = fields(series, "RedirectURIRequest")
    for method, path, body in client.writes():
        if path == "/providers/oauth2/":
            assert set(body) <= request_fields, sorted(set(body) - request_fields)
            for entry in body["redirect_uris"]:
                assert set(entry) <= entry_fields
    if as_version(series) >= (2026, 11, 0):
        # the value goes into the Secret authentik created with the provider
        assert client.writes()[1:] == [("PATCH", "/secrets/secrets/new-secret-uuid/", {"value": "S" * 40})]
    else:
        assert len(client.writes()) == 1 and client.writes()[0][2]["client_secret"] == "S" * 40


@pytest.mark.parametrize("series", SERIES_NAMES)
def test_a_rerun_finds_nothing_to_change_and_compares_only_known_fields(series):
    options = _everything_the_release_can_honour(series)
    first, _client = provider_resource(as_version(series), **options)
    first.find()
    sent = first.desired(None)
    # the server's answer: its own fields, holding what was sent (2025.8 keeps the URL in backchannel_logout_uri)
    answer = server_object(series, "OAuth2Provider", dict(sent, pk=7, client_secret_ref="ref-uuid"))
    resource, client = provider_resource(None, current=answer, **options)
    client.secret = options["client_secret"]
    current = resource.find()
    desired = resource.desired(current)
    assert differences(resource.normalize(current), desired) == {}
    compared = set(desired) - {"client_secret"}
    assert compared <= fields(series, "OAuth2Provider"), sorted(compared - fields(series, "OAuth2Provider"))
    # an existing provider's fields are enough; only the token-exchange grant (2026.8) needs the version
    version_read = ("GET", "/admin/version/") in client.calls
    assert version_read is (EXCHANGE in (options.get("grant_types") or []))
    if as_version(series) >= (2026, 11, 0):
        assert ("GET", "/secrets/secrets/ref-uuid/view_value/") in client.calls


def test_without_the_option_the_secret_of_a_2026_11_provider_is_not_read():
    answer = server_object("2026.11", "OAuth2Provider",
                           {"pk": 7, "name": "cf", "client_secret_ref": "ref-uuid", "invalidation_flow": "x"})
    resource, client = provider_resource(None, current=answer)
    resource.normalize(resource.find())
    assert client.calls == []


@pytest.mark.parametrize("version, options, message", [
    ((2025, 12, 4), {"grant_types": ["authorization_code"]},
     "grant_types needs authentik 2026.5 or newer; this server runs 2025.12.4"),
    ((2026, 5, 3), {"grant_types": [EXCHANGE]},
     "grant type %s needs authentik 2026.8 or newer; this server runs 2026.5.3" % EXCHANGE),
    ((2025, 12, 4), {"redirect_uris": [{"url": CALLBACK, "redirect_uri_type": "logout"}]},
     "redirect_uri_type logout needs authentik 2026.5 or newer"),
    ((2025, 6, 4), {"logout_uri": "https://app.example/logout"}, "logout_uri needs authentik 2025.8 or newer"),
    ((2025, 6, 4), {"logout_method": "backchannel"}, "logout_method needs authentik 2025.8 or newer"),
    ((2025, 8, 4), {"logout_method": "frontchannel"}, "logout_method frontchannel needs authentik 2025.10 or newer"),
])
def test_an_option_the_release_cannot_honour_names_the_minimum_release(version, options, message):
    resource, client = provider_resource(version, **options)
    resource.find()
    with pytest.raises(LookupFailed) as info:
        resource.desired(None)
    assert message in str(info.value)
    assert client.writes() == []


def test_an_existing_old_provider_names_what_its_fields_show():
    answer = server_object("2025.6", "OAuth2Provider", {"pk": 3, "name": "cf", "invalidation_flow": "x"})
    resource, client = provider_resource(None, current=answer, logout_uri="https://app.example/logout")
    resource.find()
    with pytest.raises(LookupFailed, match=r"logout_uri needs authentik 2025.8 or newer; this server runs a release "
                                           r"before 2025.8 \(its providers have no logout URI\)"):
        resource.desired(answer)
    assert ("GET", "/admin/version/") not in client.calls


def test_2025_8_takes_the_logout_url_as_backchannel_logout_uri():
    resource, _client = provider_resource((2025, 8, 4), logout_uri="https://app.example/logout",
                                          logout_method="backchannel")
    resource.find()
    desired = resource.desired(None)
    assert desired["backchannel_logout_uri"] == "https://app.example/logout"
    assert "logout_uri" not in desired and "logout_method" not in desired


def test_2026_11_a_new_secret_goes_into_the_providers_secret_object():
    answer = server_object("2026.11", "OAuth2Provider",
                           {"pk": 7, "name": "cf", "client_secret_ref": "ref-uuid", "invalidation_flow": "x"})
    resource, client = provider_resource(None, current=answer, client_secret="new-value")
    current = resource.find()
    changes = differences(resource.normalize(current), resource.desired(current))
    assert "client_secret" in changes and "name" not in changes
    resource.update(current, {"client_secret": "new-value"}, {})
    assert client.writes() == [("PATCH", "/secrets/secrets/ref-uuid/", {"value": "new-value"})]
    # a provider without a Secret (detached) gets one of its own
    detached = dict(answer, client_secret_ref=None)
    resource, client = provider_resource(None, current=detached, client_secret="new-value")
    resource.find()
    resource.update(detached, {"client_secret": "new-value", "access_token_validity": "hours=2"}, {})
    assert client.writes() == [
        ("POST", "/secrets/secrets/", {"name": "cf client secret", "value": "new-value"}),
        ("PATCH", "/providers/oauth2/7/", {"client_secret_ref": "created-secret-uuid"}),
        ("PATCH", "/providers/oauth2/7/", {"access_token_validity": "hours=2"}),
    ]


def test_an_unreadable_version_creates_then_sets_the_secret_the_way_the_answer_shows():
    resource, client = provider_resource(None, client_secret="chosen")
    client._version = UNKNOWN_VERSION
    resource.find()
    client.post = lambda path, body, what=None: client.calls.append(("POST", path, body)) or dict(
        body, pk=7, client_secret="generated")
    resource.create(resource.desired(None))
    assert "client_secret" not in client.writes()[0][2]
    assert client.writes()[1] == ("PATCH", "/providers/oauth2/7/", {"client_secret": "chosen"})


# ---- the application -------------------------------------------------------------------------------
def application_params(**options):
    params = dict(slug="cf", name=None, provider=None, group=None, policy_engine_mode=None, meta_launch_url=None,
                  meta_description=None, meta_publisher=None, open_in_new_tab=None, meta_icon=None, meta_hide=None,
                  public_url=None, state="present")
    params.update(options)
    return params


def test_meta_hide_needs_2026_5():
    resource = application_mod.Application(FakeModule(application_params(meta_hide=True)), FakeClient((2025, 12, 4)))
    with pytest.raises(LookupFailed, match="meta_hide needs authentik 2026.5 or newer; this server runs 2025.12.4"):
        resource.desired(None)
    old = server_object("2025.12", "Application", {"slug": "cf", "name": "cf"})
    client = FakeClient()
    resource = application_mod.Application(FakeModule(application_params(meta_hide=True)), client)
    with pytest.raises(LookupFailed, match=r"this server runs a release before 2026.5 \(its applications have no "
                                           r"meta_hide\)"):
        resource.desired(old)
    assert client.calls == [], "the application's own fields tell"


@pytest.mark.parametrize("series", [s for s in SERIES_NAMES if as_version(s) >= (2026, 5, 0)])
def test_meta_hide_is_sent_and_compared_from_2026_5(series):
    resource = application_mod.Application(FakeModule(application_params(meta_hide=True)), FakeClient(as_version(series)))
    desired = resource.desired(None)
    assert desired["meta_hide"] is True and set(desired) <= fields(series, "ApplicationRequest")
    current = server_object(series, "Application", dict(desired, pk="app-uuid", pbm_uuid="app-uuid", meta_icon=""))
    assert differences(resource.normalize(current), resource.desired(current)) == {}
    current["meta_hide"] = False
    assert differences(resource.normalize(current), resource.desired(current)) == {"meta_hide": True}


@pytest.mark.parametrize("series", SERIES_NAMES)
def test_an_application_compares_only_fields_every_release_has(series):
    resource = application_mod.Application(FakeModule(application_params(name="CF")), FakeClient(as_version(series)))
    current = server_object(series, "Application", {"slug": "cf", "name": "CF", "pk": "u", "pbm_uuid": "u"})
    normalized = resource.normalize(current)
    assert "pbm_uuid" not in normalized
    assert set(normalized) <= fields(series, "Application")
    assert differences(normalized, resource.desired(current)) == {}


# ---- bindings and the info module -----------------------------------------------------------------
@pytest.mark.parametrize("series", SERIES_NAMES)
def test_a_binding_compares_only_its_attributes(series):
    current = server_object(series, "PolicyBinding", dict(binding_mod.BINDING_DEFAULTS, pk="b", expires=None,
                                                          expiring=False))
    normalized = binding_mod.normalize_binding(current)
    assert set(normalized) == set(binding_mod.ATTRIBUTES) and set(normalized) <= fields(series, "PolicyBinding")
    assert set(normalized) <= fields(series, "PolicyBindingRequest")


def test_info_returns_a_2026_11_secret_only_when_asked():
    provider = {"pk": 1, "name": "cf", "client_secret_ref": "ref-uuid", "assigned_application_slug": None}
    shown = info_mod.describe_provider(provider, "https://auth.example.com", False)
    assert shown["client_secret"] == "********"
    assert info_mod.describe_provider(provider, "https://auth.example.com", True, "value")["client_secret"] == "value"
    plain = {"pk": 1, "name": "cf", "client_secret": "plain", "assigned_application_slug": None}
    assert info_mod.describe_provider(plain, "https://auth.example.com", False)["client_secret"] == "********"
