"""``python -m migcheck`` runs the command line."""

from migcheck.cli import main

main()
