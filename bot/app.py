"""Build and run the Telegram Application: handlers, rate limiting, errors, polling or webhook.

``newsqa serve`` (retrieval/cli/serve_cmd.py) is the usual way in; from Python:

    settings = load_settings()
    with Library.open(settings.index_dir) as library, \
            FeedbackStore.open(settings.feedback_path) as feedback:
        library.warm_up()                                # load the model before taking updates
        run(settings, library, feedback)                 # long polling until SIGINT/SIGTERM
        # or by webhook: run(..., webhook=Webhook("https://…/newsqa", port=8443))
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse
from wsgiref.simple_server import WSGIServer

import httpx
from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from retrieval.feedback import FeedbackStore
from retrieval.library import Library
from retrieval.state import BotState

from . import handlers
from .asking import Asker
from .config import BotSettings
from .limits import RateLimiter
from .metrics import serve as serve_metrics
from .texts import Lang, text
from .updates import SkippingUpdatesRequest

logger = logging.getLogger(__name__)

COMMANDS = ("start", "help", "search", "latest", "about", "reset", "ask")
# The update kinds the handlers below read; Telegram sends no others (edits, polls, reactions,
# chat-member changes…), so there is less to parse and nothing unhandled to choke on.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
# Updates processed at once; questions are batched by the Asker, so more do not cost more CPU.
CONCURRENT_UPDATES = 64
NETWORK_RETRIES = 3
# Methods safe to repeat after any network failure. A send is repeated only when it provably
# never reached Telegram (no connection): a send that failed mid-way may have been delivered,
# and repeating it would post the answer twice.
_IDEMPOTENT_PREFIXES = ("get", "edit", "answer", "set", "delete", "sendChatAction")
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def may_retry(endpoint: str, error: Exception) -> bool:
    """Whether a failed Bot API call may be repeated without risking a duplicate."""
    if isinstance(error, BadRequest) or not isinstance(error, NetworkError):
        return False  # BadRequest subclasses NetworkError, but repeating cannot fix it
    if endpoint.startswith(_IDEMPOTENT_PREFIXES):
        return True
    return isinstance(error.__cause__, _NOT_SENT)


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (flood limits, RetryAfter) that also retries network failures."""

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: Any) -> Any:
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data,
                                                      rate_limit_args)
            except (TimedOut, NetworkError) as error:
                if attempt == NETWORK_RETRIES or not may_retry(endpoint, error):
                    raise
                delay = 0.5 * 2**attempt
                logger.warning("Bot API %s failed (%s, attempt %d); retrying in %.1f s",
                               endpoint, type(error).__name__, attempt + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises


@dataclass(frozen=True)
class Webhook:
    url: str  # public HTTPS URL Telegram posts to, e.g. https://bot.example.org/newsqa
    listen: str = "127.0.0.1"
    port: int = 8443
    secret: str | None = None  # None: a fresh random secret each start


def configure(builder: ApplicationBuilder, svc: handlers.Services) -> Application:
    """Finish ``builder`` (token/request/base URL already set) and add every handler."""
    application = (
        builder.rate_limiter(RetryingRateLimiter(max_retries=3))
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(register_commands)
        .build()
    )
    application.bot_data["services"] = svc
    add_handlers(application)
    return application


def add_handlers(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    # Commands, like questions, are answered once: an edit of "/search x" is not a new request.
    commands = {
        "start": handlers.start, "help": handlers.help_command, "search": handlers.search,
        "latest": handlers.latest, "about": handlers.about, "reset": handlers.reset,
        "ask": handlers.ask_command,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback,
                                               filters=filters.UpdateType.MESSAGE))
    new_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(new_text & private, handlers.private_text))
    application.add_handler(MessageHandler(new_text & groups, handlers.group_text))
    application.add_handler(MessageHandler(
        filters.UpdateType.MESSAGE & filters.Document.ALL & private, handlers.document))
    # Edited messages are ignored on purpose: answering again would post a second answer.
    application.add_handler(MessageHandler(
        filters.UpdateType.MESSAGE & private & ~filters.TEXT & ~filters.COMMAND
        & ~filters.StatusUpdate.ALL, handlers.unsupported))
    application.add_handler(CallbackQueryHandler(handlers.button))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_error_handler(handlers.on_error)


