"""Which authentik release knows which field, route and default: the version profiles as data.

Everything that differs between the emulated releases lives in the tables of this module:

``FEATURES``          feature name -> (first release that has it, first release that no longer has it)
``PROVIDER_FIELDS``   OAuth2 provider keys in response order, with the feature that gates them
``PROVIDER_OBJ_FIELDS``  the short provider shape (``provider_obj`` of an application)
``APPLICATION_FIELDS``, ``BINDING_FIELDS``, ``SETUP_URL_FIELDS``  likewise

A field entry is ``(name, feature or None, writable)``. ``Profile(version)`` answers the
questions the server asks: ``has(feature)``, ``fields(table)`` (the keys a response carries, in
order) and ``writable(table)`` (the keys a write body may carry for that release).

Sources: the fact sheet (docs/authentik-api.md section 3), the captured 2025.12.4 samples and
the field sets of one ``authentik-client`` release per series (client_fields.json, written by
tools/authentik_client_fields.py; the server tests compare these tables with them). Where the
fact sheet and the samples disagree the samples win (see ``app.meta_icon_themed_urls``).

2026.11 is not released. Its profile covers only what authentik's own source shows (main branch,
Sep 2026): the provider's ``client_secret`` leaves the API for ``client_secret_ref``, a reference
to a Secret object (authentik/providers/oauth2/migrations/0039_managed_secrets.py), and the
secrets API under ``/secrets/secrets/`` with ``view_value`` and ``rotate``
(authentik/crypto/secrets/api.py, urls.py). Everything else is 2026.8 behaviour.
"""

from __future__ import annotations

import re

DEFAULT_VERSION = "2026.8.5"
OLDEST_SUPPORTED = (2024, 10)

# Releases the tests exercise; any other YYYY.M[.P] >= 2024.10 works as well.
KNOWN_VERSIONS = ("2024.10.5", "2024.12.3", "2025.2.4", "2025.4.1", "2025.6.4", "2025.8.4",
                  "2025.10.3", "2025.12.4", "2026.2.2", "2026.5.3", "2026.8.5")
# Not released yet; emulated as far as authentik's source shows (see the module docstring).
UNRELEASED_VERSIONS = ("2026.11.0",)

# feature -> (since, until): present when since <= version < until (None = open end)
FEATURES: dict[str, tuple[str | None, str | None]] = {
    # OAuth2 provider
    "oauth2.jwks_sources": (None, "2024.12"),            # renamed to jwt_federation_sources
    "oauth2.jwt_federation": ("2024.12", None),           # jwt_federation_sources + _providers
    "oauth2.backchannel_logout_uri": ("2025.8", "2025.10"),
    "oauth2.logout_uri": ("2025.10", None),                # logout_uri + logout_method
    "oauth2.refresh_token_threshold": ("2025.10", None),
    "oauth2.grant_types": ("2026.5", None),                # omitted on create -> stored as []
    "oauth2.redirect_uri_type": ("2026.5", None),          # per redirect_uris entry
    "setup_urls.dcr_registration": ("2026.8", None),
    "oauth2.client_secret": (None, "2026.11"),             # a plain string field until 2026.8
    "oauth2.client_secret_ref": ("2026.11", None),         # UUID of a Secret; auto-created when omitted
    "api.secrets": ("2026.11", None),                      # /secrets/secrets/ (+ view_value, rotate)
    # Applications
    "app.slug_max_50": (None, "2025.12"),
    "app.set_icon_url": (None, "2025.12"),                 # POST .../set_icon_url/; 405 from 2025.12
    "app.meta_icon_writable": ("2025.12", None),           # before: read-only URL, ignored on write
    "app.meta_icon_url": ("2025.12", None),
    # The fact sheet dates meta_icon_themed_urls to 2026.2, the real 2025.12.4 answer has it.
    "app.meta_icon_themed_urls": ("2025.12", None),
    "app.meta_hide": ("2026.5", None),
    "app.pbm_uuid": ("2026.8", None),
    # Policy bindings
    "binding.expires": ("2026.8", None),                   # read-only expires + expiring
    # Flows
    "flow.background_themed_urls": ("2025.12", None),
    # SCIM provider (client_fields.json SCIMProviderRequest / SCIMProvider per series; scim.py)
    "scim.token_required": (None, "2025.10"),              # token: required until 2025.8, may be blank after
    # GET returns the token in clear on the captured 2026.2.2; the 2026.2.7 client has it write-only
    "scim.token_readable": (None, "2026.2.7"),
    "scim.filter_group": (None, "2026.2"),                 # one group (filter_group) ...
    "scim.group_filters": ("2026.2", None),                # ... then a list (group_filters)
    "scim.compatibility_mode": ("2025.4", None),           # compatibility_mode + dry_run
    "scim.auth_mode": ("2025.10", None),                   # auth_mode, auth_oauth, auth_oauth_params
    "scim.sync_settings": ("2025.12", None),               # SPC cache timeout, sync page size and timeout
    "scim.oauth_token_info": ("2026.5", None),             # read-only auth_oauth_token_* / _url_*
    "scim.discovery_enabled": ("2026.8", None),
    "api.tasks": ("2025.8", None),                         # /tasks/schedules/ and /tasks/tasks/ (the worker)
}

