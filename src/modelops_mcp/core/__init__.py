"""What every layer shares: the one error shape, secret redaction, and atomically replaced state files."""
