"""Submissions of a form made by `protocol xlsform`, written as ODK Central and KoboToolbox
export them, with their photos: for the import tests and for the README tour's user, who has
ODK Central's download in hand."""

from __future__ import annotations

import csv
from pathlib import Path

from photos import save, shot, street

#: ODK Central's own columns around a form's fields in its CSV export (tests/data/README.md).
CENTRAL_AFTER = ["meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
                 "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
#: Kobo's own columns after a form's fields in its CSV export (";"-separated).
KOBO_AFTER = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
              "__version__", "_tags", "_index"]


def export_of_form(layout: str, fields: list[str], answers: list[dict], folder: Path, *,
                   export: Path | None = None, media: Path | None = None) -> tuple[Path, Path]:
    """Submissions of the form as ODK Central or KoboToolbox exports them: (CSV, media folder).

    Origin: ODK Central's "CSV with media" zip (SubmissionDate first, a geopoint in four -Latitude…
    columns, the image field holding the file's name in media/, then meta-instanceID, KEY and
    Central's columns) and KoboToolbox's CSV export (";", a geopoint as one column plus
    _…_latitude… columns, the photo's _URL column, _uuid and Kobo's columns; its attachments
    download holds one folder per submission, named by its uuid)."""
    media = media or folder / f"media-{layout}"
    header = ["SubmissionDate"] if layout == "odk-central" else []
    for f in fields:
        if f == "visit_location" and layout == "odk-central":
            header += [f"{f}-{part}" for part in ("Latitude", "Longitude", "Altitude", "Accuracy")]
        elif f == "visit_location":
            header += [f] + [f"_{f}_{part}" for part in ("latitude", "longitude", "altitude", "precision")]
        elif f == "visit_photo" and layout == "kobo":
            header += [f, f"{f}_URL"]
        else:
            header.append(f)
    header += CENTRAL_AFTER if layout == "odk-central" else KOBO_AFTER
    rows = []
    for i, given in enumerate(answers):
        uuid = f"00000000-0000-4000-8000-00000000000{i}"
        folder = media / ("" if layout == "odk-central" else f"reporter/attachments/a7Xk/{uuid}")
        folder.mkdir(parents=True, exist_ok=True)
        photo = save(shot(street(100 + i)), folder / f"17600{i}.jpg")
        row = dict.fromkeys(header, "")
        row.update(given, visit_photo=photo.name)
        lat, lon, altitude, accuracy = row["visit_location"].split() if layout == "kobo" else (
            row.pop("visit_location").split())
        if layout == "odk-central":
            row.update({"visit_location-Latitude": lat, "visit_location-Longitude": lon,
                        "visit_location-Altitude": altitude, "visit_location-Accuracy": accuracy})
        else:
            row.update(_visit_location_latitude=lat, _visit_location_longitude=lon,
                       _visit_location_altitude=altitude, _visit_location_precision=accuracy)
        if layout == "odk-central":
            row.update({"SubmissionDate": row["end"], "meta-instanceID": f"uuid:{uuid}", "KEY": f"uuid:{uuid}",
                        "FormVersion": row["form_version"]})
        else:
            row.update(_uuid=uuid, _id=str(4000 + i), _submission_time=row["end"][:19], _index=str(i + 1),
                       visit_photo_URL=f"https://kf.kobotoolbox.org/media/original?media_file=17600{i}.jpg")
        rows.append(row)
    export = export or folder / f"submissions-{layout}.csv"
    with export.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, header, delimiter="," if layout == "odk-central" else ";")
        writer.writeheader()
        writer.writerows(rows)
    return export, media
