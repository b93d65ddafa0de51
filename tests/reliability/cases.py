"""Every case of the reliability suite, as data: one row of docs/reliability.md each.

``ALL`` maps case id -> group; the test modules parametrise over the lists below.
"""

from __future__ import annotations

GROUPS = (
    ("fault", "Faults: rate limits, server errors, lost answers, slow and broken connections"),
    ("kill", "Killed runs (SIGKILL of ansible-playbook) and races"),
    ("role-input", "Bad input to the role (preflight: before the first request)"),
    ("role-lookup", "Bad references in the role's variables (found by the lookups; no write)"),
    ("module-input", "Bad input the APIs reveal (module messages)"),
    ("applications", "Protected applications: mistakes in the list, 429 storms and kills (tests/reliability/test_applications.py)"),
    ("secrets", "Secret scan"),
)

# ---------------------------------------------------------------- role preflight
# id, what is wrong, role variables, environment overrides (None = unset), words the message must hold
ROLE_INPUT = [
    ("url-unset", "AUTHENTIK_URL unset", {}, {"AUTHENTIK_URL": None},
     ["cloudflare_access_authentik_url", "AUTHENTIK_URL", "not set"]),
    ("url-empty", "AUTHENTIK_URL empty", {}, {"AUTHENTIK_URL": ""},
     ["cloudflare_access_authentik_url", "AUTHENTIK_URL", "not set"]),
    ("url-no-scheme", "authentik URL without a scheme", {"cloudflare_access_authentik_url": "auth.example.com"}, {},
     ["cloudflare_access_authentik_url", "AUTHENTIK_URL", "absolute"]),
    ("url-admin", "authentik URL of the admin interface (/if/admin/)", {}, {"AUTHENTIK_URL": "{authentik}/if/admin/"},
     ["cloudflare_access_authentik_url", "AUTHENTIK_URL", "base URL"]),
    ("token-unset", "AUTHENTIK_TOKEN unset", {}, {"AUTHENTIK_TOKEN": None},
     ["cloudflare_access_authentik_token", "AUTHENTIK_TOKEN", "not set"]),
    ("token-space", "authentik token pasted with a space", {"cloudflare_access_authentik_token": "abc def"}, {},
     ["cloudflare_access_authentik_token", "AUTHENTIK_TOKEN", "white space"]),
    ("cf-token-unset", "CLOUDFLARE_API_TOKEN unset", {}, {"CLOUDFLARE_API_TOKEN": None},
     ["cloudflare_access_cloudflare_api_token", "CLOUDFLARE_API_TOKEN", "not set"]),
    ("cf-token-empty", "CLOUDFLARE_API_TOKEN empty", {}, {"CLOUDFLARE_API_TOKEN": ""},
     ["cloudflare_access_cloudflare_api_token", "CLOUDFLARE_API_TOKEN", "not set"]),
    ("account-unset", "CLOUDFLARE_ACCOUNT_ID unset", {}, {"CLOUDFLARE_ACCOUNT_ID": None},
     ["cloudflare_access_cloudflare_account_id", "CLOUDFLARE_ACCOUNT_ID", "not set"]),
    ("account-malformed", "account id that is not 32 hex characters", {"cloudflare_access_cloudflare_account_id": "my-account"}, {},
     ["cloudflare_access_cloudflare_account_id", "CLOUDFLARE_ACCOUNT_ID", "32 hexadecimal"]),
    ("cf-url-no-scheme", "Cloudflare API URL without a scheme", {}, {"CLOUDFLARE_API_URL": "api.cloudflare.com/client/v4"},
     ["cloudflare_access_cloudflare_api_url", "CLOUDFLARE_API_URL", "absolute"]),
    ("name-no-slug", "a name from which no slug can be made", {"cloudflare_access_name": "!!!"}, {},
     ["cloudflare_access_slug", "cloudflare_access_name", "not a valid"]),
    ("slug-invalid", "a slug with spaces", {"cloudflare_access_slug": "my app"}, {},
     ["cloudflare_access_slug", "not a valid"]),
    ("public-url-http", "an http:// public URL for Cloudflare", {"cloudflare_access_authentik_public_url": "http://auth.example.com"}, {},
     ["cloudflare_access_authentik_public_url", "AUTHENTIK_URL", "https://"]),
    ("secret-and-rotate", "a client secret and a rotation at once",
     {"cloudflare_access_client_secret": "S" * 40, "cloudflare_access_rotate_secret": True}, {},
     ["cloudflare_access_client_secret", "cloudflare_access_rotate_secret"]),
    ("test-user-no-password", "a test user without a password", {"cloudflare_access_test_username": "alice"}, {},
     ["cloudflare_access_test_username", "cloudflare_access_test_password"]),
    ("team-domain-bad", "a team domain with a space", {"cloudflare_access_team_domain": "my team"}, {},
     ["cloudflare_access_team_domain", "host name"]),
    ("state-bad", "cloudflare_access_state: presnt", {"cloudflare_access_state": "presnt"}, {},
     ["cloudflare_access_state", "present, absent"]),
    ("rotate-not-bool", "cloudflare_access_rotate_secret: maybe", {"cloudflare_access_rotate_secret": "maybe"}, {},
     ["cloudflare_access_rotate_secret", "bool"]),
]

