"""The workspace: a folder like a git repository, and the one write path into its database.

``init_workspace`` makes one; ``find_workspace`` finds it from the current directory
upwards or ``INVESTIGATE_HOME``; ``Workspace`` opens the database (WAL, foreign keys on,
migrated to the current schema) and offers ``insert``/``insert_many``/``update``/``delete``,
each of which appends hash-chained audit rows in the same transaction as the change.
Nothing else in the package writes to an audited table.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import hmac
import os
import re
import sqlite3
import sys
import tomllib
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _import_sqlite_utils():
    """sqlite-utils imports numpy, when installed (scipy brings it), only to map numpy values to
    column types; we never hand it one. Kept from that import, every command starts 0.12 s
    sooner (a third of its start-up); numpy itself still imports normally afterwards."""
    blocked = "numpy" not in sys.modules
    if blocked:
        sys.modules["numpy"] = None  # an ImportError inside sqlite-utils' try: its np is None
    try:
        import sqlite_utils
    finally:
        if blocked and sys.modules.get("numpy", 0) is None:
            del sys.modules["numpy"]
    return sqlite_utils


sqlite_utils = _import_sqlite_utils()

from .. import keys
from . import audit
from .. import clock
from ..errors import IntegrityError, InvalidInput, InvestigateError, NotAWorkspace, NotFound, WorkspaceExists
from .schema import migrations
from .tables import AUDITED_TABLES, DIGEST_COLUMNS, SECRET_COLUMNS
from .writes import AuditedWrites, utc_now

CONFIG_NAME = "investigate.toml"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
DB_NAME = "investigate.db"
ENV_HOME = "INVESTIGATE_HOME"

CONFIG_TEMPLATE = """\
# investigate workspace settings. Edit freely; the database never copies these values.

[newsroom]
name = {newsroom!r}
language = {language!r}          # en, de or da: the default language of reports
timezone = {timezone!r}  # IANA name; visit times are stored in ISO 8601 with this offset
# reporter = "your name"       # recorded as the actor of every audit entry (default: login name)
# byline = ["Jane Doe", "John Roe"] # printed on the report's cover, joined in its language
# contact = "tips@example.org"       # where readers and businesses write to
# address = "Street 1, 10999 Berlin" # the newsroom's postal address, printed on letters to businesses
# reply_person = "Jane Doe"          # whom a business answers to (default: the first of the byline)
# url = "https://example.org/tests"  # where the report is published

[geocoder]
provider = "nominatim"         # nominatim or photon
domain = "nominatim.openstreetmap.org"
scheme = "https"
user_agent = ""                # required by Nominatim's policy: "newsroom-name (contact@example.org)"
min_delay_seconds = 1.0        # 1 request per second on the public server; lower for your own

[map]
tile_url = ""                  # e.g. "https://tiles.example.org/{{z}}/{{x}}/{{y}}.png"; empty = no basemap
attribution = ""               # printed in the map's corner, e.g. "© OpenStreetMap contributors"
boundaries = ""                # a GeoJSON file of districts to draw on the report's map
# tile_timeout_seconds = 5.0   # one deadline per tile; a late server is not asked for the others

[publish]
licence = "CC BY 4.0"
source = ""
# name_compliant = true        # name the businesses that passed every test (never asked: nothing to put to them)

