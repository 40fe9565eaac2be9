"""Offline bot tests, the python-telegram-bot test-suite way: no server, no network.

:class:`RecordingRequest` replaces PTB's HTTP layer: it records every Bot API call (method and
parameters, uploaded files) and answers with plausible Telegram JSON (``getMe`` → the bot user,
``sendMessage`` → a Message, ``getFile`` + download → registered bytes...). Messages sent with
``parse_mode=HTML`` are checked with :mod:`tests.telegram.html_rules` and, like real Telegram,
answered with 400 "can't parse entities" when invalid. The ``*_update`` builders make real update
JSON; :class:`OfflineBot` feeds it through ``Update.de_json`` into ``Application.process_update``.

    bot = OfflineBot(build_application)   # build_application(builder) -> Application
    with bot:
        bot.feed(command_update("/start"))
        [call] = bot.sent_messages()
        assert call.params["text"].startswith("欢迎")
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest, RequestData

from tests.telegram.harness import (
    BOT_USERNAME,
    DEFAULT_GROUP,
    DEFAULT_TOKEN,
    DEFAULT_USER,
    Chat,
    User,
)
from tests.telegram.html_rules import TelegramHTMLError, parse

JSON = dict[str, Any]
_SEND_METHODS = frozenset({
    "sendMessage", "sendDocument", "sendPhoto", "sendAudio", "sendVoice", "sendVideo",
    "sendSticker", "sendAnimation", "sendLocation", "copyMessage", "forwardMessage",
})
_TRUE_METHODS = frozenset({
    "deleteWebhook", "setWebhook", "setMyCommands", "deleteMyCommands", "answerCallbackQuery",
    "answerInlineQuery", "sendChatAction", "deleteMessage", "setChatMenuButton", "setMyName",
    "setMyDescription", "setMyShortDescription", "logOut", "close", "pinChatMessage",
    "unpinChatMessage", "setMessageReaction",
})
_MEDIA_FIELDS = ("document", "photo", "audio", "voice", "video", "sticker", "animation")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Call:
    """One Bot API call the bot made."""

    method: str
    params: JSON
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None  # what the bot got back (e.g. the sent Message as JSON)
    error: str | None = None  # the Bot API error description, if the call was refused


class RecordingRequest(BaseRequest):
    """A ``BaseRequest`` that records calls and answers like the Bot API would."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, bot_username: str = BOT_USERNAME,
                 responses: Mapping[str, Any] | None = None,
                 validate_html: bool = True) -> None:
        self.token = token
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]), "is_bot": True, "first_name": "Newsqa Test Bot",
            "username": bot_username, "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": True,
        }
        self.calls: list[Call] = []
        # method -> fixed result, or callable(params) -> result; overrides the canned answers.
        self.responses: dict[str, Any] = dict(responses or {})
        self.validate_html = validate_html
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile + download
        self.commands: dict[str, list[JSON]] = {}
        self._message_ids = itertools.count(5000)

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open: no connection pool."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def add_file(self, file_id: str, content: bytes) -> None:
        """Make ``file_id`` downloadable by the bot (getFile + File.download_*)."""
        self.files[file_id] = content

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:
        if method == "GET":  # File.download_* fetches base_file_url + token + "/" + file_path
            file_id = url.rsplit("/", 1)[-1]
            if file_id in self.files:
                return 200, self.files[file_id]
            return _error(404, "Not Found")
        api_method = url.rsplit("/", 1)[-1]
        params: JSON = dict(request_data.parameters) if request_data else {}
        files: dict[str, bytes] = {}
        if request_data and request_data.contains_files:
            for name, upload in request_data.multipart_data.items():
                content = upload[1]
                files[name] = content if isinstance(content, bytes) else content.read()
        try:
            result = self._answer(api_method, params, files)
        except (TelegramHTMLError, LookupError) as exc:
            description = f"Bad Request: {exc.args[0]}"
            self.calls.append(Call(api_method, params, files, error=description))
            return _error(400, description)
        self.calls.append(Call(api_method, params, files, result=result))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, api_method: str, params: JSON, files: dict[str, bytes]) -> Any:
        if self.validate_html and str(params.get("parse_mode", "")).upper() == "HTML":
            for key, limit in (("text", 4096), ("caption", 1024)):
                if key in params:
                    parse(str(params[key]), limit=limit)
        if api_method in self.responses:
            canned = self.responses[api_method]
            return canned(params) if callable(canned) else canned
        if api_method == "getMe":
            return self.bot_user
        if api_method in _SEND_METHODS:
            return self._message(params, files)
        if api_method.startswith("edit"):
            if "inline_message_id" in params:
                return True
            return self._message(params, files, edited=True)
        if api_method == "getFile":
            file_id = str(params["file_id"])
            if file_id not in self.files:
                raise LookupError("invalid file_id")
            return {"file_id": file_id, "file_unique_id": f"u{file_id}",
                    "file_size": len(self.files[file_id]), "file_path": f"documents/{file_id}"}
        if api_method == "setMyCommands":
            self.commands[json.dumps(params.get("scope"))] = list(params["commands"])
            return True
        if api_method == "getMyCommands":
            return self.commands.get(json.dumps(params.get("scope")), [])
        if api_method == "getUpdates":
            return []
        if api_method in _TRUE_METHODS:
            return True
        raise LookupError(
            f"offline harness has no canned answer for {api_method}; pass "
            f"responses={{'{api_method}': ...}} to RecordingRequest"
        )

    def _message(self, params: JSON, files: dict[str, bytes], *, edited: bool = False) -> JSON:
        chat_id = params.get("chat_id", DEFAULT_USER.id)
        numeric = int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0
        chat = {"id": numeric, "type": "group" if numeric < 0 else "private"}
        if numeric < 0:
            chat["title"] = "group"
        message: JSON = {
            "message_id": int(params["message_id"]) if edited else next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
        }
        if edited:
            message["edit_date"] = int(time.time())
        if "text" in params:
            message["text"] = str(params["text"])
        if "caption" in params:
            message["caption"] = str(params["caption"])
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        for media in _MEDIA_FIELDS:
            if media in params:
                file_id = f"{media}-{len(self.files) + 1}"
                self.files[file_id] = files.get(media, b"")
                info = {"file_id": file_id, "file_unique_id": f"u{file_id}",
                        "file_size": len(self.files[file_id])}
                if media == "photo":
                    message["photo"] = [{**info, "width": 1, "height": 1}]
                else:
                    message[media] = info
        return message


