"""The editors' home page as a desk, and its "to do" pages: what still needs doing, counted
and paged (``desk.overview``), each row opening the page where it is done.

Registered with the plugin only on the editors' instance. Read-only: the forms on these pages
post to ``publish.decisions``.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils.asgi import Forbidden, Response

from ..cases.cases import get_case
from ..desk.overview import LISTS, desk, todo
from ..errors import InvestigateError
from ..store.workspace import Workspace
from .plugin import workspace_root

TODO_ROUTE = r"^/-/investigate/todo/(?P<what>[a-z]+)$"


async def todo_page(datasette, request):
    root = workspace_root(datasette)
    what = request.url_vars["what"]
    if root is None or what not in LISTS:
        return Response.text("Not found", status=404)
    if not await datasette.permission_allowed(request.actor, "view-instance", default=True):
        return Response.text("Forbidden", status=403)
    page = request.args.get("page") or "1"
    if not page.isdigit():
        return Response.text("page must be a number", status=400)
    slug = request.args.get("case")

    def read(conn):
        with Workspace(root, read_only=True) as ws:
            case = get_case(ws, slug) if slug else None
            return {**todo(ws, what, page=int(page), case=case), "case_slug": case["slug"] if case else None}

    try:
        listed = await datasette.get_database("investigate").execute_fn(read)
    except InvestigateError as ex:
        return Response.text(str(ex), status=404)
    return Response.html(await datasette.render_template(
        "investigate-todo.html", {"todo": listed, "lists": LISTS}, request=request))


async def home_page(datasette, request):
    """The editors' home page: the desk. Ours, not Datasette's index, which checks every
    table's permissions through a deep copy of the metadata per table (some 130 ms a load);
    the tables are one click away, on the database's page."""
    root = workspace_root(datasette)
    if not await datasette.permission_allowed(request.actor, "view-instance", default=True):
        raise Forbidden("view-instance")

    def read(conn):
        with Workspace(root, read_only=True) as ws:
            return desk(ws)

    listed = await datasette.get_database("investigate").execute_fn(read)
    return Response.html(await datasette.render_template(
        "investigate-desk.html", {"investigate_desk": listed, "investigate_lists": LISTS,
                                  "metadata": datasette.metadata()}, request=request))


@hookimpl
def register_routes(datasette):
    if workspace_root(datasette) is None:
        return []
    return [(r"^/$", home_page), (TODO_ROUTE, todo_page)]
