"""Pure wire formats: bytes in, bytes or parsed replies out, no I/O, every byte hostile."""
