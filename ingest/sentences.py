"""Sentence splitting shared by chunking, quote selection and the answer support check.

A deliberately plain rule (split after . ! ? or a line break when the next piece starts like a
sentence) that keeps codes such as ``NWL-VPN-809`` and numbers like ``2.5`` intact.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n+")


def split_sentences(text: str) -> list[str]:
    """Non-empty, stripped sentences of ``text`` in order."""
    return [s.strip() for s in _BOUNDARY.split(text) if s and s.strip()]
