"""``newsqa backup`` while another process ingests, ``newsqa restore``, ``newsqa check --quick``:
through the real command line, as an operator runs them."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import struct
import subprocess
import time
from pathlib import Path

from tests.sample_values import QUESTION
from tests.telegram.processes import NEWSQA, newsqa, stop_process

# Enough that the ingest is still writing when the backup is done, on an idle machine too.
LIVE_ARTICLES = 1500


def generation(index: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{index / 'newsqa.sqlite'}?mode=ro",
                                            uri=True)) as db:
        return int(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])


def answers(index: Path, questions: Path) -> list[tuple[object, list[str]]]:
    result = newsqa("ask", "--batch", str(questions), "--index", str(index))
    assert result.returncode == 0, result.stderr
    return [(a["answer"], [c["article_id"] for c in a["citations"]])
            for a in map(json.loads, result.stdout.splitlines())]


def test_a_backup_taken_during_an_ingest_restores_to_a_healthy_index_that_answers_the_same(
        sample_index_copy: Path, tmp_path: Path) -> None:
    index = sample_index_copy
    articles = tmp_path / "more.jsonl"
    with articles.open("w", encoding="utf-8") as out:
        # 60 were too few: on an idle machine the ingest had finished while the backup ran.
        for i in range(LIVE_ARTICLES):
            text = (f"本报讯 第{i}期社区简报：东昌府区第{i}个社区组织志愿者开展环境整治，"
                    f"共清理垃圾{i + 3}吨，新栽树木{i * 2 + 5}棵。居民表示环境明显改善。")
            out.write(json.dumps({"id": f"brief-{i}", "title": f"社区简报第{i}期",
                                  "date": "2023-11-02", "source": "聊城日报", "text": text},
                                 ensure_ascii=False) + "\n")
    before = generation(index)
    ingest = subprocess.Popen(
        [NEWSQA, "ingest", str(articles), "--index", str(index), "--batch-size", "2", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while generation(index) < before + 2:  # two batches committed: the ingest is writing
            assert ingest.poll() is None, ingest.stdout.read() if ingest.stdout else ""
            assert time.monotonic() < deadline, "the ingest never committed a batch"
            time.sleep(0.2)
        backup = tmp_path / "backup"
        made = newsqa("backup", str(backup), "--index", str(index))
        assert made.returncode == 0, made.stderr
        assert ingest.poll() is None, "the ingest finished before the backup: not a live test"
        record = json.loads((backup / "backup.json").read_text(encoding="utf-8"))
        while generation(index) <= record["generation"]:  # it wrote on past the backup
            assert ingest.poll() is None, ingest.stdout.read() if ingest.stdout else ""
            assert time.monotonic() < deadline, "the ingest stopped writing"
            time.sleep(0.2)
    finally:
        stop_process(ingest)  # the rest of the 1,500 is not needed (and a stop is crash-safe)

    assert before + 2 <= record["generation"] < generation(index)
    assert 8 < record["articles"] < 8 + LIVE_ARTICLES

    restored = tmp_path / "restored"
    result = newsqa("restore", str(backup), "--index", str(restored))
    assert result.returncode == 0, result.stderr
    check = newsqa("check", "--index", str(restored))
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"({record['articles']} articles" in check.stdout
    assert newsqa("check", "--quick", "--index", str(restored)).stdout == "ok\n"
    # a backup holds no word index: the restore's check rebuilt it from the database
    assert not (backup / "words").exists()
    stats = json.loads(newsqa("stats", "--json", "--index", str(restored)).stdout)
    assert stats["word_index"] == "tantivy"
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(
        json.dumps({"id": str(n), "question": q}, ensure_ascii=False) + "\n"
        for n, q in enumerate((QUESTION, "聊城大学有多少名在校学生？"))
    ), encoding="utf-8")
    assert answers(restored, questions) == answers(index, questions)


def test_restore_refuses_an_existing_directory_and_a_backup_for_another_model(
        sample_index_copy: Path, tmp_path: Path) -> None:
    index = sample_index_copy
    backup = tmp_path / "backup"
    assert newsqa("backup", str(backup), "--index", str(index)).returncode == 0
    again = newsqa("backup", str(backup), "--index", str(index), ok=False)
    assert again.returncode == 2 and "already exists" in again.stderr

    into_live = newsqa("restore", str(backup), "--index", str(index), ok=False)
    assert into_live.returncode == 2 and "never overwrites" in into_live.stderr
    assert newsqa("check", "--index", str(index)).returncode == 0

    manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    manifest["revision"] = "0123456789abcdef-b1"
    (backup / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    other = newsqa("restore", str(backup), "--index", str(tmp_path / "restored"), ok=False)
    assert other.returncode == 4 and "model revision 0123456789abcdef-b1" in other.stderr
    assert not (tmp_path / "restored").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_quick_check_passes_a_servable_index_and_names_what_is_not(
        sample_index_copy: Path, tmp_path: Path) -> None:
    index = sample_index_copy
    ok = newsqa("check", "--quick", "--index", str(index))
    assert (ok.returncode, ok.stdout) == (0, "ok\n")

    vectors = index / "vectors.faiss"
    data = bytearray(vectors.read_bytes())
    struct.pack_into("<q", data, len(data) - 28, generation(index) + 5)  # from the future
    vectors.write_bytes(bytes(data))
    ahead = newsqa("check", "--quick", "--index", str(index), ok=False)
    assert ahead.returncode == 1 and "ahead of the database" in ahead.stdout

    missing = newsqa("check", "--quick", "--index", str(tmp_path / "nowhere"), ok=False)
    assert missing.returncode == 1 and "manifest.json is missing" in missing.stdout
