"""What every layer stands on: the manual's coded errors, the records of shadow copies,
the array model, the ports the lifecycles talk through, and the waits, file writes and
identifier spellings every layer uses. Imports nothing of the product."""
