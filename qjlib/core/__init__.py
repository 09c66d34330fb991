"""The core every other room builds on: the tables' schema, the shared definitions, parameters,
the run's context, errors, privacy masks and the ledger specification. Imports nothing else of
qjlib."""
