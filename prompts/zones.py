"""The prompt zones, spelled once: the prompt library stores them, answering serves from them,
evaluation runs read every one of them and the API documents them.

``exploration``: new versions, usable only by evaluation runs. ``pilot``: agents may opt in per
request. ``production``: exactly one version per prompt id, served by default, reached only by
an eval-gated promotion. Each ``Literal`` below has the tuple of its values beside it, so a
type check and a ``zone in ...`` test read the same vocabulary.
"""

from __future__ import annotations

from typing import Literal, get_args

Zone = Literal["exploration", "pilot", "production"]
ZONES: tuple[Zone, ...] = get_args(Zone)

# what chat and drafts may use: the default (production) or an opt-in pilot version
ServingZone = Literal["production", "pilot"]
SERVING_ZONES: tuple[ServingZone, ...] = get_args(ServingZone)

# where a version may be moved by hand; production is reached only by promotion
MovableZone = Literal["exploration", "pilot"]
MOVABLE_ZONES: tuple[MovableZone, ...] = get_args(MovableZone)
