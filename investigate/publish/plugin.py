"""Our Datasette plugin: the numbers from investigate.numbers.stats as SQL functions, the visit and case
pages' extra data, and an evidence route that only the editors' instance has.

Registered on the Datasette plugin manager by ``server.editors_datasette`` (never through a
package entry point, so the public instance does not load the evidence route at all — and the
route itself also refuses to serve unless the instance's metadata names a workspace).
"""

from __future__ import annotations

import functools
import io
import json
import threading
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from datasette import hookimpl
from datasette.utils import tilde_decode
from datasette.utils.asgi import Response

from ..ids import short
from .. import clock
from .guard import guard
from .metadata import CANNED, SERVICE_DIMENSIONS
from ..numbers import stats

QUERY_LINKS = {"visit_id": "visits", "store_id": "stores", "case_id": "cases"}
# Our own scripts (the map's outcome pins), which Datasette serves from templates/datasette/static.
STATIC_MOUNT = "investigate-static"
SHA256_ROUTE = r"^/-/evidence/(?P<sha256>[0-9a-f]{64})$"


def _rate(k, n):
    return k / n if n else None


def _ci(index):
    def fn(k, n):
        if not n:
            return None
        return stats.wilson_interval(int(k or 0), int(n))[index]

    return fn


def _aggregate(reduce):
    """A SQLite aggregate that collects its rows and hands them to ``reduce`` (a stats function)."""

    class Aggregate:
        def __init__(self):
            self.rows = []

        def step(self, *args):
            if args[0] is not None:
                self.rows.append(args)

        def finalize(self):
            try:
                return reduce(self.rows)
            except Exception:  # noqa: BLE001 - a figure that cannot be computed is shown empty
                return None

    return Aggregate


#: The editors' canned service queries' answers, per workspace, query and case: (state, span,
#: JSON). Scoring 100,000 tests takes 1.5 s, their reply times 1 s, and an editor asks again
#: (the page reloaded, its CSV or JSON): an answer is kept while the workspace's state is the
#: one it was read in and the clock has crossed no moment at which it moves on its own (a
#: promise falling due, a reply clock outgrowing its last band, a contact still open waiting
#: past another's time), as the case pages keep their figures (``_KEPT_FIGURES``).
_KEPT_ANSWERS: dict[tuple[str, str, str], tuple] = {}
#: Answers kept at once in each store (the least recently computed go first).
KEPT_CASES = 64
_KEPT_LOCK = threading.Lock()  # Datasette runs queries in several threads


def _keep(store: dict, key: tuple, state: tuple | None, span: tuple, value) -> None:
    """Keep ``value`` in ``store`` for ``key``: it holds while the workspace's state is
    ``state`` and the clock is within ``span`` (``_still_kept``)."""
    with _KEPT_LOCK:
        store.pop(key, None)
        while len(store) >= KEPT_CASES:
            store.pop(next(iter(store)))
        store[key] = (state, span, value)


def _still_kept(store: dict, key: tuple, state: tuple | None, t: datetime):
    """What ``_keep`` kept for ``key``, when the workspace's state is still ``state`` and ``t``
    lies within its span; else None."""
    from ..policy.steady import holds_at

    kept = store.get(key)
    return kept[2] if kept and kept[0] == state and holds_at(kept[1], t) else None


