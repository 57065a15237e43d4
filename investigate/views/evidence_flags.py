"""An evidence file's flags in the words of an output's language: the reply letter and the
custodian's statement say what a photo cannot show (no capture time, location removed, no
location) and where it is off (time, distance), as ``cases.evidence.evidence_flag_facts``
finds it — the same facts the review queue and the editors' pages show in English."""

from __future__ import annotations

from ..cases.evidence import evidence_flag_facts
from ..store.workspace import Workspace


def flag_texts(ws: Workspace, item: dict, visit: dict, *, gettext, fmt) -> list[str]:
    """``item``: an evidence row (sha256, media_type, captured_at, gps_lat, gps_lon);
    ``visit``: id, visited_at, store_id. Another visit holding the same file is said without
    its id: the reader of a letter or statement has no use for our internal ids."""
    _ = gettext
    out = []
    for fact in evidence_flag_facts(ws, item, visit):
        kind = fact["kind"]
        if kind == "time_apart":
            hours = fact["hours"]
            apart = (_("%(n)s hours") % {"n": fmt.num(round(hours, 1))} if hours < 48
                     else _("%(n)s days") % {"n": fmt.num(round(hours / 24, 1))})
            out.append((_("taken %(apart)s before the visit") if fact["before"]
                        else _("taken %(apart)s after the visit")) % {"apart": apart})
        elif kind == "far":
            metres = fact["metres"]
            distance = f"{fmt.num(round(metres))} m" if metres < 10_000 else f"{fmt.num(round(metres / 1000, 1))} km"
            out.append(_("taken %(distance)s from the store") % {"distance": distance})
        elif kind == "same_file":
            out.append(_("the same file belongs to another visit too"))
        elif kind == "possibly_reused":
            out.append(_("possibly reused: looks like the photo of another visit"))
        elif kind == "credentials_failed":
            out.append(_("its Content Credentials (C2PA) do not verify"))
        else:
            out.append({"no_capture_time": _("no capture time"), "location_removed": _("location removed (0/0)"),
                        "no_location": _("no location")}[kind])
    return out
