"""Tables written row by row (--json, exports, bundles) are the same text json.dumps writes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from investigate.files.json_array import json_array

rows = st.lists(st.one_of(st.text(), st.integers(), st.dictionaries(
    st.text(max_size=5), st.one_of(st.none(), st.text(), st.lists(st.integers(), max_size=3)), max_size=4)),
    max_size=5)


@settings(max_examples=100)
@given(rows)
def test_a_streamed_array_is_the_text_json_dumps_writes(values):
    pretty = "".join(json_array(values, lambda r: json.dumps(r, indent=2, ensure_ascii=False), indent=2))
    assert pretty == json.dumps(values, indent=2, ensure_ascii=False)
    compact = "".join(json_array(values, lambda r: json.dumps(r, separators=(",", ":"))))
    assert compact == json.dumps(values, separators=(",", ":"))
