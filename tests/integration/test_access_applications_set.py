"""cloudflare_access_applications: the protected applications of one login method as one set, through real
ansible-playbook runs against the test servers, counting what the Cloudflare test server saw."""

from __future__ import annotations

from cf_helpers import FQCN, arrange, task, writes

SET = FQCN + "cloudflare_access_applications"
TAG_PREFIX = "idpbridge-"


def apps_task(title, applications, login_method="authentik", register="res", ignore_errors=False, **args):
    base = {"login_method": login_method, "applications": applications}
    base.update(args)
    return task(title, base, module=SET, register=register, ignore_errors=ignore_errors)


def entries(count, prefix="app"):
    return [{"name": "%s%02d" % (prefix, n), "domain": "%s%02d.example.com" % (prefix, n),
             "allow_groups": ["engineering"]} for n in range(count)]


def stored_apps(api):
    return api.cloudflare.state()["access_apps"]["accounts/%s" % api.info["account_id"]]


def stored_policies(api):
    return api.cloudflare.state()["access_policies"]


def acc(api, path):
    return "/accounts/%s/access/%s" % (api.info["account_id"], path)


def cf_reads(api):
    return [r for r in api.cloudflare.requests() if r["method"] == "GET"]


def test_first_run_converged_run_check_mode(api, play):
    idp = arrange(api, "authentik")
    api.cloudflare.clear_log()
    wanted = entries(5)

    first = play([apps_task("Protect", wanted)])
    assert first.rc == 0, first.output
    made = writes(api)
    # one tag for the login method, then exactly two writes per new application
    assert [m for m, p in made if p.endswith("/access/tags")] == ["POST"]
    assert len(made) == 1 + 2 * len(wanted)
    res = first.task("Protect")
    assert [a["action"] for a in res["applications"]] == ["created"] * 5
    apps = stored_apps(api)
    assert len(apps) == 5 and all(a["tags"] == [TAG_PREFIX + idp] for a in apps)
    assert all(a["allowed_idps"] == [idp] for a in apps)
    assert len(stored_policies(api)) == 5

    api.cloudflare.clear_log()
    again = play([apps_task("Protect", wanted)])
    assert again.rc == 0, again.output
    assert again.changed == 0
    assert writes(api) == []
    converged_reads = len(cf_reads(api))
    assert converged_reads == 3  # login methods, applications, policies: one page each

    api.cloudflare.clear_log()
    checked = play([apps_task("Protect", wanted)], check=True, diff=True)
    assert checked.rc == 0, checked.output
    assert writes(api) == []
    assert len(cf_reads(api)) == converged_reads
