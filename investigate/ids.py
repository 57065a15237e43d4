"""Row ids: made once, shown short, typed back.

Ids are UUIDv7 (``new_id``): their first digits are the time they were made, the same for
every row of an import, so the short form people see and type is taken from the random end
instead: ``short`` gives the first eight digits of the last group, and a typed short form is
found through an index on that group (migration ``i16_short_ids``; ``store.lookup.resolve``).
Rows made before (random UUIDv4 ids) keep their short form, the first eight digits.

The bottom layer: nothing here knows a workspace.
"""

from __future__ import annotations

import os
import random
import time


def new_id() -> str:
    """A text UUID, so that two reporters' workspaces merge without collisions.

    Version 7 (RFC 9562): the first 48 bits are the time in milliseconds, the last 74 random.
    Ids made one after another sort together, so a million-row import appends to the ends of
    the id indexes (and of the audit log's) instead of writing pages all over them: imports
    into a big workspace stay as fast as into an empty one. People still type a short random
    id: ``ids.short`` shows eight digits of the id's random end, not its first."""
    return uuid7(time.time_ns() // 1_000_000, _ids.getrandbits(74))


#: The random part of ids: seeded from os.urandom and reseeded in a forked child (as Python
#: does for its own generator), one system call per workspace rather than one per id, which
#: was a twelfth of an import. Ids must be unique, not unguessable.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


def uuid7(ms: int, rand: int) -> str:
    """The UUIDv7 text of a millisecond time and 74 random bits."""
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64 | 0b10 << 62 | rand & (1 << 62) - 1
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


#: The id's last group, as the short-form indexes hold it (the expression must match theirs).
TAIL = "substr(id, 25)"


def is_v7(row_id: str) -> bool:
    return len(row_id) == 36 and row_id[14] == "7" and row_id[8] == "-"


def short(row_id: str, n: int = 8) -> str:
    """The short form shown in tables; the CLI accepts it back. The start of a UUIDv7's last
    group (48 random bits), the start of any other id (UUIDv4s made before, and ids of hand-made test rows)."""
    if row_id and is_v7(row_id):
        return row_id[24:24 + n]
    return row_id[:n]