PROVIDER_OBJ_FIELDS: list[tuple[str, str | None, bool]] = [
    ("pk", None, False),
    ("name", None, True),
    ("authentication_flow", None, True),
    ("authorization_flow", None, True),
    ("invalidation_flow", None, True),
    ("property_mappings", None, True),
    ("component", None, False),
    ("assigned_application_slug", None, False),
    ("assigned_application_name", None, False),
    ("assigned_backchannel_application_slug", None, False),
    ("assigned_backchannel_application_name", None, False),
    ("verbose_name", None, False),
    ("verbose_name_plural", None, False),
    ("meta_model_name", None, False),
]

PROVIDER_FIELDS: list[tuple[str, str | None, bool]] = PROVIDER_OBJ_FIELDS + [
    ("client_type", None, True),
    ("grant_types", "oauth2.grant_types", True),
    ("client_id", None, True),
    ("client_secret", "oauth2.client_secret", True),
    ("client_secret_ref", "oauth2.client_secret_ref", True),
    ("access_code_validity", None, True),
    ("access_token_validity", None, True),
    ("refresh_token_validity", None, True),
    ("refresh_token_threshold", "oauth2.refresh_token_threshold", True),
    ("include_claims_in_id_token", None, True),
    ("signing_key", None, True),
    ("encryption_key", None, True),
    ("redirect_uris", None, True),
    ("backchannel_logout_uri", "oauth2.backchannel_logout_uri", True),
    ("logout_uri", "oauth2.logout_uri", True),
    ("logout_method", "oauth2.logout_uri", True),
    ("sub_mode", None, True),
    ("issuer_mode", None, True),
    ("jwks_sources", "oauth2.jwks_sources", True),
    ("jwt_federation_sources", "oauth2.jwt_federation", True),
    ("jwt_federation_providers", "oauth2.jwt_federation", True),
]

REDIRECT_URI_FIELDS: list[tuple[str, str | None, bool]] = [
    ("matching_mode", None, True),
    ("url", None, True),
    ("redirect_uri_type", "oauth2.redirect_uri_type", True),
]

APPLICATION_FIELDS: list[tuple[str, str | None, bool]] = [
    ("pk", None, False),
    ("pbm_uuid", "app.pbm_uuid", False),
    ("name", None, True),
    ("slug", None, True),
    ("provider", None, True),
    ("provider_obj", None, False),
    ("backchannel_providers", None, True),
    ("backchannel_providers_obj", None, False),
    ("launch_url", None, False),
    ("open_in_new_tab", None, True),
    ("meta_launch_url", None, True),
    ("meta_icon", None, False),            # writable only with app.meta_icon_writable (see writable())
    ("meta_icon_url", "app.meta_icon_url", False),
    ("meta_icon_themed_urls", "app.meta_icon_themed_urls", False),
    ("meta_description", None, True),
    ("meta_publisher", None, True),
    ("policy_engine_mode", None, True),
    ("group", None, True),
    ("meta_hide", "app.meta_hide", True),
]

BINDING_FIELDS: list[tuple[str, str | None, bool]] = [
    ("pk", None, False),
    ("policy", None, True),
    ("group", None, True),
    ("user", None, True),
    ("policy_obj", None, False),
    ("group_obj", None, False),
    ("user_obj", None, False),
    ("target", None, True),
    ("negate", None, True),
    ("enabled", None, True),
    ("order", None, True),
    ("timeout", None, True),
    ("failure_result", None, True),
    ("expires", "binding.expires", False),
    ("expiring", "binding.expires", False),
]

# jwks is left out while no application is bound (10); dcr_registration only from 2026.8
SETUP_URL_FIELDS: list[tuple[str, str | None, bool]] = [
    ("issuer", None, False),
    ("authorize", None, False),
    ("token", None, False),
    ("user_info", None, False),
    ("provider_info", None, False),
    ("logout", None, False),
    ("jwks", None, False),
    ("dcr_registration", "setup_urls.dcr_registration", False),
]

FLOW_FIELDS: list[tuple[str, str | None, bool]] = [
    ("pk", None, False),
    ("policybindingmodel_ptr_id", None, False),
    ("name", None, True),
    ("slug", None, True),
    ("title", None, True),
    ("designation", None, True),
    ("background", None, True),
    ("background_url", None, False),
    ("background_themed_urls", "flow.background_themed_urls", False),
    ("stages", None, False),
    ("policies", None, False),
    ("cache_count", None, False),
    ("policy_engine_mode", None, True),
    ("compatibility_mode", None, True),
    ("export_url", None, False),
    ("layout", None, True),
    ("denied_action", None, True),
    ("authentication", None, True),
]

