"""Telegram handlers: thin translations between updates and the Library.

One module (~530 lines) holding every handler, as PTB's examples do: each is a few statements,
and they share the services, the language and the refusal helpers at the top.

Each handler reads what it needs from the update, calls the library off the event loop, and
sends what ``bot.render`` produced. Nothing here formats archive text itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import (
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ContextTypes

from retrieval.answer.conversation import History
from retrieval.errors import InputError
from retrieval.feedback import CitedArticle, Feedback, FeedbackStore
from retrieval.library import Library
from retrieval.limits import MAX_FILE_BYTES, MAX_SEARCH_CHARS
from retrieval.sources.loading import EXTENSIONS, load_path
from retrieval.state import BotState

from . import callbacks, render
from .asking import Asker
from .config import BotSettings
from .limits import RateLimiter
from .metrics import Metrics
from .texts import Lang, lang_of, text
from .updates import is_placeholder

if TYPE_CHECKING:
    from retrieval.library import IngestProgress

logger = logging.getLogger(__name__)

UPLOAD_EXTENSIONS = tuple(EXTENSIONS)  # whatever `newsqa ingest` reads
MAX_UPLOAD_MB = MAX_FILE_BYTES // 2**20  # = the Bot API's getFile download limit (20 MB)
# Refusal notices to one user off the allow-list: at most this many per window (seconds);
# beyond that the bot stays silent, so a flood of messages cannot make it flood back.
REFUSALS_PER_WINDOW = 3
REFUSAL_WINDOW = 600.0
TYPING_REFRESH = 4.5  # Telegram shows "typing…" for 5 s per chat action
PROGRESS_EVERY = 2.0  # seconds between progress edits during an upload
SEARCH_K = 5
LATEST_N = 10
INLINE_K = 10
_UNDERSTOOD = re.compile(r"^(?:理解为：|Understood as: )(.+)$")
_SHORT_ANSWER = re.compile(
    "^(?:" + "|".join(re.escape(text("answer_label", lang)) for lang in ("zh", "en")) + ")(.+)$"
)
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Services:
    """What handlers share, built once per process (``context.bot_data["services"]``)."""

    settings: BotSettings
    library: Library
    asker: Asker
    feedback: FeedbackStore
    limiter: RateLimiter
    refusals: RateLimiter = field(
        default_factory=lambda: RateLimiter(REFUSALS_PER_WINDOW, REFUSAL_WINDOW))
    # Conversations survive restarts when a state store is given; else they live in chat_data.
    state: BotState | None = None
    metrics: Metrics = field(default_factory=Metrics)


async def chat_history(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> History | None:
    state = services(context).state
    if state is not None:  # a disk read: off the event loop, which serves every chat
        return await asyncio.to_thread(state.history, chat_id)
    return (context.chat_data or {}).get("history")


async def remember_history(context: ContextTypes.DEFAULT_TYPE, chat_id: int,
                           history: History | None) -> None:
    state = services(context).state
    if state is not None:  # a commit: off the event loop, as votes are
        await asyncio.to_thread(state.set_history, chat_id, history)
    elif context.chat_data is not None:
        if history is None:
            context.chat_data.pop("history", None)
        else:
            context.chat_data["history"] = history


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data["services"]


def user_lang(user: User | None) -> Lang:
    return lang_of(user.language_code if user else None)


# -- sending ---------------------------------------------------------------------------------


async def send_rendered(message: Message, rendered: render.Rendered, *,
                        quote: bool = True) -> Message:
    """Send every part (replying to ``message`` if ``quote``); the keyboard goes on the last."""
    sent = message
    for index, part in enumerate(rendered.parts):
        last = index == len(rendered.parts) - 1
        sent = await message.get_bot().send_message(
            message.chat_id, part, parse_mode=ParseMode.HTML,
            reply_markup=rendered.keyboard if last else None,
            reply_parameters=ReplyParameters(message.message_id,
                                             allow_sending_without_reply=True)
            if quote else None,
        )
    return sent


async def reply_html(message: Message, markup: str) -> None:
    await send_rendered(message, render.Rendered([markup]), quote=False)


@contextlib.asynccontextmanager
async def typing(message: Message) -> AsyncIterator[None]:
    """Keep "typing…" showing in the chat while the body runs."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(Exception):  # a lost chat action must not fail the answer
                await message.get_bot().send_chat_action(message.chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_REFRESH)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- access ----------------------------------------------------------------------------------


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop updates from users and chats outside the allow-list (politely, in private)."""
    if is_placeholder(update):  # stood in for an update PTB could not parse (logged there)
        raise ApplicationHandlerStop
    svc = services(context)
    settings = svc.settings
    user, chat = update.effective_user, update.effective_chat
    if settings.may_use(user.id if user else None, chat.id if chat else None):
        return
    if user is not None and svc.refusals.retry_after(user.id):
        logger.debug("refused update %s from user %s silently (refusal limit)",
                     update.update_id, user.id)
        raise ApplicationHandlerStop
    logger.info("refused update %s from user %s in chat %s", update.update_id,
                user.id if user else None, chat.id if chat else None)
    lang = user_lang(user)
    if update.inline_query:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif update.callback_query:
        await update.callback_query.answer(text("not_allowed", lang), show_alert=True)
    elif update.effective_message and chat and chat.type == ChatType.PRIVATE:
        await reply_html(update.effective_message, text("not_allowed", lang))
    raise ApplicationHandlerStop


# -- commands --------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: what the bot does and three example questions from the archive."""
    message = update.effective_message
    assert message is not None
    examples = await example_questions(context)
    lang = user_lang(update.effective_user)
    await reply_html(message, render.start_message(examples, lang))


