"""Storage: recordings written (:mod:`.recorder`, with the Parquet :mod:`.journal`) and played
back (:mod:`.replay`)."""