# ---------------------------------------------------------------- module messages
# id, what is wrong (the task and arrangement live in test_bad_input.py), words the message must hold
MODULE_INPUT = [
    ("url-api-v3", "authentik URL given with /api/v3 (accepted: the prefix is removed)", []),
    ("url-html", "authentik URL that answers an HTML page", ["url", "not JSON", "Welcome to nginx"]),
    ("cf-challenge", "Cloudflare answers a challenge page", ["challenge", "api_url"]),
    ("ak-token-wrong-kind", "a Cloudflare token given to authentik", ["token", "AUTHENTIK_TOKEN"]),
    ("cf-token-wrong-kind", "an authentik token given to Cloudflare", ["api_token", "CLOUDFLARE_API_TOKEN"]),
    ("account-nowhere", "an account id that exists nowhere", ["account_id", "CLOUDFLARE_ACCOUNT_ID", "permission"]),
    ("zero-trust-off", "Zero Trust not enabled on the account", ["Zero Trust", "team name"]),
    ("flow-unknown", "unknown authorization flow", ["authorization", "no-such-flow"]),
    ("flow-wrong-kind", "an invalidation flow given as authorization flow", ["invalidation flow", "not an authorization"]),
    ("key-unknown", "unknown signing key", ["certificate-key pair", "no such key"]),
    ("key-no-private", "a signing key without a private key", ["no private key"]),
    ("group-unknown", "unknown group in a binding", ["group", "no-such-group"]),
    ("user-unknown", "unknown user in a binding", ["user", "no-such-user"]),
    ("policy-unknown", "unknown policy in a binding", ["policy", "no-such-policy"]),
    ("provider-unknown", "application bound to a provider that does not exist", ["provider", "no-such-provider"]),
    ("app-slug-bad", "application slug with spaces", ["slug"]),
    ("redirect-not-url", "a redirect URI that is not a URL", ["redirect_uris"]),
    ("redirect-bad-regex", "a redirect URI regex that does not compile", ["redirect_uris", "regular expression"]),
    ("cf-http-url", "http:// token URL for Cloudflare", ["token_url", "https://"]),
    ("cf-read-only", "a read_only login method", ["read_only"]),
    ("cf-duplicate", "two login methods with the name", ["login methods", "are named", "delete the extra ones"]),
    ("module-state-bad", "state: gone on a module", ["state", "present, absent"]),
]

# ---------------------------------------------------------------- role variables the lookups reveal
# id, what is wrong, role variables, words the message must hold (the option and the role variable)
ROLE_LOOKUPS = [
    ("role-flow-unknown", "cloudflare_access_authorization_flow: a slug no flow has",
     {"cloudflare_access_authorization_flow": "no-such-flow"},
     ["no-such-flow", "option authorization_flow", "In the role, set cloudflare_access_authorization_flow"]),
    ("role-invalidation-flow-unknown", "cloudflare_access_invalidation_flow: a slug no flow has",
     {"cloudflare_access_invalidation_flow": "no-such-flow"},
     ["option invalidation_flow", "In the role, set cloudflare_access_invalidation_flow"]),
    ("role-key-unknown", "cloudflare_access_signing_key: no such certificate-key pair",
     {"cloudflare_access_signing_key": "no such key"},
     ["no such key", "option signing_key", "In the role, set cloudflare_access_signing_key"]),
    ("role-key-no-private", "cloudflare_access_signing_key: a certificate without a private key",
     {"cloudflare_access_signing_key": "Imported CA certificate"},
     ["no private key", "option signing_key", "In the role, set cloudflare_access_signing_key"]),
    ("role-group-unknown", "cloudflare_access_bindings: a group that does not exist",
     {"cloudflare_access_bindings": [{"group": "no-such-group"}]},
     ["no-such-group", "option bindings, group", "In the role, set cloudflare_access_bindings"]),
    ("role-user-unknown", "cloudflare_access_bindings: a user that does not exist",
     {"cloudflare_access_bindings": [{"user": "no-such-user"}]},
     ["no-such-user", "option bindings, user", "In the role, set cloudflare_access_bindings"]),
    ("role-policy-unknown", "cloudflare_access_bindings: a policy that does not exist",
     {"cloudflare_access_bindings": [{"policy": "no-such-policy"}]},
     ["no-such-policy", "option bindings, policy", "In the role, set cloudflare_access_bindings"]),
]

