"""The execution environment: the collection's own EE metadata, and ``ansible-builder create`` on
execution-environment.yml, with the galaxy step of the generated build replayed outside a container.

No container engine is used: ``ansible-builder create`` only writes the build context, and the
galaxy step (``ansible-galaxy collection install -r requirements.yml`` in ``_build``) runs as is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
FQCN = "%s.%s" % (GALAXY["namespace"], GALAXY["name"])
TARBALL = "%s-%s-%s.tar.gz" % (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])


def tool(name: str) -> str:
    # the venv's own command only: one found on PATH may belong to another Python (a pyenv shim that answers
    # "command not found" for this one), and the EE checks run where tests/lib.sh installs their tools
    found = BIN / name
    if not found.exists():
        pytest.skip("%s is not installed in this venv (tests/lib.sh installs it in the newest-core venv)" % name)
    return str(found)


def run(cmd: list, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=str(cwd) if cwd else None, capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", **(env or {})))
    assert proc.returncode == 0, "%s failed (%d):\n%s\n%s" % (" ".join(cmd), proc.returncode, proc.stdout, proc.stderr)
    return proc


def requirement_names(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower())
    return names


# ---------------------------------------------------------------- static checks (no tools needed)

def test_collection_declares_its_ee_dependencies():
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    assert meta["version"] == 1
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    python = requirement_names((REPO / "requirements.txt").read_text())
    assert "requests" in python
    assert "ansible-core" not in python and "ansible" not in python, "the EE brings ansible-core; the collection must not pin it"
    bindep = [ln for ln in (REPO / "bindep.txt").read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert bindep == [], "no system package is needed; bindep.txt should hold comments only"


def test_ee_definition_installs_this_version_of_the_collection():
    ee = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert ee["version"] == 3
    base = ee["images"]["base_image"]["name"]
    assert re.match(r"^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+$", base), base
    first = base.split("/")[0]
    has_host = "/" in base and ("." in first or ":" in first or first == "localhost")
    assert not has_host, "no registry host in the base image name (override it with --build-arg EE_BASE_IMAGE): %s" % base
    deps = ee["dependencies"]
    assert deps["python"] == "requirements.txt" and deps["system"] == "bindep.txt"
    assert deps["ansible_core"]["package_pip"].startswith("ansible-core")
    assert deps["ansible_runner"]["package_pip"].startswith("ansible-runner")
    (wanted,) = deps["galaxy"]["collections"]
    assert wanted == {"name": "collections/" + TARBALL, "type": "file"}, \
        "execution-environment.yml must install %s (galaxy.yml version %s)" % (TARBALL, GALAXY["version"])
    sources = [entry["src"] for entry in ee["additional_build_files"] if entry["dest"] == "collections"]
    assert sources == ["dist/" + TARBALL]


# ---------------------------------------------------------------- ansible-builder create

@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """execution-environment.yml with its files in a scratch directory, the collection built into its
    dist/, and ``ansible-builder create`` run on it. Returns the context directory."""
    builder = tool("ansible-builder")
    work = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy2(REPO / name, work / name)
    run([tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(work / "dist"), str(REPO)])
    assert (work / "dist" / TARBALL).exists(), sorted(p.name for p in (work / "dist").iterdir())
    run([builder, "create", "-f", str(work / "execution-environment.yml"), "-c", str(work / "context"),
         "--output-filename", "Containerfile"])
    return work / "context"


def test_containerfile_installs_the_collection_and_its_python_requirements(context):
    text = (context / "Containerfile").read_text()
    ee = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert 'ARG EE_BASE_IMAGE="%s"' % ee["images"]["base_image"]["name"] in text
    assert "FROM $EE_BASE_IMAGE" in text
    # the galaxy stage installs the requirements that name our tarball
    assert re.search(r"ansible-galaxy collection install .*-r requirements\.yml", text)
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": "collections/" + TARBALL, "type": "file"}]
    # the final stage checks the installed collection by name and imports its Python requirement
    assert "ansible-galaxy collection verify --offline %s" % FQCN in text
    assert 'import requests' in text
    # the Python requirements: copied into the context and handed to ansible-builder's introspection
    assert "COPY _build/requirements.txt requirements.txt" in text
    assert "--user-pip=requirements.txt" in text
    assert "requests" in requirement_names((context / "_build" / "requirements.txt").read_text())
    assert re.search(r'ARG ANSIBLE_INSTALL_REFS=".*ansible-core.*ansible-runner.*"', text)


def test_context_carries_the_built_collection(context):
    tarball = context / "_build" / "collections" / TARBALL
    assert tarball.exists()
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
    # what ansible-builder's introspection reads inside the image
    assert {"meta/execution-environment.yml", "requirements.txt", "bindep.txt"} <= names
    assert "roles/cloudflare_access/tasks/main.yml" in names
    assert "playbooks/cloudflare_access.yml" in names


def test_galaxy_step_installs_and_introspection_finds_requests(context, tmp_path):
    """The galaxy stage's command, run in the context's _build directory as the Containerfile does."""
    installed = tmp_path / "collections"
    # like the fresh image: no other copy of the collection on the collections path (ansible-galaxy
    # would otherwise find this checkout there and install nothing)
    clean = {"ANSIBLE_COLLECTIONS_PATH": str(installed)}
    out = run([tool("ansible-galaxy"), "collection", "install", "-r", "requirements.yml", "--collections-path", str(installed)],
              cwd=context / "_build", env=dict(clean, ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1")).stdout
    assert "%s:%s was installed successfully" % (FQCN, GALAXY["version"]) in out, out
    run([tool("ansible-galaxy"), "collection", "verify", "--offline", FQCN], env=clean)
    found = run([tool("ansible-builder"), "introspect", "--sanitize", str(installed)]).stdout
    assert re.search(r"requests\S*\s+# from collection %s" % re.escape(FQCN), found), found


def test_base_image_is_maintained_and_documented():
    """The base image is not an end-of-life release and docs/awx.md names the one the definition uses."""
    base = yaml.safe_load((REPO / "execution-environment.yml").read_text())["images"]["base_image"]["name"]
    end_of_life = {"fedora:40", "fedora:41", "fedora:42", "centos:8", "centos:7"}
    assert base not in end_of_life, "%s is end of life: move to a maintained base and say which in docs/awx.md" % base
    assert "`%s`" % base in (REPO / "docs" / "awx.md").read_text(), "docs/awx.md does not name the base image %s" % base