# A Secret (2026.11): ``value`` is write-only, ``managed`` read-only
SECRET_FIELDS: list[tuple[str, str | None, bool]] = [
    ("pk", None, False),
    ("name", None, True),
    ("type", None, True),
    ("managed", None, False),
    ("created", None, False),
    ("last_updated", None, False),
]

SCIM_PROVIDER_FIELDS: list[tuple[str, str | None, bool]] = [
    ("pk", None, False),
    ("name", None, True),
    ("property_mappings", None, True),
    ("property_mappings_group", None, True),
    ("component", None, False),
    ("assigned_backchannel_application_slug", None, False),
    ("assigned_backchannel_application_name", None, False),
    ("verbose_name", None, False),
    ("verbose_name_plural", None, False),
    ("meta_model_name", None, False),
    ("url", None, True),
    ("verify_certificates", None, True),
    ("token", None, True),                  # readable only with scim.token_readable (see fields())
    ("auth_mode", "scim.auth_mode", True),
    ("auth_oauth", "scim.auth_mode", True),
    ("auth_oauth_params", "scim.auth_mode", True),
    ("auth_oauth_token_last_updated", "scim.oauth_token_info", False),
    ("auth_oauth_token_expires", "scim.oauth_token_info", False),
    ("auth_oauth_url_callback", "scim.oauth_token_info", False),
    ("auth_oauth_url_start", "scim.oauth_token_info", False),
    ("compatibility_mode", "scim.compatibility_mode", True),
    ("service_provider_config_cache_timeout", "scim.sync_settings", True),
    ("exclude_users_service_account", None, True),
    ("filter_group", "scim.filter_group", True),
    ("sync_page_size", "scim.sync_settings", True),
    ("sync_page_timeout", "scim.sync_settings", True),
    ("discovery_enabled", "scim.discovery_enabled", True),
    ("group_filters", "scim.group_filters", True),
    ("dry_run", "scim.compatibility_mode", True),
]

TABLES = {
    "oauth2": PROVIDER_FIELDS,
    "application": APPLICATION_FIELDS,
    "binding": BINDING_FIELDS,
    "redirect_uri": REDIRECT_URI_FIELDS,
    "setup_urls": SETUP_URL_FIELDS,
    "flow": FLOW_FIELDS,
    "provider_obj": PROVIDER_OBJ_FIELDS,
    "secret": SECRET_FIELDS,
    "scim": SCIM_PROVIDER_FIELDS,
}


def parse_version(text: str) -> tuple[int, int, int]:
    """``"2025.12.4"`` -> ``(2025, 12, 4)``; ``"2025.12"`` -> ``(2025, 12, 0)``; rc suffixes ignored."""
    numbers = [int(n) for n in re.findall(r"\d+", str(text))[:3]]
    if len(numbers) < 2:
        raise ValueError("not an authentik version: %r" % (text,))
    while len(numbers) < 3:
        numbers.append(0)
    return (numbers[0], numbers[1], numbers[2])


class Profile:
    """The behaviour of one emulated authentik release."""

    def __init__(self, version: str = DEFAULT_VERSION):
        self.version = str(version)
        self.tuple = parse_version(self.version)
        if self.tuple[:2] < OLDEST_SUPPORTED:
            raise ValueError("authentik %s is older than %d.%d, the oldest release this server emulates"
                             % ((self.version,) + OLDEST_SUPPORTED))

    def __repr__(self) -> str:
        return "Profile(%r)" % self.version

    def at_least(self, version: str) -> bool:
        return self.tuple >= parse_version(version)

    def has(self, feature: str) -> bool:
        since, until = FEATURES[feature]
        if since is not None and not self.at_least(since):
            return False
        if until is not None and self.at_least(until):
            return False
        return True

    def _present(self, feature: str | None) -> bool:
        return feature is None or self.has(feature)

    def fields(self, table: str) -> list[str]:
        """Response keys of ``table`` for this release, in the server's order."""
        names = [name for name, feature, _w in TABLES[table] if self._present(feature)]
        if table == "scim" and not self.has("scim.token_readable"):
            names.remove("token")  # write-only
        return names

    def writable(self, table: str) -> list[str]:
        """Keys a write body may carry for this release (everything else is ignored by authentik)."""
        names = [name for name, feature, writable in TABLES[table] if writable and self._present(feature)]
        if table == "application" and self.has("app.meta_icon_writable"):
            names.insert(names.index("meta_launch_url") + 1, "meta_icon")
        if table == "secret":
            names.append("value")  # write-only
        return names

    def features(self) -> dict[str, bool]:
        return dict((name, self.has(name)) for name in sorted(FEATURES))
