"""The fingerprint database: data files plus the small engine that loads and matches them.

The version is reported with every scan so that a finding can be traced to the exact tables that
produced it; bump it whenever a file in ``data/`` changes meaning (new registry copy, a changed
allowlist entry, a new signature).
"""

FINGERPRINT_DB_VERSION = "2026.11.0"

__all__ = ["FINGERPRINT_DB_VERSION"]
