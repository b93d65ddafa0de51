"""The objects a fresh authentik instance has, as plain data.

UUIDs that appear in the captured samples (docs/authentik-samples) are reused, so a sample's
request body can be replayed against the test server unchanged; every other UUID is a
deterministic ``uuid5`` of the object's name.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("6f1d2a4c-1b7e-4f0a-9d4b-2c3e5a7b9d10")


def stable_uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "%s:%s" % (kind, name)))


# slug, name, title, designation, authentication, stage count, (pk, policybindingmodel_ptr_id) or None
FLOWS = [
    ("default-authentication-flow", "Welcome to authentik!", "Welcome to authentik!", "authentication",
     "none", 4, None),
    ("default-authenticator-static-setup", "default-authenticator-static-setup", "Set up Static OTP Tokens",
     "stage_configuration", "require_authenticated", 1, None),
    ("default-authenticator-totp-setup", "default-authenticator-totp-setup", "Set up Two-Factor authentication",
     "stage_configuration", "require_authenticated", 1,
     ("c969b644-66ba-4c1b-a8f0-7d9ec33b8530", "ddcc4023-e64c-4297-93fa-215c8e85a75f")),
    ("default-authenticator-webauthn-setup", "default-authenticator-webauthn-setup", "Setup WebAuthn",
     "stage_configuration", "require_authenticated", 1,
     ("e8e5bb54-c304-49a6-98fb-5402ccf29438", "339ce76c-3cd5-4689-bc29-ad57194e6f89")),
    ("default-invalidation-flow", "Default Invalidation Flow", "Default Invalidation Flow", "invalidation",
     "none", 1, None),
    ("default-password-change", "Change Password", "Change password", "stage_configuration",
     "require_authenticated", 2, None),
    ("default-provider-authorization-explicit-consent", "Authorize Application", "Redirecting to %(app)s",
     "authorization", "require_authenticated", 1, None),
    ("default-provider-authorization-implicit-consent", "Authorize Application", "Redirecting to %(app)s",
     "authorization", "require_authenticated", 0,
     ("892c0a1d-c29a-4a26-9a36-a6bb974d12f5", "257f7fa9-d2bf-41ee-9d92-f125a7f0f768")),
    ("default-provider-invalidation-flow", "Logged out of application", "You've logged out of %(app)s.",
     "invalidation", "none", 0,
     ("b18b8a3e-f03d-408a-9e33-367e56d66be9", "16ee1abb-24f3-403d-a1a8-0c4437614f0b")),
    ("default-source-authentication", "Welcome to authentik!", "Welcome to authentik!", "authentication",
     "require_unauthenticated", 1, None),
    ("default-source-enrollment", "Welcome to authentik! Please select a username.", "Welcome to authentik!",
     "enrollment", "require_unauthenticated", 2, None),
    ("default-source-pre-authentication", "Pre-Authentication", "", "stage_configuration", "none", 0, None),
    ("default-user-settings-flow", "User settings", "Update your info", "stage_configuration",
     "require_authenticated", 1, None),
    ("initial-setup", "Welcome to authentik!", "Welcome to authentik!", "stage_configuration",
     "require_superuser", 2, None),
]

# name, managed, with private key, pk or None
KEYPAIRS = [
    ("authentik Self-signed Certificate", None, True, "ca7af4bb-e650-4376-a1d1-44d5d58ee772"),
    ("authentik Internal JWT Certificate", "goauthentik.io/crypto/jwt-managed", True, None),
    ("Imported CA certificate", None, False, None),
]

# In creation order: the provider API lists a provider's mappings in this order (sample note 9).
# managed suffix, scope_name, name, description, expression, claims, pk or None
_SCOPE_PREFIX = "goauthentik.io/providers/oauth2/scope-"
SCOPE_MAPPINGS = [
    ("openid", "openid", "authentik default OAuth Mapping: OpenID 'openid'", "",
     "# This scope is required by the OpenID-spec, and must as such exist in authentik.\n"
     "# The scope by itself does not grant any information\nreturn {}",
     [], "dd0390e6-60aa-4e3d-bf96-62bb6b62cf7c"),
    ("email", "email", "authentik default OAuth Mapping: OpenID 'email'", "Email address",
     "return {\n    \"email\": request.user.email,\n    \"email_verified\": False\n}",
     ["email", "email_verified"], "1e8abc55-9bb4-4356-b955-1d158862b357"),
    ("profile", "profile", "authentik default OAuth Mapping: OpenID 'profile'", "General Profile Information",
     "return {\n    \"name\": request.user.name,\n    \"given_name\": request.user.name,\n"
     "    \"preferred_username\": request.user.username,\n    \"nickname\": request.user.username,\n"
     "    \"groups\": [group.name for group in request.user.ak_groups.all()],\n}",
     ["name", "given_name", "preferred_username", "nickname", "groups"], "ef59d939-511d-4273-a64e-99420a97b17f"),
    ("offline_access", "offline_access", "authentik default OAuth Mapping: OpenID 'offline_access'",
     "Access to request new tokens without interaction", "# This scope grants the application a refresh token "
     "that can be used to refresh user data\n# and let the application access authentik without the users "
     "interaction\nreturn {}", [], None),
    ("entitlements", "entitlements", "authentik default OAuth Mapping: Application Entitlements",
     "Application entitlements", "entitlements = [entitlement.name for entitlement in "
     "request.user.app_entitlements(provider.application)]\nreturn {\n    \"entitlements\": entitlements,\n"
     "    \"roles\": entitlements,\n}", ["entitlements", "roles"], None),
    ("authentik_api", "goauthentik.io/api", "authentik default OAuth Mapping: authentik API access",
     "authentik API Access on behalf of your user", "return {}", [], None),
]
SCOPE_MAPPINGS = [(_SCOPE_PREFIX + m[0],) + m[1:] for m in SCOPE_MAPPINGS]

# name, num_pk, is_superuser, pk or None
GROUPS = [
    ("authentik Admins", 58013, True, "2ba50f22-f2e3-4e02-95a5-e196d7dbd8f6"),
    ("engineering", 58014, False, None),
    ("contractors", 58015, False, None),
]

# pk, username, name, email, groups, is_superuser (via group), uuid or None, uid or None
USERS = [
    (3, "akadmin", "authentik Default Admin", "akadmin@example.invalid", ["authentik Admins"],
     "4586bdbe-ac24-4625-8eb2-eb98a3c05e39", "c46d4684f0018b4981f805988797240454ca97e2e25306cb39594e54fcdb4d5f"),
    (4, "alice", "Alice Example", "alice@example.org", ["engineering"], None, None),
    (5, "bob", "Bob Example", "bob@example.org", ["contractors"], None, None),
]

# Users with a password, for sign-ins through the flow executor (the headless login test):
# username, name, email, groups, password. The second one has no e-mail address, so the stock
# email mapping gives it an empty "email" claim.
SIGN_IN_USERS = [
    ("idpbridge-tester", "IdP Bridge Tester", "idpbridge-tester@example.org", ["engineering"],
     "tst-pw-Kq7Vd2Lm9Xr4Bz8Wn3"),
    ("idpbridge-tester-nomail", "Tester Without Mail", "", ["engineering"], "tst-pw-Hy5Gc1Ps6Tf0Jv9Ea2"),
]

# name, expression, result of the expression for any user (the server does not run Python)
POLICIES = [
    ("default-source-authentication-if-sso", "return ak_is_sso_flow", True),
    ("default-source-enrollment-if-sso", "return ak_is_sso_flow", True),
    ("idpbridge-deny-all", "return False", False),
]

DEFAULT_TOKEN_USER = "akadmin"
