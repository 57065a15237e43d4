"""What killed runs leave behind outside the database, and how the next run finds it.

A command that writes a file where the reporter asked (``bundle --out``) writes a temporary
file beside it and moves it into place at the end. Killed with ``kill -9`` (or a power cut), it
leaves ``.NAME.PID.tmp`` in a folder the workspace does not otherwise know about. So before it
makes the temporary file it notes the path in the workspace (``.pending/``), and removes the
note when done; a note whose process is gone names a leftover. ``verify`` lists them; the next
command (any but ``verify``) removes them and their notes.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PENDING_DIR = ".pending"


def process_alive(pid: int) -> bool:
    """Whether a process still runs: a staging folder, temporary file or note named for a
    process that is gone was left by a killed run."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def left_by_a_killed_run(pid: str) -> bool:
    """Whether ``pid`` (as read from a name) is a process that is gone, and not this one."""
    return not (pid.isdigit() and process_alive(int(pid)) and int(pid) != os.getpid())


@contextmanager
def noted(root: Path, tmp: Path) -> Iterator[Path]:
    """Note ``tmp`` (a temporary file about to be made outside the workspace at ``root``) for as
    long as the block runs; the caller removes ``tmp`` itself when it fails."""
    folder = Path(root) / PENDING_DIR
    folder.mkdir(exist_ok=True)
    note = folder / f"{os.getpid()}.{os.urandom(4).hex()}"
    note.write_text(str(Path(tmp).resolve()), encoding="utf-8")
    try:
        yield tmp
    finally:
        note.unlink(missing_ok=True)
        _remove_if_empty(folder)


def _remove_if_empty(folder: Path) -> None:
    """A run that finished leaves no trace, not even the notes' folder (unless another run's
    note is in it)."""
    try:
        folder.rmdir()
    except OSError:
        pass


def killed_runs(root: Path) -> list[tuple[Path, Path]]:
    """(note, temporary file) for each run that was killed while it wrote one."""
    folder = Path(root) / PENDING_DIR
    if not folder.is_dir():
        return []
    found = []
    for note in sorted(folder.iterdir()):
        if left_by_a_killed_run(note.name.split(".")[0]):
            try:
                found.append((note, Path(note.read_text(encoding="utf-8").strip())))
            except (OSError, UnicodeDecodeError):
                found.append((note, note))  # an unreadable note is itself the leftover
    return found


def remove_killed_runs(root: Path) -> list[str]:
    """Remove what killed runs left (their temporary files, then their notes); returns the
    files removed. Only a file named as that run names it (``.NAME.PID.tmp``, its PID) is removed:
    a note is no licence to delete any file it names."""
    removed = []
    for note, tmp in killed_runs(root):
        pid = note.name.split(".")[0]
        if tmp != note and tmp.name.startswith(".") and tmp.name.endswith(f".{pid}.tmp") and tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(str(tmp))
        note.unlink(missing_ok=True)
        _remove_if_empty(note.parent)
    return removed