async def register_commands(application: Application) -> None:
    """Commands menu in Chinese (default) and English."""
    languages: tuple[tuple[Lang, str | None], ...] = (("zh", None), ("zh", "zh"), ("en", "en"))
    for lang, code in languages:
        commands = [BotCommand(name, text(f"cmd_{name}", lang)) for name in COMMANDS]
        await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault(),
                                              language_code=code)


def build_services(settings: BotSettings, library: Library, feedback: FeedbackStore,
                   state: BotState | None = None) -> handlers.Services:
    """``state`` None: conversations and rate windows are kept in memory only."""
    limiter = RateLimiter(settings.rate_limit, settings.rate_window, state=state)
    refusals = RateLimiter(handlers.REFUSALS_PER_WINDOW, handlers.REFUSAL_WINDOW, state=state,
                           name="refusals")
    return handlers.Services(settings, library, Asker(library), feedback, limiter,
                             refusals=refusals, state=state)


@dataclass(frozen=True)
class MetricsEndpoint:
    port: int
    host: str = "127.0.0.1"  # scraped locally (or by a sidecar) unless told otherwise


def health(application: Application, library: Library) -> str | None:
    """None when the bot is taking updates and its archive answers; else what is wrong."""
    if not application.running:
        return "bot is not running"
    try:
        library.about()
    except Exception as exc:  # any failure of the archive is what /healthz reports
        return f"index unavailable: {exc}"
    return None


def builder_for(settings: BotSettings) -> ApplicationBuilder:
    # getUpdates goes through SkippingUpdatesRequest (one connection, as PTB's default), so an
    # update PTB cannot parse is logged once and confirmed instead of wedging the bot.
    builder = (ApplicationBuilder().token(settings.token)
               .get_updates_request(SkippingUpdatesRequest(connection_pool_size=1)))
    if settings.api_base_url:
        builder = builder.base_url(settings.api_base_url)
    if settings.file_base_url:
        builder = builder.base_file_url(settings.file_base_url)
    return builder


def run(settings: BotSettings, library: Library, feedback: FeedbackStore, *,
        webhook: Webhook | None = None, state: BotState | None = None,
        metrics: MetricsEndpoint | None = None) -> None:
    """Serve until SIGINT/SIGTERM (PTB installs the handlers), then close cleanly."""
    svc = build_services(settings, library, feedback, state)
    application = configure(builder_for(settings), svc)
    if metrics is not None:
        svc.metrics.watch(library)
        server = serve_metrics(svc.metrics, metrics.port, host=metrics.host,
                               healthy=lambda: health(application, library))
        application.post_shutdown = lambda _app: _stop(server)
    if webhook is None:
        logger.info("newsqa bot polling for updates")
        application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
        return
    path = urlparse(webhook.url).path.lstrip("/")
    logger.info("newsqa bot listening for webhooks on %s:%d/%s", webhook.listen, webhook.port,
                path)
    application.run_webhook(
        listen=webhook.listen, port=webhook.port, url_path=path, webhook_url=webhook.url,
        secret_token=webhook.secret or secrets.token_urlsafe(32),
        allowed_updates=ALLOWED_UPDATES,
    )


async def _stop(server: WSGIServer) -> None:
    await asyncio.to_thread(server.shutdown)


class RedactToken(logging.Filter):
    """Hide the bot token wherever it appears in a log record (httpx logs request URLs).

    The secret half after the colon is what is replaced, so URL-encoded forms
    ("123%3ASECRET") are caught too; the numeric bot id before it is public anyway.
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        self.secret = token.split(":", 1)[-1]

    def _redact(self, text_: str) -> str:
        return text_.replace(self.secret, "<token>")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg = self._redact(message)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later; pre-render them redacted.
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
        return True


def setup_logging(token: str, level: str = "INFO") -> None:
    """Log to stderr with the token redacted; httpx request lines only at DEBUG."""
    logging.basicConfig(level=level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    if level.upper() != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)
