"""A story's documents as they are handed in: what an e-mail, a PDF, an image or a text file
tells without being changed (``read_document``), and that reading split into what may travel
with the story and what is the person's source material (``source_material``)."""

from __future__ import annotations

import email
import email.policy
import mimetypes
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

from ..errors import InvalidInput
from ..files.nesting import TooDeep, check_mime_nesting
from .evidence import read_exif


def read_document(path: Path) -> dict:
    """What a document tells without changing it: an e-mail's date, sender, subject and body
    text; a PDF's text (for search); an image's capture time. An unreadable file is a one-line
    error naming it."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as ex:
        raise InvalidInput(f"{path}: cannot be read ({ex.strerror})")
    suffix = path.suffix.lower()
    media_type = "message/rfc822" if suffix == ".eml" else (mimetypes.guess_type(path.name)[0]
                                                            or "application/octet-stream")
    out = {"media_type": media_type, "sent_at": None, "sender": None, "recipients": None, "subject": None,
           "text": None}
    if suffix == ".eml":
        try:
            check_mime_nesting(data)
        except TooDeep as ex:
            raise InvalidInput(f"{path}: not a readable e-mail ({ex})")
        msg = email.message_from_bytes(data, policy=email.policy.default)
        if not (msg.get("From") or msg.get("Date")):
            raise InvalidInput(f"{path}: not a readable e-mail (no From or Date header)")
        try:
            if msg.get("Date"):
                out["sent_at"] = parsedate_to_datetime(str(msg["Date"])).isoformat()
        except (TypeError, ValueError):
            raise InvalidInput(f"{path}: the e-mail's Date header {str(msg['Date'])!r} is not a date")
        out["sender"] = str(msg.get("From") or "") or None
        out["recipients"] = ", ".join(str(msg[h]) for h in ("To", "Cc") if msg.get(h)) or None
        out["subject"] = str(msg.get("Subject") or "") or None
        body = msg.get_body(preferencelist=("plain", "html"))
        try:
            out["text"] = body.get_content().strip() if body is not None else None
        except (LookupError, ValueError):
            out["text"] = None
    elif suffix == ".pdf" or data[:5] == b"%PDF-":
        from pypdf import PdfReader

        out["media_type"] = "application/pdf"
        if not data.lstrip()[:5] == b"%PDF-":
            raise InvalidInput(f"{path}: not a readable PDF (no PDF header)")
        import io
        import logging

        quiet = logging.getLogger("pypdf")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # its warnings would print beside our one line
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise InvalidInput(f"{path}: the PDF is encrypted; ask the person for an open copy")
            out["text"] = "\n".join((page.extract_text() or "") for page in reader.pages).strip() or None
        except InvalidInput:
            raise
        except Exception as ex:  # pypdf raises many kinds for broken files
            raise InvalidInput(f"{path}: not a readable PDF ({type(ex).__name__})")
        finally:
            quiet.setLevel(level)
    elif media_type.startswith("image/"):
        try:
            from PIL import Image

            with Image.open(path) as img:
                img.verify()
        except Exception:
            raise InvalidInput(f"{path}: not a readable image")
        out["sent_at"] = read_exif(path).get("captured_at")
    elif media_type.startswith("text/"):
        try:
            out["text"] = data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise InvalidInput(f"{path}: not UTF-8 text")
    return out


#: What in a person's document reaches someone: e-mail addresses, and phone numbers (a plus or
#: a leading zero, then at least seven digits, spaces, slashes or dashes between them).
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+|0)\d[\d /-]{5,}\d")


def source_material(document: dict) -> tuple[dict, dict]:
    """A read document split in two: what may travel with the story (its kind, date, subject,
    and its text with every e-mail address and phone number replaced by a mark) and the source
    material (``story_document_sources``): sender, recipients, and the addresses and numbers
    found in the headers and the text, one a line."""
    text = document.get("text")
    found: list[str] = []
    for value in (document.get("sender"), document.get("recipients"), text):
        for pattern in (_EMAIL, _PHONE):
            found += [m.strip() for m in pattern.findall(value or "") if m.strip() not in found]
    if text:
        text = _PHONE.sub("[phone]", _EMAIL.sub("[e-mail]", text))
    public = {**document, "sender": None, "recipients": None, "text": text}
    private = {"sender": document.get("sender"), "recipients": document.get("recipients"),
               "found": "\n".join(found) or None}
    return public, private


__all__ = ["read_document", "source_material"]
