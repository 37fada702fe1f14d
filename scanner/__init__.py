"""ndaa-scan: find NDAA Section 889 covered equipment on a network and prove it with evidence."""

__version__ = "0.1.0"
