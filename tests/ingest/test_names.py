"""File names as data: undecodable bytes and controls get a display form that maps back."""

from __future__ import annotations

import os

import pytest

from ingest.names import display_name, filesystem_name


@pytest.mark.parametrize("name", ["vpn.md", "café.md", "100% sure.txt", "a%FFb.md", "日本.md"])
def test_valid_names_are_unchanged(name: str) -> None:
    assert display_name(name) == name


@pytest.mark.parametrize(("raw", "shown"), [
    (b"caf\xe9.md", "caf%E9.md"),
    (b"line\nbreak.md", "line%0Abreak.md"),
    (b"tab\there\x7f.md", "tab%09here%7F.md"),
    (b"\xff\xfe/\xc3\xa9t\xe9.md", "%FF%FE/ét%E9.md"),  # valid UTF-8 beside invalid bytes
])
def test_bad_bytes_and_controls_are_percent_encoded_and_map_back(raw: bytes, shown: str) -> None:
    decoded = os.fsdecode(raw)
    assert display_name(decoded) == shown
    shown.encode()  # valid UTF-8: SQL, JSON and hashes accept it
    assert os.fsencode(filesystem_name(shown)) == raw
