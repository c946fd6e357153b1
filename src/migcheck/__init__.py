"""migcheck: a migration safety linter for PostgreSQL."""

__version__ = "0.1.0"
# The name on the Python package index: "migcheck" there is an unrelated project, so
# `pip install migcheck` would install something else. The command stays `migcheck`.
DISTRIBUTION = "migcheck-pg"
