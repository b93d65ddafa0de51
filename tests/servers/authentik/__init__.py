"""The authentik API test server (see app.py)."""

from __future__ import annotations
