"""python-telegram-bot 22 against the Telegram emulator (tests/telegram) and the offline harness.

One file (~600 lines): the emulator's and the offline harness's contract with PTB, each
behaviour checked both ways.

One tiny real PTB Application (``build_demo_app``) exercises what the newsqa bot will need: /start
with an HTML reply and inline keyboard, command registration, chat actions, button presses that
edit the message, inline queries, document download and upload, group mentions, edited messages.
It is driven through the emulator (HTTP long polling, as ``run_polling`` does) and through
``Update.de_json`` + ``process_update`` with a recording request.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import statistics
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputFile,
    InputTextMessageContent,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Conflict
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.html import escape
from tests.telegram.harness import (
    DEFAULT_GROUP,
    EmulatorClient,
    RunningBot,
    TelegramEmulator,
    User,
    running_application,
)
from tests.telegram.html_rules import TelegramHTMLError, parse
from tests.telegram.offline import (
    OfflineBot,
    callback_query_update,
    chosen_inline_result_update,
    command_update,
    document_update,
    edited_message_update,
    group_message_update,
    inline_query_update,
    message_update,
    photo_update,
    sticker_update,
    voice_update,
)
from tests.telegram.processes import bot_process

ARTICLES = {"1": ("聊城日报 头版", "东昌湖畔春意浓"), "2": ("聊城日报 二版", "运河文化节开幕")}


# --- the demo bot ------------------------------------------------------------------------------


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


WELCOME = "<b>欢迎</b>使用报纸问答 &amp; 引用检索"


def welcome_keyboard() -> InlineKeyboardMarkup:
    return keyboard([("详情", "detail:1")], [("原样", "same")])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot.set_my_commands([BotCommand("start", "开始"), BotCommand("file", "发文件")])
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    await update.message.reply_html(WELCOME, reply_markup=welcome_keyboard())


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query.data.startswith("detail:"):
        title, headline = ARTICLES[query.data.split(":", 1)[1]]
        await query.answer("已展开")
        await query.edit_message_text(
            f"<b>{escape(headline)}</b>\n<i>{escape(title)}</i>",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard([("收起", "collapse")]),
        )
    elif query.data == "same":  # re-sends what is shown: real Telegram refuses that
        await query.answer()
        await query.edit_message_text(
            query.message.text_html, parse_mode=ParseMode.HTML,
            reply_markup=query.message.reply_markup,
        )
    else:
        await query.answer("收起", show_alert=True)
        await query.edit_message_reply_markup(None)


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    words = update.inline_query.query
    results = [
        InlineQueryResultArticle(key, headline, InputTextMessageContent(f"{title}：{headline}"))
        for key, (title, headline) in ARTICLES.items()
        if words in headline
    ]
    await update.inline_query.answer(results, cache_time=0)


async def on_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("chosen", []).append(update.chosen_inline_result.result_id)


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    document = update.message.document
    data = bytes(await (await document.get_file()).download_as_bytearray())
    first_line = data.decode("utf-8").splitlines()[0]
    await update.message.reply_html(
        f"收到 <code>{escape(document.file_name)}</code>：{len(data)} 字节，"
        f"sha1 {hashlib.sha1(data).hexdigest()[:12]}，首行 {escape(first_line)}"
    )


async def send_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_document(
        InputFile("第一行\n第二行\n".encode(), filename="答案.txt"), caption="<b>附件</b>",
        parse_mode=ParseMode.HTML,
    )


async def bad_html(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_html("第一行<br>第二行")


async def on_group_mention(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    await update.message.reply_text(f"{chat.type}:{chat.title} 收到提问", do_quote=True)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.edited_message.reply_text(f"已编辑：{update.edited_message.text}")


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    kind = "photo" if message.photo else "sticker" if message.sticker else "voice"
    await message.reply_text(f"暂不支持 {kind}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_html(f"你说：{escape(update.message.text)}", do_quote=True)


def build_demo_app(builder: ApplicationBuilder) -> Application:  # type: ignore[type-arg]
    app = builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("file", send_file))
    app.add_handler(CommandHandler("bad", bad_html))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(InlineQueryHandler(on_inline))
    app.add_handler(ChosenInlineResultHandler(on_chosen))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.PHOTO | filters.Sticker.ALL | filters.VOICE, on_media))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edited))
    app.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.Entity(MessageEntity.MENTION),
                       on_group_mention)
    )
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, echo))
    return app


# --- emulator fixtures -------------------------------------------------------------------------

_user_ids = itertools.count(2001)


@pytest.fixture(scope="module")
def emulator(telegram_emulator: TelegramEmulator) -> TelegramEmulator:
    return telegram_emulator  # the session-wide emulator from tests/conftest.py


@pytest.fixture(scope="module")
def demo_bot(emulator: TelegramEmulator) -> Iterator[RunningBot]:
    app = build_demo_app(emulator.application_builder())
    with running_application(app, raise_handler_errors=False) as running:
        yield running


@pytest.fixture
def user(emulator: TelegramEmulator, demo_bot: RunningBot) -> Iterator[EmulatorClient]:
    """A fresh user (own private chat) talking to the demo bot; handler errors fail the test."""
    errors_before = len(demo_bot.errors)
    client = emulator.client(user=User(next(_user_ids), "读者", "reader"))
    yield client
    unexpected = demo_bot.errors[errors_before:]
    del demo_bot.errors[errors_before:]
    assert not unexpected, f"demo bot handlers raised: {unexpected!r}"


# --- through the emulator ------------------------------------------------------------------------


def test_start_replies_in_html_with_keyboard_and_registers_commands(user: EmulatorClient) -> None:
    sent = user.send_command("/start")
    [reply] = user.wait_for_bot_messages()
    assert reply.text == "欢迎使用报纸问答 & 引用检索"  # rendered by the emulator, as Telegram does
    assert reply.raw["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert reply.html == WELCOME
    assert reply.parsed().entity_texts("bold") == ["欢迎"]
    assert [[b["text"] for b in row] for row in reply.buttons] == [["详情"], ["原样"]]
    assert reply.chat_id == sent.chat_id
    state = user.bot_state()
    assert user.commands() == [
        {"command": "start", "description": "开始"}, {"command": "file", "description": "发文件"}
    ]
    last_action = state["chat_actions"][-1]
    assert (last_action["chat_id"], last_action["action"]) == (sent.chat_id, "typing")


def test_pressing_a_button_answers_and_edits_the_message(user: EmulatorClient) -> None:
    user.send_command("/start")
    [menu] = user.wait_for_bot_messages()
    press = user.press_button(menu, "详情")
    assert user.callback_answer(press) == {"text": "已展开", "show_alert": False}
    edited = user.wait_for_edit(menu)
    assert edited.plain_text == "东昌湖畔春意浓\n聊城日报 头版"
    assert edited.edited and [b["text"] for row in edited.buttons for b in row] == ["收起"]
    user.press_button(edited, "收起")
    collapsed = user.wait_for_edit(edited)
    assert collapsed.buttons == [] and collapsed.plain_text == edited.plain_text


def test_editing_to_identical_content_is_refused_like_telegram(
    user: EmulatorClient, demo_bot: RunningBot
) -> None:
    user.send_command("/start")
    [menu] = user.wait_for_bot_messages()
    errors_before = len(demo_bot.errors)
    user.callback_answer(user.press_button(menu, "原样"))
    error = demo_bot.wait_for_error(after=errors_before)
    assert isinstance(error, BadRequest)
    assert str(error).startswith("Message is not modified")
    del demo_bot.errors[errors_before:]  # expected; the fixture fails on any other


def test_text_is_echoed_as_a_reply_quoting_the_user(user: EmulatorClient) -> None:
    sent = user.send_message("东昌湖 <水> & 运河")
    [reply] = user.wait_for_bot_messages()
    assert reply.plain_text == "你说：东昌湖 <水> & 运河"
    assert reply.reply_to_message_id == sent.message_id


def test_inline_query_returns_matching_articles_and_choice_reaches_bot(
    user: EmulatorClient, demo_bot: RunningBot
) -> None:
    answer = user.inline_query("运河")
    assert [r["title"] for r in answer.results] == ["运河文化节开幕"]
    content = answer.results[0]["input_message_content"]
    assert content["message_text"] == "聊城日报 二版：运河文化节开幕"
    user.choose_inline_result(answer, "2")
    deadline = time.monotonic() + 5
    while "2" not in demo_bot.application.bot_data.get("chosen", []):
        assert time.monotonic() < deadline, "chosen_inline_result never reached the bot"
        time.sleep(0.01)  # polling the bot's own state; there is no message to wait on


def test_bot_downloads_a_document_the_user_uploads(user: EmulatorClient, tmp_path: Path) -> None:
    upload = tmp_path / "聊城日报.txt"
    upload.write_text("东昌湖畔春意浓\n正文……\n", encoding="utf-8")
    user.send_document(upload, caption="请收录")
    [reply] = user.wait_for_bot_messages()
    digest = hashlib.sha1(upload.read_bytes()).hexdigest()[:12]
    size = len(upload.read_bytes())
    assert reply.plain_text == f"收到 聊城日报.txt：{size} 字节，sha1 {digest}，首行 东昌湖畔春意浓"


def test_bot_uploads_a_document_with_caption(user: EmulatorClient) -> None:
    user.send_command("/file")
    [reply] = user.wait_for_bot_messages()
    assert reply.document is not None
    assert reply.document["file_name"] == "答案.txt"
    assert reply.document["file_size"] == len("第一行\n第二行\n".encode())
    assert reply.plain_text == "附件"


def test_group_message_mentioning_the_bot_is_answered_in_the_group(user: EmulatorClient) -> None:
    sent = user.group_message("东昌湖在哪里？")
    assert sent.message["entities"] == [{"type": "mention", "offset": 0, "length": 14}]
    [reply] = user.wait_for_bot_messages(DEFAULT_GROUP.id)
    assert reply.text == f"group:{DEFAULT_GROUP.title} 收到提问"
    assert reply.reply_to_message_id == sent.message_id


def test_a_new_client_sees_only_bot_messages_sent_after_it_was_created(
    emulator: TelegramEmulator, demo_bot: RunningBot
) -> None:
    reader = User(next(_user_ids), "老读者")
    first = emulator.client(user=reader)
    first.send_message("早")
    first.wait_for_bot_messages()
    second = emulator.client(user=reader)  # same user and chat, as a later test might reuse
    second.expect_no_bot_messages(within=0.2)
    second.send_message("晚")
    [reply] = second.wait_for_bot_messages()
    assert reply.plain_text == "你说：晚"


def test_clients_and_groups_are_fresh_by_default(emulator: TelegramEmulator) -> None:
    one, two = emulator.client(), emulator.client()
    assert one.user.id != two.user.id
    assert emulator.new_group().id != emulator.new_group().id < 0


def test_edited_message_reaches_the_edited_message_handler(user: EmulatorClient) -> None:
    sent = user.send_message("运河")
    user.wait_for_bot_messages()
    user.edit_message(sent, "运河文化节")
    [reply] = user.wait_for_bot_messages()
    assert reply.text == "已编辑：运河文化节"


def test_stickers_photos_and_voice_are_routed_to_the_media_handler(user: EmulatorClient) -> None:
    for update, kind in ((sticker_update(), "sticker"), (photo_update(), "photo"),
                         (voice_update(), "voice")):
        message = {k: v for k, v in update["message"].items()
                   if k not in ("from", "chat", "message_id")}  # the emulator assigns these
        chat = {"id": user.user.id, "type": "private"}
        user.send_update({"message": {**message, "from": user.user.to_dict(), "chat": chat}})
        [reply] = user.wait_for_bot_messages()
        assert reply.text == f"暂不支持 {kind}"


def test_invalid_html_from_the_bot_is_refused_like_telegram(
    user: EmulatorClient, demo_bot: RunningBot
) -> None:
    errors_before = len(demo_bot.errors)
    user.send_command("/bad")
    error = demo_bot.wait_for_error(after=errors_before)
    user.expect_no_bot_messages(within=0.1)
    assert isinstance(error, BadRequest)
    assert str(error) == 'Can\'t parse entities: unsupported start tag "br" at byte offset 9'
    del demo_bot.errors[errors_before:]  # expected; the fixture fails on any other


# --- the emulator's Bot API surface, without PTB's Application ---------------------------------


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def call(emulator: TelegramEmulator, token: str, method: str, **kwargs: Any) -> Any:
    async with Bot(token, base_url=emulator.api_base_url) as bot:
        return await bot.do_api_request(method, api_kwargs=kwargs)


def test_unknown_method_is_a_telegram_style_bad_request(emulator: TelegramEmulator) -> None:
    with pytest.raises(BadRequest) as caught:
        run(call(emulator, "99:unknown", "sendTelepathy", chat_id=1))
    assert caught.value.message == (
        'Method "sendtelepathy" is not supported by the emulator '
        "(tests/telegram/emulator/compat.js)"
    )


def test_get_updates_long_polls_and_redelivers_until_confirmed(emulator: TelegramEmulator) -> None:
    token = "98:longpoll"
    client = emulator.client(token=token)
    url = f"{emulator.api_base_url}{token}/getUpdates"
    with httpx.Client(trust_env=False) as http:
        started = time.monotonic()
        assert http.post(url, data={"timeout": "1"}).json() == {"ok": True, "result": []}
        assert 0.9 <= time.monotonic() - started < 3

        results: list[dict[str, Any]] = []
        poller = threading.Thread(
            target=lambda: results.append(http.post(url, data={"timeout": "20"}).json())
        )
        started = time.monotonic()
        poller.start()
        client.wait_until_polling(after=1)
        sent = client.send_message("你好")
        poller.join(5)
        assert time.monotonic() - started < 5
        [update] = results[0]["result"]
        assert update["update_id"] == sent.update_id
        assert update["message"]["chat"]["id"] == client.user.id
        assert isinstance(update["message"]["date"], int) and update["message"]["date"] < 1e10

        again = http.post(url, data={"timeout": "0"}).json()["result"]
        assert [u["update_id"] for u in again] == [sent.update_id]  # not yet confirmed
        confirmed = http.post(url, data={"offset": str(sent.update_id + 1)}).json()
        assert confirmed == {"ok": True, "result": []}


def test_second_concurrent_poller_terminates_the_first_with_conflict(
    emulator: TelegramEmulator,
) -> None:
    token = "97:conflict"

    async def two_pollers() -> BaseException | None:
        async with Bot(token, base_url=emulator.api_base_url) as first, \
                Bot(token, base_url=emulator.api_base_url) as second:
            first_poll = asyncio.ensure_future(first.get_updates(timeout=5))
            watcher = emulator.client(token=token)
            await asyncio.to_thread(watcher.wait_until_polling, after=0, timeout=5)
            await second.get_updates(timeout=0)
            try:
                await first_poll
            except Conflict as exc:
                return exc
        return None

    error = run(two_pollers())
    assert isinstance(error, Conflict)
    assert str(error).startswith("Conflict: terminated by other getUpdates request")


def test_form_encoded_values_are_coerced_like_telegram(emulator: TelegramEmulator) -> None:
    token = "96:coerce"
    with httpx.Client(trust_env=False) as http:
        body = http.post(
            f"{emulator.api_base_url}{token}/sendMessage",
            data={"chat_id": "42", "text": "x", "disable_notification": "true",
                  "reply_markup": '{"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}'},
        ).json()
    message = body["result"]
    assert message["chat"] == {"id": 42, "type": "private", "first_name": "TestName"}
    assert message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"
    assert abs(message["date"] - time.time()) < 60  # seconds, not milliseconds
    assert set(message) == {"message_id", "from", "date", "chat", "text", "reply_markup"}


def test_run_polling_process_answers_and_stops_cleanly_on_sigterm(
    emulator: TelegramEmulator, tmp_path: Path
) -> None:
    script = tmp_path / "echo_bot.py"
    script.write_text(textwrap.dedent("""
        import os
        from telegram.ext import ApplicationBuilder, MessageHandler, filters

        async def echo(update, context):
            await update.message.reply_text("echo: " + update.message.text)

        app = (ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"])
               .base_url(os.environ["TELEGRAM_API_BASE_URL"])
               .base_file_url(os.environ["TELEGRAM_FILE_BASE_URL"]).build())
        app.add_handler(MessageHandler(filters.TEXT, echo))
        app.run_polling(poll_interval=0, timeout=10)
    """))
    token = "95:process"
    user = emulator.client(token=token)
    with bot_process([sys.executable, str(script)], emulator, token=token) as process:
        round_trips = []
        for n in range(5):
            started = time.perf_counter()
            user.send_message(f"第{n}条")
            [reply] = user.wait_for_bot_messages()
            round_trips.append(time.perf_counter() - started)
            assert reply.text == f"echo: 第{n}条"
    assert process.returncode == 0
    assert statistics.median(round_trips) < 2.0  # generous: catches a poll that never wakes up


def test_bot_process_that_dies_at_startup_fails_with_its_output(
    emulator: TelegramEmulator, tmp_path: Path
) -> None:
    script = tmp_path / "broken_bot.py"
    script.write_text('import sys\nsys.exit("error: no index at /nonexistent")\n')
    started = time.monotonic()
    with pytest.raises(AssertionError) as caught, \
            bot_process([sys.executable, str(script)], emulator, token="93:broken"):
        pytest.fail("the block must not run")
    assert "(exited with 1) never polled getUpdates:\nerror: no index at /nonexistent" in str(
        caught.value
    )
    assert time.monotonic() - started < 10  # not the 60 s ready timeout


# --- offline: Update.de_json + process_update with a recording request --------------------------


@pytest.fixture
def offline() -> Iterator[OfflineBot]:
    with OfflineBot(build_demo_app) as bot:
        yield bot


def test_offline_start_records_commands_chat_action_and_html_reply(offline: OfflineBot) -> None:
    offline.feed(command_update("/start"))
    assert [call.method for call in offline.calls] == [
        "getMe", "setMyCommands", "sendChatAction", "sendMessage"
    ]
    reply = offline.sent_messages()[0].params
    assert reply["parse_mode"] == "HTML"
    assert reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "detail:1"


def test_offline_button_press_edits_the_recorded_message(offline: OfflineBot) -> None:
    offline.feed(command_update("/start"))
    sent = offline.sent_messages()[0].result
    offline.feed(callback_query_update("detail:2", message=sent))
    answer, edit = offline.calls[-2:]
    assert (answer.method, answer.params["text"]) == ("answerCallbackQuery", "已展开")
    assert edit.method == "editMessageText"
    assert edit.params["text"] == "<b>运河文化节开幕</b>\n<i>聊城日报 二版</i>"


def test_offline_inline_query_and_chosen_result(offline: OfflineBot) -> None:
    offline.feed(inline_query_update("东昌湖"))
    [answer] = offline.request.calls_to("answerInlineQuery")
    assert [r["id"] for r in answer.params["results"]] == ["1"]
    offline.feed(chosen_inline_result_update("1", "东昌湖"))
    assert offline.application.bot_data["chosen"] == ["1"]


def test_offline_document_is_downloaded_through_get_file(offline: OfflineBot) -> None:
    content = "第一行\n第二行\n".encode()
    offline.request.add_file("doc-7", content)
    offline.feed(document_update("doc-7", file_name="a.txt", mime_type="text/plain",
                                 file_size=len(content)))
    assert offline.request.calls_to("getFile")[0].params == {"file_id": "doc-7"}
    text = offline.sent_messages()[-1].params["text"]
    assert text.startswith(f"收到 <code>a.txt</code>：{len(content)} 字节")


def test_offline_group_mention_edit_and_media_updates(offline: OfflineBot) -> None:
    offline.feed(group_message_update("请问"))
    assert offline.sent_messages()[-1].params["chat_id"] == DEFAULT_GROUP.id
    original = message_update("原话")
    offline.feed(original)
    offline.feed(edited_message_update(original, "改过的话"))
    assert offline.sent_messages()[-1].params["text"] == "已编辑：改过的话"
    for update, kind in ((photo_update(), "photo"), (sticker_update(), "sticker"),
                         (voice_update(), "voice")):
        offline.feed(update)
        assert offline.sent_messages()[-1].params["text"] == f"暂不支持 {kind}"


def test_offline_invalid_html_is_refused_like_telegram(offline: OfflineBot) -> None:
    with pytest.raises(AssertionError, match="Bot API refused a call") as caught:
        offline.feed(command_update("/bad"))
    assert isinstance(caught.value.__cause__, BadRequest)
    assert str(caught.value.__cause__) == (
        'Can\'t parse entities: unsupported start tag "br" at byte offset 9'
    )


def test_offline_uploaded_document_bytes_are_recorded(offline: OfflineBot) -> None:
    offline.feed(command_update("/file"))
    [upload] = offline.request.calls_to("sendDocument")
    assert upload.files == {"document": "第一行\n第二行\n".encode()}
    assert upload.params["caption"] == "<b>附件</b>"



PARITY_CASES = [
    "第一行<br>第二行", "<b>粗体", "<b>x</i>", "a & b", "1 > 0", "<a>x</a>", '<b class="x">x</b>',
    "<pre><b>x</b></pre>", "<blockquote><blockquote>x</blockquote></blockquote>",
    '😀<b>聊城</b> <a href="https://x.cn/?a=1&amp;b=2"><i>链接</i></a> &#20013;&quot;',
    '<tg-spoiler>剧透</tg-spoiler><span class="tg-spoiler">也是</span><u><s>删</s></u>',
]


@pytest.mark.parametrize("markup", PARITY_CASES)
def test_emulator_and_python_checker_agree_on_html(emulator: TelegramEmulator, markup: str) -> None:
    with httpx.Client(trust_env=False) as http:
        body = http.post(f"{emulator.api_base_url}94:parity/sendMessage",
                         data={"chat_id": "5", "text": markup, "parse_mode": "HTML"}).json()
    try:
        expected = parse(markup)
    except TelegramHTMLError as exc:
        assert body == {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
    else:
        assert body["result"]["text"] == expected.text
        entities = [(e["type"], e["offset"], e["length"], e.get("url"))
                    for e in body["result"]["entities"]]
        assert entities == [(e.type, e.offset, e.length, e.url) for e in expected.entities]
