"""Storage: reading files, bulk reading storage on the native fast paths, the meter registry.

- :mod:`~finance_engine.storage.formats`: CSV, JSON and Parquet reading files -> raw readings.
- :mod:`~finance_engine.storage.readings`: one locked bulk transaction per chunk (SQLite
  ``executemany``, PostgreSQL binary ``COPY``); reads of stored readings.
- :mod:`~finance_engine.storage.reading_store` (:mod:`~finance_engine.storage.readings_sqlite`,
  :mod:`~finance_engine.storage.readings_pg`): the store of a bulk transaction, readings in and
  out, meter-day rows in the database.
- :mod:`~finance_engine.storage.daypack`: readings <-> meter-day rows (packed 96-slot columns).
- :mod:`~finance_engine.storage.rows`: the column types exchanged (readings, meter ranges).
- :mod:`~finance_engine.storage.bulk`: classify a validated batch against stored rows, insert,
  revise counter readings, recompute daily rollups.
- :mod:`~finance_engine.storage.registry`: entities and meters (files and upsert).
- :mod:`~finance_engine.storage.batches`: the ``ingest_batch`` row of an ingest call.
- :mod:`~finance_engine.storage.timestamps`, :mod:`~finance_engine.storage.timezones`,
  :mod:`~finance_engine.storage.pgcopy`: vectorised helpers.
"""