def _error(code: int, description: str) -> tuple[int, bytes]:
    return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()


# --- update builders -------------------------------------------------------------------------

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def _message(text: str | None, *, user: User, chat: Chat | None,
             entities: Sequence[JSON] | None = None, reply_to: JSON | None = None,
             **extra: Any) -> JSON:
    message: JSON = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "from": {**user.to_dict(), "is_bot": False},
        "chat": (chat or Chat.private(user)).to_dict(),
        **extra,
    }
    if text is not None:
        message["text"] = text
    if entities:
        message["entities"] = list(entities)
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return message


def message_update(text: str, *, user: User = DEFAULT_USER, chat: Chat | None = None,
                   entities: Sequence[JSON] | None = None,
                   reply_to: JSON | None = None) -> JSON:
    """A user's text message (private chat unless ``chat``)."""
    return {"update_id": next(_update_ids),
            "message": _message(text, user=user, chat=chat, entities=entities, reply_to=reply_to)}


def command_update(command: str, *, user: User = DEFAULT_USER, chat: Chat | None = None) -> JSON:
    """``/command args`` with its bot_command entity."""
    head = command.split(maxsplit=1)[0]
    entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(head)}
    return message_update(command, user=user, chat=chat, entities=[entity])


def group_message_update(text: str, *, chat: Chat = DEFAULT_GROUP, user: User = DEFAULT_USER,
                         mention: bool = True, bot_username: str = BOT_USERNAME) -> JSON:
    """A group message, by default starting with an @mention of the bot."""
    entities: list[JSON] = []
    if mention:
        handle = f"@{bot_username}"
        text = f"{handle} {text}"
        entities.append({"type": "mention", "offset": 0, "length": _utf16_len(handle)})
    return message_update(text, user=user, chat=chat, entities=entities)


def edited_message_update(original: JSON, new_text: str) -> JSON:
    """The user edits the message of an earlier ``message_update``."""
    message = {**original["message"], "text": new_text, "edit_date": int(time.time())}
    message.pop("entities", None)
    return {"update_id": next(_update_ids), "edited_message": message}