async def example_questions(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    """Three headline questions the archive really answers; recomputed when it changes."""
    library = services(context).library
    generation = (await asyncio.to_thread(library.about)).generation
    cached = context.bot_data.get("examples")
    if cached is not None and cached[0] == generation:
        return cached[1]
    candidates = render.example_questions(await asyncio.to_thread(library.latest, 30), n=6)
    answers = await asyncio.to_thread(library.ask_batch, candidates) if candidates else []
    examples = [q for q, answer in zip(candidates, answers, strict=True) if answer.found][:3]
    context.bot_data["examples"] = (generation, examples)
    return examples


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to ask, the buttons, the commands."""
    assert update.effective_message is not None
    lang = user_lang(update.effective_user)
    await reply_html(update.effective_message, render.help_message(context.bot.username, lang))


async def search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/search 关键词: headlines with excerpts."""
    message = update.effective_message
    assert message is not None
    lang = user_lang(update.effective_user)
    query = " ".join(context.args or []).strip()
    if not query:
        await reply_html(message, text("search_usage", lang))
        return
    if len(query) > MAX_SEARCH_CHARS:
        await reply_html(message, text("too_long", lang, length=len(query),
                                       limit=MAX_SEARCH_CHARS))
        return
    if not await _within_rate(update, context):
        return
    async with typing(message):
        results = await asyncio.to_thread(services(context).library.search, query, SEARCH_K)
    await send_rendered(message, render.search_message(query, results, lang))


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest: the newest articles with 📄 buttons."""
    assert update.effective_message is not None
    articles = await asyncio.to_thread(services(context).library.latest, LATEST_N)
    rendered = render.latest_message(articles, user_lang(update.effective_user))
    await send_rendered(update.effective_message, rendered, quote=False)


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/about: articles, date range, sources and model of the archive."""
    assert update.effective_message is not None
    stats = await asyncio.to_thread(services(context).library.about)
    await reply_html(update.effective_message, render.about_message(
        articles=stats.articles, chunks=stats.chunks, first_date=stats.first_date,
        last_date=stats.last_date, sources=stats.sources, model=stats.model,
        lang=user_lang(update.effective_user),
    ))


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reset: forget this chat's conversation."""
    assert update.effective_message is not None
    await remember_history(context, update.effective_message.chat_id, None)
    await reply_html(update.effective_message, text("reset_done", user_lang(update.effective_user)))


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask 问题: ask explicitly (the way to ask in a group without mentioning the bot)."""
    message = update.effective_message
    assert message is not None
    question = " ".join(context.args or [])
    if not question.strip():
        await reply_html(message, text("ask_usage", user_lang(update.effective_user)))
        return
    await answer_question(update, context, question)


# -- questions -------------------------------------------------------------------------------


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question."""
    assert update.effective_message is not None
    await answer_question(update, context, update.effective_message.text or "")


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only messages that mention the bot or reply to it."""
    message = update.effective_message
    assert message is not None
    bot = context.bot
    replied = message.reply_to_message
    to_bot = replied is not None and replied.from_user is not None and (
        replied.from_user.id == bot.id)
    if not (to_bot or mentions(message, bot.username, bot.id)):
        return
    await answer_question(update, context, strip_mentions(message.text or "", bot.username))


def mentions(message: Message, username: str, bot_id: int) -> bool:
    """True if the message @mentions the bot (by username or as a text mention)."""
    for entity, value in message.parse_entities(
            [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
        if entity.type == MessageEntity.MENTION and value.lower() == f"@{username}".lower():
            return True
    return False


def strip_mentions(text_: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", text_, flags=re.IGNORECASE).strip()


def question_from(message: Message | None, username: str) -> str | None:
    """The question a message asked, as the bot read it (mention or /ask removed)."""
    if message is None or not message.text:
        return None
    question = strip_mentions(message.text, username)
    question = re.sub(r"^/ask(?:@\w+)?\s*", "", question)
    return question.strip() or None


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          question: str, *, offset: int = 0) -> None:
    """Validate, rate-limit, ask with this chat's history, reply with the rendered answer."""
    message = update.effective_message
    assert message is not None
    svc = services(context)
    lang = user_lang(update.effective_user)
    question = question.strip()
    if not any(ch.isalnum() for ch in question):  # empty, or only emoji/punctuation
        await reply_html(message, text("empty_question", lang))
        return
    if len(question) > svc.settings.max_question_chars:
        await reply_html(message, text("too_long", lang, length=len(question),
                                       limit=svc.settings.max_question_chars))
        return
    if not await _within_rate(update, context):
        return
    history = await chat_history(context, message.chat_id)
    started = time.perf_counter()
    async with typing(message):
        answer = await svc.asker.ask(question, history=history, k=svc.settings.k, offset=offset)
    svc.metrics.answered(found=answer.found, seconds=time.perf_counter() - started)
    await remember_history(context, message.chat_id, answer.history)
    await send_rendered(message, render.answer_message(answer, offset=offset,
                                                       k=svc.settings.k, lang=lang))


async def _within_rate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    if user is None:
        return True
    limiter = services(context).limiter
    wait = limiter.retry_after(user.id)
    if not wait:
        return True
    if limiter.should_warn(user.id, wait) and update.effective_message is not None:
        seconds = max(1, round(wait))
        await reply_html(update.effective_message,
                         text("rate_limited", user_lang(user), seconds=seconds))
    return False


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice… in a private chat: ask for text instead."""
    assert update.effective_message is not None
    await reply_html(update.effective_message, text("text_only", user_lang(update.effective_user)))


# -- buttons ---------------------------------------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Inline buttons: 📄 原文, ◀ ▶, 🔎 更多, 👍/👎 (all state is in the callback data)."""
    query = update.callback_query
    assert query is not None
    lang = user_lang(update.effective_user)
    decoded = callbacks.decode(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if decoded is None or message is None:
        await query.answer(text("button_expired", lang), show_alert=True)
        return
    if isinstance(decoded, callbacks.OpenArticle | callbacks.ArticlePage):
        await _show_article(update, context, decoded, message, lang)
    elif isinstance(decoded, callbacks.MoreResults):
        await _more(update, context, decoded.offset, message, lang)
    else:
        await _vote(update, context, decoded.up, message, lang)


async def _show_article(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        wanted: callbacks.OpenArticle | callbacks.ArticlePage, message: Message,
                        lang: Lang) -> None:
    query = update.callback_query
    assert query is not None
    article = await asyncio.to_thread(services(context).library.article, wanted.article_id)
    if article is None:
        await query.answer(text("article_gone", lang), show_alert=True)
        return
    pages, quote_page = render.article_pages(article, wanted.start, wanted.end, lang)
    if isinstance(wanted, callbacks.OpenArticle):
        page = quote_page
    else:
        page = min(max(wanted.page, 0), len(pages) - 1)
    keyboard = render.article_keyboard(article.id, page, len(pages), wanted.start, wanted.end,
                                       lang)
    await query.answer()
    if isinstance(wanted, callbacks.OpenArticle):
        await context.bot.send_message(message.chat_id, pages[page], parse_mode=ParseMode.HTML,
                                       reply_markup=keyboard)
        return
    try:
        await message.edit_text(pages[page], parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except BadRequest as exc:
        # A double tap asks for the page already shown; Telegram refuses the no-op edit.
        if "not modified" not in str(exc).lower():
            raise


async def _more(update: Update, context: ContextTypes.DEFAULT_TYPE, offset: int,
                message: Message, lang: Lang) -> None:
    query = update.callback_query
    assert query is not None and context.chat_data is not None
    svc = services(context)
    asked = message.reply_to_message
    question = understood_question(message.text) or question_from(asked, context.bot.username)
    if question is None or asked is None:
        await query.answer(text("button_expired", lang), show_alert=True)
        return
    if not await _within_rate(update, context):
        await query.answer()
        return
    started = time.perf_counter()
    async with typing(message):
        answer = await svc.asker.ask(question, k=svc.settings.k, offset=offset)
    svc.metrics.answered(found=answer.found, seconds=time.perf_counter() - started)
    if not answer.found:
        await query.answer(text("no_more", lang))
        return
    await query.answer()
    # Reply to the original question, so this answer's own 🔎 更多 finds it again.
    await send_rendered(asked, render.answer_message(answer, offset=offset, k=svc.settings.k,
                                                     lang=lang))


def understood_question(shown: str | None) -> str | None:
    """The resolved question an answer shows in its first line ("理解为：…"), if any.

    Real Telegram delivers the message as plain text; a Bot API emulator may keep the tags.
    """
    if not shown:
        return None
    first = html.unescape(_TAG.sub("", shown.split("\n", 1)[0])).strip()
    match = _UNDERSTOOD.match(first)
    return match.group(1).strip() if match else None


def short_answer(shown: str) -> str | None:
    """The short answer line of an answer message ("答：15家" → "15家"), if it has one."""
    for line in shown.splitlines():
        match = _SHORT_ANSWER.match(line.strip())
        if match:
            return match.group(1).strip()
    return None


async def _vote(update: Update, context: ContextTypes.DEFAULT_TYPE, up: bool, message: Message,
                lang: Lang) -> None:
    query = update.callback_query
    assert query is not None
    svc = services(context)
    cited = await asyncio.to_thread(_cited_articles, svc.library, message.reply_markup)
    shown = html.unescape(_TAG.sub("", message.text or ""))
    feedback = Feedback(
        chat_id=message.chat_id, message_id=message.message_id, user_id=query.from_user.id,
        vote=1 if up else -1,
        question=question_from(message.reply_to_message, context.bot.username) or "",
        answer=shown, citations=cited, span=short_answer(shown),
    )
    await asyncio.to_thread(svc.feedback.record, feedback)
    svc.metrics.voted(up=up)
    await query.answer(text("thanks_up" if up else "thanks_down", lang))


def _cited_articles(library: Library,
                    markup: InlineKeyboardMarkup | None) -> tuple[CitedArticle, ...]:
    """The articles an answer cited, read back from its 📄 buttons."""
    cited: list[CitedArticle] = []
    for row in markup.inline_keyboard if markup else ():
        for key in row:
            decoded = callbacks.decode(key.callback_data if isinstance(key.callback_data, str)
                                       else None)
            if isinstance(decoded, callbacks.OpenArticle):
                article = library.article(decoded.article_id)
                cited.append(CitedArticle(len(cited) + 1, decoded.article_id,
                                          article.title if article else None))
    return tuple(cited)


# -- inline mode -----------------------------------------------------------------------------


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot 关键词 in any chat: up to 10 articles, each posting a cited excerpt."""
    query = update.inline_query
    assert query is not None
    words = query.query.strip()[:MAX_SEARCH_CHARS]  # Telegram caps it at 256 anyway
    if not any(ch.isalnum() for ch in words):
        await query.answer([], cache_time=5)
        return
    # Inline queries count against the same per-user limit as questions; a limited user
    # gets an empty, uncached result list (Telegram shows no message for it).
    limiter = services(context).limiter
    if limiter.retry_after(query.from_user.id):
        await query.answer([], cache_time=0, is_personal=True)
        return
    results = await asyncio.to_thread(services(context).library.search, words, INLINE_K)
    await query.answer(render.inline_results(results, user_lang(update.effective_user)),
                       cache_time=60)


# -- admin upload ----------------------------------------------------------------------------


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document in a private chat: admins' files are ingested; others are refused."""
    message = update.effective_message
    assert message is not None and message.document is not None
    svc = services(context)
    user = update.effective_user
    lang = user_lang(user)
    if not svc.settings.is_admin(user.id if user else None):
        await reply_html(message, text("upload_refused", lang))
        return
    name = Path(message.document.file_name or "upload.txt").name
    if not name.lower().endswith(UPLOAD_EXTENSIONS):
        await reply_html(message, text("upload_bad_type", lang, name=html.escape(name)))
        return
    size = message.document.file_size or 0
    if size > MAX_FILE_BYTES:
        await reply_html(message, text("upload_too_big", lang, size=round(size / 2**20, 1),
                                       limit=MAX_UPLOAD_MB))
        return
    escaped = html.escape(name, quote=False)
    progress = await message.reply_html(text("upload_progress", lang, name=escaped))
    with tempfile.TemporaryDirectory(prefix="newsqa-upload-") as folder:
        path = Path(folder) / name
        telegram_file = await message.document.get_file()
        await telegram_file.download_to_drive(path)
        summary = await _ingest(path, folder, svc.library, progress, lang, escaped)
    await reply_html(message, summary)


async def _ingest(path: Path, folder: str, library: Library, progress: Message, lang: Lang,
                  name: str) -> str:
    """Parse and upsert one uploaded file; the summary message (HTML)."""
    try:
        loaded = await asyncio.to_thread(load_path, path)
    except InputError as exc:
        reason = str(exc).replace(folder + "/", "")  # name the file as the admin sent it
        return text("upload_rejected", lang, name=name, reason=html.escape(reason, quote=False))
    articles = [a for source in loaded for a in source.articles]
    if not articles:
        return text("upload_rejected", lang, name=name,
                    reason=text("upload_no_articles", lang))
    loop = asyncio.get_running_loop()
    last_edit = time.monotonic()

    def report(done: IngestProgress) -> None:  # runs in the ingest thread
        nonlocal last_edit
        if time.monotonic() - last_edit < PROGRESS_EVERY:
            return
        last_edit = time.monotonic()
        message = text("upload_progress_n", lang, name=name, done=done.articles_done,
                       total=done.articles_total)
        asyncio.run_coroutine_threadsafe(progress.edit_text(message), loop)

    result = await asyncio.to_thread(library.ingest, articles, progress=report)
    logger.info("ingested upload: %s", result.to_dict())
    return text("upload_summary", lang, name=name, added=len(result.added),
                replaced=len(result.replaced), unchanged=len(result.unchanged), rejected=0)


# -- errors ----------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the exception (with traceback) first, then a short apology — no details in chat."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("error while handling update %s", update_id, exc_info=context.error)
    with contextlib.suppress(KeyError):  # an error before the services were installed
        services(context).metrics.error()
    if not isinstance(update, Update):
        return
    lang = user_lang(update.effective_user)
    try:
        if update.callback_query:
            await update.callback_query.answer(text("apology", lang))
        elif update.effective_message and update.effective_chat:
            await context.bot.send_message(update.effective_chat.id, text("apology", lang))
    except Exception:  # the apology itself failed (network down): already logged above
        logger.warning("could not send the apology for update %s", update_id)
