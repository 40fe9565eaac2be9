"""The ``newsqa`` command line. Each command group lives in its own module below.

Heavy libraries (torch, faiss, jieba) are imported inside commands, so ``--help`` is instant.
"""

from __future__ import annotations

import sys

import click

from ..errors import NewsqaError


class _Main(click.Group):
    """Turns NewsqaError into a one-line message and its exit code instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except NewsqaError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsqa")
def main() -> None:
    """newsqa: answer questions about a Chinese newspaper archive by quoting it."""


# Command modules register themselves on ``main`` when imported.
def page_progress(path: object, page: int, pages: int) -> None:
    """One line per page read from a PDF or scan (OCR takes seconds a page): parse, ingest."""
    click.echo(f"read: {path}: page {page}/{pages}", err=True)


from . import ask_cmd, backup_cmd, index_cmd, model_cmd, parse_cmd, serve_cmd  # noqa: E402,F401
