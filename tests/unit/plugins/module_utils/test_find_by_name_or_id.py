"""Finding an object by name or id, written once in the Cloudflare client (``Kind``, ``unique``,
``find_by_name_or_id``, ``select``, ``id_of``) and the same for every kind: which requests each way sends,
and the messages."""

from __future__ import annotations

import pytest

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils import _cloudflare as cf
from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._errors import LookupFailed

ACCOUNT = "0123456789abcdef0123456789abcdef"
OBJECTS = [{"id": "id-1", "name": "one"}, {"id": "id-2", "name": "twin"}, {"id": "id-3", "name": "twin"}]


class Recording(cf.CloudflareClient):
    """The client without a session: ``read`` and ``every`` answer from OBJECTS and record what was asked."""

    def __init__(self):
        super(Recording, self).__init__("https://api.example.test/client/v4", {"Authorization": "Bearer t"},
                                        cf.Scope("account", ACCOUNT), retries=0, warn=self.warnings_append)
        self.asked = []
        self.warnings = []

    def warnings_append(self, msg):
        self.warnings.append(msg)

    def read(self, ident):
        self.asked.append(("read", ident))
        return next((o for o in OBJECTS if o["id"] == ident), None)

    def every(self):
        self.asked.append(("list",))
        return list(OBJECTS)


THINGS = cf.Kind("The thing", "things", "Zero Trust > Things", "thing_id",
                 read=lambda client, ident: client.read(ident),
                 named=lambda client, name: [o for o in client.every() if o["name"] == name],
                 every=lambda client: client.every())


def test_by_id_reads_the_id_and_never_lists():
    client = Recording()
    assert client.find_by_name_or_id(THINGS, "id-1", "ignored")["name"] == "one"
    assert client.find_by_name_or_id(THINGS, "id-9") is None
    assert client.asked == [("read", "id-1"), ("read", "id-9")]


def test_an_unknown_id_names_the_id_and_the_scope_when_asked_to():
    with pytest.raises(LookupFailed) as err:
        Recording().find_by_name_or_id(THINGS, "id-9", unknown_id="No thing has the id %s in %s")
    assert str(err.value) == "No thing has the id id-9 in account %s" % ACCOUNT


def test_by_name_one_none_or_several():
    client = Recording()
    assert client.find_by_name_or_id(THINGS, None, "one")["id"] == "id-1"
    assert client.find_by_name_or_id(THINGS, None, "nobody") is None
    with pytest.raises(LookupFailed) as err:
        client.find_by_name_or_id(THINGS, None, "twin")
    assert str(err.value) == (
        "2 things in account %s are named 'twin': id-2, id-3. The module will not guess which one is meant: rename or "
        "delete the extra ones in Zero Trust > Things, or pick one with thing_id" % ACCOUNT)
    assert all(a == ("list",) for a in client.asked)


def test_select_gives_one_none_or_all():
    client = Recording()
    assert client.select(THINGS, "id-1", None) == [OBJECTS[0]]
    assert client.select(THINGS, None, "nobody") == []
    assert client.select(THINGS) == OBJECTS


def test_id_of_takes_an_id_or_a_name_and_predicts_in_check_mode():
    client = Recording()
    assert client.id_of(THINGS, "id-3", lambda: "never") == "id-3"
    assert client.id_of(THINGS, "one", lambda: "never") == "id-1"
    with pytest.raises(LookupFailed, match="^No thing named nobody$"):
        client.id_of(THINGS, "nobody", lambda: "No thing named nobody")
    client.predict_missing = True
    assert client.id_of(THINGS, "nobody", lambda: "unused") == "(not yet created: nobody)"
    assert client.warnings == ["The thing 'nobody' does not exist (yet); in check mode it is assumed to be created by "
                               "an earlier task"]
