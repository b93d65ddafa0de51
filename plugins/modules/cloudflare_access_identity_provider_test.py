#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cloudflare_access_identity_provider_test
short_description: Test a Cloudflare Access login method that signs in with authentik, without a browser
version_added: 0.1.0
description:
  - Does from the command line what the B(Test) button of a login method does in the Cloudflare Zero Trust dashboard,
    and says exactly which link of the chain is broken when it fails.
  - "Checks, in the order a sign-in needs them: the login method exists and is an OIDC one (C(login_method)); the
    authentik provider exists and is bound to an application (C(provider)); the URLs use HTTPS and their certificates
    verify (C(tls)); authentik's discovery document can be read (C(discovery)) and its C(authorization_endpoint),
    C(token_endpoint) and C(jwks_uri) equal the login method's C(auth_url), C(token_url) and C(certs_url)
    (C(endpoints)); the JWKS at C(certs_url) holds a signing key Cloudflare accepts, RS256 or ES256 (C(jwks));
    the provider's redirect URIs hold the team's callback C(https://<team domain>/cdn-cgi/access/callback) in strict
    mode (C(redirect_uri)); the client IDs match (C(client_id)); the client secret matches when given
    (C(client_secret)); the provider maps every scope the login method requests (C(scopes)); and the provider puts
    the claims into the ID token, where Cloudflare reads them (C(claims_in_id_token))."
  - "With O(test_username) and O(test_password), also signs in as that authentik user: the authorize URL with the
    callback as C(redirect_uri) (and PKCE when the login method uses it), authentik's login and authorization flows
    through its flow executor API, the redirect to Cloudflare (stopped there, the code taken) (C(sign_in)); the code
    redeemed at C(token_url) with the client ID and secret (C(token)); and the ID token checked: its signature
    against the JWKS (C(id_token_signature)), C(iss), C(aud), C(exp), C(iat) and C(nonce) (C(id_token_validity)),
    and the claim named by the login method's C(email_claim_name) plus every claim in its C(claims)
    (C(id_token_claims))."
  - Only reads. The sign-in is an ordinary login of the test user (authentik records it like any other); it sends no
    API write to either side.
  - Returns every check with its status and reason, and fails when a check fails, naming the first broken link.
author:
  - idpbridge maintainers (@idpbridge)
extends_documentation_fragment:
  - idpbridge.authentik_cloudflare._cloudflare
  - idpbridge.authentik_cloudflare._cloudflare.zone
  - idpbridge.authentik_cloudflare._cloudflare.actiongroup
  - idpbridge.authentik_cloudflare._authentik.from_cloudflare
  - idpbridge.authentik_cloudflare._attributes.info_module
  - idpbridge.authentik_cloudflare._attributes
attributes:
  diff_mode:
    support: none
    details: A test has no before and after.
options:
  name:
    description:
      - The name of the login method to test. Give this or O(identity_provider_id).
    type: str
  identity_provider_id:
    description:
      - The id (a UUID) of the login method to test. Give this or O(name).
    type: str
  identity_provider:
    description:
      - The login method as M(idpbridge.authentik_cloudflare.cloudflare_access_identity_provider) returned it moments
        earlier in the same play (its C(identity_provider) result, which holds no secret). When its C(id) equals
        O(identity_provider_id), the test uses it instead of reading the login method from Cloudflare again (one
        request less); otherwise it is ignored.
    type: dict
  provider:
    description:
      - The name of the authentik OAuth2/OpenID provider behind the login method.
      - When not set, the provider is the one whose client ID the login method uses; then a wrong client ID shows as
        a missing provider.
    type: str
  # the rest of the authentik options: the fragment _authentik.from_cloudflare
  authentik_url:
    required: true
  authentik_token:
    required: true
  authentik_public_url:
    description:
      - The base URL Cloudflare and browsers reach authentik at, where the discovery document is read. Defaults to
        O(authentik_url).
    type: str
  team_domain:
    description:
      - The team domain (V(myteam.cloudflareaccess.com)). When not set, it comes from the login method's
        C(redirect_url) or the Zero Trust organization.
    type: str
  client_secret:
    description:
      - The client secret the login method holds. Cloudflare never returns it, so give the one that was set there
        (the same vaulted variable).
      - When given, it is compared with the provider's secret (C(client_secret) check) and used at the token endpoint.
        When not given, the sign-in uses the provider's own secret, read from authentik, and a secret that differs
        on Cloudflare's side goes unnoticed.
    type: str
  client_secret_from_provider:
    description:
      - Set V(true) when the login method was given the provider's own client secret, as
        M(idpbridge.authentik_cloudflare.cloudflare_access_identity_provider) does with its O(client_secret_from_provider)
        option. The C(client_secret) check then passes for a confidential provider without a secret given here (there
        is nothing else to compare, as Cloudflare never returns the secret).
      - Ignored when O(client_secret) is given.
    type: bool
    default: false
  test_username:
    description:
      - An authentik user (username or e-mail address) to sign in as. Without it, the sign-in checks are skipped.
      - Use a user without MFA devices who is allowed to use the application.
    type: str
  test_password:
    description:
      - The password of O(test_username).
    type: str
  require_tls:
    description:
      - Whether plain C(http://) URLs fail the C(tls) check. Set V(false) only for test servers; the check is then
        reported as skipped for such URLs.
    type: bool
    default: true
  applications:
    description:
      - Access applications (names or domains) to evaluate for the signed-in test user, the way Access evaluates their
        policies (include, exclude, require, in order); each gets a verdict in RV(applications). Needs
        O(test_username). Reads only.
    type: list
    elements: str
  expect_allowed:
    description:
      - Applications (names or domains) the test user must be allowed into; the module fails otherwise. They are
        evaluated as if listed in O(applications).
    type: list
    elements: str
  expect_denied:
    description:
      - Applications (names or domains) the test user must be kept out of; the module fails otherwise.
    type: list
    elements: str
  scim_provider:
    description:
      - The name of the authentik SCIM provider that pushes to this login method. When given, the C(scim) check
        compares the users authentik would provision (the users bound to the provider's application and the members
        of its bound groups, or everyone without bindings; inactive ones as inactive) and the groups it pushes with
        Cloudflare's lists of the login method's SCIM users and groups, and names the missing, extra and wrongly
        (in)active ones. Without it the check is not run (and not listed in RV(checks)).
    type: str
notes:
  - O(authentik_token) must be allowed to read the provider and its scope mappings. O(authentik_validate_certs) and
    O(authentik_ca_path) apply to the authentik API and to the OIDC endpoints alike; with
    O(authentik_validate_certs=false) the C(tls) check fails, since Cloudflare will verify the certificate.
  - The login method's C(client_secret) cannot be read from Cloudflare; see O(client_secret).
  - The client authenticates at the token endpoint with HTTP Basic (C(client_secret_basic)).
  - Dashboard test link (RV(test_url)) - C(https://<team domain>/cdn-cgi/access/test-idp/<id>) - is not documented by
    Cloudflare; it is how the dashboard opens the test.
  - Needs the Python library C(cryptography) on the host that runs the module (ansible-core depends on it) to check
    token signatures.
seealso:
  - module: idpbridge.authentik_cloudflare.cloudflare_access_identity_provider
  - module: idpbridge.authentik_cloudflare.authentik_provider_oauth2
requirements:
  - requests
  - cryptography
"""

EXAMPLES = r"""
- name: Check the configuration of the login method (connections from the environment)
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_test:
    name: authentik
    provider: Cloudflare Access
  register: login_test

- name: Show the dashboard's test link
  ansible.builtin.debug:
    msg: "All {{ login_test.checks | length }} checks passed; click {{ login_test.test_url }} to try it in a browser"

- name: Sign in as a test user too, and keep going on failure to print the report
  idpbridge.authentik_cloudflare.cloudflare_access_identity_provider_test:
    name: authentik
    provider: Cloudflare Access
    client_secret: "{{ vault_cloudflare_access_client_secret }}"
    test_username: access-tester
    test_password: "{{ vault_access_tester_password }}"
  register: login_test
  ignore_errors: true

- name: Print each check
  ansible.builtin.debug:
    msg: "{{ login_test.checks | map(attribute='name') | zip(login_test.checks | map(attribute='status')) | list }}"
"""

RETURN = r"""
passed:
  description: Whether every check passed (skipped checks do not count).
  returned: always
  type: bool
  sample: true
checks:
  description: Every check in chain order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: >-
        The check: V(login_method), V(provider), V(tls), V(discovery), V(endpoints), V(jwks), V(redirect_uri),
        V(client_id), V(client_secret), V(scopes), V(claims_in_id_token), V(sign_in), V(token),
        V(id_token_signature), V(id_token_validity), V(id_token_claims).
      type: str
    status:
      description: V(passed), V(failed) or V(skipped).
      type: str
    reason:
      description: What was found, or why it was skipped.
      type: str
  sample:
    - name: endpoints
      status: failed
      reason: "token_url is https://auth.example.com/application/o/token, the discovery document says
        https://auth.example.com/application/o/token/"
failed_checks:
  description: The names of the failed checks, in chain order.
  returned: always
  type: list
  elements: str
  sample: [endpoints, sign_in]
first_failure:
  description: The first broken link (C(name) and C(reason)); empty when every check passed.
  returned: always
  type: dict
  sample: {name: endpoints, reason: "token_url is ..."}
test_url:
  description: The dashboard's test link of the login method.
  returned: when the login method and the team domain are known
  type: str
  sample: https://myteam.cloudflareaccess.com/cdn-cgi/access/test-idp/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b
callback_url:
  description: The team's callback, which must be a strict redirect URI of the provider.
  returned: when the team domain is known
  type: str
  sample: https://myteam.cloudflareaccess.com/cdn-cgi/access/callback
identity_provider_id:
  description: The id of the login method tested.
  returned: when the login method exists
  type: str
client_id:
  description: The client ID of the login method.
  returned: when the login method exists
  type: str
application_slug:
  description: The slug of the authentik application the provider is bound to.
  returned: when known
  type: str
discovery_url:
  description: Where the discovery document was read.
  returned: when the application slug is known
  type: str
  sample: https://auth.example.com/application/o/cloudflare-access/.well-known/openid-configuration
issuer:
  description: The issuer the discovery document names.
  returned: when the discovery document was read
  type: str
id_token_claims:
  description: The claims of the test user's ID token (never the token itself).
  returned: when the sign-in got an ID token
  type: dict
  sample: {email: access-tester@example.org, preferred_username: access-tester, groups: [staff]}
sign_in_trace:
  description: The requests of the sign-in, as C(METHOD path -> status), without query strings.
  returned: when a sign-in was tried
  type: list
  elements: str
applications:
  description:
    - Who gets in, per application named in O(applications), O(expect_allowed) or O(expect_denied), for the test user.
    - Each has C(application), C(domain), C(url), C(verdict) (V(allowed), V(denied) or V(unknown) when a rule cannot be
      decided from the ID token, such as an IP range), C(policy) (the deciding policy), C(reason) and C(sentence)
      (C(allowed (...)) or C(denied, because ...)).
  returned: when applications are named and the sign-in got an ID token
  type: list
  elements: dict
  sample:
    - {application: Grafana, domain: grafana.example.com, verdict: denied, policy: null,
       sentence: "denied, because no policy lets the user in: policy 'Grafana': no include rule matched: groups claim
       is 'sre' (the groups claim is ['staff'])"}
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._authentik import (
    AuthentikClient,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access import AccessClient
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._access_verdicts import (
    verdict_argument_spec,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._cloudflare import (
    SAFE_ID,
    cloudflare_argument_spec,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._http import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, Redactor, validate_base_url,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._jose import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
)
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._signin import OidcHttp
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._verify import run_test


def main():
    spec = cloudflare_argument_spec(zone=True)
    spec.update(
        name=dict(type="str"),
        identity_provider_id=dict(type="str"),
        identity_provider=dict(type="dict"),
        provider=dict(type="str"),
        authentik_url=dict(type="str", required=True, fallback=(env_fallback, ["AUTHENTIK_URL"])),
        authentik_token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["AUTHENTIK_TOKEN"])),
        authentik_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["AUTHENTIK_VALIDATE_CERTS"])),
        authentik_ca_path=dict(type="path", fallback=(env_fallback, ["AUTHENTIK_CA_PATH"])),
        authentik_public_url=dict(type="str"),
        team_domain=dict(type="str"),
        client_secret=dict(type="str", no_log=True),
        client_secret_from_provider=dict(type="bool", default=False),
        test_username=dict(type="str"),
        test_password=dict(type="str", no_log=True),
        require_tls=dict(type="bool", default=True),
        scim_provider=dict(type="str"),
    )
    spec.update(verdict_argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_one_of=[("name", "identity_provider_id")],
                           mutually_exclusive=[("name", "identity_provider_id")],
                           required_together=[("test_username", "test_password")])
    p = module.params
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if p.get("identity_provider_id") is not None and not SAFE_ID.match(p["identity_provider_id"]):
        module.fail_json(msg="identity_provider_id must be a login method id (a UUID), got %r" % p["identity_provider_id"])
    if p.get("authentik_public_url"):
        try:
            validate_base_url(p["authentik_public_url"], "authentik_public_url")
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    cloudflare = AccessClient.from_module(module)
    authentik = AuthentikClient.from_module(module, prefix="authentik_")
    redact = Redactor()
    for value in (p.get("client_secret"), p.get("test_password"), p.get("authentik_token")):
        redact.add(value)
    verify = (p["authentik_ca_path"] or True) if p["authentik_validate_certs"] else False
    http = OidcHttp(timeout=p["timeout"], verify=verify)
    failed, result = run_test(p, cloudflare, authentik, http, redact)
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
