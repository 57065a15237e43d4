"""Tables written row by row (--json, exports, bundles) are the same text json.dumps writes,
and read back item by item (a merge's bundle) to what json.loads reads."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from investigate.files.json_array import NotAList, json_array, read_json_array
from investigate.files.nesting import TooDeep, load_json

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


def chunked(data: bytes, sizes: list[int]):
    """``data`` cut where ``sizes`` say (cycled), as a zip member is read a chunk at a time."""
    at, i = 0, 0
    while at < len(data):
        step = sizes[i % len(sizes)]
        yield data[at:at + step]
        at, i = at + step, i + 1


values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                st.text()), lambda inner: st.lists(inner, max_size=3) |
                      st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8)
layouts = st.sampled_from([{"separators": (",", ":")}, {"indent": 2}, {"indent": 0, "ensure_ascii": False},
                           {"separators": (" , ", " : ")}])


@settings(max_examples=150)
@given(st.lists(values, max_size=6), layouts, st.lists(st.integers(1, 9), min_size=1, max_size=4))
def test_an_array_read_chunk_by_chunk_gives_what_json_loads_gives(items, layout, sizes):
    data = json.dumps(items, **layout).encode()
    read = list(read_json_array(chunked(data, sizes)))
    assert [value for value, _ in read] == json.loads(data)
    assert [json.loads(text) for _, text in read] == json.loads(data)  # each item's own text


@settings(max_examples=150)
@given(st.lists(values, max_size=4), layouts, st.integers(0, 40), st.binary(max_size=3),
       st.lists(st.integers(1, 9), min_size=1, max_size=3))
def test_broken_text_is_refused_where_json_loads_refuses_it(items, layout, cut, junk, sizes):
    data = json.dumps(items, **layout).encode()
    data = data[:cut] + junk + data[cut:]
    try:
        whole = json.loads(data.decode("utf-8-sig"))
    except ValueError:
        with pytest.raises(ValueError):
            list(read_json_array(chunked(data, sizes)))
        return
    if isinstance(whole, list):
        assert [value for value, _ in read_json_array(chunked(data, sizes))] == whole
    else:
        with pytest.raises(NotAList):
            list(read_json_array(chunked(data, sizes)))


@pytest.mark.parametrize("depth, refused", [(63, False), (64, True)])
def test_an_item_nested_past_the_limit_is_refused_as_json_loads_refuses_the_whole(depth, refused):
    data = ("[" + "[" * depth + "]" * depth + "]").encode()
    assert refused == raises(lambda: load_json(data), TooDeep)
    assert refused == raises(lambda: list(read_json_array([data])), TooDeep)
    with pytest.raises(TooDeep):
        list(read_json_array(chunked(b"[" * 100_000 + b"]" * 100_000, [4096])))


def raises(call, kind) -> bool:
    try:
        call()
    except kind:
        return True
    return False


def test_a_fault_deep_in_the_text_is_placed_in_the_whole_text_not_in_its_chunk():
    data = b"[" + b'{"id":"a"},' * 100_000 + b"oops]"
    with pytest.raises(ValueError, match="Expecting value: character 1,100,002"):
        list(read_json_array(chunked(data, [4096])))
