"""migcheck: a migration safety linter for PostgreSQL."""

__version__ = "0.1.0"