def callback_query_update(data: str, *, message: JSON, user: User = DEFAULT_USER) -> JSON:
    """A press on an inline button of ``message`` (a Message dict the bot sent)."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids) + 10_000),
            "from": user.to_dict(),
            "chat_instance": str(abs(hash(("chat", message["chat"]["id"])))),
            "message": message,
            "data": data,
        },
    }


def inline_query_update(query: str, *, user: User = DEFAULT_USER, offset: str = "",
                        chat_type: str = "private") -> JSON:
    return {
        "update_id": next(_update_ids),
        "inline_query": {"id": str(next(_update_ids) + 20_000), "from": user.to_dict(),
                         "query": query, "offset": offset, "chat_type": chat_type},
    }


def chosen_inline_result_update(result_id: str, query: str, *, user: User = DEFAULT_USER) -> JSON:
    return {
        "update_id": next(_update_ids),
        "chosen_inline_result": {"result_id": result_id, "from": user.to_dict(), "query": query},
    }


def document_update(file_id: str, *, file_name: str, mime_type: str, file_size: int,
                    caption: str | None = None, user: User = DEFAULT_USER,
                    chat: Chat | None = None) -> JSON:
    """A document message; register its bytes with ``RecordingRequest.add_file(file_id, ...)``."""
    document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name,
                "mime_type": mime_type, "file_size": file_size}
    extra: JSON = {"document": document}
    if caption is not None:
        extra["caption"] = caption
    message = _message(None, user=user, chat=chat, **extra)
    return {"update_id": next(_update_ids), "message": message}


def photo_update(file_id: str = "photo-1", *, user: User = DEFAULT_USER,
                 caption: str | None = None) -> JSON:
    sizes = [{"file_id": f"{file_id}-{w}", "file_unique_id": f"u{file_id}-{w}", "width": w,
              "height": w * 3 // 4, "file_size": w * 100} for w in (90, 320, 1280)]
    extra: JSON = {"photo": sizes}
    if caption is not None:
        extra["caption"] = caption
    message = _message(None, user=user, chat=None, **extra)
    return {"update_id": next(_update_ids), "message": message}


def sticker_update(*, user: User = DEFAULT_USER, emoji: str = "👍") -> JSON:
    sticker = {"file_id": "sticker-1", "file_unique_id": "usticker-1", "type": "regular",
               "width": 512, "height": 512, "is_animated": False, "is_video": False,
               "emoji": emoji}
    return {"update_id": next(_update_ids),
            "message": _message(None, user=user, chat=None, sticker=sticker)}


def voice_update(*, user: User = DEFAULT_USER, duration: int = 3) -> JSON:
    voice = {"file_id": "voice-1", "file_unique_id": "uvoice-1", "duration": duration,
             "mime_type": "audio/ogg", "file_size": 4000}
    return {"update_id": next(_update_ids),
            "message": _message(None, user=user, chat=None, voice=voice)}


# --- driving an Application ------------------------------------------------------------------

ApplicationFactory = Callable[[ApplicationBuilder], Application]  # type: ignore[type-arg]


class OfflineBot:
    """Runs an Application on a private event loop and feeds it updates synchronously."""

    def __init__(self, build: ApplicationFactory, *, request: RecordingRequest | None = None,
                 raise_handler_errors: bool = True) -> None:
        self.request = request or RecordingRequest()
        builder = ApplicationBuilder().token(self.request.token).request(self.request).updater(None)
        self.application = build(builder)
        self.errors: list[BaseException] = []
        self.raise_handler_errors = raise_handler_errors
        self._loop = asyncio.new_event_loop()

        async def record_error(_update: object, context: Any) -> None:
            self.errors.append(context.error)

        self.application.add_error_handler(record_error)

    @property
    def calls(self) -> list[Call]:
        return self.request.calls

    def sent_messages(self) -> list[Call]:
        """sendMessage calls so far."""
        return self.request.calls_to("sendMessage")

    def feed(self, update: JSON) -> None:
        """Process one update JSON to completion, including non-blocking handlers' tasks."""
        errors_before = len(self.errors)

        async def run() -> None:
            await self.application.process_update(Update.de_json(update, self.application.bot))
            pending = asyncio.all_tasks() - {asyncio.current_task()}
            if pending:
                await asyncio.gather(*pending)

        self._loop.run_until_complete(run())
        new_errors = self.errors[errors_before:]
        if self.raise_handler_errors and new_errors:
            error = new_errors[0]
            refused = isinstance(error, TelegramError)
            kind = "Bot API refused a call" if refused else "handler raised"
            raise AssertionError(f"{kind}: {error!r}") from error

    def __enter__(self) -> OfflineBot:
        self._loop.run_until_complete(self.application.initialize())
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self.application.shutdown())
        self._loop.close()
