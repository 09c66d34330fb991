"""The quarterly report: scopes, the notebook runner, the outputs (ledgers, summary, HTML), the
manifest and ``qj verify``."""
