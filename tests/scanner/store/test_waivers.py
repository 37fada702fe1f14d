"""The waiver file: parsed strictly (errors name the line), applied by serial or MAC, never
hiding a device, and flagging it again once expired."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from store_factory import DAHUA, HIK, PC, dev, run

from scanner import waivers
from scanner.errors import UserError
from scanner.model import Status
from scanner.outcome import ExitCode, exit_code

GOOD = """
# accepted exceptions
[[waiver]]
mac = "a4-14-37-5e-21-0b"
justification = "Isolated lab bench; replacement on PO 4471"
approver = "J. Smith, CISO"
expires = 2027-03-31
reference = "CR-1042"

[[waiver]]
serial = "DH-1234"
justification = "Decommissioning in progress"
approver = "A. Jones"
expires = "2026-01-31"
"""


def test_parse_normalises_and_keeps_every_field() -> None:
    first, second = waivers.parse(GOOD)
    assert first.match == f"mac:{HIK}"
    assert (first.approver, first.expires, first.reference) == (
        "J. Smith, CISO",
        date(2027, 3, 31),
        "CR-1042",
    )
    assert second.match == "serial:DH-1234" and second.expires == date(2026, 1, 31)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[waiver]]\nmac = "A4:14:37:5E:21:0B"\napprover = "x"\nexpires = 2027-01-01\n', "line 1"),
        (GOOD + '\n[[waiver]]\nmac = "zz"\n', "line 16 (waiver #3)"),
        (GOOD + '\n[[waiver]]\nmac = "zz"\n', "not a MAC address"),
        ('[[waiver]]\nmac = "A4:14:37:5E:21:0B"\nserial = "S"\n', "exactly one of serial or mac"),
        (
            '[[waiver]]\nserial = "S"\njustification = "j"\napprover = "a"\nexpires = "soon"\n',
            "expires must be a date",
        ),
        (
            '[[waiver]]\nserial = "S"\njustification = "j"\napprover = "a"\n'
            "expires = 2027-01-01T00:00:00\n",
            "expires must be a date",
        ),
        ('[[waiver]]\nserial = "S"\njustification = "j"\napprover = ""\n', "approver is missing"),
        ('[[waiver]]\nserial = "S"\ncolour = "red"\n', "unknown key 'colour'"),
        ("[waivers]\nx = 1\n", "unknown top-level key 'waivers'"),
        ("[[waiver]\n", "not valid TOML"),
        (GOOD + GOOD.replace("DH-1234", "other"), "a second waiver for mac:A4:14:37:5E:21:0B"),
    ],
)
def test_malformed_files_say_where(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        waivers.parse(text, "w.toml")


def test_unreadable_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read waiver file") as info:
        waivers.load(tmp_path / "missing.toml")
    assert info.value.hint


def test_a_waiver_hides_nothing_and_expires() -> None:
    ws = waivers.parse(GOOD)
    devices = [
        dev("198.18.0.11", HIK.lower(), Status.COVERED),
        dev("198.18.0.12", DAHUA, Status.COVERED, serial="DH-1234"),
        dev("198.18.0.20", PC),
    ]
    out, unused = waivers.apply(devices, ws, today=date(2026, 6, 1))
    assert len(out) == 3 and unused == ()
    hik, dahua, pc = out
    assert hik.waiver is not None and not hik.waiver_expired and waivers.is_waived(hik)
    assert dahua.waiver is not None and dahua.waiver_expired  # expired 2026-01-31
    assert pc.waiver is None
    assert exit_code(run(out)) is ExitCode.COVERED  # the expired one counts again

    only_active, _ = waivers.apply(devices[:1], ws, today=date(2027, 3, 31))  # last valid day
    assert exit_code(run(list(only_active))) is ExitCode.CLEAR
    expired, _ = waivers.apply(devices[:1], ws, today=date(2027, 4, 1))
    assert exit_code(run(list(expired))) is ExitCode.COVERED


def test_unmatched_waivers_are_returned() -> None:
    _, unused = waivers.apply([dev("198.18.0.20", PC)], waivers.parse(GOOD), date(2026, 6, 1))
    assert {w.match for w in unused} == {f"mac:{HIK}", "serial:DH-1234"}
