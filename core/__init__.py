"""What every layer of vssorch shares: errors, records, ports, waits, files and identifiers."""
