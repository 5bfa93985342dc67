"""What a sweep leaves behind: the results folder and everything that writes or reads it.

``store`` (shards, manifest, summary), ``compaction`` and ``parquet_rows`` (shards -> one
file), ``schemas`` (typed columns), ``daily`` (the date x combo P&L matrix), ``metrics``
(one summary row per combo), ``atomic`` (files never half-written), ``lock`` (one writer),
``provenance`` (what the results were made from).
"""
