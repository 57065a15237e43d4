"""Issue 17: a visit keeps the protocol version that judged it."""

import json
import re
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from investigate.protocol import versions as protocol_versions
from investigate.cases import visits
from investigate.protocol.protocols import BUILTIN_DIR
from investigate.errors import ProtocolError

from conftest import snapshot

ORIGINAL = (BUILTIN_DIR / "tobacco-minors.toml").read_text(encoding="utf-8")
V = int(re.search(r"^version = (\d+)$", ORIGINAL, re.M).group(1))  # the shipped version


def _workspace_copy(workspace, text):
    folder = workspace.root / "protocols"
    folder.mkdir(exist_ok=True)
    (folder / "tobacco-minors.toml").write_text(text, encoding="utf-8")


def _edited(version: int) -> str:
    # The clerk's check gets a new choice, "glance" is renamed: old answers no longer parse.
    return (ORIGINAL.replace('"none", "glance", "scanned"', '"none", "quick_look", "scanned"')
            .replace('"glance"', '"quick_look"').replace(" glance = ", " quick_look = ")  # the labels in [text.*]
            .replace(f"version = {V}", f"version = {version}"))


def test_a_visit_records_protocol_key_version_and_hash(tobacco_case, workspace):
    v = tobacco_case["visits"][0]
    assert v["protocol"] == "tobacco-minors" and v["protocol_version"] == V
    kept = protocol_versions.used_versions(workspace, "tobacco-minors")
    assert [k["content_hash"] for k in kept] == [v["protocol_hash"]]
    assert kept[0]["text"] == ORIGINAL


def test_an_edited_protocol_is_refused_until_its_version_is_raised(tobacco_case, workspace, run):
    _workspace_copy(workspace, _edited(V))
    answers = {"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True}
    before = snapshot(workspace)
    with pytest.raises(ProtocolError, match=f"raise its version to {V + 1}"):
        visits.record_visit(workspace, case=tobacco_case["case"], store=tobacco_case["stores"][0],
                            tester=tobacco_case["tester"], answers=answers, observer="O")
    result = run("visit", "record", "--case", "tobacco-nk", "--store", "L-1", "--tester", "T-07", "--observer", "O",
                 "--no-input", "--product", "cigarettes", "--sale", "yes", "--id-check", "none",
                 "--id-carried", "yes")
    assert result.exit_code != 0 and f"raise its version to {V + 1}" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert snapshot(workspace) == before
    listed = json.loads(run("protocol", "list", "--json").stdout)
    assert next(r for r in listed if r["key"] == "tobacco-minors")["status"].startswith("edited in place")

    _workspace_copy(workspace, _edited(V + 1))
    new = visits.record_visit(workspace, case=tobacco_case["case"], store=tobacco_case["stores"][0],
                              tester=tobacco_case["tester"], answers={**answers, "id_check": "quick_look"},
                              observer="O")
    assert new["visit"]["protocol_version"] == V + 1
    assert [k["version"] for k in protocol_versions.used_versions(workspace, "tobacco-minors")] == [V, V + 1]


def test_an_old_visit_is_shown_amended_and_judged_under_its_own_version(tobacco_case, workspace, run):
    _workspace_copy(workspace, _edited(V + 1))
    old = tobacco_case["visits"][2]  # answered id_check "glance", which version 2 no longer knows
    amended = visits.amend_visit(workspace, old, reason="typo in the product",
                                 answers={"product": "cigarettes"})
    assert amended["protocol_version"] == V and amended["protocol_hash"] == old["protocol_hash"]
    assert json.loads(amended["answers"])["id_check"] == "glance"
    assert amended["outcome"] == "violation"
    assert f"version {V}" in run("visit", "show", old["id"]).output


def test_protocol_show_version_and_diff(tobacco_case, workspace, run):
    _workspace_copy(workspace, _edited(V + 1))
    visits.record_visit(workspace, case=tobacco_case["case"], store=tobacco_case["stores"][0],
                        tester=tobacco_case["tester"], observer="O",
                        answers={"product": "cigarettes", "sale": False, "id_check": "quick_look",
                                 "id_carried": True})
    shown = run("protocol", "show", "tobacco-minors", "--version", str(V)).output
    assert f"version {V}" in shown and "glance" in shown
    assert "quick_look" in run("protocol", "show", "tobacco-minors").output
    diff = run("protocol", "diff", "tobacco-minors", V, V + 1)
    assert diff.exit_code == 0
    assert f"-version = {V}" in diff.output and f"+version = {V + 1}" in diff.output
    assert '+choices = ["none", "quick_look"' in diff.output
    missing = run("protocol", "show", "tobacco-minors", "--version", "7")
    assert missing.exit_code != 0 and "no version 7" in missing.output


def test_a_comment_or_a_translation_is_not_an_edit(tobacco_case, workspace):
    _workspace_copy(workspace, "# a comment\n" + ORIGINAL)
    assert protocol_versions.current_protocol(workspace, "tobacco-minors").version == V
    import tomllib

    from investigate.protocol.parse import content_hash

    data = tomllib.loads(ORIGINAL)
    texts = {"text": {"de": {"title": "Tabakverkauf an Minderjährige"}}, "lede": "In %(violations)s …",
             "translations": {"da": {"title": "Salg af tobak"}}, "rotation": {"tester_lockout_days": 30}}
    assert content_hash({**data, **texts}) == content_hash(data)
    assert content_hash({**data, "default_outcome": "compliant"}) != content_hash(data)


def test_a_broken_protocol_file_stops_only_what_needs_it(tobacco_case, workspace, run):
    folder = workspace.root / "protocols"
    folder.mkdir(exist_ok=True)
    (folder / "refund-broken.toml").write_text('key = "refund-broken"\ntitle = "x"\nquestions = [oops\n',
                                               encoding="utf-8")
    recorded = run("visit", "record", "--case", "tobacco-nk", "--store", "L-2", "--tester", "T-07", "--observer", "O",
                   "--no-input", "--product", "cigarettes", "--sale", "no", "--id-check", "scanned",
                   "--id-carried", "yes")
    assert recorded.exit_code == 0, recorded.output
    listed = json.loads(run("protocol", "list", "--json").stdout)
    broken = next(r for r in listed if r["key"] == "refund-broken")
    assert broken["status"].startswith("broken: not valid TOML")
    shown = run("protocol", "show", "refund-broken")
    assert shown.exit_code != 0 and "not valid TOML" in shown.output and "Traceback" not in shown.output



_KEY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=200)
@given(key=_KEY_TEXT, quote=st.sampled_from(['"', "'"]), name=st.sampled_from(["key", '"key"', "'key'"]),
       before=st.sampled_from(["", 'title = "x"\n', "# key = \"other\"\n", 'lede = """\nkey = "nope"\n"""\n']),
       after=st.sampled_from(["", " # a comment", "\n[[questions]]\nkey = \"sale\"",
                              '\ndescription = """\nkey = "nope"\n"""', "\nlede = '''\nkey = 'nope'\n'''"]),
       spaces=st.sampled_from(["", " ", "\t"]))