def _service_functions(conn, workspace_root: Path | None):
    """Scores and reply times of tests, from their protocols' own declarations, for the canned
    service queries; means, intervals and Kaplan–Meier medians come from stats."""
    from ..numbers.clock import case_promises, span_around
    from ..protocol.versions import judging_protocol
    from ..errors import InvestigateError
    from ..store.workspace import workspace_state

    protocols: dict = {}

    def protocol(key, protocol_hash):
        """The version that judged the test, as ``scorecard`` scores it (the file as it is now
        had scored tests judged by an older version)."""
        version = protocol_hash or key
        if version not in protocols:
            try:
                protocols[version] = judging_protocol(conn.execute, key, protocol_hash, workspace_root)
            except InvestigateError:
                protocols[version] = None
        return protocols[version]

    def kept(query, case_id):
        """``investigate_kept(query, case_id)``: the case's answer to a canned service query
        (``service_scorecard``, ``response_times``) as its aggregate last computed it, while it
        still holds (``_KEPT_ANSWERS``); else NULL, and the query computes it. The state is
        read in the query's own snapshot, as the aggregate reads it."""
        if workspace_root is None or case_id is None:
            return None
        return _still_kept(_KEPT_ANSWERS, (str(workspace_root), query, case_id), state_now(), clock.now())

    def state_now() -> tuple | None:
        """The workspace's state as the query running reads it (its own snapshot)."""
        return workspace_state(conn.execute, workspace_root) if workspace_root is not None else None

    class KeptAggregate:
        """An aggregate whose answer over one case is kept (``investigate_kept``) with the
        workspace's state read at the case's first row and the span around its one clock reading."""

        query = ""

        def __init__(self):
            self.now = clock.now()
            self.states: dict[str, tuple | None] = {}  # case id → the workspace's state, read at its first row

        def first_row_of(self, case_id: str) -> bool:
            """Whether this is ``case_id``'s first row (whose state it then reads)."""
            if case_id in self.states:
                return False
            self.states[case_id] = state_now()
            return True

        def keep(self, span: tuple, answer: str) -> None:
            if workspace_root is not None and len(self.states) == 1:
                (case_id, state), = self.states.items()
                _keep(_KEPT_ANSWERS, (str(workspace_root), self.query, case_id), state, span, answer)

    class ServiceCard(KeptAggregate):
        """``investigate_service_card(case_id, visit_id, company, channel, protocol, protocol_hash,
        answers)`` over a case's tests: each scored as it comes, by the version that judged it, its
        promises as the clock sees them (``case_promises``, read once for the case as
        ``scorecard`` reads them); then every (company, channel) group's mean and interval of each
        dimension and overall, as a JSON array of groups. One pass and no sort: scoring each test
        into a JSON text, a materialized table and a GROUP BY, and parsing it again per group, ran
        a scorecard of 100,000 tests past Datasette's 3 s limit. Over one case, the groups are
        kept (``investigate_kept``) with the state they were read in and the span until the
        clock alone would move a score."""

        query = "service_scorecard"

        def __init__(self):
            super().__init__()
            self.promises: dict[str, dict] = {}  # case id → its promises' states, by visit
            self.span: tuple = (None, None)  # around now, no moment at which the clock alone moves a score
            self.groups: dict[tuple, list] = {}  # (company, channel) → [tests, [scores] per dimension]

        def step(self, case_id, visit_id, company, channel, key, protocol_hash, answers):
            proto = protocol(key, protocol_hash)
            if proto is None or not proto.scored:
                return
            if self.first_row_of(case_id):
                self.promises[case_id], turns = case_promises(conn.execute, case_id, self.now)
                self.narrow(turns)
            parsed = json.loads(answers or "{}")
            values = proto.values_of(parsed)
            result = proto.score(parsed, self.promises[case_id].get(visit_id, ()), now=self.now, values=values)
            if proto.clock_items:
                self.narrow(proto.score_turns_at(values))
            percents = {k: v["percent"] for k, v in result["sections"].items()}
            percents["overall"] = result["overall"]["percent"]
            group = self.groups.setdefault((company, channel), [0, [[] for _ in SERVICE_DIMENSIONS]])
            group[0] += 1
            for d, scores in zip(SERVICE_DIMENSIONS, group[1]):
                if percents.get(d) is not None:
                    scores.append(percents[d])

        def narrow(self, moments: list[datetime]) -> None:
            if moments:
                self.span = span_around([*(m for m in self.span if m is not None), *moments], self.now)

        def finalize(self):
            try:
                groups = json.dumps([{"company": company, "channel": channel, "tests": tests,
                                      **dict(zip(SERVICE_DIMENSIONS, stats.mean_intervals(scores)))}
                                     for (company, channel), (tests, scores) in self.groups.items()])
            except Exception:  # noqa: BLE001 - a figure that cannot be computed is shown empty
                return None
            self.keep(self.span, groups)
            return groups

    class ResponseCard(KeptAggregate):
        """``investigate_response_card(case_id, channel, protocol, protocol_hash, answers)`` over a
        case's contacts: each one's time to a response (``Protocol.response_time``, by the version
        that judged it; still open: the time waited so far), then each channel's Kaplan–Meier
        median with its interval and the contacts still open (``stats.km_median``), as a JSON array
        of channels. Over one case it is kept (``investigate_kept``) with the state it was read in
        and the span until a contact still open has waited past another's time (``stats.km_turns``):
        the only way the figures move without a write."""

        query = "response_times"

        def __init__(self):
            super().__init__()
            self.channels: dict[str, tuple[list, list, list]] = {}  # channel → (times, fixed minutes, open starts)

        def step(self, case_id, channel, key, protocol_hash, answers):
            proto = protocol(key, protocol_hash)
            self.first_row_of(case_id)
            if proto is None:
                return
            parsed = json.loads(answers or "{}")
            values = proto.values_of(parsed)
            taken = proto.response_time(parsed, now=self.now, values=values)
            if taken is None:
                return
            times, fixed, running = self.channels.setdefault(channel, ([], [], []))
            times.append(taken)
            start = proto.response_started(values)
            if start is None:
                fixed.append(taken[0])
            else:
                running.append(start)

        def finalize(self):
            try:
                answer = json.dumps([{"channel": channel, **stats.km_median(times)}
                                     for channel, (times, _, _) in self.channels.items()])
            except Exception:  # noqa: BLE001 - a figure that cannot be computed is shown empty
                return None
            turns = [moment for _, fixed, running in self.channels.values()
                     for moment in stats.km_turns(fixed, running, self.now)]
            self.keep(span_around(turns, self.now), answer)
            return answer

    def response(key, protocol_hash, answers, part):
        proto = protocol(key, protocol_hash)
        if proto is None:
            return None
        taken = proto.response_time(json.loads(answers or "{}"), now=clock.now())
        if taken is None:
            return None
        if part == "both":  # one call per contact: [minutes, observed]
            return json.dumps([taken[0], int(taken[1])])
        return taken[0] if part == "minutes" else int(taken[1])

    conn.create_aggregate("investigate_service_card", 7, ServiceCard)
    conn.create_aggregate("investigate_response_card", 5, ResponseCard)
    conn.create_function("investigate_kept", 2, kept)
    conn.create_function("investigate_response", 4, response)
    conn.create_aggregate("investigate_km", 2, _aggregate(
        lambda rows: json.dumps(stats.km_median([(r[0], bool(r[1])) for r in rows]))))
    # For queries of the editors' own: a contact's clock (above), a channel's figures as JSON, and
    # one figure each (the canned queries use the two aggregates above).
    mean = lambda key: _aggregate(lambda rows: stats.mean_interval([r[0] for r in rows])[key])  # noqa: E731
    conn.create_aggregate("investigate_mean", 1, mean("mean"))
    conn.create_aggregate("investigate_mean_ci_low", 1, mean("ci_low"))
    conn.create_aggregate("investigate_mean_ci_high", 1, mean("ci_high"))
    km = lambda key: _aggregate(lambda rows: stats.km_median([(r[0], bool(r[1])) for r in rows])[key])  # noqa: E731
    for key in ("median", "ci_low", "ci_high", "open"):
        conn.create_aggregate(f"investigate_km_{key}", 2, km(key))


