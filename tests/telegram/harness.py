"""Drive a Telegram bot end to end against the local Bot API emulator (tests/telegram/emulator).

One module (~660 lines): the emulator, its user-side client and the message types change
together with ``emulator/compat.js``; bot processes live in ``processes.py``.

The emulator is telegram-test-api 4.2.1 plus ``compat.js``; it runs as ``node server.js --port 0``
bound to 127.0.0.1. The test plays the user through :class:`EmulatorClient`; the bot under test is
either a python-telegram-bot ``Application`` run in a thread (:func:`running_application`) or a
real process (``tests/telegram/processes.py``: ``bot_process``, ``newsqa_serve``). Every wait is
a server-side long poll with a deadline, never a sleep.

    with TelegramEmulator() as emulator:
        app = emulator.application_builder().build()
        app.add_handler(CommandHandler("start", start))
        with running_application(app):
            user = emulator.client()
            user.send_command("/start")
            [reply] = user.wait_for_bot_messages(count=1)
            assert "欢迎" in reply.plain_text   # HTML was validated on the way

Every bot message read with ``parse_mode=HTML`` is checked with :mod:`tests.telegram.html_rules`
(the emulator itself accepts any markup, where real Telegram answers 400).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import mimetypes
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from tests.telegram.html_rules import ParsedHTML, assert_valid

if TYPE_CHECKING:
    from telegram.ext import Application, ApplicationBuilder

EMULATOR_DIR = Path(__file__).resolve().parent / "emulator"
DEFAULT_TOKEN = "123456789:NEWSQA-test-token"
BOT_USERNAME = "NewsqaTestBot"
# Keys the emulator keeps on stored bot messages that are not part of a Telegram Message.
_STORAGE_ONLY_KEYS = frozenset(
    {"chat_id", "parse_mode", "link_preview_options", "html", "caption_html"}
)


class EmulatorError(RuntimeError):
    """The emulator could not be started or refused a user-side request."""


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "zh-hans"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True)
class Chat:
    id: int
    type: str = "private"
    title: str | None = None
    first_name: str | None = None

    @classmethod
    def private(cls, user: User) -> Chat:
        return cls(user.id, "private", first_name=user.first_name)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            data["title"] = self.title
        if self.first_name:
            data["first_name"] = self.first_name
        return data


DEFAULT_USER = User(1001, "测试用户", "newsqa_tester")
DEFAULT_GROUP = Chat(-1002001, "group", title="报纸问答测试群")


@dataclass(frozen=True)
class SentMessage:
    """A message the test user sent, as the bot receives it."""

    update_id: int
    message: dict[str, Any]

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.message["chat"]["id"])


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent (or its latest edit), as stored by the emulator."""

    raw: dict[str, Any]
    update_id: int
    version: int  # 0 when sent, +1 per edit

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> BotMessage:
        return cls(dict(entry["message"]), int(entry["updateId"]), int(entry.get("version", 0)))

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.raw["chat"]["id"])

    @property
    def text(self) -> str | None:
        """The text as Telegram displays it (HTML already rendered into ``raw["entities"]``)."""
        return self.raw.get("text")

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def html(self) -> str | None:
        """The markup the bot sent with parse_mode HTML (text, else caption), or None."""
        key = "html" if self.text is not None else "caption_html"
        return self.raw.get(key)

    @property
    def parse_mode(self) -> str | None:
        return self.raw.get("parse_mode")

    @property
    def document(self) -> dict[str, Any] | None:
        return self.raw.get("document")

    @property
    def reply_to_message_id(self) -> int | None:
        replied = self.raw.get("reply_to_message")
        return int(replied["message_id"]) if replied else None

    @property
    def edited(self) -> bool:
        return "edit_date" in self.raw

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Rows of inline keyboard buttons (empty when there is no keyboard)."""
        return (self.raw.get("reply_markup") or {}).get("inline_keyboard", [])

    def parsed(self) -> ParsedHTML:
        """Text/caption with entities; HTML markup is re-checked by html_rules (AssertionError)."""
        if self.html is not None:
            return assert_valid(self.html, limit=4096 if self.text is not None else 1024)
        return ParsedHTML(self.plain_text)

    @property
    def plain_text(self) -> str:
        """Text (else caption) as the user sees it."""
        return self.text if self.text is not None else self.caption or ""

    def button(self, text_or_data: str) -> dict[str, Any]:
        """The inline button whose label or callback_data equals ``text_or_data``."""
        for row in self.buttons:
            for button in row:
                if text_or_data in (button.get("text"), button.get("callback_data")):
                    return button
        labels = [b.get("text") for row in self.buttons for b in row]
        raise AssertionError(f"no button {text_or_data!r} on message {self.message_id}: {labels}")


def _as_message(ref: SentMessage | BotMessage | int, chat: dict[str, Any]) -> dict[str, Any]:
    """The Message JSON a reply refers to (``int``: just an id in ``chat``)."""
    if isinstance(ref, SentMessage):
        return ref.message
    if isinstance(ref, BotMessage):
        return {k: v for k, v in ref.raw.items() if k not in _STORAGE_ONLY_KEYS}
    return {"message_id": ref, "chat": chat, "date": int(time.time())}


@dataclass(frozen=True)
class ButtonPress:
    callback_query_id: str
    update_id: int


@dataclass(frozen=True)
class InlineAnswer:
    """The bot's answerInlineQuery for one user query."""

    inline_query_id: str
    query: str
    results: list[dict[str, Any]]
    next_offset: str | None = None
    cache_time: int | None = None
    is_personal: bool | None = None


