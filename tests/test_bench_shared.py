"""The benchmarks find the shared data beside the clone or through $NEWSQA_SHARED."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.shared import REPO, SharedDataMissing, cmrc_dir, shared_dir


def test_shared_data_is_looked_for_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSQA_SHARED", raising=False)
    assert shared_dir() == REPO.parent / "shared"


def test_missing_shared_data_names_the_path_and_the_variable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NEWSQA_CMRC", raising=False)
    monkeypatch.setenv("NEWSQA_SHARED", str(tmp_path))
    with pytest.raises(SharedDataMissing) as missing:
        cmrc_dir()
    assert str(missing.value) == (
        f"{tmp_path}/benchmarks/cmrc2018-dev not found ($NEWSQA_SHARED is {tmp_path}); put the "
        f"shared data folder beside the repository ({REPO.parent / 'shared'}) or set "
        "NEWSQA_SHARED to where it is"
    )
