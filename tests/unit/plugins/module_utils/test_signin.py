"""The headless sign-in's small helpers (_signin.py): PKCE, the words of authentik's pages."""

from __future__ import annotations

import base64
import hashlib

from ansible_collections.idpbridge.authentik_cloudflare.plugins.module_utils._signin import page_text, pkce_pair


def test_pkce_pair_is_s256():
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert pkce_pair()[0] != verifier


def test_page_text_keeps_the_words_of_authentiks_error_pages():
    page = ("<!DOCTYPE html><html><head><title>Permission denied - authentik</title><style>x{}</style></head>"
            "<body><h1>Permission denied</h1><p>bob Not you?</p></body></html>")
    assert page_text(page) == "Permission denied - authentik: Permission denied bob Not you?"
    plain = "<html><head><title>authentik</title></head><body><h1>Redirect URI Error</h1></body></html>"
    assert page_text(plain) == "Redirect URI Error"
    assert page_text("x" * 500).endswith("...") and page_text(None) == ""
