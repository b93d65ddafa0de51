"""What a newcomer sees in the role's and playbooks' output: check mode before anything exists, the demo's
"Who gets in", one verdict per application, and the remove playbook's labels and summary."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ROLE = "idpbridge.authentik_cloudflare.cloudflare_access"
APPS = [
    {"name": "Grafana", "domain": "grafana.example.com", "allow_groups": ["engineering"]},
    {"name": "Vault", "domain": "vault.example.com", "allow_groups": ["contractors"]},
]


def test_check_mode_before_anything_exists_says_not_known_until_created(api, play):
    api.authentik.clear_log()
    api.cloudflare.clear_log()
    checked = play(playbook=REPO / "playbooks" / "cloudflare_access.yml", vars={"cloudflare_access_name": "First Hour"},
                   check=True)
    assert checked.rc == 0, checked.output
    lines = [r["result"]["msg"] for r in checked.results if r["task"].endswith("Summary")]
    role_lines, playbook_lines = lines[0], lines[-1]
    assert "authentik application first-hour: client ID not known until created (check mode)" in role_lines
    assert "Cloudflare login method authentik (First Hour): not known until created (check mode)" in role_lines
    assert "Test it: not known until created (check mode)" in role_lines
    assert "Test it: not known until created (check mode)" in playbook_lines
    assert "(client ID not known until created (check mode))" in playbook_lines[0]
    assert "/None" not in checked.stdout and "client ID \"" not in checked.stdout
    assert api.authentik.writes() == [] and api.cloudflare.writes() == []


def test_demo_with_no_application_says_so(play, servers):
    user = servers.authentik.app
    demo = play(playbook=REPO / "playbooks" / "demo.yml", vars={"demo_name": "First Hour Demo"},
                env={"IDPB_DEMO_TEST_USERNAME": user.test_username, "IDPB_DEMO_TEST_PASSWORD": user.test_password})
    assert demo.rc == 0, demo.output
    assert "Who gets in: no application to evaluate (cloudflare_access_applications lists none)" in demo.stdout
    assert "give cloudflare_access_test_username" not in demo.stdout


def test_an_application_named_by_domain_in_expect_denied_is_listed_once_then_removed_by_name(api, play, servers):
    user = servers.authentik.app
    role_vars = {"cloudflare_access_name": "First Hour Apps", "cloudflare_access_applications": APPS,
                 "cloudflare_access_test_username": user.test_username, "cloudflare_access_test_password": user.test_password,
                 "cloudflare_access_expect_allowed": ["Grafana"], "cloudflare_access_expect_denied": ["vault.example.com"]}
    made = play([{"name": "Run the role", "ansible.builtin.include_role": {"name": ROLE}, "vars": role_vars}])
    assert made.rc == 0, made.output
    verdicts = made.task("Test the login method")["applications"]
    assert [v["application"] for v in verdicts] == ["Grafana", "Vault"]
    (who,) = [line for line in made.task("Summary")["msg"] if line.startswith("Who gets in:")]
    assert who.count("Vault:") == 1 and who.count("Grafana:") == 1, who

    removed = play(playbook=REPO / "playbooks" / "remove.yml", vars={"cloudflare_access_name": "First Hour Apps"})
    assert removed.rc == 0, removed.output
    gone = removed.task("Protect the listed applications")["removed"]
    assert sorted(entry["name"] for entry in gone) == ["Grafana", "Vault"], gone
    summary = removed.task("Summary")["msg"]
    assert summary == [
        "Cloudflare Access login method 'authentik (First Hour Apps)': removed",
        "authentik application first-hour-apps: removed",
        "authentik OAuth2/OpenID provider 'First Hour Apps': removed",
        "Access applications the role made (each with its policy): Grafana, Vault removed",
    ]
    again = play(playbook=REPO / "playbooks" / "remove.yml", vars={"cloudflare_access_name": "First Hour Apps"})
    assert again.rc == 0 and again.changed == 0, again.output
    assert again.task("Summary")["msg"][0] == "Cloudflare Access login method 'authentik (First Hour Apps)': not there, nothing to remove"


def test_readme_protect_example_runs_on_the_test_servers_with_their_values(api, play, tmp_path):
    """The README's protect.yml, taken from the README as it stands, with tests/servers/protect-vars.yml."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n# protect.yml\n(.*?)```", readme, re.S).group(1)
    book = tmp_path / "protect.yml"
    book.write_text(block, encoding="utf-8")
    values = yaml.safe_load((REPO / "tests" / "servers" / "protect-vars.yml").read_text(encoding="utf-8"))
    first = play(playbook=book, vars=values)
    assert first.rc == 0, first.output
    lines = first.task("Summary")["msg"]
    assert any(line.startswith("Who gets in: Grafana: allowed") and "Vault: denied" in line for line in lines), lines
    api.cloudflare.clear_log()
    api.authentik.clear_log()
    again = play(playbook=book, vars=values)
    assert again.rc == 0 and again.changed == 0, again.output
    assert api.cloudflare.writes() == []
    # the test user's sign-in posts to authentik's flow executor; nothing else is written
    assert [w for w in api.authentik.writes() if "/flows/executor/" not in w["path"] and "/application/o/" not in w["path"]] == []
