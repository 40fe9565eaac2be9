"""A tokenizer started small (only the pieces a call's text can use) gives the full
tokenizer's encodings exactly, then loads the full one when it pays
(retrieval/embed/tokenizer.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tokenizers import Tokenizer

from retrieval.embed import offline_model, tokenizer
from retrieval.embed.tokenizer import SharedTokenizer
from tests.sample_values import SAMPLE_PAGE

CMRC = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "cmrc2018-dev"
ODD = ["", " ", "a", "GDP增长5.2%，ＡＢＣ全角  两个空格", "🙂表情 and English words 混排",
       "臺灣的總統是誰？", "稣", "Ⅻ ① ｶﾀｶﾅ ﬁ", "\t制表\n换行", "x" * 40, "2023年10月9日"]


@pytest.fixture(scope="module")
def path() -> Path:
    return offline_model.ensure_default_model() / "tokenizer.json"


def texts() -> list[str]:
    lines = [line for line in SAMPLE_PAGE.read_text(encoding="utf-8").splitlines() if line]
    passages = []
    if (CMRC / "contexts.jsonl").exists():
        for line in (CMRC / "contexts.jsonl").read_text(encoding="utf-8").splitlines()[:40]:
            passages.append(json.loads(line)["text"])
    return ODD + lines + passages


def same(a: Any, b: Any) -> None:
    assert list(a.ids) == list(b.ids)
    assert list(a.attention_mask) == list(b.attention_mask)
    assert list(a.type_ids) == list(b.type_ids)
    assert list(a.offsets) == list(b.offsets)
    assert list(a.sequence_ids) == list(b.sequence_ids)
    assert len(a.overflowing) == len(b.overflowing)
    for x, y in zip(a.overflowing, b.overflowing, strict=True):
        same(x, y)


def test_small_tokenizing_gives_the_full_tokenizers_encodings(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokenizer, "FULL_AFTER", 10**9)
    small, full = SharedTokenizer(path=path), SharedTokenizer(Tokenizer.from_file(str(path)))
    all_texts = texts()
    for text in all_texts:  # one at a time, as the embedder's query and passages go
        for kwargs in ({}, {"add_special_tokens": False},
                       {"max_length": 512, "pad_id": 1, "pad_token": "<pad>"}):
            [a], [b] = small.encode_batch([text], **kwargs), full.encode_batch([text], **kwargs)
            same(a, b)
    # batches padded to their longest, and the reader's (question, passage) windows
    batch = all_texts[20:36]
    for a, b in zip(small.encode_batch(batch, max_length=512, pad_id=1, pad_token="<pad>"),
                    full.encode_batch(batch, max_length=512, pad_id=1, pad_token="<pad>"),
                    strict=True):
        same(a, b)
    pairs = [("冠县有多少家绿色建材企业？", p) for p in all_texts[-12:]]
    windows = {"max_length": 128, "stride": 32, "strategy": "only_second"}
    for a, b in zip(small.encode_batch(pairs, **windows), full.encode_batch(pairs, **windows),
                    strict=True):
        assert a.overflowing or not b.overflowing
        same(a, b)
    # a long question is cut to its first tokens and decoded (reader/features.py)
    question = "刘修建哪年参军？" * 20
    ids = small.encode_batch([question], add_special_tokens=False)[0].ids[:50]
    assert small.decode(ids) == full.decode(ids)
    assert small._tokenizer is None  # all of it done without loading the full tokenizer
    unseen = full.encode_batch(["另一些没读过的字：鳌鹦鹉"], add_special_tokens=True)[0].ids
    assert small.decode(unseen) == full.decode(unseen)  # pieces not read yet: decoded whole


def test_text_holding_a_special_token_goes_to_the_full_tokenizer(path: Path) -> None:
    small, full = SharedTokenizer(path=path), SharedTokenizer(Tokenizer.from_file(str(path)))
    text = "前文<s>中间</s>后文<mask>"
    [a], [b] = small.encode_batch([text]), full.encode_batch([text])
    same(a, b)
    assert small._tokenizer is not None


def test_the_full_tokenizer_is_loaded_once_small_calls_stop_paying(path: Path) -> None:
    small = SharedTokenizer(path=path)
    for _ in range(tokenizer.FULL_AFTER // 8):
        small.encode_batch(["一句话"] * 8)
    assert small._tokenizer is None
    small.encode_batch(["再一句"])
    assert small._tokenizer is not None
    full = SharedTokenizer(Tokenizer.from_file(str(path)))
    same(small.encode_batch(["再一句"])[0], full.encode_batch(["再一句"])[0])


def test_a_tokenizer_that_is_not_unigram_is_loaded_whole(tmp_path: Path) -> None:
    from tokenizers import models, pre_tokenizers

    word_level = Tokenizer(models.WordLevel({"[UNK]": 0, "你好": 1, "世界": 2}, unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    saved = tmp_path / "tokenizer.json"
    word_level.save(str(saved))
    shared = SharedTokenizer(path=saved)
    assert shared.encode_batch(["你好 世界 再见"])[0].ids == [1, 2, 0]
    assert shared._tokenizer is not None