@hookimpl
def prepare_connection(conn, datasette):
    # The canned "rate by chain" query computes its interval with the stats module itself.
    conn.create_function("investigate_rate", 2, _rate, deterministic=True)
    # The library's clock, not SQLite's: "open" and "overdue" in the canned queries mean what
    # they mean in the CLI and the reports (and follow a clock frozen in tests).
    conn.create_function("investigate_now", 0, lambda: clock.utc_now())
    conn.create_function("investigate_ci_low", 2, _ci(0), deterministic=True)
    conn.create_function("investigate_ci_high", 2, _ci(1), deterministic=True)
    _service_functions(conn, workspace_root(datasette))


@hookimpl
def startup(datasette):
    """The editors' instance imports the statistics of its canned service queries (scipy.stats,
    0.9 s) beside its start, in a thread of its own: imported inside the first request, it counted
    against that request's 3 s SQL limit, and the first scorecard of 100,000 tests after a start
    answered HTTP 400 where the next took 2 s. A request that needs it meanwhile waits for the
    import, as it would have done it."""
    if workspace_root(datasette) is None:
        return

    def warm() -> None:
        import scipy.stats  # noqa: F401

    threading.Thread(target=warm, name="investigate-statistics", daemon=True).start()


def workspace_root(datasette) -> Path | None:
    config = datasette.plugin_config("investigate") or {}
    return Path(config["workspace"]) if config.get("workspace") else None


