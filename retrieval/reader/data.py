"""Training examples for the reader: human questions, plus the "not in this passage" cases.

Input is the SQuAD-like JSONL pair the shared benchmarks use (``contexts.jsonl`` with
``context_id``/``title``/``text``, ``qa.jsonl`` with ``question``/``answers``/``answer_starts``/
``context_id``), so a newsroom can train on its own question/answer pairs in the same shape.

Negatives are made from the same data, because abstention is what the product needs most:
- **cut**: the passage with the answering sentence(s) removed — it still talks about the
  subject, only the fact is gone (the near-miss that word overlap cannot tell apart);
- **other**: another paragraph of the same article (same ``context_id`` prefix before its last
  ``-``), which shares the topic but not the answer;
- **retrieved**: the passage of *another* article that shares the most of the question's
  words — what retrieval puts beside the right article, and what the reader must not answer
  from (the shipped reader answers 14% of them on held-out DRCD: bench/reader_negatives.py).
A negative is kept only when no gold answer string occurs in it. A question given with no
``answers`` is a negative as it stands (**none**: e.g. an answer staff voted down and, on
review, found the passage does not give; ``newsqa feedback pairs``).
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from ..chunks import split_sentences

ExampleKind = Literal["answer", "cut", "other", "retrieved", "none"]


@dataclass(frozen=True, slots=True)
class Example:
    qid: str
    question: str
    passage: str
    answers: tuple[str, ...]  # gold answers (for scoring); empty for negatives
    start: int | None  # character offset of answers[0] in passage; None: no answer here
    kind: ExampleKind
    group: str  # the article the passage belongs to (train/held-out split unit)
    source: str = ""  # the --data folder it came from; a negative keeps its question's


def _read_jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}, line {n}: not JSON ({exc.msg})") from None


def article_of(context_id: str) -> str:
    """The article a passage belongs to: DRCD's passage ids are ``<article>-<n>``."""
    return context_id.rsplit("-", 1)[0] if "-" in context_id else context_id


def load_examples(folder: Path) -> list[Example]:
    """The examples of a ``contexts.jsonl`` + ``qa.jsonl`` folder: answerable ones, and a
    question with no ``answers`` as a passage that does not answer it."""
    contexts = {c["context_id"]: c for c in _read_jsonl(folder / "contexts.jsonl")}
    out = []
    for q in _read_jsonl(folder / "qa.jsonl"):
        text = contexts[q["context_id"]]["text"]
        if not q["answers"]:  # given as a passage that does not answer (reviewed feedback)
            out.append(Example(q["id"], q["question"], text, (), None, "none",
                               article_of(q["context_id"]), str(folder)))
            continue
        answer, start = q["answers"][0], int(q["answer_starts"][0])
        if text[start : start + len(answer)] != answer:
            found = text.find(answer)
            if found < 0:
                continue
            start = found
        out.append(
            Example(
                q["id"],
                q["question"],
                text,
                tuple(q["answers"]),
                start,
                "answer",
                article_of(q["context_id"]),
                str(folder),
            )
        )
    return out


def split_held_out(
    examples: list[Example], share: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """Split by article, so held-out questions never share a passage or topic with training."""
    groups = sorted({e.group for e in examples})
    random.Random(seed).shuffle(groups)
    held = set(groups[: max(1, round(len(groups) * share))])
    return [e for e in examples if e.group not in held], [e for e in examples if e.group in held]


def _contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    return any(a and a in text for a in answers)


def _negative(example: Example, kind: ExampleKind, passage: str) -> Example:
    """``example``'s question over a passage that does not answer it."""
    return replace(example, qid=f"{example.qid}/{kind}", passage=passage, answers=(),
                   start=None, kind=kind)


def cut_negative(example: Example) -> Example | None:
    """The passage without the sentence(s) holding the answer; None if the answer remains."""
    assert example.start is not None
    end = example.start + len(example.answers[0])
    spans = split_sentences(example.passage)
    kept = [example.passage[a:b] for a, b in spans if b <= example.start or a >= end]
    if len(kept) == len(spans) or not kept:
        return None
    passage = "".join(kept)
    if _contains_answer(passage, example.answers):
        return None
    return _negative(example, "cut", passage)


def with_negatives(
    examples: list[Example], *, cut_share: float, other_share: float, seed: int
) -> list[Example]:
    """``examples`` plus cut and other-paragraph negatives for the given shares of them."""
    rng = random.Random(seed)
    paragraphs: dict[str, list[str]] = defaultdict(list)
    for e in examples:
        if e.passage not in paragraphs[e.group]:
            paragraphs[e.group].append(e.passage)
    out = list(examples)
    for e in examples:
        if e.start is None:  # already a negative
            continue
        if rng.random() < cut_share:
            cut = cut_negative(e)
            if cut is not None:
                out.append(cut)
        if rng.random() < other_share:
            others = [
                p
                for p in paragraphs[e.group]
                if p != e.passage and not _contains_answer(p, e.answers)
            ]
            if others:
                out.append(_negative(e, "other", rng.choice(others)))
    return out


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1) if not text[i : i + 2].isspace()}


def retrieved_negatives(
    examples: list[Example], *, share: float, seed: int, pool: list[Example] | None = None
) -> list[Example]:
    """For ``share`` of the answerable examples, the passage of another article (among the
    passages of ``pool``, default ``examples``) with the most of the question's character
    bigrams, weighted by their rarity, when no gold answer occurs in it.

    Bigram overlap stands in for the product's retrieval (BM25 over words plus vectors): it
    needs no index and finds the same kind of passage, one on the question's subject.
    """
    rng = random.Random(seed)
    passages = list({e.passage: e.group for e in (examples if pool is None else pool)}.items())
    postings: dict[str, list[int]] = defaultdict(list)
    for k, (text, _) in enumerate(passages):
        for b in _bigrams(text):
            postings[b].append(k)
    rarity = {b: math.log(len(passages) / len(ks)) for b, ks in postings.items()}
    out = []
    for e in examples:
        if e.start is None or rng.random() >= share:
            continue
        scores: dict[int, float] = defaultdict(float)
        for b in _bigrams(e.question) & rarity.keys():
            for k in postings[b]:
                scores[k] += rarity[b]
        ranked = sorted(scores, key=lambda k: (-scores[k], k))
        best = next(
            (k for k in ranked
             if passages[k][1] != e.group and not _contains_answer(passages[k][0], e.answers)),
            None,
        )
        if best is not None:
            out.append(_negative(e, "retrieved", passages[best][0]))
    return out
