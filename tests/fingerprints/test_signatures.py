"""The signature engine, and every shipped signature checked against its own examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fingerprints.signatures import (
    SignatureDB,
    SignatureError,
    check,
    load_signatures,
    parse_file,
    read_user_file,
)

GOOD = """
[[signature]]
id = "http.server.hikvision-webs"
field = "server"
pattern = '^(?:Hikvision-Webs|App-webs/)'
vendor = "hikvision"
maker = "Hikvision"
certainty = 0.9
description = "Hikvision's embedded web server names itself"
source = "research §2.1"
examples = ["Hikvision-Webs", "App-webs/"]
counterexamples = ["Webs", "GoAhead-Webs"]
sets = { device_type = "camera" }

[[signature]]
id = "http.realm.dvr"
field = "realm"
equals = "DVR"
vendor = ""
maker = "generic DVR"
certainty = 0.2
description = "a realm many makers use"
source = "research §8.1"
examples = ["DVR", "dvr"]
counterexamples = ["DVR2"]
"""


def test_shipped_signatures_load_and_every_example_holds() -> None:
    db = load_signatures()
    assert check(db.signatures) == []
    for sig in db.signatures:
        assert sig.id.startswith(f"{sig.family}."), (sig.origin, sig.id)


def test_a_good_file_parses_and_matches_case_insensitively() -> None:
    sigs = parse_file(GOOD, "http", "test.toml")
    assert check(sigs) == []
    db = SignatureDB(sigs)
    found = db.match("http", [("server", "app-webs/"), ("realm", "DVR")])
    assert [m.signature.id for m in found] == ["http.server.hikvision-webs", "http.realm.dvr"]
    assert found[0].signature.sets == (("device_type", "camera"),)
    assert db.match("rtsp", [("server", "App-webs/")]) == []  # another family's observations


def test_check_reports_broken_examples_and_duplicate_ids() -> None:
    text = GOOD.replace('examples = ["DVR", "dvr"]', 'examples = ["NVR"]').replace(
        'counterexamples = ["Webs", "GoAhead-Webs"]', 'counterexamples = ["App-webs/x"]'
    )
    problems = check(parse_file(text, "http", "t.toml") + parse_file(GOOD, "http", "u.toml"))
    assert any("example 'NVR' does not match" in p for p in problems)
    assert any("counterexample 'App-webs/x' matches" in p for p in problems)
    assert any("id already used" in p for p in problems)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('vendor = "hikvision"', 'vendor = "axis"'), "is not one of"),
        (("certainty = 0.9", "certainty = 1.5"), "outside 0..1"),
        (("certainty = 0.9", 'certainty = "high"'), "must be a number"),
        (("pattern = '^(?:Hikvision-Webs|App-webs/)'", "pattern = '('"), "bad pattern"),
        (('maker = "Hikvision"', 'makr = "Hikvision"'), "unknown key"),
        (("pattern = '^(?:Hikvision-Webs|App-webs/)'", ""), "exactly one of"),
        (('sets = { device_type = "camera" }', 'sets = { colour = "red" }'), "'sets' must map"),
    ],
)
def test_malformed_signatures_say_what_is_wrong(change: tuple[str, str], message: str) -> None:
    with pytest.raises(SignatureError, match=re.escape(message)):
        parse_file(GOOD.replace(*change, 1), "http", "t.toml")


def test_not_toml_or_not_a_list_is_a_signature_error() -> None:
    with pytest.raises(SignatureError, match="not valid TOML"):
        parse_file("[[signature]\n", "http", "t.toml")
    with pytest.raises(SignatureError, match="array of tables"):
        parse_file('signature = "x"\n', "http", "t.toml")


def test_a_user_file_takes_its_family_from_its_name(tmp_path: Path) -> None:
    path = tmp_path / "http.toml"
    path.write_text(GOOD)
    assert {s.family for s in read_user_file(path)} == {"http"}


def test_hostile_values_are_matched_on_a_bounded_prefix() -> None:
    (sig,) = parse_file(GOOD, "http", "t.toml")[:1]
    assert not sig.matches("x" * 5000 + "Hikvision-Webs")
    assert sig.matches("App-webs/" + "\u202e" * 100_000)
