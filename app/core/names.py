"""The one spelling of a name. Collections and question sets share ``NAME``; users and teams
``USERNAME``, which may also hold dots. Names appear in paths, URLs and audit lines, so they are
plain ASCII."""

from __future__ import annotations

import re

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
