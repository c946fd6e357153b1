"""The ``migcheck server`` click command: importing it costs only click; pygls and the
linter are imported when the command runs."""

from __future__ import annotations

import sys

import click


@click.command("server")
@click.option(
    "--stdio", is_flag=True, help="Speak LSP on stdin/stdout (the default and only mode)."
)
def server_command(stdio: bool) -> None:
    """Run the migcheck language server (LSP over stdio) for editors: diagnostics as you
    type, code actions for the safe rewrites, and each rule's explanation on hover."""
    del stdio  # accepted because editors' generic LSP clients pass it
    try:
        from migcheck.lsp.server import serve
    except ImportError as err:  # pygls is an optional extra
        click.echo(
            f"migcheck server: needs the lsp extra (pip install 'migcheck-pg[lsp]'): {err}",
            err=True,
        )
        sys.exit(2)
    serve()
