"""The one spelling of a name. Collections and question sets share ``NAME``; users and teams
``USERNAME``, which may also hold dots. Names appear in paths, URLs and audit lines, so they are
plain ASCII."""

from __future__ import annotations

import re

# the spelling as JSON Schema and the OpenAPI spec state it ("$" is the end of the text there)
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
# in Python "$" also matches before a final newline ("abc\n" would pass): "\Z" does not
NAME = re.compile(NAME_PATTERN.removesuffix("$") + r"\Z")
USERNAME = re.compile(USERNAME_PATTERN.removesuffix("$") + r"\Z")
