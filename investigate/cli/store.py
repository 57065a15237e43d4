"""``investigate store``: businesses, hotlines and e-mail addresses that are tested."""

from __future__ import annotations

import click

from ..ids import short
from ..cases import stores
from ..cases.cases import get_case
from ..vocabulary import STORE_CHANNELS
from . import LazyGroup
from .util import echo, echo_json, echo_result, json_option, pass_workspace, short_ids


@click.group(cls=LazyGroup, lazy_commands={
    "import": "investigate.cli.imports:store_import",
    "geocode": "investigate.cli.geo:geocode",
})
def store():
    """Stores: a business location, or a hotline or e-mail address."""


def store_field_options(f):
    """The store's own fields as options, the same for ``store add`` and ``store edit``."""
    for option in reversed([
        click.option("--address"), click.option("--postcode"), click.option("--city"),
        click.option("--district", help="District or neighbourhood, for stratified samples and stats."),
        click.option("--state"), click.option("--country"),
        click.option("--chain", help="Chain or brand, e.g. Späti24."),
        click.option("--licence-number", help="Licence or registration number (the best key for imports)."),
        click.option("--contact", help="Phone number, e-mail or URL for a channel other than in person."),
        click.option("--lat", type=float), click.option("--lon", type=float),
    ]):
        f = option(f)
    return f


@store.command("add")
@click.argument("name")
@store_field_options
@click.option("--channel", type=click.Choice(STORE_CHANNELS), default="in_person", show_default=True)
@click.option("--case", "case_ref", help="Also add the store to this case's frame.")
@json_option
@pass_workspace
def store_add(ws, name, case_ref, as_json, **fields):
    """Add a store called NAME."""
    with ws.transaction():
        row = stores.add_store(ws, name=name, **fields)
        if case_ref:
            stores.add_to_frame(ws, get_case(ws, case_ref), [row])
    if as_json:
        echo_json(row)
    else:
        echo(f"Added store {row['name']} ({short(row['id'])}).")


@store.command("list")
@click.option("--case", "case_ref", help="Stores in this case's frame or visited in it.")
@click.option("--chain")
@click.option("--search", help="Part of the name or address.")
@click.option("--limit", type=int)
@json_option
@pass_workspace
def store_list(ws, case_ref, chain, search, limit, as_json):
    """List stores."""
    case = get_case(ws, case_ref) if case_ref else None
    rows = stores.list_stores(ws, case=case, chain=chain, search=search, limit=limit)
    if as_json:
        echo_json(rows)
    else:
        echo_result(short_ids(rows), columns=["id", "name", "chain", "address", "city", "district",
                                              "licence_number", "lat", "lon"], empty="No stores.",
                    optional=["lon", "lat", "city", "district", "chain"])


@store.command("show")
@click.argument("store_ref", metavar="STORE")
@json_option
@pass_workspace
def store_show(ws, store_ref, as_json):
    """Show a store and every visit to it."""
    row = stores.get_store(ws, store_ref)
    history = stores.store_history(ws, row)
    if as_json:
        echo_json({"store": row, "visits": history})
        return
    echo_result({k: v for k, v in row.items() if v is not None and k != "name_key"})
    echo("")
    echo_result(short_ids(history), columns=["id", "visited_at", "case_slug", "kind", "outcome"],
                title="Visits:", empty="No visits yet.")


@store.command("edit")
@click.argument("store_ref", metavar="STORE")
@click.option("--name")
@store_field_options
@click.option("--reason", help="Why (kept in the audit log; default: store edit).")
@json_option
@pass_workspace
def store_edit(ws, store_ref, reason, as_json, **fields):
    """Correct a store's fields; an empty value ("") clears one.

    STORE is an id prefix or licence number. Audited: the old values stay in the log.
    Imports recognise the store by its new name and address from then on."""
    given = {k: v for k, v in fields.items() if v is not None}
    row = stores.edit_store(ws, stores.get_store(ws, store_ref), reason=reason, **given)
    echo_json(row) if as_json else echo(f"Edited store {row['name']} ({short(row['id'])}): "
                                        f"{', '.join(sorted(given)) or 'nothing'} changed.")

