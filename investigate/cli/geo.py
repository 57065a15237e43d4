"""``store geocode`` and ``near``: where the stores are, and what is near them."""

from __future__ import annotations

import click

from ..cases.cases import get_case
from ..cases.geo import (PROVIDERS, count_placed, geocode_stores, geocoder_settings, stores_near,
                         stores_to_geocode)
from .util import echo, echo_json, echo_result, json_option, pass_workspace, progress
from .types import RadiusType


@click.command()
@click.option("--case", "case_ref", help="Only the stores of this case.")
@click.option("--provider", type=click.Choice(tuple(PROVIDERS)), help="Default: [geocoder] provider in investigate.toml.")
@click.option("--domain", help="HOST[:PORT] of the geocoder, e.g. a newsroom's own Nominatim.")
@click.option("--scheme", type=click.Choice(["http", "https"]))
@click.option("--user-agent", help="Who is asking, e.g. 'Kiezblatt (data@kiezblatt.de)' (default: [geocoder] user_agent).")
@click.option("--min-delay", type=float, help="Seconds between requests (default 1, the public Nominatim policy).")
@click.option("--timeout", type=float, help="Seconds to wait for an answer (default 10).")
@json_option
@pass_workspace
def geocode(ws, case_ref, provider, domain, scheme, user_agent, min_delay, timeout, as_json):
    """Fill in coordinates for stores without any, through geopy. Every answer is cached, so an
    address is never asked twice; Ctrl-C or a network failure keeps what was done. Typed or
    EXIF coordinates are never overwritten."""
    case = get_case(ws, case_ref) if case_ref else None
    settings = geocoder_settings(ws, provider=provider, domain=domain, scheme=scheme, user_agent=user_agent,
                                 min_delay=min_delay, timeout=timeout)
    with progress(len(stores_to_geocode(ws, case)), "Geocoding stores") as bar:
        counts = geocode_stores(ws, case=case, progress=bar.update, **settings)
    if as_json:
        echo_json(counts)
    else:
        echo(f"{counts['stores']} stores: {counts['found']} placed, {counts['not_found']} not found, "
                   f"{counts['no_address']} without address; {counts['requests']} requests, "
                   f"{counts['from_cache']} answers from the cache.")


@click.command()
@click.argument("places", metavar="PLACES.csv", type=click.Path(dir_okay=False))
@click.option("--radius", type=RadiusType(), required=True, help="E.g. 200m or 1.5km.")
@click.option("--case", "case_ref", help="Only the stores of this case (results kept per case).")
@click.option("--include-approximate", is_flag=True,
              help="Also stores placed only to a street, postcode or town (marked ≈).")
@json_option
@pass_workspace
def near(ws, places, radius, case_ref, include_approximate, as_json):
    """Every store within RADIUS of a place in PLACES.csv.

    PLACES.csv has the columns name, kind, lat, lon. Each store gets the nearest place and the
    geodesic distance, saved to near_results for Datasette and the report."""
    case = get_case(ws, case_ref) if case_ref else None
    # The same stores stores_near measures, so that the bar ends at 100 %.
    with progress(count_placed(ws, case), "Measuring distances") as bar:
        result = stores_near(ws, places, radius_m=radius, case=case, progress=bar.update,
                             include_approximate=include_approximate)
    if as_json:
        echo_json(result)
        return
    echo(f"{result['stores_near']} of {result['stores_checked']} stores are within {radius:g} m of one of "
               f"{result['places']} places.")
    if result["not_checked"]:
        shown = result["not_checked_stores"]
        names = ", ".join(s["name"] for s in shown) + (", …" if result["not_checked"] > len(shown) else "")
        echo(f"{result['not_checked']} store(s) without coordinates were not checked: {names}. Place them with "
             f"`investigate store geocode{' --case ' + case['slug'] if case else ''}` and run near again.", err=True)
    if result["approximate_excluded"]:
        echo(f"{result['approximate_excluded']} more store(s) placed only to a street, postcode or town are within "
             "the radius too and are left out (see them with --include-approximate).")
    names = {r["id"]: r["name"] for r in ws.db.query("select id, name from stores")}
    echo_result([{"store": names[r["store_id"]], "nearest": r["place"], "kind": r["kind"],
                  "metres": ("≈ " if r["approximate"] else "") + f"{r['distance_m']:g}"}
                 for r in sorted(result["results"], key=lambda r: r["distance_m"])], empty="")
