"""What every layer stands on: the manual's coded errors, the records of shadow copies,
the array model and the ports the lifecycles talk through. Imports nothing of the product."""
