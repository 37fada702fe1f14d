"""Policy: from a device's evidence to a Section 889 status, with the reasoning spelled out.

Certainties of independent signals for the same vendor combine as a noisy-OR
(1 - prod(1 - c)), so two weak signals can add up to a strong one but a single signal is never
worth more than its own certainty. The thresholds are the only knobs and the rationale quotes them.
"""

from __future__ import annotations

from collections import defaultdict

from fingerprints.vendors import VENDOR_KEYS, basis_for, vendor_display_name
from scanner.identify import DeviceDraft
from scanner.model import Device, Evidence, Finding, Status

COVERED_AT = 0.75  # combined certainty from which a device is reported covered
CONFLICT_AT = 0.5  # a second vendor this sure makes the verdict a conflict -> review


def combine(certainties: list[float]) -> float:
    remaining = 1.0
    for c in certainties:
        remaining *= 1.0 - min(max(c, 0.0), 1.0)
    return 1.0 - remaining


def _by_vendor(evidence: tuple[Evidence, ...]) -> dict[str, float]:
    """One certainty per vendor per signal family: repeated sightings of the same signal are not
    independent and must not add up."""
    best: dict[tuple[str, str], float] = {}
    for ev in evidence:
        if ev.vendor not in VENDOR_KEYS or ev.certainty <= 0:
            continue
        key = (str(ev.vendor), ev.signal)
        best[key] = max(best.get(key, 0.0), ev.certainty)
    per_vendor: dict[str, list[float]] = defaultdict(list)
    for (vendor, _signal), certainty in best.items():
        per_vendor[vendor].append(certainty)
    return {vendor: combine(cs) for vendor, cs in per_vendor.items()}


def judge(draft: DeviceDraft) -> Finding:
    scores = _by_vendor(draft.identity.evidence)
    if not scores:
        return Finding(
            Status.CLEAR,
            0.0,
            None,
            None,
            "no covered-vendor evidence was seen; clear means nothing was found by the probes "
            "that ran, not that the device is proven not to be covered",
        )
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    vendor, confidence = ranked[0]
    signals = sorted({ev.signal for ev in draft.identity.evidence if ev.vendor == vendor})
    name = vendor_display_name(vendor)
    conflicts = [(v, c) for v, c in ranked[1:] if c >= CONFLICT_AT]
    if conflicts:
        others = ", ".join(f"{vendor_display_name(v)} {c:.2f}" for v, c in conflicts)
        rationale = (
            f"conflicting evidence: {name} {confidence:.2f} against {others}; "
            "a person must decide which maker is right"
        )
        return Finding(Status.REVIEW, confidence, vendor, basis_for(vendor), rationale)
    if confidence >= COVERED_AT:
        status = Status.COVERED
        why = f"at or above the {COVERED_AT:.2f} threshold for covered"
    else:
        status = Status.REVIEW
        why = f"below the {COVERED_AT:.2f} threshold for covered, so a person must look"
    rationale = (
        f"{name} evidence from {', '.join(signals)} with combined certainty {confidence:.2f}, {why}"
    )
    return Finding(status, round(confidence, 3), vendor, basis_for(vendor), rationale)


def apply(drafts: list[DeviceDraft]) -> list[Device]:
    return [
        Device(
            ip=d.ip,
            mac=d.mac,
            interface=d.interface,
            identity=d.identity,
            finding=judge(d),
            first_seen=d.first_seen,
            last_seen=d.last_seen,
            other_ips=d.other_ips,
            notes=d.notes,
            hostnames=d.hostnames,
        )
        for d in drafts
    ]