async def serve_evidence(datasette, request):
    root = workspace_root(datasette)
    if root is None:
        return Response.text("Not found", status=404)
    if not await datasette.permission_allowed(request.actor, "view-instance", default=True):
        return Response.text("Forbidden", status=403)
    sha = request.url_vars["sha256"]
    db = datasette.get_database("investigate")
    rows = (await db.execute("select media_type from evidence where sha256 = ? union all "
                              "select media_type from story_documents where sha256 = ? limit 1", [sha, sha])).rows
    path = root / "evidence" / sha[:2] / sha
    if not rows or not path.is_file():
        return Response.text("Not found", status=404)
    media_type = rows[0][0] or "application/octet-stream"
    if request.args.get("thumb"):
        data = _thumbnail(path)
        if data is None:
            return Response.text("No preview", status=404)
        return Response(data, content_type="image/jpeg", headers={**NEVER_RUNS, "Cache-Control": "private, max-age=3600"})
    # The original as it was saved, never shown inline: evidence may be an .html or .svg file
    # (or arrive so in a merged bundle), and its script would run with the editor's access.
    return Response(path.read_bytes(), content_type=media_type, headers={
        **NEVER_RUNS, "Cache-Control": "private, max-age=3600",
        "Content-Disposition": f'attachment; filename="{sha}"'})


#: Headers on every evidence response: the browser neither guesses another type nor lets the
#: file run anything, even if it were opened as a page.
NEVER_RUNS = {"X-Content-Type-Options": "nosniff",
              "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"}
#: Thumbnails are made only from raster images of at most this many pixels and bytes: a PNG
#: that declares 100,000 × 100,000 pixels is a decompression bomb, not a photo of a till.
THUMB_MAX_PIXELS = 60_000_000
THUMB_MAX_BYTES = 64 << 20
THUMB_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP"}


