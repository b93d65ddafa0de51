"""Unit-test set-up shared by every unit test of the collection.

Tests import the collection the way Ansible does, as
``ansible_collections.idpbridge.authentik_cloudflare...``. When this checkout does not already
sit inside such a tree (``.../ansible_collections/idpbridge/authentik_cloudflare``), a temporary
directory with that layout is built, its ``authentik_cloudflare`` entry a symlink to the
checkout, and put first on ``sys.path``.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAMESPACE, NAME = "idpbridge", "authentik_cloudflare"


def _collections_parent() -> Path:
    parts = REPO.parts
    if len(parts) >= 3 and parts[-3:] == ("ansible_collections", NAMESPACE, NAME):
        return REPO.parents[2]
    root = Path(tempfile.mkdtemp(prefix="idpb-unit-"))
    atexit.register(shutil.rmtree, str(root), True)
    target = root / "ansible_collections" / NAMESPACE
    target.mkdir(parents=True)
    (target / NAME).symlink_to(REPO, target_is_directory=True)
    return root


COLLECTIONS_PARENT = _collections_parent()
if str(COLLECTIONS_PARENT) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PARENT))
# The test servers (tests/servers) are importable as ``tests.servers`` from the checkout.
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))
