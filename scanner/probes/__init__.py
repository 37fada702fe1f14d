"""Discovery and fingerprinting probes: one module per protocol, one interface for all."""