@functools.lru_cache(maxsize=512)
def _thumbnail(path: Path) -> bytes | None:
    """A 320-pixel JPEG re-encoded from a raster image (never the file's own bytes, so nothing
    hidden in it is served inline), or None for anything else or anything too large. Kept
    once made: evidence lies under its own hash and never changes, so neither does its
    thumbnail (512 of some 15 kB each)."""
    from PIL import Image, UnidentifiedImageError

    if path.stat().st_size > THUMB_MAX_BYTES:
        return None
    try:
        with Image.open(path, formats=sorted(THUMB_FORMATS)) as img:
            width, height = img.size
            if width * height > THUMB_MAX_PIXELS:
                return None
            img.draft("RGB", (320, 320))  # JPEG decodes at a fraction of its size
            img.thumbnail((320, 320))
            buffer = io.BytesIO()
            img.convert("RGB").save(buffer, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return buffer.getvalue()


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    # The editors' visit list: a visit's time opens its page; answers keep their lines. In a
    # canned query's results an id of a visit or store opens its page.
    from markupsafe import Markup, escape

    if table is None and column in QUERY_LINKS and isinstance(value, str) and value:
        return Markup(f'<a href="{datasette.urls.row(database, QUERY_LINKS[column], value)}">{escape(short(value))}</a>')
    if _is_share(column) and isinstance(value, float) and 0 <= value <= 1:
        # A share as the CLI and the report print it ("15.8 %"), not 0.1579; JSON keeps the number.
        return Markup(escape(f"{value * 100:.1f} %"))
    if table != "visit_list" or value is None:
        return None

    if column == "visited_at":
        return Markup(f'<a href="{datasette.urls.row(database, "visits", row["visit"])}">{escape(value[:16].replace("T", " "))}</a>')
    if column == "visit":
        return Markup(f'<a href="{datasette.urls.row(database, "visits", value)}">{escape(short(value))}</a>')
    if column == "answers":
        return Markup("<br>".join(escape(line) for line in str(value).split("\n")))
    return None


def _is_share(column: str) -> bool:
    """Columns that hold a share between 0 and 1: rates and their interval bounds."""
    return column.endswith("rate") or column.endswith("_share") or column in ("ci_low", "ci_high")


#: The canned queries that ask for a case (``:case``): opened without one, they open on the
#: case with the newest visit instead of an empty form and "0 results".
CASE_QUERIES = {name for name, q in CANNED.items() if ":case" in q["sql"]}


async def _newest_case(datasette) -> str | None:
    db = datasette.get_database("investigate")
    rows = (await db.execute("select c.slug from cases c left join visits v on v.case_id = c.id "
                             "group by c.id order by max(v.visited_at) desc, c.created_at desc limit 1")).rows
    return rows[0][0] if rows else None


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def open_on_a_case(scope, receive, send):
            path = scope.get("path", "") if scope.get("type") == "http" else ""
            database, _, name = path.strip("/").partition("/")
            if (database == "investigate" and name in CASE_QUERIES and scope.get("method") == "GET"
                    and b"case=" not in scope.get("query_string", b"") and workspace_root(datasette)):
                slug = await _newest_case(datasette)
                if slug:
                    query = scope.get("query_string", b"").decode("latin-1")
                    location = f"{path}?case={quote(slug)}" + (f"&{query}" if query else "")
                    await send({"type": "http.response.start", "status": 302,
                                "headers": [(b"location", location.encode("latin-1"))]})
                    await send({"type": "http.response.body", "body": b""})
                    return
            await app(scope, receive, send)

        hosts = (datasette.plugin_config("investigate") or {}).get("hosts")
        return guard(open_on_a_case, set(hosts) if hosts is not None else None)

    return wrap


@hookimpl
def extra_js_urls(columns, view_name, datasette):
    # The editors' map (datasette-cluster-map) with pins by outcome, on any table or query whose
    # rows have an outcome and the coordinates the map reads.
    map_config = datasette.plugin_config("datasette-cluster-map") or {}
    needed = {"outcome", map_config.get("latitude_column", "lat"), map_config.get("longitude_column", "lon")}
    if workspace_root(datasette) is None or view_name not in ("table", "query") or not needed <= set(columns or ()):
        return []
    return [{"url": datasette.urls.path(f"/{STATIC_MOUNT}/outcome-pins.js"), "module": True}]


@hookimpl
def forbidden(datasette, request, message):
    # With a password set, a person who is not logged in meets the login form, not a bare
    # "Forbidden / view-instance" with the way in hidden in the ☰ menu. Scripts asking for
    # JSON (and a logged-in editor without a permission) still get the 403.
    if request.actor or not datasette.plugin_config("datasette-auth-passwords"):
        return None
    if request.path.startswith("/-/login") or request.path.endswith(".json") or "_shape" in request.args:
        return None
    return Response.redirect("/-/login")


@hookimpl
def register_routes(datasette):
    return [(SHA256_ROUTE, serve_evidence)]


#: Reply requests a case page lists (soonest deadline first); the replies table holds them all.
REPLIES_SHOWN = 50

#: The case pages' figures, per workspace and case: (state, span, figures). Naming a case of
#: twenty thousand stores for its checklist takes half a second, and an editor opens the page
#: again and again at deadline; the figures are kept while the workspace's state is the same
#: and the clock has not crossed a reply deadline or a promise's due time (``steady_span``).
_KEPT_FIGURES: dict[tuple[str, str], tuple] = {}


def _case_figures(datasette, case: dict) -> dict:
    """The case page's checklist, rates and businesses not asked, from the publication policy
    and the stats module — the same numbers as `investigate stats` and the checklist, never SQL
    of its own."""
    root = workspace_root(datasette)
    if root is None:
        return {}
    from .. import policy
    from ..cases.asking import UNASKED_SHOWN, unasked_ids, unasked_names
    from ..policy import WORKING, gate
    from ..numbers.design import round_estimates
    from ..policy.counting import approved_only
    from ..policy.steady import holds_at, steady_span
    from ..store.workspace import Workspace

    ws = Workspace(root, read_only=True)
    try:
        key, state, before = (str(root), case["id"]), ws.state(), ws.now()
        kept = _still_kept(_KEPT_FIGURES, key, state, before)
        if kept is not None:
            return kept
        rates = policy.case_rates(ws, case, scope=WORKING, by="chain")
        overall = policy.case_rates(ws, case, scope=WORKING)
        design = round_estimates(ws, case, approved_only=approved_only(WORKING))
        weighted = design["headline"] if design else None
        names = policy.naming(ws, case, scope=WORKING)  # one naming for the checklist and the businesses to ask
        unasked = unasked_ids(ws, case, names=names)
        figures = {"checklist": gate.checklist(ws, case, names=names),
                   "counts": policy.case_counts(ws, case, scope=WORKING),
                   "unasked": {"count": len(unasked),
                               "names": unasked_names(ws, case, unasked, limit=UNASKED_SHOWN) if unasked else []},
                   "weighted": weighted,
                   "rates": sorted(rates, key=lambda r: -(r["rate"] or 0)),
                   "overall": overall[0] if overall else None}
        # Computed at some moment between ``before`` and now: kept only when no turning point
        # lies between them, that is when the span around ``before`` still holds now (else
        # which side of it the figures saw is unknown).
        span = steady_span(ws, case, before)
        if holds_at(span, ws.now()):
            _keep(_KEPT_FIGURES, key, state, span, figures)
        return figures
    finally:
        ws.close()


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if view_name != "row" or table not in ("visits", "cases", "tips", "stores") or request is None:
        return {}

    async def related():
        pk = tilde_decode(request.url_vars.get("pks", ""))
        db = datasette.get_database(database)

        async def rows(sql, params):
            return [dict(r) for r in (await db.execute(sql, params)).rows]

        if table == "stores":
            store = await rows("select * from stores where id = ?", [pk])
            if not store:
                return {}
            root = workspace_root(datasette)
            local = (await db.execute_fn(lambda conn: _local_clock(root))) if root is not None else None
            return {"investigate_store": {
                "store": store[0], "time": local,
                "visits": await rows("select v.id, v.visited_at, v.outcome, v.review_state, v.kind, v.case_id, "
                                     "c.slug as case_slug, (select count(*) from findings f where f.visit_id = v.id) "
                                     "as findings from visits v join cases c on c.id = v.case_id where v.store_id = ? "
                                     "order by v.visited_at desc limit 200", [pk]),
                "replies": await rows("select r.*, c.slug as case_slug from replies r join cases c on c.id = r.case_id "
                                      "where r.store_id = ? order by r.requested_at", [pk]),
            }}
        if table == "tips":
            contact = await rows("select contact from tip_sources where tip_id = ?", [pk])
            return {"investigate_tip": {"contact": contact[0]["contact"] if contact else None}}
        if table == "visits":
            visit = await rows("select v.*, s.name as store_name, c.slug as case_slug from visits v "
                               "join stores s on s.id = v.store_id join cases c on c.id = v.case_id where v.id = ?", [pk])
            if not visit:
                return {}
            root = workspace_root(datasette)
            page = await db.execute_fn(lambda conn: _visit_page(root, pk)) if root is not None else {}
            return {"investigate_visit": {
                "visit": visit[0],
                "page": page,
                "answers": json.loads(visit[0]["answers"] or "{}"),
                "findings": await rows("select * from findings where visit_id = ? order by code", [pk]),
                "promises": await rows("select * from promises where visit_id = ? order by due_at", [pk]),
                "evidence": await rows("select * from evidence where visit_id = ? order by added_at", [pk]),
                "reviews": await rows("select * from reviews where visit_id = ? order by at", [pk]),
                # What the business said about this case: the answer belongs beside the visit.
                "replies": await rows("select * from replies where case_id = ? and store_id = ? order by requested_at",
                                      [visit[0]["case_id"], visit[0]["store_id"]]),
                "evidence_flags": (await db.execute_fn(lambda conn: _evidence_flags(workspace_root(datasette), pk))
                                   if workspace_root(datasette) is not None else []),
            }}
        case = await rows("select * from cases where id = ?", [pk])
        if not case:
            return {}
        from ..cases.replies import REQUEST_ORDER
        story = None
        if (case[0].get("kind") or "") == "story" and workspace_root(datasette) is not None:
            story = await datasette.get_database(database).execute_fn(
                lambda conn: _story_page(workspace_root(datasette), case[0]["id"]))
        return {"investigate_story": story, "investigate_case": {
            "case": case[0],
            # From the case tallies (kept by triggers, a few rows per case): grouping the
            # case's visits was most of the page's own time at 100,000 visits.
            "outcomes": await rows("select outcome, sum(visits) as n from case_tallies where case_id = ? "
                                   "and kind = 'undercover' group by outcome order by n desc, outcome", [pk]),
            # In a worker thread, as Datasette runs its own SQL: the first load after a change
            # names the case (a second at a million visits) without holding up other pages.
            **(await db.execute_fn(lambda conn: _case_figures(datasette, case[0]))),
            "review": await rows("select review_state as state, sum(visits) as n from case_tallies "
                                 "where case_id = ? group by 1", [pk]),
            # The first requests in the CLI's order, and how many there are: a case of 20,000
            # businesses asked rendered 20,000 rows on every load (half a second at 100k visits).
            "replies": await rows("select r.*, s.name as store_name from replies r join stores s on s.id = r.store_id "
                                  f"where r.case_id = ? order by {REQUEST_ORDER} limit ?", [pk, REPLIES_SHOWN]),
            "replies_total": (await rows("select count(*) as n from replies where case_id = ?", [pk]))[0]["n"],
        }}

    return related


def _evidence_flags(root: Path, visit_id: str) -> list[str]:
    """The visit's evidence flags (another day, place or visit), from the same code as
    ``review queue``."""
    from ..cases.evidence import visit_evidence_flags
    from ..store.workspace import Workspace

    with Workspace(root, read_only=True) as ws:
        return visit_evidence_flags(ws, ws.get("visits", visit_id))


def _visit_page(root: Path, visit_id: str) -> dict:
    """The visit as an editor reads it: each answer under its question and each time local,
    in the case's language (English where the protocol has no text in it yet, and saying so),
    from the protocol that judged the visit."""
    from ..errors import MissingTranslation
    from ..protocol.versions import protocol_of_visit
    from ..store.workspace import Workspace
    from ..views.i18n import Formatter, translations

    with Workspace(root, read_only=True) as ws:
        visit = ws.get("visits", visit_id)
        case = ws.get("cases", visit["case_id"])
        protocol = protocol_of_visit(ws, visit)
        lang = case["language"] or ws.language
        try:
            texts = protocol.texts(lang)
        except MissingTranslation:
            texts, lang = protocol.texts("en"), "en"
        fmt = Formatter(lang, ws.setting("newsroom", "timezone", None))
        tz = ws.tz

    def local(value: str | None) -> str:
        """A stored time (with its offset, or UTC) as the workspace's clock shows it."""
        if not value:
            return "–"
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return fmt.day_time((when.astimezone(tz) if when.tzinfo else when.replace(tzinfo=tz)).isoformat())

    _ = translations(lang).gettext
    answers = json.loads(visit["answers"] or "{}")
    kinds = {q.key: q.type for q in protocol.questions}
    shown = []
    for key in [q.key for q in protocol.questions if q.key in answers] + sorted(set(answers) - set(kinds)):
        value, kind = answers[key], kinds.get(key)
        if value is None:
            text = "–"
        elif kind == "bool":
            text = _("yes") if value else _("no")
        elif kind == "choice":
            text = texts.choice(key, value)
        elif kind == "datetime":
            text = local(value)
        elif isinstance(value, dict):
            text = " ".join(str(v) for v in value.values())
        else:
            text = str(value)
        shown.append({"key": key, "question": texts.prompts.get(key, key.replace("_", " ")), "answer": text})
    return {"answers": shown, "language": lang, "asked_in": case["language"] or ws.language,
            "finding_titles": dict(texts.findings),
            "protocol_title": texts.title, "when": local(visit["visited_at"]), "time": local}


def _local_clock(root: Path):
    """A stored time as the workspace's clock shows it, in its language ("05.10.2026, 15:04")."""
    from ..store.workspace import Workspace
    from ..views.i18n import Formatter

    with Workspace(root, read_only=True) as ws:
        fmt, tz = Formatter(ws.language, ws.setting("newsroom", "timezone", None)), ws.tz

    def local(value: str | None) -> str:
        if not value:
            return "–"
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return fmt.day_time((when.astimezone(tz) if when.tzinfo else when.replace(tzinfo=tz)).isoformat())

    return local


def _story_page(root: Path, case_id: str) -> dict:
    """A story case's timeline for the editors, from the same code as the one-case report's
    internal edition: one place for the timeline, its chart and the promise clock."""
    from ..views.story import gather_story
    from ..store.workspace import Workspace

    with Workspace(root, read_only=True) as ws:
        # In the case's own language: the one every story has its title and person in.
        context = gather_story(ws, ws.get("cases", case_id), edition="internal")
    return {k: context[k] for k in ("company", "person", "items", "chart", "promises", "documents", "checks",
                                    "similar", "answers", "outcome")}
