"""`newsqa ingest | delete | list | stats | check` as a user runs them (click's CliRunner,
real model, the sample newspaper page)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from retrieval.cli import main
from retrieval.index import Index
from tests.helpers import assert_rejected
from tests.sample_values import SAMPLE_PAGE

PAGE = SAMPLE_PAGE
PAGE_ARGS = ["--source", "聊城日报", "--date", "2023-10-08"]
SUMMARY = re.compile(
    r"^(?P<path>.+): (?P<added>\d+) added, (?P<replaced>\d+) replaced, (?P<unchanged>\d+) "
    r"unchanged, (?P<rejected>\d+) files rejected; (?P<chunks>\d+) chunks in [\d.]+s "
    r"\([\d.]+ chunks/s\)$"
)


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(main, list(args))
    if ok:
        assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return result


def summary(result) -> dict[str, str]:
    match = SUMMARY.match(result.stdout.strip().splitlines()[-1])
    assert match, result.stdout
    return match.groupdict()


@pytest.fixture(scope="module")
def page_index(tmp_path_factory, embedder) -> Path:
    """The sample page ingested once through the CLI; tests that change it copy it first."""
    path = tmp_path_factory.mktemp("cli") / "index"
    result = run("ingest", str(PAGE), "--index", str(path), *PAGE_ARGS)
    counts = summary(result)
    assert (counts["added"], counts["replaced"], counts["unchanged"], counts["rejected"]) == (
        "8", "0", "0", "0"
    )
    assert int(counts["chunks"]) >= 8
    # CliRunner is not a terminal: progress comes as plain lines on stderr
    assert "ingest: 8/8 articles" in result.stderr
    return path


@pytest.fixture()
def own_index(page_index: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(page_index, copy, ignore=shutil.ignore_patterns("write.lock"))
    return copy


def test_reingesting_the_same_page_is_a_noop(own_index: Path) -> None:
    counts = summary(run("ingest", str(PAGE), "--index", str(own_index), *PAGE_ARGS, "-q"))
    assert (counts["added"], counts["replaced"], counts["unchanged"], counts["chunks"]) == (
        "0", "0", "8", "0"
    )


def test_editing_one_article_replaces_only_its_chunks(own_index: Path, tmp_path: Path) -> None:
    with Index.open(own_index) as index:
        before = dict(index._store.conn.execute("SELECT chunk_id, id FROM chunks"))
    edited = tmp_path / "page.txt"
    text = PAGE.read_text(encoding="utf-8")
    assert text.count("瞄准重点抓提升") == 1
    edited.write_text(text.replace("瞄准重点抓提升", "瞄准龙舟赛事办"), encoding="utf-8")
    counts = summary(run("ingest", str(edited), "--index", str(own_index), *PAGE_ARGS, "-q"))
    assert (counts["added"], counts["replaced"], counts["unchanged"]) == ("0", "1", "7")
    with Index.open(own_index) as index:
        after = dict(index._store.conn.execute("SELECT chunk_id, id FROM chunks"))
        hit = index.lexical_search("龙舟赛事", k=1)[0]
        assert index.article(hit.article_id).title == "东昌府区推动工业经济提质增效"
        assert index.check() == []
    replaced = {c for c in before if c.startswith(hit.article_id + ":")}
    assert {c: after[c] for c in before if c not in replaced} == {
        c: r for c, r in before.items() if c not in replaced
    }
    assert all(after[c] != before[c] for c in replaced if c in after)


def test_search_finds_the_right_article_dense_and_lexical(page_index: Path) -> None:
    with Index.open(page_index) as index:
        # simplified, then traditional script
        for query in ("东昌府区工业经济发展得怎么样", "東昌府區工業經濟"):
            for hits in (index.dense_search(query, k=3), index.lexical_search(query, k=3)):
                assert index.article(hits[0].article_id).title == "东昌府区推动工业经济提质增效"


def test_stats_json_reports_the_index(page_index: Path, embedder) -> None:
    data = json.loads(run("stats", "--index", str(page_index), "--json").stdout)
    assert data["articles"] == 8 and data["chunks"] >= 8
    assert (data["first_date"], data["last_date"]) == ("2023-10-08", "2023-10-08")
    assert data["sources"] == {"聊城日报": 8}
    assert (data["model"], data["dimension"]) == (embedder.info.name, embedder.info.dimension)
    assert data["bytes_on_disk"] > 0
    assert data["word_index"] == "tantivy"
    assert set(data) >= {"path", "revision", "backend", "vector_index", "word_index",
                         "generation"}


def test_list_then_delete_an_article(own_index: Path) -> None:
    listed = [json.loads(line) for line in
              run("list", "--index", str(own_index), "--json").stdout.splitlines()]
    assert len(listed) == 8
    victim = next(a for a in listed if a["title"] == "筑信仰之基 育时代新人")
    result = run("delete", victim["id"], "--index", str(own_index))
    assert result.stdout == f"{own_index}: deleted 1 articles\n"
    assert json.loads(run("stats", "--index", str(own_index), "--json").stdout)["articles"] == 7
    assert run("check", "--index", str(own_index)).stdout.startswith("ok: ")
    with Index.open(own_index) as index:
        assert all(h.article_id != victim["id"] for h in index.lexical_search("信仰", k=20))


def test_deleting_an_unknown_id_deletes_nothing(own_index: Path) -> None:
    listed = run("list", "--index", str(own_index), "--json").stdout.splitlines()
    real = json.loads(listed[0])["id"]
    assert_rejected(
        run("delete", real, "nope", "--index", str(own_index), ok=False),
        f"not in index {own_index}: nope; nothing was deleted (see `newsqa list` for ids)",
    )
    assert json.loads(run("stats", "--index", str(own_index), "--json").stdout)["articles"] == 8


def test_check_reports_a_damaged_full_text_index(own_index: Path) -> None:
    assert run("check", "--index", str(own_index)).stdout == (
        f"ok: {own_index} (8 articles, "
        f"{json.loads(run('stats', '--index', str(own_index), '--json').stdout)['chunks']} "
        "chunks) is consistent\n"
    )
    with Index.open(own_index) as index:
        index._store.conn.execute("DELETE FROM chunks_fts WHERE rowid = 1")
    result = run("check", "--index", str(own_index), ok=False)
    assert result.exit_code == 1
    assert result.stdout == (
        "problem: full-text index disagrees with chunks: 1 chunks missing from it, "
        "0 entries without a chunk\n"
    )
    assert result.stderr == f"error: index {own_index} has 1 problem(s), listed above\n"


def test_ingesting_with_another_model_is_refused(own_index: Path, tmp_path: Path,
                                                 embedder) -> None:
    other = (tmp_path / "other-model").resolve()
    other.mkdir()
    result = run("ingest", str(PAGE), "--index", str(own_index), "--model", str(other),
                 *PAGE_ARGS, ok=False)
    info = embedder.info
    assert result.exit_code == 4
    assert result.stderr == (
        f"error: index {own_index} was built with model {info.name} (revision "
        f"{info.revision[:12]}, {info.dimension} dimensions, backend {info.backend}), not "
        f"{other}; search it with "
        f"--model {info.name}, or re-ingest into a new --index directory to use {other}\n"
    )


def test_a_bad_file_rejects_the_whole_ingest_unless_skipped(tmp_path: Path, embedder) -> None:
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"title": "标题", "text": "正文"}\n{not json\n', encoding="utf-8")
    index = tmp_path / "index"
    result = run("ingest", str(PAGE), str(bad), "--index", str(index), *PAGE_ARGS, ok=False)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"rejected: {bad}:2: ")
    assert result.stderr.endswith(
        "error: 1 of 2 input files rejected, nothing was ingested; fix them or pass "
        "--skip-bad to ingest the rest\n"
    )
    assert not index.exists()

    result = run("ingest", str(PAGE), str(bad), "--index", str(index), *PAGE_ARGS,
                 "--skip-bad", "-q", ok=False)
    assert result.exit_code == 2
    counts = summary(result)
    assert (counts["added"], counts["rejected"]) == ("8", "1")


def test_an_earlier_versions_copies_of_a_page_are_replaced_not_doubled(
        tmp_path: Path, embedder) -> None:
    """Page text read before its running head and file name were: no date, no page. Ingesting
    the page again now (with its date and page) replaces those copies; a copy whose text
    differs is kept, since it may be another story."""
    from dataclasses import replace

    from retrieval.articles import derive_article_id
    from retrieval.library import Library
    from retrieval.sources.loading import load_articles

    def as_before(article, paragraphs=None):
        paragraphs = paragraphs or article.paragraphs
        return replace(article, date=None, page=None, paragraphs=paragraphs, id=derive_article_id(
            source=article.source, date=None, title=article.title, body="\n".join(paragraphs)))

    before = [as_before(a) for a in load_articles(PAGE, source="聊城日报")]
    edited = replace(before[0], paragraphs=(*before[0].paragraphs[:-1], "（本报记者 校对稿）"))
    path = tmp_path / "index"
    with Library.create(path, embedder=embedder) as library:
        library.ingest([edited, *before[1:]])
    page = tmp_path / "A03.txt"  # the page number now comes from the file name
    shutil.copy(PAGE, page)
    counts = summary(run("ingest", str(page), "--index", str(path), *PAGE_ARGS, "-q"))
    assert (counts["added"], counts["replaced"], counts["unchanged"]) == ("1", "7", "0")
    with Index.open(path) as index:
        kept = {a.id: a for a in index.articles(newest_first=False, limit=50)}
        assert index.check() == []
    assert len(kept) == 9  # eight stories now dated and paged, and the differing old copy
    assert edited.id in kept and not any(a.id in kept for a in before[1:])
    assert {(a.date, a.page) for i, a in kept.items() if i != edited.id} == {("2023-10-08", "A3")}
    again = summary(run("ingest", str(page), "--index", str(path), *PAGE_ARGS, "-q"))
    assert (again["added"], again["replaced"], again["unchanged"]) == ("0", "0", "8")


def test_an_index_already_holding_both_copies_loses_the_old_ones_without_rewriting(
        tmp_path: Path, embedder) -> None:
    """Whoever re-ingested after upgrading, before copies were retired, has every story
    twice: ingesting again drops the old copies and leaves the new ones as they are."""
    from dataclasses import replace

    from retrieval.articles import derive_article_id
    from retrieval.library import Library
    from retrieval.sources.loading import load_articles

    page = tmp_path / "A03.txt"
    shutil.copy(PAGE, page)
    now = load_articles(page, source="聊城日报", date="2023-10-08")
    before = [replace(a, date=None, page=None, id=derive_article_id(
        source=a.source, date=None, title=a.title, body=a.text)) for a in now]
    path = tmp_path / "index"
    with Library.create(path, embedder=embedder) as library:
        library.ingest(now)
        library.ingest(before)  # undated copies retire nothing: as if written by 0.1
        assert library.about().articles == 16
    counts = summary(run("ingest", str(page), "--index", str(path), *PAGE_ARGS, "-q"))
    assert (counts["added"], counts["replaced"], counts["unchanged"], counts["chunks"]) == (
        "0", "8", "0", "0")
    with Index.open(path) as index:
        assert {a.id for a in index.articles(newest_first=False, limit=50)} == {a.id for a in now}
        assert index.check() == []
