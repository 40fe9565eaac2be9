"""jieba's dictionary and IDF table read by first character segment and weigh exactly as jieba
loading them whole does (retrieval/wordtables.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jieba
import pytest
from jieba import posseg

from retrieval import wordtables
from retrieval.answer import sentences
from tests.sample_values import SAMPLE_PAGE

CMRC = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "cmrc2018-dev"


def texts() -> list[str]:
    lines = [line for line in SAMPLE_PAGE.read_text(encoding="utf-8").splitlines() if line]
    odd = ["", "a", "GDP增长5.2%，ＡＢＣ全角", "冠县有多少家绿色建材企业？", "刘修建哪年参军？",
           "退伍老兵的事情找谁解决", "臺灣的總統是誰", "🙂表情 and English words 混排"]
    if (CMRC / "contexts.jsonl").exists():
        for line in (CMRC / "contexts.jsonl").read_text(encoding="utf-8").splitlines()[:60]:
            odd.append(json.loads(line)["text"])
    return lines + odd


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWSQA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def whole() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()  # jieba's own loading: the whole dictionary
    return tokenizer


def lazy() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    wordtables.install(tokenizer)
    return tokenizer


def test_segmentation_is_jiebas_own(cache: Path) -> None:
    reference, by_char = whole(), lazy()
    assert by_char.total == reference.total
    assert len(by_char.FREQ) == 0  # nothing read before the first text
    question = "冠县有多少家绿色建材企业？"
    assert by_char.lcut(question) == reference.lcut(question)
    assert 0 < len(by_char.FREQ) < len(reference.FREQ) / 100  # a question reads little
    tagger, reference_tagger = posseg.POSTokenizer(by_char), posseg.POSTokenizer(reference)
    for text in texts():
        assert by_char.lcut(text) == reference.lcut(text)
        assert by_char.lcut(text, HMM=False) == reference.lcut(text, HMM=False)
        assert by_char.lcut(text, cut_all=True) == reference.lcut(text, cut_all=True)
        assert by_char.lcut_for_search(text) == reference.lcut_for_search(text)
        assert list(tagger.cut(text)) == list(reference_tagger.cut(text))
    assert list(cache.glob("wordtables/jieba-dict-*.bin"))


def test_user_dictionary_words_beat_the_file(cache: Path, tmp_path: Path) -> None:
    # 绿色建材 is in jieba's dictionary; a user entry with another frequency must win, and a
    # new word whose prefixes are dictionary words must not hide their frequencies.
    user = tmp_path / "user.txt"
    user.write_text("绿色建材企业 50000 n\n链上发力 3000 v\n绿色建材 1\n", encoding="utf-8")
    reference, by_char = whole(), lazy()
    reference.load_userdict(str(user))
    by_char.load_userdict(str(user))
    for word in ("绿色建材企业", "链上发力", "绿色建材", "绿色", "链上"):
        assert by_char.FREQ.get(word) == reference.FREQ.get(word)
    assert by_char.total == reference.total
    for text in texts():
        assert by_char.lcut_for_search(text) == reference.lcut_for_search(text)


def test_the_table_is_built_once_and_again_when_its_source_changes(
    cache: Path, tmp_path: Path
) -> None:
    source = tmp_path / "table.txt"
    source.write_text("甲乙 1\n甲丙 2\n乙 3\n", encoding="utf-8")
    builds = []

    def make() -> tuple[dict[str, int], int]:
        builds.append(1)
        rows = [line.split() for line in source.read_text(encoding="utf-8").splitlines()]
        return {word: int(n) for word, n in rows}, len(rows)

    table = wordtables.open_table("test", source, make)
    assert (table.get("甲丙"), table.get("乙"), table.get("丁"), table.extra) == (2, 3, None, 3)
    assert wordtables.open_table("test", source, make).get("甲乙") == 1
    assert len(builds) == 1
    source.write_text("甲乙 7\n", encoding="utf-8")
    os.utime(source, ns=(1, 1))  # a different modification time, as any edit makes
    assert wordtables.open_table("test", source, make).get("甲乙") == 7
    assert len(builds) == 2


def test_an_unwritable_cache_still_gives_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("NEWSQA_CACHE_DIR", str(blocker))  # a file: nothing can be made under it
    source = tmp_path / "t.txt"
    source.write_text("x", encoding="utf-8")
    table = wordtables.open_table("test", source, lambda: ({"甲乙": 1}, 0))
    assert table.get("甲乙") == 1 and table.get("乙") is None


def test_idf_weights_are_jiebas_table(cache: Path) -> None:
    path = Path(jieba.__file__).parent / "analyse" / "idf.txt"
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, weight = line.strip().split(" ")
        table[word] = float(weight)
    median = sorted(table.values())[len(table) // 2]
    sentences._idf.cache_clear()
    words = [w for text in texts()[:40] for w in jieba.lcut(text)] + ["不存在的词语", "x"]
    for word in words:
        expected = table.get(word, median * (1.2 if len(word) >= 2 else 0.6))
        assert sentences.term_weight(word) == expected