def test_the_key_read_without_parsing_is_the_parsed_key_or_none(key, quote, name, before, after, spaces):
    """get_protocol parses only the files that may be the protocol asked for; the key it reads
    from a file's text must never be another than the one the file declares."""
    import tomllib

    from investigate.protocol.protocols import _top_level_key

    text = f"{before}{name}{spaces}={spaces}{quote}{key}{quote}{after}\n"
    try:
        parsed = tomllib.loads(text).get("key")
    except tomllib.TOMLDecodeError:
        return
    assert _top_level_key(text) in (None, parsed)


def test_every_builtin_protocol_is_found_without_parsing_the_others():
    """Each built-in's key is read from its text, so looking one up parses one file, not all
    thirteen (a multi-line description above the tables once hid every key: 0.03 s of each
    command that names a case's protocol)."""
    import tomllib

    from investigate.protocol.protocols import _top_level_key

    for path in sorted(BUILTIN_DIR.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        assert _top_level_key(text) == tomllib.loads(text)["key"], path.name


def test_a_protocol_is_found_whatever_its_file_is_called_and_a_workspace_copy_wins(workspace):
    from investigate.protocol.protocols import get_protocol

    folder = workspace.root / "protocols"
    folder.mkdir(exist_ok=True)
    text = (BUILTIN_DIR / "tobacco-minors.toml").read_text(encoding="utf-8")
    (folder / "ours.toml").write_text(text.replace('title = "', 'title = "Ours: ', 1), encoding="utf-8")
    assert get_protocol("tobacco-minors", workspace.root).title.startswith("Ours: ")
    assert not get_protocol("tobacco-minors").title.startswith("Ours: ")