[timestamp]
tsa_url = ""                   # an RFC 3161 timestamp authority for every checkpoint; empty = none
tsa_roots = []                 # PEM files of its certificate chain, to verify its tokens
# timeout_seconds = 10.0       # one deadline for the whole call; past it the stamp stays queued
"""


def find_workspace(start: Path | str | None = None) -> Path:
    """The workspace folder: ``INVESTIGATE_HOME`` if set, else the nearest folder upwards
    from ``start`` (default: the current directory) that holds an investigate.toml."""
    home = os.environ.get(ENV_HOME)
    if home:
        path = Path(home).expanduser()
        if not (path / CONFIG_NAME).is_file():
            raise NotAWorkspace(f"{ENV_HOME}={home} is not a workspace (no {CONFIG_NAME} there)")
        return path.resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise NotAWorkspace(
        f"not an investigate workspace: no {CONFIG_NAME} in {here} or above "
        f"(run 'investigate init' or set {ENV_HOME})"
    )


def init_workspace(
    path: Path | str,
    *,
    newsroom: str = "My newsroom",
    language: str = "en",
    timezone_name: str = "UTC",
) -> "Workspace":
    """Create a workspace in ``path`` (made if missing). Refuses to touch an existing one."""
    root = Path(path).expanduser().resolve()
    if (root / CONFIG_NAME).exists() or (root / DB_NAME).exists():
        raise WorkspaceExists(f"{root} is already a workspace; refusing to overwrite it")
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvestigateError(f"unknown time zone {timezone_name!r} (use an IANA name such as Europe/Berlin)")
    root.mkdir(parents=True, exist_ok=True)
    (root / "evidence").mkdir(exist_ok=True)
    (root / "protocols").mkdir(exist_ok=True)
    (root / CONFIG_NAME).write_text(
        CONFIG_TEMPLATE.format(newsroom=newsroom, language=language, timezone=timezone_name),
        encoding="utf-8",
    )
    ws = Workspace(root, create=True)
    return ws


class Workspace(AuditedWrites):
    """An open workspace. Cheap to create; the database connection is opened at once.

    ``read_only`` opens it to read and nothing else — another reporter's workspace as a merge
    source, the workspace behind the editors' Datasette: no migration is run, no key made, no
    byte written to its database, configuration or keys (a workspace that would need a
    migration is refused)."""

    def __init__(self, root: Path | str, *, read_only: bool = False, create: bool = False,
                 actor: str | None = None):
        self._read_only = read_only
        # The person a write is made for, when it is not the one at this terminal: an editor
        # logged in to the editors' Datasette (``publish.decisions``).
        self._actor = actor
        self.root = Path(root).resolve()
        self.config_path = self.root / CONFIG_NAME
        self.db_path = self.root / DB_NAME
        self.evidence_dir = self.root / "evidence"
        self.config = self._read_config()
        if not create and not self.db_path.exists():
            # Only ``init`` makes a database. A workspace whose database is gone was wiped or
            # half-copied: an empty new one would hide that (``verify`` said "OK: 0 entries").
            raise IntegrityError(f"{self.db_path}: the workspace's database is missing (deleted or not copied "
                                 "along?); restore it from a backup. Nothing was created")
        self.db = self._open_db()
        self._unchanged: dict = {}  # see while_unchanged
        self._failed_inside = False  # see transaction
        if not self.read_only and not self.setting("log", "public_key"):
            # Every workspace signs its log; one made by an older version gets its key now.
            self.ensure_signing_key()

    @classmethod
    def find(cls, start: Path | str | None = None) -> "Workspace":
        return cls(find_workspace(start))

    # -- configuration -------------------------------------------------------------------

    def _read_config(self) -> dict:
        try:
            with open(self.config_path, "rb") as fp:
                return tomllib.load(fp)
        except FileNotFoundError:
            raise NotAWorkspace(f"{self.root} is not a workspace (no {CONFIG_NAME})")
        except tomllib.TOMLDecodeError as ex:
            raise InvestigateError(f"{self.config_path}: {ex}")

    def setting(self, section: str, key: str, default: Any = None) -> Any:
        return self.config.get(section, {}).get(key, default)

    @property
    def newsroom(self) -> str:
        return self.setting("newsroom", "name", "")

    @property
    def language(self) -> str:
        return self.setting("newsroom", "language", "en")

    @functools.cached_property
    def tz(self) -> ZoneInfo:
        name = self.setting("newsroom", "timezone", "UTC")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvestigateError(f"{self.config_path}: newsroom.timezone: unknown time zone {name!r}")

    @property
    def actor(self) -> str:
        """Who the audit log names for this workspace's writes: the person it was opened for,
        else [newsroom] reporter in investigate.toml, else the login name."""
        if self._actor:
            return self._actor
        configured = self.setting("newsroom", "reporter")
        if configured:
            return configured
        return self._login_name

    @functools.cached_property
    def _login_name(self) -> str:
        """The login name, looked up once: without $USER getpass reads /etc/passwd, and every
        audited write asks (20,000 times for one ``reply request --all``)."""
        try:
            return getpass.getuser()
        except Exception:
            return "unknown"

    def now(self) -> datetime:
        """The current time in the workspace's time zone, to the second."""
        return clock.now(self.tz)

    def parse_time(self, text: str | datetime | None, *, what: str = "time", past_only: bool = True,
                   skew: timedelta = timedelta(0)) -> datetime:
        """A date or time typed by a person: ISO 8601 with or without an offset ("2026-11-20",
        "2026-11-20 14:35"); None or "now" is now. A time without an offset is local to the
        workspace. ``past_only`` refuses the future (beyond ``skew``, for clocks that drift)."""
        now = self.now()
        if text is None or (isinstance(text, str) and text.strip().lower() in ("", "now")):
            return now
        if isinstance(text, datetime):
            value = text
        else:
            # A spreadsheet writes the morning's hour with one digit ("2026-11-20 8:10").
            typed = re.sub(r"^(\d{4}-\d{2}-\d{2}[ T])(\d:\d{2})", r"\g<1>0\2", text.strip().replace("/", "-"))
            try:
                value = datetime.fromisoformat(typed)
            except ValueError:
                raise InvalidInput(f"{what} {text!r} is not a date and time (e.g. 2026-11-20 14:35)")
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        value = value.astimezone(self.tz).replace(microsecond=0)
        if past_only and value > now + skew:
            raise InvalidInput(f"{what} {value.isoformat()} is in the future")
        return value

    # -- database ------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """Opened to read only when asked to, and whenever the database file has no write
        permission bits — even for root, who would otherwise write through the permissions (an
        archived or handed-over copy)."""
        return self._read_only or (self.db_path.exists() and not (self.db_path.stat().st_mode & 0o222))

    def _open_db(self) -> sqlite_utils.Database:
        if self.read_only:
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10,
                                   isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(str(self.db_path), timeout=10, isolation_level=None,
                                   check_same_thread=False)
        # Without sqlite-utils' own plugins: finding them reads the entry points of every
        # installed package (0.1 s, as long as the rest of `case show` at a million visits), and
        # no SQL of ours calls a function one would register. Ours are this project's hooks.
        db = sqlite_utils.Database(conn, execute_plugins=False)
        try:
            db.execute("pragma foreign_keys = on")
            db.execute("pragma busy_timeout = 10000")
            # 32 MB of page cache instead of SQLite's 2 MB: ids are random UUIDs, so a large
            # import touches index pages all over the B-tree.
            db.execute("pragma cache_size = -32768")
            if self.read_only:
                if migrations.pending(db):
                    raise InvestigateError(
                        f"{self.db_path}: the database is read-only and needs a schema upgrade"
                    )
                return db
            if db.journal_mode != "wal":
                db.enable_wal()
            if migrations.pending(db):
                migrations.apply(db)
                self._rekey_secret_columns(db)
        except sqlite3.DatabaseError as ex:
            raise InvestigateError(f"{self.db_path}: cannot open the database: {ex}")
        return db

    def _rekey_secret_columns(self, db: sqlite_utils.Database) -> None:
        """Rows written before secret columns were kept out of the log were hashed in clear:
        log their keyed hash once, so that verify and later updates use it. (The older entries
        keep what they hold; a chain cannot be rewritten without breaking it.)"""
        for table in {**SECRET_COLUMNS, **DIGEST_COLUMNS}:
            if table not in db.table_names():
                continue
            entries = []
            for row in db.query(f"select * from [{table}] order by rowid"):
                last = db.execute("select row_hash from audit_log where table_name = ? and row_id = ? "
                                  "order by seq desc limit 1", [table, row["id"]]).fetchone()
                if last and last[0] == audit.row_hash(row):
                    entries.append({"at": utc_now(), "actor": "migration (secret columns)", "action": "rekey",
                                    "table_name": table, "row_id": row["id"], "row_hash": self.row_hash(table, row),
                                    "data": audit.dumps({"note": "secret columns now logged as keyed hashes"})})
            if entries:
                db.conn.execute("begin immediate")
                try:
                    audit.append_entries(db.conn, entries)
                except BaseException:
                    db.conn.execute("rollback")
                    raise
                db.conn.execute("commit")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, savepoint: bool = True) -> Iterator[sqlite_utils.Database]:
        """One write transaction. ``BEGIN IMMEDIATE`` takes the write lock at once, so that
        two processes appending to the audit chain cannot both read the same last link.

        Nested use becomes a savepoint, or with ``savepoint=False`` joins the transaction it is
        in. The bulk writes join: while a savepoint is open, SQLite copies every page it changes
        into a sub-journal, to be able to go back, and a bulk review of 250,000 visits in a
        workspace of a million spent more than half its CPU writing that copy (1.4 million small
        writes under strace; 16–21 s of system time). A block that joined and failed cannot be
        undone on its own, so it dooms the transaction: unless an enclosing savepoint rolls back
        past it, the transaction rolls back and raises at its end, even where a caller caught the
        error and went on."""
        conn = self.db.conn
        if conn.in_transaction and not savepoint:
            try:
                yield self.db
            except BaseException:
                self._failed_inside = True
                raise
            return
        if conn.in_transaction:
            name = f"sp_{uuid.uuid4().hex}"
            conn.execute(f"savepoint {name}")
            failed_before = self._failed_inside
            try:
                yield self.db
            except BaseException:
                if conn.in_transaction:
                    conn.execute(f"rollback to savepoint {name}")
                    conn.execute(f"release savepoint {name}")
                    self._failed_inside = failed_before  # what failed inside it is undone
                raise
            else:
                conn.execute(f"release savepoint {name}")
            return
        conn.execute("begin immediate")
        self._failed_inside = False
        try:
            yield self.db
        except BaseException:
            if conn.in_transaction:
                conn.execute("rollback")
            raise
        else:
            if self._failed_inside:
                if conn.in_transaction:  # (an error SQLite answers with a rollback of its own ends it too)
                    conn.execute("rollback")
                raise IntegrityError("a bulk write failed inside this transaction and the error was not passed "
                                     "on: nothing of the transaction was written")
            conn.execute("commit")

    # -- reading -------------------------------------------------------------------------

    def while_unchanged(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept for ``key`` as long as the audit log has not moved: every write
        appends to it, so a kept answer is never stale. For questions several parts of one
        command ask of a big case (the checklist asks which stores have findings three times)."""
        head = self.db.execute("select max(seq) from audit_log").fetchone()[0]
        entry = self._unchanged.get(key)
        if entry is None or entry[0] != head:
            entry = self._unchanged[key] = (head, compute())
        return entry[1]

    def state(self) -> tuple:
        """What the workspace's answers depend on besides the clock: see ``workspace_state``."""
        return workspace_state(self.db.execute, self.root)

    def get(self, table: str, row_id: str) -> dict:
        rows = list(self.db.query(f"select * from [{table}] where id = ?", [row_id]))
        if not rows:
            raise NotFound(f"no {table} row with id {row_id}")
        return rows[0]

    def columns(self, table: str) -> list[str]:
        return [c.name for c in self.db[table].columns]

    # -- secrets kept out of the audit log ----------------------------------------------

    @functools.cached_property
    def sources_key(self) -> bytes:
        """The workspace's secret for keyed hashes of sources' contacts. It lives outside the
        database (keys/sources.key, mode 0600): a copy of the database or a bundle's audit
        chain does not carry it, so a contact cannot be found by hashing every phone number."""
        return keys.sources_key(self.root)

    # -- the log's signing key -----------------------------------------------------------

    @property
    def key_name(self) -> str:
        """The log checkpoints' origin and the signing key's name: this workspace, for any reader."""
        wid = self.db.execute("select value from workspace_meta where key = 'workspace_id'").fetchone()[0]
        return f"investigate.log/{wid}"

    def ensure_signing_key(self) -> str:
        """Make the workspace's signing key if it has none; returns the verifier key. The public
        key is written to investigate.toml ([log] public_key) for readers of publications."""
        vkey = keys.verifier_key(self.key_name, keys.public_key_bytes(self.root))
        if self.setting("log", "public_key") != vkey:
            text = self.config_path.read_text(encoding="utf-8")
            text = re.sub(r"\n\[log\]\npublic_key = \"[^\"]*\"\n", "\n", text)
            text = text.rstrip("\n") + f'\n\n[log]\npublic_key = "{vkey}"\n'
            self.config_path.write_text(text, encoding="utf-8")
            self.config = self._read_config()
        return vkey

    def audit_view(self, table: str, row: dict, key: bytes | None = None) -> dict:
        """The row as the audit log holds it: secret columns (``tables.SECRET_COLUMNS``) as a
        keyed hash. Row hashes are computed over this view, so the log still proves the row."""
        secret, digested = SECRET_COLUMNS.get(table, ()), DIGEST_COLUMNS.get(table, ())
        if not secret and not digested:
            return row
        out = dict(row)
        if secret:
            key = key or self.sources_key
        for column in secret:
            if out.get(column) is not None:
                out[column] = "hmac-sha256:" + hmac.new(key, str(out[column]).encode("utf-8"),
                                                        hashlib.sha256).hexdigest()
        for column in digested:  # ``tables.DIGEST_COLUMNS``: long texts, logged by their hash
            if out.get(column) is not None:
                out[column] = "sha256:" + hashlib.sha256(str(out[column]).encode("utf-8")).hexdigest()
        return out

    def row_hash(self, table: str, row: dict, key: bytes | None = None) -> str:
        return audit.row_hash(self.audit_view(table, row, key))

    def values_hasher(self, table: str, columns: Sequence[str]) -> Callable[[Sequence], str]:
        """``row_hash`` for many rows of ``table`` (an import, a bulk update, verify), each given
        as its values in ``columns``' order: quicker per row (``audit.values_hasher``)."""
        if table in SECRET_COLUMNS or table in DIGEST_COLUMNS:
            return lambda values: self.row_hash(table, dict(zip(columns, values)))
        return audit.values_hasher(columns)

    def row_digests(self, table: str) -> Iterator[tuple[Any, bytes]]:
        """Every row of ``table`` in id order as ``(id, digest)``, the digest being its
        ``row_hash`` as bytes: verify's read of every row. A table of text and integer columns
        with nothing secret has its canonical texts spelt by SQLite (``audit.values_text_sql``),
        at about half of Python's cost at a million visits. SQLite spells the NULL patterns met
        so far (a table has a few): a row of another is spelt by Python, and the read goes on
        after it with its pattern added. Such a digest is right for every row we write; the
        caller asks ``row_digest`` again about one that does not match. Past ``ROW_PATTERNS``
        patterns, or where SQLite cannot spell a value (a blob, never written by us), Python
        spells the rest of the table. (A REAL's text is Python's, and a row without an id is
        not found again: such tables are spelt by Python.)"""
        info = self.db.execute(f"pragma table_info([{table}])").fetchall()
        columns = [c[1] for c in info]
        hash_values, key = self.values_hasher(table, columns), columns.index("id")
        after, patterns = None, []
        if table not in SECRET_COLUMNS and table not in DIGEST_COLUMNS and \
                all(c[2].upper() in ("TEXT", "INTEGER") for c in info) and \
                not self.db.execute(f"select 1 from [{table}] where id is null").fetchone():
            sha256, typed = hashlib.sha256, [(c[1], c[2], bool(c[3])) for c in info]
            try:
                while len(patterns) <= ROW_PATTERNS:
                    # as a blob: its UTF-8 bytes, not decoded into a str only to be encoded again
                    sql = f"select id, cast({audit.values_text_sql(typed, patterns)} as blob) from [{table}]"
                    rows = self.db.execute(sql + " order by id") if after is None else \
                        self.db.execute(sql + " where id > ? order by id", [after])
                    for row_id, text in rows:
                        if text is None:
                            break
                        yield row_id, sha256(text).digest()
                        after = row_id
                    else:
                        return
                    values = self.db.execute(f"select * from [{table}] where id = ?", [row_id]).fetchone()
                    patterns.append(frozenset(c for c, v in zip(columns, values) if v is None))
                    yield row_id, bytes.fromhex(hash_values(values))
                    after = row_id
            except sqlite3.OperationalError:  # "JSON cannot hold BLOB values": on with Python
                pass
        rows = self.db.execute(f"select * from [{table}] order by id") if after is None else \
            self.db.execute(f"select * from [{table}] where id > ? order by id", [after])
        for values in rows:
            yield values[key], bytes.fromhex(hash_values(values))

    def row_digest(self, table: str, row_id: Any) -> bytes | None:
        """The ``row_hash`` of one row as bytes, spelt by Python: the word on a row whose digest
        from ``row_digests`` did not match; None when there is no such row."""
        cursor = self.db.execute(f"select * from [{table}] where id = ?", [row_id])
        values = cursor.fetchone()
        if values is None:
            return None
        return bytes.fromhex(self.values_hasher(table, [d[0] for d in cursor.description])(values))

    def update_hasher(self, table: str, columns: Sequence[str], changes: dict) -> Callable[[Sequence], tuple[str, str]]:
        """``(row_hash, new_hash)`` of a row of ``table`` that a bulk update sets ``changes`` on,
        given as its values in ``columns``' order: the hash it must still have, and the one it will
        have (``audit.update_hasher``, which spells the row once)."""
        if table in SECRET_COLUMNS or table in DIGEST_COLUMNS:
            hash_values = self.values_hasher(table, columns)
            at = [(columns.index(k), v) for k, v in changes.items()]
            return lambda values: (hash_values(values), hash_values(audit.with_changes(values, at)))
        return audit.update_hasher(columns, changes)

    # -- evidence ------------------------------------------------------------------------

    def evidence_path(self, sha256: str) -> Path:
        """Content-addressed: evidence/ab/abcdef…. A hash is 64 hexadecimal digits and never a
        path: anything else is refused here, where every reader and writer of evidence passes."""
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise IntegrityError(f"evidence hash {str(sha256)[:70]!r} is not a SHA-256 (64 hexadecimal digits)")
        return self.evidence_dir / sha256[:2] / sha256


