"""Device identity across runs, the `change` of each device, and diff categories."""

from __future__ import annotations

from datetime import timedelta

from store_factory import DAHUA, HIK, PC, PRINTER, T0, dev, run

from scanner.model import Change, Status
from scanner.store import Store
from scanner.store.changes import annotate, diff, exit_code, marks_of, render_text, to_dict
from scanner.store.codec import identity_key


def test_identity_is_serial_then_mac_then_ip_and_fingerprint() -> None:
    assert identity_key(dev("1.1.1.1", HIK, serial="S1")) == "serial:S1"
    assert identity_key(dev("1.1.1.1", HIK.lower())) == f"mac:{HIK}"
    a = dev("1.1.1.1", None, manufacturer="Hikvision", model="DS-2CD")
    b = dev("1.1.1.1", None, manufacturer="Axis", model="P3245")
    assert identity_key(a) != identity_key(b)


def test_first_run_makes_every_device_new() -> None:
    r = run([dev("198.18.0.11", HIK, Status.COVERED)])
    assert annotate(r, None).devices[0].change is Change.NEW


def test_dhcp_move_is_the_same_device_changed() -> None:
    before = run([dev("198.18.0.11", HIK, Status.COVERED), dev("198.18.0.20", PC)])
    later = T0 + timedelta(days=1)
    after = run(
        [dev("198.18.0.57", HIK, Status.COVERED, at=later), dev("198.18.0.20", PC, at=later)],
        hours=24,
    )
    got = {d.mac: d for d in annotate(after, marks_of(before)).devices}
    assert got[HIK].change is Change.CHANGED
    assert got[HIK].first_seen == T0  # carried over from the earlier run
    assert got[PC].change is Change.UNCHANGED


def test_diff_categories_covered_first() -> None:
    oldest = run([dev("198.18.0.30", DAHUA, Status.COVERED)], hours=0)
    old = run(
        [
            dev("198.18.0.11", HIK, Status.COVERED, firmware="V5.5"),
            dev("198.18.0.20", PC),
            dev("198.18.0.21", PRINTER),
        ],
        hours=1,
    )
    new = run(
        [
            dev("198.18.0.11", HIK, Status.COVERED, firmware="V5.7"),
            dev("198.18.0.20", PC),
            dev("198.18.0.30", DAHUA, Status.COVERED),
            dev("198.18.0.40", "02:00:00:00:00:01"),
        ],
        hours=2,
    )
    result = diff(old, new, seen_before={identity_key(d) for d in oldest.devices})
    assert [(e.category, e.device.mac) for e in result.entries] == [
        ("reappeared", DAHUA),
        ("changed", HIK),
        ("new", "02:00:00:00:00:01"),
        ("gone", PRINTER),
    ]
    assert result.entries[1].changes == (("firmware", "V5.5", "V5.7"),)
    assert result.unchanged == 1
    doc = to_dict(result)
    assert doc["summary"] == {"new": 1, "reappeared": 1, "changed": 1, "gone": 1, "unchanged": 1}
    assert doc["devices"][1]["changes"] == [{"field": "firmware", "old": "V5.5", "new": "V5.7"}]
    text = render_text(result)
    assert "REAPPEARED" in text and "firmware: V5.5 -> V5.7" in text
    assert exit_code(result) == 1  # a covered device came back


def test_diff_exit_code_ignores_waived_and_unchanged() -> None:
    from datetime import date

    from scanner.model import Waiver

    w = Waiver(f"mac:{HIK}", "bench", "CISO", date(2099, 1, 1))
    old = run([dev("198.18.0.20", PC)])
    new = run([dev("198.18.0.20", PC), dev("198.18.0.11", HIK, Status.COVERED, waiver=w)], hours=1)
    assert exit_code(diff(old, new)) == 0
    assert "[waived]" in render_text(diff(old, new))
    assert exit_code(diff(new, new)) == 0


def test_reappeared_comes_from_the_store(store_url: str) -> None:
    with Store.open(store_url) as store:
        first = run([dev("198.18.0.11", HIK, Status.COVERED)], hours=0)
        second = run([], hours=1)
        third = run([dev("198.18.0.11", HIK, Status.COVERED)], hours=2)
        for r in (first, second, third):
            store.save(r)
        seen = store.keys_before("default", second.started)
    assert seen == {f"mac:{HIK}"}
    result = diff(second, third, seen)
    assert [e.category for e in result.entries] == ["reappeared"]


def test_repeated_texts_are_stored_once_unique_ones_inline() -> None:
    import dataclasses

    from scanner.store.codec import Strings, device_data, device_from_data

    long_a, long_b = "the same long rationale " * 2, "a rationale only one device has " * 2
    devices = [
        dataclasses.replace(
            dev(f"198.18.0.{n}", None),
            finding=dataclasses.replace(dev("198.18.0.1", None).finding, rationale=text),
        )
        for n, text in ((1, long_a), (2, long_a), (3, long_b))
    ]
    strings = Strings()
    strings.expect(devices)
    docs = [device_data(d, strings) for d in devices]
    assert docs[0]["rationale"] == docs[1]["rationale"] == 0
    assert docs[2]["rationale"] == long_b
    assert strings.table == [long_a]
    loaded = Strings(list(strings.table))
    assert [device_from_data(doc, loaded) for doc in docs] == devices