@dataclass
class EmulatorClient:
    """The user side of one bot (``token``): send things to the bot, read what it sent."""

    base_url: str
    token: str = DEFAULT_TOKEN
    user: User = DEFAULT_USER
    validate_html: bool = True
    _http: httpx.Client = field(default_factory=lambda: httpx.Client(trust_env=False), repr=False)
    _cursors: dict[int | None, int] = field(default_factory=dict, repr=False)
    _floor: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        # Bot messages sent before this client existed (earlier tests) are never "new" to it.
        self._floor = int(self._post("getBotState", {})["last_update_id"])

    # --- plumbing -------------------------------------------------------------------------

    def _post(self, path: str, payload: dict[str, Any], *, wait: float = 0.0) -> Any:
        body = {"botToken": self.token, "token": self.token, **payload}
        response = self._http.post(f"{self.base_url}/{path}", json=body, timeout=wait + 10.0)
        data = response.json()
        if response.status_code != 200 or not data.get("ok"):
            raise EmulatorError(
                f"emulator refused {path}: HTTP {response.status_code} "
                f"{data.get('description') or data.get('message') or data}"
            )
        return data["result"]

    def _chat(self, chat: Chat | None, user: User) -> Chat:
        return chat if chat is not None else Chat.private(user)

    def _send(self, route: str, fields: dict[str, Any], user: User | None, chat: Chat | None,
              reply_to: SentMessage | BotMessage | int | None) -> SentMessage:
        sender = user or self.user
        body = {"from": sender.to_dict(), "chat": self._chat(chat, sender).to_dict(), **fields}
        if reply_to is not None:
            body["reply_to_message"] = _as_message(reply_to, body["chat"])
        result = self._post(route, body)
        return SentMessage(int(result["update_id"]), result["message"])

    # --- user verbs -----------------------------------------------------------------------

    def send_message(self, text: str, *, user: User | None = None, chat: Chat | None = None,
                     reply_to: SentMessage | BotMessage | int | None = None,
                     entities: Sequence[Mapping[str, Any]] | None = None) -> SentMessage:
        """Send plain text to the bot (private chat with ``user`` unless ``chat`` is given)."""
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = [dict(e) for e in entities]
        return self._send("sendMessage", fields, user, chat, reply_to)

    def send_command(self, command: str, *, user: User | None = None,
                     chat: Chat | None = None) -> SentMessage:
        """Send ``/command args``; the bot_command entity covers ``/command[@bot]``."""
        if not command.startswith("/"):
            raise ValueError(f"a command starts with '/', got {command!r}")
        head = command.split(maxsplit=1)[0]
        entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(head)}]
        return self._send("sendCommand", {"text": command, "entities": entities}, user, chat, None)

    def group_message(self, text: str, *, chat: Chat = DEFAULT_GROUP, user: User | None = None,
                      mention: bool = True, bot_username: str = BOT_USERNAME,
                      reply_to: SentMessage | BotMessage | int | None = None) -> SentMessage:
        """Post in a group; with ``mention`` the text starts with ``@bot`` and a mention entity."""
        entities: list[dict[str, Any]] = []
        if mention:
            handle = f"@{bot_username}"
            text = f"{handle} {text}"
            entities.append({"type": "mention", "offset": 0, "length": _utf16_len(handle)})
        return self.send_message(text, user=user, chat=chat, reply_to=reply_to, entities=entities)

    def edit_message(self, sent: SentMessage, new_text: str) -> int:
        """The user edits an earlier message: the bot receives an ``edited_message`` update."""
        message = {**sent.message, "text": new_text}
        message.pop("entities", None)
        return int(self._post("sendUpdate", {"update": {"edited_message": message}})["update_id"])

    def send_update(self, update: Mapping[str, Any]) -> int:
        """Inject any other update (photo, sticker, voice...); ``message`` gets defaults filled."""
        return int(self._post("sendUpdate", {"update": dict(update)})["update_id"])

    def send_document(self, path: str | os.PathLike[str], *, caption: str | None = None,
                      mime_type: str | None = None, user: User | None = None,
                      chat: Chat | None = None) -> SentMessage:
        """Upload a file as a document message; the bot can getFile and download it."""
        file_path = Path(path)
        document = {
            "file_name": file_path.name,
            "mime_type": mime_type or mimetypes.guess_type(file_path.name)[0]
            or "application/octet-stream",
            "data_base64": base64.b64encode(file_path.read_bytes()).decode("ascii"),
        }
        fields: dict[str, Any] = {"document": document}
        if caption is not None:
            fields["caption"] = caption
        return self._send("sendDocument", fields, user, chat, None)

    def press_button(self, message: BotMessage, text_or_data: str, *,
                     user: User | None = None) -> ButtonPress:
        """Press an inline button of ``message`` by label or callback_data."""
        button = message.button(text_or_data)
        if "callback_data" not in button:
            raise AssertionError(f"button {button.get('text')!r} has no callback_data: {button}")
        result = self._post(
            "sendCallback",
            {
                "from": (user or self.user).to_dict(),
                "message": {"message_id": message.message_id, "chat": message.raw["chat"]},
                "data": button["callback_data"],
            },
        )
        return ButtonPress(str(result["callback_query_id"]), int(result["update_id"]))

    def callback_answer(self, press: ButtonPress, *, timeout: float = 5.0) -> dict[str, Any]:
        """The bot's answerCallbackQuery for ``press`` (text, show_alert...)."""
        answer = self._post(
            "waitAnswer", {"callbackQueryId": press.callback_query_id, "timeout": timeout},
            wait=timeout,
        )
        if answer is None:
            raise AssertionError(f"bot did not answer callback query within {timeout} s")
        return answer

    def inline_query(self, query: str, *, user: User | None = None, offset: str = "",
                     chat_type: str | None = "private", timeout: float = 5.0) -> InlineAnswer:
        """Type ``@bot query`` somewhere; returns the bot's answerInlineQuery."""
        payload: dict[str, Any] = {"from": (user or self.user).to_dict(), "query": query,
                                   "offset": offset}
        if chat_type:
            payload["chat_type"] = chat_type
        query_id = str(self._post("sendInlineQuery", payload)["inline_query_id"])
        answer = self._post("waitAnswer", {"inlineQueryId": query_id, "timeout": timeout},
                            wait=timeout)
        if answer is None:
            raise AssertionError(f"bot did not answer inline query {query!r} within {timeout} s")
        return InlineAnswer(query_id, query, answer.get("results", []), answer.get("next_offset"),
                            answer.get("cache_time"), answer.get("is_personal"))

    def choose_inline_result(self, answer: InlineAnswer, result_id: str, *,
                             user: User | None = None) -> int:
        """The user picks a result: the bot gets ``chosen_inline_result`` (if it asked for it)."""
        if result_id not in {str(r.get("id")) for r in answer.results}:
            raise AssertionError(f"no inline result {result_id!r} in answer to {answer.query!r}")
        payload = {"from": (user or self.user).to_dict(), "result_id": result_id,
                   "query": answer.query}
        return int(self._post("chooseInlineResult", payload)["update_id"])

    # --- reading what the bot did ---------------------------------------------------------

    def wait_for_bot_messages(self, chat_id: int | None = None, *, count: int = 1,
                              timeout: float = 5.0) -> list[BotMessage]:
        """The next ``count`` bot messages (to ``chat_id``, default: the client user's chat).

        Each call returns messages not returned by an earlier call for the same chat. Messages with
        parse_mode HTML are validated against Telegram's HTML rules.
        """
        chat = self.user.id if chat_id is None else chat_id
        after = self._cursors.get(chat, self._floor)
        entries = self._post(
            "waitBotMessages",
            {"chatId": chat, "afterUpdateId": after, "count": count, "timeout": timeout},
            wait=timeout,
        )
        messages = [BotMessage.from_entry(e) for e in entries][:count]
        if len(messages) < count:
            shown = [m.text or m.caption or m.document for m in messages]
            raise AssertionError(
                f"expected {count} bot message(s) in chat {chat} within {timeout} s, "
                f"got {len(messages)}: {shown}"
            )
        self._cursors[chat] = messages[-1].update_id
        if self.validate_html:
            for message in messages:
                message.parsed()
        return messages

    def expect_no_bot_messages(self, chat_id: int | None = None, *, within: float = 0.3) -> None:
        """Assert the bot stays silent in ``chat_id`` for ``within`` seconds (bounded wait)."""
        chat = self.user.id if chat_id is None else chat_id
        entries = self._post(
            "waitBotMessages",
            {"chatId": chat, "afterUpdateId": self._cursors.get(chat, self._floor), "count": 1,
             "timeout": within},
            wait=within,
        )
        if entries:
            texts = [entry["message"].get("text") for entry in entries]
            raise AssertionError(f"bot unexpectedly sent: {texts}")

    def wait_for_edit(self, message: BotMessage, *, timeout: float = 5.0) -> BotMessage:
        """``message`` after the bot's next edit of it (text or keyboard)."""
        entry = self._post(
            "waitBotEdit",
            {"chatId": message.chat_id, "messageId": message.message_id,
             "afterVersion": message.version, "timeout": timeout},
            wait=timeout,
        )
        edited = BotMessage.from_entry(entry) if entry else None
        if edited is None or edited.version <= message.version:
            raise AssertionError(
                f"bot did not edit message {message.message_id} within {timeout} s"
            )
        if self.validate_html:
            edited.parsed()
        return edited

    def wait_until_polling(self, *, after: int = 0, timeout: float = 10.0) -> int:
        """Block until the bot has made more than ``after`` getUpdates calls; returns the count."""
        count = int(self._post("waitPolling", {"after": after, "timeout": timeout}, wait=timeout))
        if count <= after:
            raise AssertionError(f"bot did not poll getUpdates within {timeout} s")
        return count

    def bot_state(self) -> dict[str, Any]:
        """What the bot registered: commands per scope, chat actions, menu buttons, webhook."""
        return self._post("getBotState", {})

    def commands(self, scope: str = "default", language_code: str = "") -> list[dict[str, Any]]:
        """Commands the bot registered with setMyCommands for a scope type (no chat scope)."""
        return self.bot_state()["commands"].get(f"{scope}::|{language_code}", [])

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EmulatorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TelegramEmulator:
    """The emulator as a child process on a free 127.0.0.1 port (context manager)."""

    def __init__(self, *, bot_username: str = BOT_USERNAME, startup_timeout: float = 15.0) -> None:
        self.bot_username = bot_username
        self.startup_timeout = startup_timeout
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None
        self._user_ids = itertools.count(10_001)
        self._group_ids = itertools.count(1_000_001)
        self._clients: list[EmulatorClient] = []

    @property
    def api_base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` / TELEGRAM_API_BASE_URL (token appended)."""
        return f"{self.url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.url}/file/bot"

    def start(self) -> TelegramEmulator:
        node = shutil.which("node")
        if node is None:
            raise EmulatorError("node is not on PATH; the Telegram emulator needs Node.js >= 18")
        if not (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
            raise EmulatorError(
                f"telegram-test-api is not installed in {EMULATOR_DIR}; run "
                "`npm ci --prefix tests/telegram/emulator` (make setup does it)"
            )
        # stdin is a pipe the server watches: if this process dies, the emulator exits too.
        # stderr goes to a file so a chatty server (DEBUG=TelegramServer:*) can never block.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - owned, closed by stop()
        self._process = subprocess.Popen(
            [node, "server.js", "--port", "0", "--bot-username", self.bot_username],
            cwd=EMULATOR_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, text=True,
        )
        line = self._read_ready_line(self._process)
        self.url = json.loads(line)["url"]
        return self

    def _read_ready_line(self, process: subprocess.Popen[str]) -> str:
        stdout = process.stdout
        assert stdout is not None
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        if not box or not box[0].startswith("{"):
            stderr = self._stderr
            self._stderr = None  # keep it open for reading after stop()
            self.stop()
            assert stderr is not None
            stderr.seek(0)
            detail = stderr.read().decode("utf-8", "replace")[-2000:]
            stderr.close()
            raise EmulatorError(f"emulator did not start within {self.startup_timeout} s: {detail}")
        return box[0]

    def client(self, *, token: str = DEFAULT_TOKEN, user: User | None = None,
               validate_html: bool = True) -> EmulatorClient:
        """A user-side client for the bot with ``token``.

        Without ``user`` each client gets a fresh user (and so its own private chat), which keeps
        tests sharing one emulator apart. It only sees bot messages sent after its creation.
        """
        if user is None:
            uid = next(self._user_ids)
            user = User(uid, f"{DEFAULT_USER.first_name}{uid}", f"tester{uid}")
        client = EmulatorClient(self.url, token, user, validate_html)
        self._clients.append(client)
        return client

    def new_group(self, title: str = "报纸问答测试群") -> Chat:
        """A group chat no other test has used."""
        return Chat(-next(self._group_ids), "group", title=title)

    def application_builder(self, token: str = DEFAULT_TOKEN) -> ApplicationBuilder:
        """A PTB ApplicationBuilder pointed at this emulator (API and file URLs)."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(token)
            .base_url(self.api_base_url)
            .base_file_url(self.file_base_url)
        )

    def bot_env(self, token: str = DEFAULT_TOKEN) -> dict[str, str]:
        """Environment for a bot process: the API and file URLs and the token."""
        return {
            "TELEGRAM_API_BASE_URL": self.api_base_url,
            "TELEGRAM_FILE_BASE_URL": self.file_base_url,
            "TELEGRAM_BOT_TOKEN": token,
        }

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for stream in (process.stdin, process.stdout):
                if stream:
                    stream.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> TelegramEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class RunningBot:
    """A PTB Application polling the emulator from a background thread."""

    application: Application[Any, Any, Any, Any, Any, Any]
    errors: list[BaseException] = field(default_factory=list)

    def wait_for_error(self, *, after: int = 0, timeout: float = 5.0) -> BaseException:
        """The first handler error beyond the first ``after`` ones, polled until ``timeout``.

        Errors are raised in the bot's thread and no HTTP request signals them, hence polling.
        """
        deadline = time.monotonic() + timeout
        while len(self.errors) <= after:
            if time.monotonic() > deadline:
                raise AssertionError(f"no handler error within {timeout} s")
            time.sleep(0.005)
        return self.errors[after]


@contextlib.contextmanager
def running_application(application: Application[Any, Any, Any, Any, Any, Any], *,
                        poll_timeout: int = 10, startup_timeout: float = 10.0,
                        raise_handler_errors: bool = True) -> Iterator[RunningBot]:
    """Run ``application`` with ``updater.start_polling`` (as run_polling does) in a thread.

    Handler exceptions are collected; with ``raise_handler_errors`` the block fails on exit if any
    handler raised, so a broken handler cannot pass as "bot stayed silent".
    """
    running = RunningBot(application)

    async def record_error(_update: object, context: Any) -> None:
        running.errors.append(context.error)

    application.add_error_handler(record_error)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop_requested: asyncio.Event | None = None
    failure: list[BaseException] = []

    async def main() -> None:
        nonlocal stop_requested
        stop_requested = asyncio.Event()
        updater = application.updater
        if updater is None:
            raise EmulatorError("the application was built with updater(None); it cannot poll")
        async with application:
            await updater.start_polling(poll_interval=0, timeout=poll_timeout)
            await application.start()
            started.set()
            await stop_requested.wait()
            await updater.stop()
            await application.stop()

    def thread_main() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # surfaced in the test thread below
            failure.append(exc)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=thread_main, name="ptb-application", daemon=True)
    thread.start()
    if not started.wait(startup_timeout) or failure:
        raise EmulatorError(f"application did not start: {failure[0] if failure else 'timeout'}")
    try:
        yield running
    finally:
        if stop_requested is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop_requested.set)
        thread.join(startup_timeout)
        if failure:
            raise EmulatorError(f"application crashed: {failure[0]!r}") from failure[0]
    if raise_handler_errors and running.errors:
        raise AssertionError(f"bot handlers raised: {running.errors!r}") from running.errors[0]
