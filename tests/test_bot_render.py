"""Bot building blocks without Telegram: rendering, callback data, settings, limits, logging,
retries. Archive values are real (``Article``, ``Citation.build``), never mocks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bot import callbacks, render
from bot.app import RedactToken, build_services, configure, may_retry
from bot.config import BotSettings, load_settings
from bot.handlers import understood_question
from bot.html import MAX_MESSAGE_LENGTH, visible_length
from bot.limits import RateLimiter
from retrieval.answer.types import Answer, Citation, Span
from retrieval.articles import Article
from retrieval.errors import InputError
from tests.telegram.harness import DEFAULT_TOKEN
from tests.telegram.html_rules import assert_valid
from tests.telegram.offline import OfflineBot, RecordingRequest, command_update

SENTENCE = "聊城市东昌府区推动工业经济提质增效，全年新增规模以上工业企业<二十>家&更多。"


def long_article(n: int = 200, title: str = "东昌府区推动工业经济提质增效") -> Article:
    paragraphs = tuple(f"第{i}段。{SENTENCE}" for i in range(n))
    return Article(id=f"a{n}", title=title, paragraphs=paragraphs, authors=("林金彦",),
                   date="2023-10-09", source="聊城日报", page="A2")


def citation_of(article: Article, n: int, paragraph: int, length: int = 1) -> Citation:
    text = article.text
    start = text.index(f"第{paragraph}段。")
    end = text.index("\n", text.index(f"第{paragraph + length - 1}段。"))
    return Citation.build(n=n, article=article, chunk_id=f"{article.id}:0", score=1.0,
                          sentences=(Span(start, end),), highlights=(Span(start, start + 4),))


# -- answers -----------------------------------------------------------------------------------


def test_archive_text_is_escaped_and_the_answering_span_is_bold() -> None:
    article = long_article(5)
    answer = Answer("问题", "问题", True, "x", (citation_of(article, 1, 2),))
    [part] = render.answer_message(answer, offset=0, k=3, lang="zh").parts
    shown = assert_valid(part)
    assert "<二十>家&更多" in shown.text
    assert shown.entity_texts("bold") == ["第2段。"]
    assert shown.text.endswith(
        "[1] 《东昌府区推动工业经济提质增效》 · 记者 林金彦 · 2023-10-09 · 聊城日报 A2")


def test_a_long_answer_is_split_under_4096_without_cutting_a_citation() -> None:
    article = long_article(300)
    citations = tuple(citation_of(article, n, 60 * n, length=45) for n in (1, 2, 3))
    answer = Answer("问题", "问题", True, citations[0].quote, citations)
    rendered = render.answer_message(answer, offset=0, k=3, lang="zh")
    assert len(rendered.parts) >= 2
    for part in rendered.parts:
        assert visible_length(part) <= MAX_MESSAGE_LENGTH
        assert_valid(part)
    joined = "\n".join(assert_valid(p).text for p in rendered.parts)
    for citation in citations[1:]:
        # Each cited source line is in the same message as its quote.
        head = f"[{citation.n}] 《东昌府区推动工业经济提质增效》"
        holder = next(p for p in rendered.parts if head in assert_valid(p).text)
        assert citation.quote.replace("\n", " ")[:40] in assert_valid(holder).text
    assert joined.count("[1] 《") == 1
    assert rendered.keyboard is not None


def test_understood_question_is_read_back_from_plain_or_raw_html_answers() -> None:
    assert understood_question("理解为：冠县有几条生产线？\n\n正文") == "冠县有几条生产线？"
    assert understood_question("<i>理解为：A &amp; B</i>\n\n正文") == "A & B"
    assert understood_question("冠县共有绿色建材企业15家。") is None


# -- articles ----------------------------------------------------------------------------------


def test_a_long_article_is_paged_with_the_quote_marked_on_the_page_that_holds_it() -> None:
    article = long_article(300)
    start = article.text.index("第250段。")
    end = article.text.index("\n", start)
    pages, quote_page = render.article_pages(article, start, end, "zh")
    assert len(pages) >= 3
    shown = [assert_valid(p) for p in pages]
    assert all(visible_length(p) <= MAX_MESSAGE_LENGTH for p in pages)
    assert shown[0].text.startswith("东昌府区推动工业经济提质增效\n记者 林金彦 · 2023-10-09")
    assert shown[quote_page].entity_texts("underline")[0].startswith("第250段。")
    assert all(not s.entity_texts("underline") for i, s in enumerate(shown) if i != quote_page)
    assert shown[1].text.endswith(f"第 2/{len(pages)} 页")
    body = "".join(s.text for s in shown)
    assert all(f"第{i}段。" in body for i in range(300))  # nothing lost between pages


def test_article_keyboard_offers_only_the_directions_that_exist() -> None:
    first = render.article_keyboard("abc", 0, 3, 5, 9, "zh")
    last = render.article_keyboard("abc", 2, 3, 5, 9, "zh")
    assert first is not None and last is not None
    assert [b.text for b in first.inline_keyboard[0]] == ["▶"]
    assert [b.callback_data for b in last.inline_keyboard[0]] == ["p:abc:1:5:9"]
    assert render.article_keyboard("abc", 0, 1, 0, 0, "zh") is None


# -- callback data -----------------------------------------------------------------------------


@pytest.mark.parametrize("callback", [
    callbacks.OpenArticle("2cdf0143b84497a4", 150, 388),
    callbacks.ArticlePage("2cdf0143b84497a4", 12, 9_999_999, 9_999_999),
    callbacks.MoreResults(9999),
    callbacks.Vote(True),
    callbacks.Vote(False),
])
def test_callback_data_round_trips_within_64_bytes(callback: callbacks.Callback) -> None:
    data = callbacks.encode(callback)
    assert len(data.encode()) <= callbacks.MAX_CALLBACK_BYTES
    assert callbacks.decode(data) == callback


def test_article_ids_that_cannot_fit_get_no_button() -> None:
    with pytest.raises(ValueError, match="cannot be encoded in 64 bytes"):
        callbacks.encode(callbacks.OpenArticle("x" * 60, 1, 2))
    article = long_article(3, title="长标题")
    answer = Answer("q", "q", True, "x", (citation_of(article, 1, 1),))
    unusable = Answer("q", "q", True, "x", (
        Citation.build(n=1, article=Article(id="有中文的编号", title="t", paragraphs=("一句。",)),
                       chunk_id="c", score=1.0, sentences=(Span(0, 3),), highlights=()),))
    labels = [b.text for row in render.answer_message(unusable, offset=0, k=3,
                                                        lang="zh").keyboard.inline_keyboard
              for b in row]
    assert "📄 原文 1" not in labels and "👍" in labels
    assert render.answer_message(answer, offset=0, k=3, lang="zh").keyboard is not None


# -- settings, limits, logging -----------------------------------------------------------------


def test_settings_come_from_the_config_file_then_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('token = "1:FILE"\nadmins = [5]\nrate_limit = 3\n', encoding="utf-8")
    settings = load_settings(config, env={"TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot"},
                             admins=(6,))
    assert (settings.token, settings.rate_limit) == ("1:FILE", 3)
    assert settings.admins == frozenset({5, 6})
    assert settings.file_base_url == "http://127.0.0.1:8081/file/bot"
    assert load_settings(config, env={"TELEGRAM_BOT_TOKEN": "2:ENV"}).token == "2:ENV"


def test_missing_token_and_bad_config_say_what_to_do(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError) as missing:
        load_settings(empty, env={})
    assert str(missing.value) == (
        f'no Telegram bot token: set TELEGRAM_BOT_TOKEN or put token = "…" in {empty} '
        "(BotFather gives you the token; see docs/bot.md)")
    typo = tmp_path / "typo.toml"
    typo.write_text('token = "1:X"\nadmin = [1]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"typo.toml: unknown setting 'admin'; known: "):
        load_settings(typo, env={})
    with pytest.raises(InputError, match=r"nope.toml: no such config file"):
        load_settings(tmp_path / "nope.toml", env={})


def test_allow_list_admits_listed_users_chats_and_admins_only() -> None:
    open_ = BotSettings(token="1:x")
    closed = BotSettings(token="1:x", allowed_users=frozenset({1}),
                         allowed_chats=frozenset({-5}), admins=frozenset({9}))
    assert open_.may_use(123, 123)
    assert closed.may_use(1, 1) and closed.may_use(2, -5) and closed.may_use(9, 9)
    assert not closed.may_use(2, 2)


def test_rate_limiter_allows_a_burst_then_makes_the_user_wait() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    assert limiter.retry_after(1) == 0 and limiter.retry_after(1) == 0
    assert limiter.retry_after(1) == pytest.approx(60)
    assert limiter.retry_after(2) == 0  # other users are not affected
    assert limiter.should_warn(1, 60) and not limiter.should_warn(1, 60)
    now[0] = 61
    assert limiter.retry_after(1) == 0


def test_the_token_is_redacted_from_log_lines_and_tracebacks(
        caplog: pytest.LogCaptureFixture) -> None:
    token = "123456:SECRET-abc"
    logger = logging.getLogger("test.redact")
    caplog.handler.addFilter(RedactToken(token))
    try:
        logger.warning("HTTP Request: POST https://api.telegram.org/bot%s/getMe", token)
        logger.warning("GET /file/bot123456%3ASECRET-abc/documents/x")
        try:
            raise RuntimeError(f"failed for {token}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        caplog.handler.filters.clear()
    assert "SECRET" not in caplog.text
    assert "bot123456:<token>/getMe" in caplog.text


# -- retries -----------------------------------------------------------------------------------


def flaky(error: Exception, failures: int, attempts: list[int],
          cause: Exception | None = None) -> Any:
    def answer(params: dict[str, Any]) -> Any:
        attempts.append(1)
        if len(attempts) <= failures:
            raise error from cause
        return {"message_id": 1, "date": 0, "chat": {"id": params["chat_id"], "type": "private"},
                "text": params["text"]}
    return answer


def run_help(request: RecordingRequest, library_free_services: Any) -> OfflineBot:
    bot = OfflineBot(lambda b: configure(b, library_free_services), request=request,
                     raise_handler_errors=False)
    with bot:
        bot.feed(command_update("/help"))
    return bot


@pytest.fixture()
def services(tmp_path: Path) -> Any:
    from retrieval.feedback import FeedbackStore

    # /help never touches the library; None stands in for "no archive opened".
    return build_services(BotSettings(token=DEFAULT_TOKEN), None,  # type: ignore[arg-type]
                          FeedbackStore.open(tmp_path / "f.sqlite"))


def test_a_send_that_could_not_connect_is_retried_until_it_goes_through(
        services: Any) -> None:
    attempts: list[int] = []
    refused = NetworkError("httpx.ConnectError: connection refused")
    request = RecordingRequest(responses={"sendMessage": flaky(
        refused, 2, attempts, cause=httpx.ConnectError("connection refused"))})
    bot = run_help(request, services)
    assert len(attempts) == 3 and not bot.errors


@pytest.mark.parametrize("error", [TimedOut(), NetworkError("httpx.ReadError: reset")])
def test_a_send_that_failed_mid_way_is_not_repeated_so_no_answer_is_posted_twice(
        services: Any, error: Exception) -> None:
    attempts: list[int] = []
    request = RecordingRequest(responses={"sendMessage": flaky(error, 1, attempts)})
    bot = run_help(request, services)
    assert bot.errors[0] is error
    # The failed help was tried once; the apology that follows is the second sendMessage.
    assert len(attempts) == 2


def test_idempotent_calls_are_retried_after_any_network_failure() -> None:
    assert may_retry("editMessageText", TimedOut())
    assert may_retry("answerCallbackQuery", NetworkError("reset"))
    assert not may_retry("sendMessage", TimedOut())
    assert not may_retry("editMessageText", BadRequest("message is not modified"))


# -- newsqa serve: refusing to start -----------------------------------------------------------


def test_serve_without_a_token_says_where_to_put_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from bot.config import default_config_path
    from retrieval.cli import main

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("NEWSQA_BOT_CONFIG", raising=False)
    if default_config_path().exists():
        pytest.skip("this machine has a real bot config file")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert result.output == (
        "error: no Telegram bot token: set TELEGRAM_BOT_TOKEN or put token = \"…\" in "
        f"{default_config_path()} (BotFather gives you the token; see docs/bot.md)\n")


def test_serve_refuses_a_plain_http_public_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from retrieval.cli import main

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", DEFAULT_TOKEN)
    result = CliRunner().invoke(main, ["serve", "--webhook-url", "http://bot.example.org/x"])
    assert result.exit_code == 2
    assert "Invalid value for --webhook-url: Telegram only posts to https:// URLs" in result.output
