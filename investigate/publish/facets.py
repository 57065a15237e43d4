"""Facets counted from the visit tallies: what the editors' ``visit_list`` page shows first.

A Datasette column facet groups every row the page's filters let through. On ``visit_list``
each row names its case and chain by a lookup (``schema.visit_list``), so the case and chain
facets looked up every visit on every load: at a million visits each ran into the 500 ms
facet limit and came back empty. The same counts are kept per case, store, kind, outcome and
review state by triggers (``visit_tallies``, tens of thousands of rows for a million visits).

``TallyFacet`` (metadata ``{"tally": "chain"}``) answers from those tallies whenever the page's
filters are ones the tallies can answer too: equality on a column the tallies hold or name.
Any other filter (a comparison, ``_where``, a search, a column they cannot name) and it counts
the rows as Datasette's column facet does, so the figures are always those of the rows shown.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import ColumnFacet
from datasette.utils import path_with_added_args, path_with_removed_args

#: Per view, each column it can be counted by: the tally key it is found through (looked up in
#: ``LOOKUPS``) or None for a column of the tallies themselves, and its value as SQL — the same
#: value the view shows for the visits a tally row counts.
TALLIED_VIEWS = {
    "visit_list": {
        "case_slug": ("case_id", "c.slug"),
        "store": ("store_id", "s.name"),
        "chain": ("store_id", "coalesce(s.chain, '(independent)')"),
        "district": ("store_id", "s.district"),
        "kind": (None, "t.kind"),
        "outcome": (None, "t.outcome"),
        # The tallies count a visit not yet reviewed as 'received', as the view shows it.
        "review_state": (None, "t.review_state"),
    },
}
#: Each key: the table it is looked up in, and that table's alias in the values above.
LOOKUPS = {"case_id": ("cases", "c"), "store_id": ("stores", "s")}
#: Each key with the columns before it in the tallies' primary key (case, kind, store, …):
#: grouped so, the tallies are summed in the order they are stored, without sorting.
KEY_ORDER = {"case_id": "t.case_id", "store_id": "t.case_id, t.kind, t.store_id"}
#: The visits counted per case, kind, outcome and review state (a few rows a case), and the
#: same per store too (tens of thousands at a million visits): a page reads the first unless a
#: filter or the facet needs the store.
CASE_TALLIES, STORE_TALLIES = "case_tallies", "visit_tallies"

#: Query-string arguments that change how rows are shown, never which rows: the tallies still
#: answer a page that has them. Anything else beginning with "_" (``_where``, ``_search``,
#: ``_through``, …) filters rows in ways the tallies do not hold.
KEEP_ROWS = {"_sort", "_sort_desc", "_size", "_next", "_facet", "_facet_size", "_facet_array", "_facet_date",
             "_facet_tally", "_labels", "_nolabels", "_shape", "_col", "_nocol", "_json", "_nl", "_trace",
             "_extra", "_nocount", "_nofacet", "_timelimit", "_ttl", "_hide_sql", "_show_sql"}


def tally_filters(pairs: list[tuple[str, str]], columns: dict) -> list[tuple[str, str]] | None:
    """The page's filters as (column, value) pairs of equality, or None when the tallies
    cannot answer them.

    ``pairs`` are the query string's (key, value) pairs; Datasette reads ``col=v`` and
    ``col__exact=v`` as equality, every other ``col__op`` as something else."""
    filters = []
    for key, value in pairs:
        if key.startswith("_"):
            if key in KEEP_ROWS:
                continue
            return None
        column, _, op = key.partition("__")
        if op not in ("", "exact") or column not in columns:
            return None
        filters.append((column, value))
    return filters


def tally_sql(column: str, filters: list[tuple[str, str]], columns: dict, limit: int) -> tuple[str, list[str]]:
    """The SQL counting the visits per value of ``column`` that pass ``filters``, from the
    smallest tallies that hold them. A filter on a looked-up column reads the tallies' key
    (``t.case_id in (…)``, the first column of both tallies' primary key); a looked-up value is
    looked up once per key, the tallies summed per key first in their primary key's order
    (a store has a dozen tally rows at a million visits: 45 ms instead of 60 for the chains)."""
    keys = {columns[c][0] for c in [column, *(c for c, _ in filters)]}
    table = STORE_TALLIES if "store_id" in keys else CASE_TALLIES
    conditions = []
    for name, _ in filters:
        key, value = columns[name]
        if key:
            looked_up, alias = LOOKUPS[key]
            conditions.append(f"t.{key} in (select {alias}.id from {looked_up} {alias} where {value} = ?)")
        else:
            conditions.append(f"{value} = ?")
    where = f"where {' and '.join(conditions)}" if conditions else ""
    key, value = columns[column]
    if key:
        looked_up, alias = LOOKUPS[key]
        source = (f"(select t.{key}, sum(t.visits) as visits from {table} t {where} group by {KEY_ORDER[key]}) t "
                  f"left join {looked_up} {alias} on {alias}.id = t.{key}")
    else:
        source = f"{table} t {where}"
    return (f"select {value} as value, sum(t.visits) as count from {source} group by value "
            f"having value is not null order by count desc, value limit {limit}"), [v for _, v in filters]


class TallyFacet(ColumnFacet):
    """A column facet of a tallied view, counted from its tallies where the filters allow."""

    type = "tally"

    async def suggest(self):
        return []  # the column facet suggests; suggesting twice would probe every column twice

    async def facet_results(self):
        columns = TALLIED_VIEWS.get(self.table)
        pairs = self.get_querystring_pairs()
        filters = tally_filters(pairs, columns) if columns else None
        configs = self.get_configs()
        if filters is None or any(self._column(c) not in columns for c in configs):
            return await super().facet_results()  # counted over the rows, as Datasette does
        size = self.get_facet_size()
        results, timed_out = [], []
        for config in configs:
            column = self._column(config)
            sql, params = tally_sql(column, filters, columns, size + 1)
            try:
                rows = await self.ds.execute(self.database, sql, params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append(column)
                continue
            results.append({
                # Shown as what it is to a reader, a column facet (Datasette labels other types).
                "name": column, "type": "column", "hideable": config["source"] != "metadata",
                "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet_tally": column})),
                "results": [self._value(column, row["value"], row["count"], pairs) for row in rows.rows[:size]],
                "truncated": len(rows) > size,
            })
        return results, timed_out

    @staticmethod
    def _column(config: dict) -> str:
        return config["config"].get("column") or config["config"]["simple"]

    def _value(self, column: str, value, count: int, pairs) -> dict:
        """One facet value with the link that adds or removes it, as Datasette's column facet
        spells it (a view has no foreign keys, so its label is the value)."""
        selected = (column, str(value)) in pairs
        toggle = (path_with_removed_args(self.request, {column: str(value)}) if selected
                  else path_with_added_args(self.request, {column: value}))
        return {"value": value, "label": value, "count": count, "selected": selected,
                "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle))}


@hookimpl
def register_facet_classes():
    return [TallyFacet]
