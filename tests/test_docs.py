"""Docs that cannot drift: every command and option is in docs/cli.md, the README's two
commands are the Makefile's, CI runs the README's test command, and links between pages resolve."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from retrieval.cli import main

ROOT = Path(__file__).resolve().parent.parent
CLI_DOC = (ROOT / "docs/cli.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "newsqa") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def _section(title: str) -> str:
    match = re.search(rf"^##+ `{re.escape(title)}`\n(.*?)(?=^##+ `newsqa|\Z)", CLI_DOC, re.M | re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize(("path", "command"), _commands(main), ids=lambda v: str(v))
def test_every_command_and_option_is_documented(path: str, command: click.Command) -> None:
    section = _section(path)
    assert section, f"docs/cli.md has no '## `{path}`' section"
    for param in command.params:
        if isinstance(param, click.Option):
            longest = max(param.opts, key=len)
            assert longest in section, f"docs/cli.md section for {path} does not mention {longest}"


def test_every_option_has_help_text() -> None:
    for path, command in _commands(main):
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{path} {param.opts[0]} has no help text"


def test_readme_starts_with_the_two_make_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci/run").read_text(encoding="utf-8")


def test_every_relative_link_in_the_docs_points_at_a_file_that_exists() -> None:
    """Docs link to each other (the model card and its experiments page, the README's table);
    a page moved or renamed must take its links with it."""
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    checked, broken = 0, []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # web addresses and anchors within the page
            checked += 1
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert checked >= 30  # the pattern still finds the docs' links
    assert not broken
