"""Offboarding and access reviews through real ansible-playbook runs: people sign in to Access with ID tokens from
authentik (headless sign-in), leave authentik or their group, and the next role run ends their sessions and only
theirs; the review in .json, .md and .csv shows the rows and flags. Counted at both test servers."""

from __future__ import annotations

import csv
import json
import re
import sys

import requests

from tests.integration.conftest import COLLECTIONS_ROOT

if str(COLLECTIONS_ROOT) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_ROOT))

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._signin import (  # noqa: E402
    HeadlessSignIn,
    OidcHttp,
)

ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"
NS = "idpbridge.authentik_cloudflare."
NAME = "CF Leavers"
GRAFANA = {"name": "Grafana", "domain": "grafana.example.com", "allow_groups": ["engineering"]}
PEOPLE = ("amy", "ben", "cara")
PASSWORD = "pw-Offboarding-7Lq2"


def role(**role_vars):
    base = {"cloudflare_access_name": NAME, "cloudflare_access_applications": [GRAFANA],
            "cloudflare_access_verify": False}
    base.update(role_vars)
    return {"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE}, "vars": base}


def login_method(api, name="authentik (%s)" % NAME):
    (idp,) = [i for i in api.cloudflare.state()["identity_providers"]["accounts/%s" % api.info["account_id"]]
              if i["name"] == name]
    return idp


def cf_writes(api):
    return [(r["method"], r["path"].split("/access/")[-1]) for r in api.cloudflare.writes()]


def revoked_emails(api):
    return sorted(r["email"] for r in api.cloudflare.state()["access_revocations"])


def live_sessions(api):
    """E-mail -> number of live sessions the Cloudflare test server holds."""
    users = dict((u["id"], u["email"]) for u in api.cloudflare.state()["access_users"])
    out = {}
    for session in api.cloudflare.state()["access_sessions"]:
        if session["live"]:
            out[users[session["user_id"]]] = out.get(users[session["user_id"]], 0) + 1
    return out


def add_people(servers):
    app = servers.authentik.app
    with app.lock:
        return dict((name, app.add_user(name, name.title(), "%s@example.org" % name, groups=["engineering"],
                                        password=PASSWORD)) for name in PEOPLE)


def sign_in(api, servers, username, domain="grafana.example.com"):
    """A headless sign-in at authentik for the role's login method, then Access's sign-in with the ID token."""
    config = login_method(api)["config"]
    app = servers.authentik.app
    with app.lock:
        (provider,) = [p for p in app.providers.values() if p.get("client_id") == config["client_id"]]
        secret = app.provider_secret(provider)
        callback = provider["redirect_uris"][0]["url"]
    flow = HeadlessSignIn(OidcHttp(timeout=10), config["auth_url"], config["client_id"], callback,
                          ["openid", "email", "profile"], username, PASSWORD)
    code, _flows = flow.run()
    token = requests.post(config["token_url"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback, "client_id": config["client_id"],
        "client_secret": secret, "code_verifier": flow.verifier}, timeout=10)
    assert token.status_code == 200, token.text
    answer = api.cloudflare.control("POST", "access/signin",
                                    {"id_token": token.json()["id_token"], "app_domain": domain})
    assert answer["allowed"], answer
    return answer


def other_login_method_person(api):
    """dave signs in through another login method (a one-time PIN): not in authentik at all."""
    (other,) = [i for i in api.cloudflare.state()["identity_providers"]["accounts/%s" % api.info["account_id"]]
                if i["type"] == "onetimepin"]
    api.cloudflare.control("POST", "access/sessions", {"people": [
        {"email": "dave@example.org", "idp_id": other["id"], "apps": ["grafana.example.com"]}]})
    return other


def arrange(api, play, servers):
    """The role made the login method and Grafana; amy, ben and cara signed in; dave through another method."""
    users = add_people(servers)
    first = play([role()])
    assert first.rc == 0, first.output
    for name in PEOPLE:
        sign_in(api, servers, name)
    other_login_method_person(api)
    assert live_sessions(api) == {"amy@example.org": 1, "ben@example.org": 1, "cara@example.org": 1,
                                  "dave@example.org": 1}
    # ben leaves the company (deactivated), cara leaves the team (removed from engineering)
    resp = api.authentik.call("PATCH", "/core/users/%d/" % users["ben"]["pk"], json={"is_active": False})
    assert resp.status_code == 200, resp.text
    groups = api.authentik.call("GET", "/core/groups/", params={"name": "engineering"}).json()["results"]
    resp = api.authentik.call("POST", "/core/groups/%s/remove_user/" % groups[0]["pk"], json={"pk": users["cara"]["pk"]})
    assert resp.status_code == 204, resp.text
    return users


def test_leavers_lose_their_sessions_and_only_they(api, play, servers):
    arrange(api, play, servers)

    # Check mode names ben and cara, and writes nothing.
    api.cloudflare.clear_log()
    api.authentik.clear_log()
    checked = play([role()], check=True)
    assert checked.rc == 0, checked.output
    would = checked.task("End the Access sessions of people authentik no longer admits")
    assert would["changed"] is True
    assert sorted((r["email"], r["reason"]) for r in would["revoked"]) == [
        ("ben@example.org", "inactive"), ("cara@example.org", "not_allowed")]
    assert would["msg"].startswith("Would revoke the Access sessions of 2 people")
    assert api.cloudflare.writes() == [] and api.authentik.writes() == []
    assert revoked_emails(api) == [] and len(live_sessions(api)) == 4

    # The real run revokes ben and cara, nobody else; the summary says who and why.
    api.cloudflare.clear_log()
    api.authentik.clear_log()
    run = play([role()])
    assert run.rc == 0, run.output
    assert cf_writes(api) == [("POST", "organizations/revoke_user")] * 2
    assert sorted(w["body"]["email"] for w in api.cloudflare.writes()) == ["ben@example.org", "cara@example.org"]
    assert api.authentik.writes() == []
    assert revoked_emails(api) == ["ben@example.org", "cara@example.org"]
    assert live_sessions(api) == {"amy@example.org": 1, "dave@example.org": 1}   # dave: another login method
    done = run.task("End the Access sessions of people authentik no longer admits")
    cara = [r for r in done["revoked"] if r["email"] == "cara@example.org"][0]
    assert cara["applications"] == ["Grafana"] and "Grafana no longer lets cara in" in cara["why"]
    assert "the authentik account ben is deactivated" in run.stdout
    assert "cara@example.org" in run.stdout
    # Sessions and identities were read for the candidates only: ben, cara, and dave (no authentik user has his
    # e-mail; his last seen identity shows another login method), never for amy, who is still admitted.
    users = dict((u["id"], u["email"]) for u in api.cloudflare.state()["access_users"])
    per_person = sorted(users[r["path"].split("/access/users/")[1].split("/")[0]] for r in api.cloudflare.requests()
                        if r["method"] == "GET" and ("/active_sessions" in r["path"] or "/last_seen_identity" in r["path"]))
    assert per_person == ["ben@example.org"] * 2 + ["cara@example.org"] * 2 + ["dave@example.org"] * 2

    # The run after writes nothing and changes nothing.
    api.cloudflare.clear_log()
    api.authentik.clear_log()
    again = play([role()])
    assert again.rc == 0, again.output
    assert api.cloudflare.writes() == [] and api.authentik.writes() == []
    assert again.changed == 0
    assert again.task("End the Access sessions of people authentik no longer admits")["revoked"] == []

    # Switched off: not even read.
    api.cloudflare.clear_log()
    off = play([role(cloudflare_access_revoke_leavers=False)])
    assert off.rc == 0, off.output
    assert not [r for r in api.cloudflare.requests() if "/access/users" in r["path"]]


def test_seats_are_removed_when_asked(api, play, servers):
    arrange(api, play, servers)
    api.cloudflare.clear_log()
    run = play([role(cloudflare_access_remove_leaver_seats=True)])
    assert run.rc == 0, run.output
    assert sorted(cf_writes(api)) == [("PATCH", "seats")] * 2 + [("POST", "organizations/revoke_user")] * 2
    seats = dict((u["email"], u["access_seat"]) for u in api.cloudflare.state()["access_users"])
    assert seats == {"amy@example.org": True, "ben@example.org": False, "cara@example.org": False,
                     "dave@example.org": True}


def review_task(dest, **extra):
    args = {"login_method": "authentik (%s)" % NAME, "dest": str(dest)}
    args.update(extra)
    return {"name": "Review", NS + "cloudflare_access_review": args, "register": "review"}


def test_review_in_three_formats(api, play, servers, tmp_path):
    users = arrange(api, play, servers)
    # erin may enter but never signed in; frank (not in engineering) tried and was blocked
    app = servers.authentik.app
    with app.lock:
        app.add_user("erin", "Erin", "erin@example.org", groups=["engineering"], password=PASSWORD)
        app.add_user("frank", "Frank", "frank@example.org", groups=[], password=PASSWORD)
    api.cloudflare.control("POST", "access/sessions", {"people": [
        {"email": "frank@example.org", "idp_id": login_method(api)["id"], "blocked_apps": ["grafana.example.com"],
         "seat": False}]})

    # The role run that revokes ben and cara writes the JSON review, flagging them revoked_this_run.
    api.cloudflare.clear_log()
    api.authentik.clear_log()
    dest = tmp_path / "review.json"
    run = play([role(cloudflare_access_review_dest=str(dest))])
    assert run.rc == 0, run.output
    assert cf_writes(api) == [("POST", "organizations/revoke_user")] * 2     # the review writes nothing
    data = json.loads(dest.read_text())
    assert data["schema_version"] == 1 and data["since_days"] == 30
    assert [a["name"] for a in data["applications"]] == ["Grafana"]
    rows = dict((r["email"], r) for r in data["rows"])
    assert rows["amy@example.org"]["may_enter"] == "allowed" and rows["amy@example.org"]["flags"] == []
    assert rows["amy@example.org"]["allowed_sign_ins"] == 1 and rows["amy@example.org"]["seat"] is True
    # amy is admitted wherever she signed in: her session is not read (it does not matter for a flag)
    assert rows["amy@example.org"]["active_session"] is None and rows["amy@example.org"]["last_seen_login_method"] is None
    assert rows["ben@example.org"]["flags"] == ["leaver_with_session", "revoked_this_run", "signed_in_not_allowed"]
    assert "deactivated" in rows["ben@example.org"]["why_not"]
    assert rows["cara@example.org"]["flags"] == ["leaver_with_session", "revoked_this_run", "signed_in_not_allowed"]
    assert "engineering" in rows["cara@example.org"]["why_not"]
    assert rows["erin@example.org"]["flags"] == ["granted_unused"] and rows["erin@example.org"]["access_user"] is None
    assert rows["frank@example.org"]["may_enter"] == "denied" and rows["frank@example.org"]["flags"] == ["blocked_attempts"]
    assert rows["frank@example.org"]["blocked_sign_ins"] == 1
    assert "dave@example.org" not in rows                                     # another login method's person
    assert "Access review: Reviewed" in run.stdout
    assert oct(dest.stat().st_mode & 0o777) == "0o600"

    # The module alone: Markdown and CSV.
    md, table = tmp_path / "review.md", tmp_path / "review.csv"
    api.cloudflare.clear_log()
    both = play([review_task(md), review_task(table, all_sessions=True)])
    assert both.rc == 0, both.output
    assert api.cloudflare.writes() == [] and api.authentik.writes() == []
    text = md.read_text()
    assert text.startswith("# Access review: authentik (%s)" % NAME)
    assert "| amy | amy@example.org | yes | Grafana | allowed |" in text
    assert re.search(r"^\| granted_unused \| [1-9][0-9]* \|$", text, re.M)
    assert "| erin | erin@example.org | yes | Grafana | allowed |" in text
    assert re.search(r"^\| idpbridge-tester-nomail \|  \| yes \| Grafana \| denied \| no e-mail address", text, re.M)
    parsed = list(csv.DictReader(table.open()))
    by_email = dict((r["email"], r) for r in parsed)
    assert by_email["cara@example.org"]["may_enter"] == "denied"
    assert by_email["cara@example.org"]["flags"] == "signed_in_not_allowed"   # this run revoked nobody
    assert by_email["erin@example.org"]["flags"] == "granted_unused"
    # all_sessions: amy's session and login method are read too
    assert by_email["amy@example.org"]["active_session"] == "yes"
    assert by_email["amy@example.org"]["last_seen_login_method"] == "authentik (%s)" % NAME

    # Nothing new: the files stay as they are (changed=0), in check mode too.
    before = (md.read_text(), table.read_text())
    same = play([review_task(md), review_task(table, all_sessions=True)])
    assert same.rc == 0 and same.changed == 0, same.output
    assert (md.read_text(), table.read_text()) == before
    checked = play([review_task(tmp_path / "new.csv")], check=True)
    assert checked.rc == 0 and checked.changed == 1, checked.output
    assert not (tmp_path / "new.csv").exists()
    directory = api.authentik.call("GET", "/core/users/", params={"page_size": 100}).json()["results"]
    assert checked.task("Review")["review"]["people"] == len(directory)  # one per authentik user (no e-mail shared)
    assert set(users) <= set(u["username"] for u in directory)


def test_review_refuses_an_unknown_format(api, play, tmp_path):
    bad = play([review_task(tmp_path / "review.txt")])
    assert bad.rc != 0
    assert "dest must end in .json, .md or .csv" in bad.task("Review")["msg"]


def test_a_missing_permission_is_named(api, play, servers):
    play([role()])
    limited = "cf-no-audit-logs-token-0123456789"
    api.cloudflare.control("POST", "config", {"tokens": [{"token": limited, "permissions": [
        "Access: Organizations, Identity Providers, and Groups Read", "Access: Apps and Policies Read"]}]})
    task = {"name": "Leavers", NS + "cloudflare_access_leavers": {
        "login_method": "authentik (%s)" % NAME, "api_token": limited}}
    run = play([task])
    assert run.rc != 0
    msg = run.task("Leavers")["msg"]
    assert "403" in msg and "'Access: Audit Logs Read'" in msg and "My Profile > API Tokens" in msg, msg
    assert limited not in run.output
