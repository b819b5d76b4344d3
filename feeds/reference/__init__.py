"""Reference data: the index's holdings (bundled, fetched, reconciled against symbol
directories), read once at start and when a new holdings file arrives, never per tick."""
