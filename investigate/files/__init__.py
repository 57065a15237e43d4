"""Reading tables that other people wrote: the layer below the domain.

Official exports, phone-form downloads, registries and sample frames arrive as CSV files in
whatever shape their agency chose. Everything about *reading* them lives here — encoding and
delimiter detection, finding the header row under a title preamble, matching headers to our
fields, mojibake checks, and errors located by file, line and column — so that ``cases/``
(store, visit and tip imports), ``interop/`` (LIVES, FDA, Kobo), ``geo`` and ``sampling`` read
a file the same way. Nothing here knows a workspace; it takes paths and returns plain values.
"""

from .headers import ColumnPlan, match_columns, norm_header
from .tables import (CsvTable, count_lines, detect_encoding, file_sha256, file_summary, iter_csv,
                     open_binary, read_csv)
from .text import TextCheck

__all__ = ["CsvTable", "ColumnPlan", "TextCheck", "count_lines", "detect_encoding", "file_sha256", "file_summary",
           "iter_csv", "match_columns", "norm_header", "open_binary", "read_csv"]
