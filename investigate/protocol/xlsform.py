"""A protocol as a phone form: the XLSForm that ODK Collect and KoboCollect fill in offline.

Testers carry a phone, not a laptop. The form asks the protocol's questions with the labels
of each language the protocol is written in (``label::Deutsch (de)``), the same choices,
required answers and n/a, and the fields a visit needs besides: store, tester code, observer,
attempt, start and end time, a GPS position and a photo. Only an attempt made asks the
questions (``relevant``), as ``visit record`` asks nothing of a shop found closed.

The form's version is the protocol's version and the start of its content hash, and a hidden
``form_version`` field carries it into every submission: ``import kobo`` knows such an export
by that field, needs no ``--map``, and refuses a submission made with another version of the
rules (``formats/kobo.py``). The form holds no person: tester codes are typed, never listed.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ProtocolError
from ..files.atomic import write_csv
from ..files.workbook import write_workbook
from ..vocabulary import ATTEMPT_STATUSES
from .model import Protocol
from .values import NA

#: The language columns of a form, as ODK Collect shows a language's name.
FORM_LANGUAGES = {"en": "English (en)", "de": "Deutsch (de)", "da": "Dansk (da)"}

#: The form's own fields besides the protocol's questions (their names are what the importer reads).
VERSION_FIELD = "form_version"
LOCATION_FIELD = "visit_location"
PHOTO_FIELD = "visit_photo"
OWN_FIELDS = ("start", "end", "store", "tester", "observer", "attempt", LOCATION_FIELD, PHOTO_FIELD, "notes",
              VERSION_FIELD)

#: A protocol question type → its XLSForm type ("{key}" is the question's own choice list).
XLSFORM_TYPES = {
    "bool": "select_one yes_no", "choice": "select_one {key}", "int": "integer", "number": "decimal",
    "text": "text", "date": "date", "datetime": "dateTime", "duration": "decimal", "money": "text",
    "rating": "integer",
}
#: Only a select can offer "n/a" beside its answers; a number field cannot hold the word.
NA_TYPES = ("bool", "choice")
#: An amount with its currency, as ``Question.parse`` reads it (``values.MONEY``).
MONEY_CONSTRAINT = r"regex(., '^ *([A-Za-z]{3} *)?-?[0-9]+([.,][0-9]{1,2})? *([A-Za-z]{3})? *$')"

#: The form's own words in each language (its fields besides the questions, yes/no, attempts).
WORDS_FILE = Path(__file__).with_name("xlsform_words.toml")


def _words() -> dict[str, dict]:
    import tomllib

    return tomllib.loads(WORDS_FILE.read_text(encoding="utf-8"))


MADE = "${attempt} = 'completed'"


def form_version(protocol: Protocol) -> str:
    """The version a form of this protocol carries: its version and content hash, so that a
    submission names the very rules its questions were asked under."""
    return f"{protocol.version}-{protocol.content_hash[:12]}"


def form_id(protocol: Protocol) -> str:
    return "investigate_" + protocol.key.replace("-", "_")


def unmappable_questions(protocol: Protocol) -> list[str]:
    """Questions a phone form cannot ask as the protocol means them: a type without an
    XLSForm equivalent, or n/a allowed on a field that can only hold a number or a date."""
    out = []
    for q in protocol.questions:
        if q.type not in XLSFORM_TYPES:
            out.append(f"{q.key} ({q.type})")
        elif q.na and q.type not in NA_TYPES:
            out.append(f"{q.key} ({q.type} with n/a)")
    return out


def _check(protocol: Protocol, langs: list[str]) -> None:
    unknown = [lang for lang in langs if lang not in FORM_LANGUAGES]
    if unknown or not langs:
        raise ProtocolError(f"--lang {','.join(unknown) or '(none)'}: a form is written in "
                            f"{', '.join(FORM_LANGUAGES)}")
    bad = unmappable_questions(protocol)
    if bad:
        raise ProtocolError(f"protocol {protocol.key}: no XLSForm equivalent for {', '.join(bad)}")
    clash = [q.key for q in protocol.questions if q.key in OWN_FIELDS or q.key in ("yes_no", "attempt_status", "stores")]
    if clash:
        raise ProtocolError(f"protocol {protocol.key}: question {', '.join(clash)} has the name of a form field "
                            f"of its own ({', '.join(OWN_FIELDS)})")


def _labels(texts: dict[str, str], column: str = "label") -> dict[str, str]:
    return {f"{column}::{FORM_LANGUAGES[lang]}": text for lang, text in texts.items()}


def xlsform_sheets(protocol: Protocol, langs: list[str], *, stores: list[dict] | None = None,
                   stores_file: str | None = None) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    """The survey, choices and settings sheets of the protocol's form, and each sheet's columns.
    ``stores`` (id, name, address) make the store a choice from that list; without, it is typed.
    With ``stores_file`` (a CSV's name) the list is that file (``select_one_from_file``), which
    a form server keeps beside the form: a city's thousands of shops stay out of the form."""
    _check(protocol, langs)
    texts = {lang: protocol.texts(lang) for lang in langs}
    every = _words()
    words = {lang: every[lang] for lang in langs}

    def said(key: str) -> dict[str, str]:
        return _labels({lang: w[key] for lang, w in words.items()})

    survey = [{"type": "start", "name": "start"}, {"type": "end", "name": "end"}]
    if stores is not None and stores_file:
        survey.append({"type": f"select_one_from_file {stores_file}", "name": "store", **said("store"),
                       "required": "yes", "appearance": "autocomplete"})
    elif stores:
        survey.append({"type": "select_one stores", "name": "store", **said("store"), "required": "yes",
                       "appearance": "autocomplete"})
    else:
        survey.append({"type": "text", "name": "store", **said("store"), "required": "yes",
                       **_labels({lang: w["store_hint"] for lang, w in words.items()}, "hint")})
    if protocol.uses_testers:
        survey.append({"type": "text", "name": "tester", **said("tester"), "required": "yes"})
    survey.append({"type": "text", "name": "observer", **said("observer"),
                   "required": "yes" if protocol.observer_required else "", "relevant": MADE})
    survey.append({"type": "select_one attempt_status", "name": "attempt", **said("attempt"), "required": "yes"})
    choices = [{"list_name": "attempt_status", "name": status,
                **_labels({lang: w["attempts"][status] for lang, w in words.items()})} for status in ATTEMPT_STATUSES]
    lists_made = set()
    for q in protocol.questions:
        kind = XLSFORM_TYPES[q.type].format(key=q.key)
        row = {"type": kind, "name": q.key, **_labels({lang: t.prompts[q.key] for lang, t in texts.items()}),
               "required": "yes" if q.required else "", "relevant": MADE}
        if q.type == "bool":
            row["type"] = "select_one yes_no_na" if q.na else "select_one yes_no"
            for name in ("yes", "no") + ((NA,) if q.na else ()):
                list_name = row["type"].split()[1]
                if (list_name, name) not in lists_made:
                    lists_made.add((list_name, name))
                    choices.append({"list_name": list_name, "name": "na" if name == NA else name, **said(name)})
        elif q.type == "choice":
            for c in q.choices:
                choices.append({"list_name": q.key, "name": c,
                                **_labels({lang: t.choice(q.key, c) for lang, t in texts.items()})})
            if q.na:
                choices.append({"list_name": q.key, "name": "na", **said(NA)})
        if q.type in ("int", "number", "rating") and (q.min is not None or q.max is not None):
            row["constraint"] = " and ".join(x for x in (q.min is not None and f". >= {q.min:g}",
                                                          q.max is not None and f". <= {q.max:g}") if x)
        if q.type == "duration":
            row.update(_labels({lang: w["minutes"] for lang, w in words.items()}, "hint"), constraint=". >= 0")
        if q.type == "money":
            row.update(_labels({lang: w["money"] for lang, w in words.items()}, "hint"), constraint=MONEY_CONSTRAINT)
        survey.append(row)
    survey += [
        {"type": "geopoint", "name": LOCATION_FIELD, **said(LOCATION_FIELD), "relevant": MADE},
        {"type": "image", "name": PHOTO_FIELD, **said(PHOTO_FIELD), "relevant": MADE},
        {"type": "text", "name": "notes", **said("notes")},
        {"type": "calculate", "name": VERSION_FIELD, "calculation": f"'{form_version(protocol)}'"},
    ]
    if not stores_file:
        choices += [{"list_name": "stores", "name": row["name"], **_labels({lang: row["label"] for lang in langs})}
                    for row in store_choices(stores or ())]
    settings = [{"form_title": texts[langs[0]].title, "form_id": form_id(protocol), "version": form_version(protocol),
                 "default_language": FORM_LANGUAGES[langs[0]]}]
    label_columns = [f"{c}::{FORM_LANGUAGES[lang]}" for c in ("label", "hint") for lang in langs]
    columns = {
        "survey": ["type", "name", *label_columns, "required", "relevant", "constraint", "calculation", "appearance"],
        "choices": ["list_name", "name", *[c for c in label_columns if c.startswith("label")]],
        "settings": ["form_title", "form_id", "version", "default_language"],
    }
    return {"survey": survey, "choices": choices, "settings": settings}, columns


def store_choices(stores: list[dict]) -> list[dict]:
    """Each store as a choice: its id (what ``import kobo`` finds it by) and a label a tester
    knows it by (name, address, city)."""
    return [{"name": s["id"], "label": ", ".join(x for x in (s.get("name"), s.get("address"), s.get("city")) if x)}
            for s in stores]


def check_xlsform(path: Path, protocol: Protocol) -> list[str]:
    """Convert the form to an XForm with pyxform, as ODK Central and KoboToolbox do on upload:
    a form they would refuse is an error here, not on a reporter's phone. Returns pyxform's
    warnings (it suggests ``max-pixels`` for the photo: left out on purpose, since a phone that
    shrinks the photo also strips its signed Content Credentials)."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    try:
        convert(xlsform=str(path), warnings=warnings, file_type=".xlsx")
    except PyXFormError as ex:
        raise ProtocolError(f"protocol {protocol.key}: the form does not convert: {ex}")
    return warnings


def write_xlsform(protocol: Protocol, path: Path | str, langs: list[str], *,
                  stores: list[dict] | None = None, stores_file: bool = False) -> dict:
    """Write the protocol's form to ``path`` (.xlsx); what was written, as plain values. With
    ``stores_file`` the stores go to ``stores.csv`` beside it (upload both to the server)."""
    csv_name = "stores.csv" if stores_file and stores is not None else None
    sheets, columns = xlsform_sheets(protocol, langs, stores=stores, stores_file=csv_name)
    written = write_workbook(path, sheets, columns, check=lambda tmp: check_xlsform(tmp, protocol))
    if csv_name:
        write_csv(Path(path).with_name(csv_name), ["name", "label"], store_choices(stores))
    return {"protocol": protocol.key, "form_id": form_id(protocol), "version": form_version(protocol),
            "languages": langs, "questions": len(protocol.questions), "stores": len(stores or ()),
            "file": str(written), "stores_file": str(Path(path).with_name(csv_name)) if csv_name else None}