#: The NULL patterns ``Workspace.row_digests`` has SQLite spell, at most, in one table.
ROW_PATTERNS = 64


def open_workspace(path: Path | str | None = None) -> Workspace:
    """Open the workspace at ``path``, or the one found from the current directory."""
    return Workspace(path) if path else Workspace.find()


def workspace_state(execute: Callable, root: Path) -> tuple:
    """What a workspace's answers depend on besides the clock: the audit log's head (every
    audited write appends to it), the merge conflicts (recorded and settled beside the log: a
    conflict only grows in number and in settled ones) and the files edited by hand — the
    settings and the workspace's own protocols. Two equal states give the same answers at one
    moment, so a long-running reader (the editors' Datasette) may keep what it computed for a
    state. ``execute`` runs SQL on the workspace's database: a ``Workspace``'s, or the plain
    connection of a Datasette query, whose own snapshot it then reads."""
    head = execute("select max(seq) from audit_log").fetchone()[0]
    conflicts = execute("select count(*), max(id), count(resolved_at) from merge_conflicts").fetchone()
    files = [root / CONFIG_NAME, *sorted((root / "protocols").glob("*"))]
    stamps = []
    for path in files:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        stamps.append((path.name, stat.st_mtime_ns, stat.st_size))
    return head, tuple(conflicts), tuple(stamps)


__all__ = [
    "AUDITED_TABLES",
    "CONFIG_NAME",
    "DB_NAME",
    "Workspace",
    "find_workspace",
    "init_workspace",
    "open_workspace",
    "utc_now",
    "workspace_state",
]
