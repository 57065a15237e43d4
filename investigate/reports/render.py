"""Rendering: Jinja templates (autoescaped) through WeasyPrint, with a URL fetcher that serves
only our own files.

A store named ``<img src="file:///etc/passwd">`` is escaped by Jinja and prints as text. And
even markup that did reach WeasyPrint could fetch nothing but files inside the package's
templates and the workspace: ``SafeFetcher`` refuses the network, ``data:`` aside, and every
other path on disk.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

import jinja2
import markupsafe
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetchingError

from ..views.i18n import translations

log = logging.getLogger(__name__)


def templates_root() -> Path:
    """templates/ inside the installed package, or the repository's when run from a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "report").is_dir():
            return candidate
    raise FileNotFoundError("the report templates are missing from this installation")


class SafeFetcher(URLFetcher):
    """Serves ``file:`` URLs under the allowed folders and ``data:`` URLs; refuses the rest."""

    def __init__(self, allowed: list[Path], **kwargs):
        super().__init__(allowed_protocols={"file", "data"}, **kwargs)
        self.allowed = [Path(p).resolve() for p in allowed]
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if parsed.scheme == "data":
            return super().fetch(url, headers)
        if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
            path = Path(unquote(parsed.path)).resolve()
            if any(path == root or root in path.parents for root in self.allowed) and path.is_file():
                return super().fetch(url, headers)
        self.refused.append(url)
        raise URLFetchingError(f"refused to fetch {url}: only the report's own files may be read")


#: A word longer than this is printed in pieces of as many characters (measured: issue 31, in
#: docs/design.md).
LONG_WORD = 64
_LONG_WORD = re.compile(r"\S{%d,}" % (LONG_WORD + 1))


def breakable(value):
    """``value`` as a template prints it, with a ``<wbr>`` after every LONG_WORD characters of
    a longer word (issue 31). WeasyPrint measures a table cell's narrowest width by splitting its
    text where it may break and laying out the rest again after every split; a word with no
    space it laid out again once per character: a store named by 10,000 characters took 400 s,
    and what overflowed the page was lost. ``<wbr>`` (HTML's word-break opportunity) ends a text
    box and may end a line there, so each piece is laid out alone: the cost grows with the length,
    not its square, and the word wraps inside its cell. No character is added to the text (a
    zero-width space would have been, and kept the cost quadratic), so copying or extracting it
    gives the word back; a SHA-256 (64 characters) is never cut. Markup (already HTML) is left
    as it is."""
    if not isinstance(value, str) or isinstance(value, markupsafe.Markup) or not _LONG_WORD.search(value):
        return value
    parts, last = [], 0
    for word in _LONG_WORD.finditer(value):
        text = word.group()
        parts += [markupsafe.escape(value[last:word.start()]),
                  markupsafe.Markup("<wbr>").join(text[i:i + LONG_WORD] for i in range(0, len(text), LONG_WORD))]
        last = word.end()
    parts.append(markupsafe.escape(value[last:]))
    return markupsafe.Markup("").join(parts)


def environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_root() / "report")),
        autoescape=True,
        finalize=breakable,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)
    return env


def render_pdf(template: str, context: dict, *, workspace_root: Path, out: Path | None = None,
               fetcher: SafeFetcher | None = None, attachments: dict[str, str] | None = None,
               annex: Iterable[tuple[str, dict]] = (), progress: Callable[[int], object] | None = None) -> bytes:
    """Render ``template`` with ``context`` to PDF bytes (and to ``out`` when given).
    ``attachments`` (file name → text) are embedded in the PDF: the log checkpoint travels
    inside the file, where 'investigate verify --against' finds it.

    ``annex`` yields further (template, context) pairs, each laid out and written as a PDF of
    its own, whose pages pypdf appends, in order, to the first. WeasyPrint holds a document's
    whole box tree, every element's computed style and every line's Pango layout, until the
    document is written (about 1 MB a page of a long table): a report listing 10,000 visits in
    one document peaked at 1.1 GB; its pages laid out a thousand visits at a time and joined
    with WeasyPrint's ``Document.copy`` at 0.68 GB, since the joined document held every part's
    pages; each part written before the next is laid out, at 0.34 GB (issue 30). A part's
    context is asked for only when the part before it is written. ``progress(1)`` is called as
    each document (the report, then each part) is written."""
    root = templates_root()
    fetcher = fetcher or SafeFetcher([root, workspace_root])
    env = environment(context["lang"])
    from weasyprint import Attachment

    files = [Attachment(string=text, name=name, base_url=str(root)) for name, text in (attachments or {}).items()]

    def written(name: str, values: dict, **options) -> bytes:
        html = env.get_template(name).render(**values)
        document = HTML(string=html, base_url=str(root / "report") + "/", url_fetcher=fetcher).render()
        pdf = document.write_pdf(pdf_variant=None, uncompressed_pdf=False, **options)
        if progress:
            progress(1)
        return pdf

    pdf, writer = written(template, context, attachments=files), None
    for name, values in annex:
        if writer is None:
            from pypdf import PdfReader, PdfWriter

            # The report's own file is the base: its metadata, outline and attachments (the
            # checkpoint) stay as WeasyPrint wrote them; each part brings its pages and bookmarks.
            writer = PdfWriter(clone_from=io.BytesIO(pdf))
        writer.append(PdfReader(io.BytesIO(written(name, values))))
    if writer is not None:
        joined = io.BytesIO()
        writer.write(joined)
        pdf = joined.getvalue()
    if out is not None:
        Path(out).write_bytes(pdf)
    return pdf