# ---------------------------------------------------------------- faults
# id, what is injected (the fault specs live in test_faults.py)
FAULTS = [
    ("ak-lookup-429", "authentik lookup: 429, Retry-After 1 (seconds)"),
    ("ak-create-429-date", "authentik create: 429, Retry-After as an HTTP date"),
    ("ak-update-429", "authentik update: 429, Retry-After 1"),
    ("ak-delete-429", "authentik delete: 429, Retry-After 1"),
    ("cf-lookup-429", "Cloudflare lookup: 429, Retry-After 1"),
    ("cf-create-429-date", "Cloudflare create: 429, Retry-After as an HTTP date"),
    ("cf-update-429", "Cloudflare update: 429, Retry-After 1"),
    ("cf-delete-429", "Cloudflare delete: 429, Retry-After 1"),
    ("retry-after-too-long", "Cloudflare login method lookup: 429, Retry-After 3600 (beyond the budget)"),
    ("ak-read-500", "authentik reads: two 500s"),
    ("ak-read-502-504", "authentik reads: 502 then 504"),
    ("cf-read-503", "Cloudflare reads: three 503s"),
    ("ak-create-500", "authentik provider create: 500"),
    ("ak-create-502", "authentik application create: 502"),
    ("cf-create-504", "Cloudflare login method create: 504"),
    ("ak-create-503", "authentik provider create: 503 (not applied, retried)"),
    ("lost-provider", "provider POST applied, answer lost (connection dropped)"),
    ("lost-application", "application POST applied, answer lost"),
    ("lost-binding", "binding POST applied, answer lost"),
    ("lost-login-method", "login method POST applied, answer lost"),
    ("lost-update", "login method PUT applied, answer lost (rotation)"),
    ("slow-read", "authentik read slower than timeout (once)"),
    ("slow-create", "authentik create slower than timeout (applied after the client gave up)"),
    ("refused", "authentik connection refused"),
    ("tls-wrong-ca", "authentik TLS certificate from an unknown CA"),
    ("tls-expired", "authentik TLS certificate expired"),
]

# ---------------------------------------------------------------- kills and races
KILLS = [
    ("kill-after-organization", "SIGKILL once the organization read was answered", "GET", "cloudflare", r"/access/organizations$"),
    ("kill-after-provider", "SIGKILL once the provider was created", "POST", "authentik", r"/providers/oauth2/$"),
    ("kill-after-application", "SIGKILL once the application was created", "POST", "authentik", r"/core/applications/$"),
    ("kill-after-bindings", "SIGKILL once the binding was created", "POST", "authentik", r"/policies/bindings/$"),
    ("kill-after-secret-read", "SIGKILL at the login method lookup (the module reads authentik's secret only to send it)", "GET", "cloudflare",
     r"/access/identity_providers$"),
    ("kill-after-login-method", "SIGKILL once the login method was created", "POST", "cloudflare", r"/access/identity_providers$"),
]
RACES = [
    ("kill-rotation", "rotation killed after authentik took the new secret, before Cloudflare"),
    ("fail-rotation", "rotation failing at Cloudflare (400 on the login method update) after authentik took the new secret"),
    ("concurrent-authentik", "two runs at once, both past the provider lookup before either created it"),
    ("concurrent-cloudflare", "two runs at once, both past the login method lookup before either created it"),
]

# ---------------------------------------------------------------- protected applications
# id, what is wrong or injected (the arrangement lives in test_applications.py)
APPLICATIONS = [
    ("apps-typo", "cloudflare_access_aplications (misspelt) given after Grafana and Vault were protected"),
    ("apps-not-given", "cloudflare_access_applications not given after Grafana and Vault were protected"),
    ("apps-empty", "cloudflare_access_applications: [] after Grafana and Vault were protected"),
    ("apps-cut-guard", "a list cut from 5 entries to 1 (4 removals, more than the guard's default of 3)"),
    ("apps-429-storm", "50 applications, first run, the Cloudflare rate limit at 40 requests per 2 s (429 storms with Retry-After)"),
    ("apps-kill", "SIGKILL in the middle of a 50-application first run (the 21st application create performed, answer held)"),
]

SECRETS = [
    ("scan-verbose", "every module and the role at -vvvv, with --diff"),
    ("scan-check", "the role in check mode with --diff at -vvvv"),
    ("scan-failures", "forced module failures (bad token, server errors, lost answers) at -vvvv"),
    ("scan-runner", "ansible-runner's event stream of a role run"),
]

ALL = {}
for _group, _items in (("role-input", ROLE_INPUT), ("role-lookup", ROLE_LOOKUPS), ("module-input", MODULE_INPUT), ("fault", FAULTS),
                       ("kill", KILLS), ("kill", RACES), ("applications", APPLICATIONS), ("secrets", SECRETS)):
    for _item in _items:
        ALL[_item[0]] = _group
