"""``newsqa backup DEST`` and ``newsqa restore SRC``: copies of a live index (docs/bot.md)."""

from __future__ import annotations

from pathlib import Path

import click

from . import main
from .index_cmd import index_option


@main.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@index_option
def backup(dest: Path, index_dir: Path | None) -> None:
    """Copy the index into the new directory DEST, safely while the bot answers and an ingest
    writes (SQLite's online backup, then the manifest and vector file beside it)."""
    from ..library import Library

    report = Library.backup(dest, index_dir)
    click.echo(f"{report.path}: backup of {report.articles} articles (generation "
               f"{report.generation}, model {report.model}), {report.bytes / 1e6:.1f} MB in "
               f"{report.seconds:.1f}s")


@main.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@index_option
@click.option("--model", help="The model this installation searches with (default: the "
                              "default model); a backup made for another is refused.")
def restore(src: Path, index_dir: Path | None, model: str | None) -> None:
    """Restore the backup SRC as the index directory, which must not exist yet: the copy is
    checked in full, then renamed into place, so a live index is never half-overwritten."""
    from ..library import Library

    restored = Library.restore(src, index_dir, model=model)
    click.echo(f"{restored}: restored from {src} and checked")
