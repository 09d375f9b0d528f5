"""A fake Telegram Bot API server for tests: real HTTP on 127.0.0.1, the Bot API's JSON.

python-telegram-bot talks to it exactly as it talks to Telegram (point its `base_url` at
`api.base_url`). It keeps the Bot API's rules that matter to a bot's correctness: HTML must
parse (every "<", ">" and "&" outside tags escaped), a message is at most 4096 characters,
button data at most 64 bytes, a callback query can be answered once, an edit must change
something, getUpdates is refused while a webhook is set.

The test side reads like a chat transcript::

    ann = api.user(1, "Ann")
    api.send_text(ann, "/start")
    reply = await api.next_message(ann)          # what the bot sent (or edited) in Ann's chat
    api.press(ann, reply, reply.data("Business"))  # press the button labelled "Business…"

A getUpdates that is still waiting when another one arrives is ended with 409 Conflict, as
Telegram ends it when a second process polls with the same token.

Faults are injected per method: `api.fail("sendMessage", 403, "Forbidden: bot was blocked by
the user")`, optionally `times=` and `retry_after=` (a 429 "Too Many Requests").
`api.slow(method, seconds)` answers late; `api.drop(method)` closes the connection without an
answer (`after=True`: only once the call has taken effect, as when a reply is lost on the way).
Every fault applied is listed in `api.injected`.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

JSON = dict[str, Any]
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
LONG_POLL_CAP = 1.0  # seconds; a real long poll may last longer, tests need not wait for it
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Parameters PTB sends as plain strings; everything else is JSON-encoded in form bodies.
_STRING_PARAMS = {
    "text", "parse_mode", "callback_query_id", "url", "secret_token", "action", "language_code",
    "caption", "ip_address", "business_connection_id", "message_effect_id", "inline_message_id",
}
_HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
              "a", "code", "pre", "blockquote", "tg-emoji"}
_HTML_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>"  # a tag
    r"|&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);"  # an entity
    r"|([<>&])"  # a stray special character
)
_CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                 "upload_voice", "upload_document", "choose_sticker", "find_location",
                 "record_video_note", "upload_video_note"}


class ApiError(Exception):
    """A Bot API error reply: {"ok": false, "error_code": status, "description": ...}."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass
class Fault:
    method: str
    status: int
    description: str
    times: int
    retry_after: int | None = None
    delay: float = 0.0  # seconds to wait before answering (a slow Bot API)
    drop: str | None = None  # "before" / "after" the call takes effect: close, no answer

    @property
    def kind(self) -> str:
        """A short name for the report: "429", "500", "slow", "drop-before", "drop-after"."""
        if self.drop:
            return f"drop-{self.drop}"
        return str(self.status) if self.status else "slow"


@dataclass(frozen=True)
class Call:
    """One request the bot made, with its parameters decoded."""

    method: str
    params: JSON
    ok: bool
    at: float


@dataclass
class Sent:
    """A message the bot sent or edited, as the user now sees it."""

    method: str  # sendMessage | editMessageText | editMessageReplyMarkup
    chat_id: int
    message: JSON  # the Message object as returned to the bot
    html: str  # the text as the bot sent it (HTML source)
    params: JSON

    @property
    def text(self) -> str:
        """The text the user reads (tags removed, entities decoded)."""
        return str(self.message.get("text", ""))

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def buttons(self) -> list[list[JSON]]:
        markup = self.message.get("reply_markup") or {}
        return list(markup.get("inline_keyboard", []))

    @property
    def labels(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]

    def data(self, label: str) -> str:
        """The callback data of the (first) button whose label contains `label`."""
        for row in self.buttons:
            for button in row:
                if label in button["text"]:
                    return str(button["callback_data"])
        raise AssertionError(f"no button {label!r} among {self.labels}")


@dataclass
class _Chat:
    info: JSON
    messages: dict[int, JSON] = field(default_factory=dict)
    next_message_id: int = 1


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> str:
    """The plain text of Telegram-HTML `source`; raises ApiError where Telegram would."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _HTML_TOKEN.finditer(source):
        out.append(source[pos:m.start()])
        pos = m.end()
        closing, tag, _attrs, entity, stray = m.groups()
        offset = len(source[:m.start()].encode())
        if stray is not None:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected character "
                                f"{stray!r} at byte offset {offset}")
        if entity is not None:
            if not entity.startswith("#") and entity not in ("lt", "gt", "amp", "quot"):
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported HTML "
                                    f"entity '&{entity};' at byte offset {offset}")
            out.append(html.unescape(f"&{entity};"))
            continue
        tag = tag.lower()
        if tag not in _HTML_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag "
                                f"\"{tag}\" at byte offset {offset}")
        if closing:
            if not stack or stack[-1] != tag:
                raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag "
                                    f"at byte offset {offset}")
            stack.pop()
        else:
            stack.append(tag)
    out.append(source[pos:])
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: can't find end tag "
                            f"corresponding to start tag \"{stack[-1]}\"")
    return "".join(out)


def _check_markup(markup: Any) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup["inline_keyboard"]:
        if not isinstance(row, list):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: row expected")
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: text "
                                    "must be non-empty")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if data is None and not button.get("url"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: "
                                    "a button needs callback_data or url")
    return markup if markup["inline_keyboard"] else None


class FakeBotApi:
    """The fake server and the test's handle on it. Use `async with FakeBotApi(token) as api`."""

    def __init__(self, token: str, username: str = "citizen_test_bot",
                 first_name: str = "citizenbot") -> None:
        self.token = token
        self.bot_user: JSON = {
            "id": int(token.split(":")[0]), "is_bot": True, "first_name": first_name,
            "username": username, "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False,
        }
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.commands: dict[str | None, list[JSON]] = {}  # language_code -> commands
        self.callback_answers: dict[str, JSON] = {}  # callback query id -> answer params
        self.webhook: JSON | None = None  # url, secret_token, allowed_updates
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self.confirmed = 0  # updates below this id have been confirmed by the bot
        self.conflicts = 0  # getUpdates calls ended by a later one (409 Conflict)
        self._polls = 0
        self.hooks: dict[str, Callable[[JSON], Awaitable[None]]] = {}
        self._faults: list[Fault] = []
        self.injected: list[tuple[str, str]] = []  # (method, Fault.kind) of each fault applied
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._queries: set[str] = set()
        self._last_pushed = 0
        self._chats: dict[int, _Chat] = {}
        self._read: dict[int, int] = {}  # chat id -> how many of its Sent were read
        self._changed = asyncio.Event()  # set (and replaced) whenever anything happens
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._deliverer: asyncio.Task[None] | None = None
        self._client: ClientSession | None = None
        self.port = 0

    # ------------------------------------------------------------------ server lifecycle

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The Bot API base URL in python-telegram-bot's form (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        self._client = ClientSession(timeout=ClientTimeout(total=5))

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        if self._deliverer is not None:
            self._deliverer.cancel()
            await asyncio.gather(self._deliverer, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ test side: users act

    @staticmethod
    def user(user_id: int, first_name: str = "Ann", language_code: str | None = "en",
             username: str | None = None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        return user

    @staticmethod
    def group(chat_id: int = -1001234567890, title: str = "Shizhong neighbours") -> JSON:
        return {"id": chat_id, "type": "supergroup", "title": title}

    def send_text(self, user: JSON, text: str, chat: JSON | None = None,
                  reply_to: Sent | JSON | None = None) -> JSON:
        """`user` types `text` (in their private chat unless `chat`); entities as Telegram sets."""
        return self.send_message(user, chat, text=text, entities=self._entities(text),
                                 reply_to=reply_to)

    def send_message(self, user: JSON, chat: JSON | None = None,
                     reply_to: Sent | JSON | None = None, **content: Any) -> JSON:
        """`user` sends a message with any content (sticker=..., photo=[...], location=...)."""
        chat = chat or {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        box = self._chat(chat)
        message: JSON = {"message_id": box.next_message_id, "date": int(time.time()),
                         "chat": chat, "from": user}
        box.next_message_id += 1
        if reply_to is not None:
            message["reply_to_message"] = (reply_to.message if isinstance(reply_to, Sent)
                                           else reply_to)
        message.update({k: v for k, v in content.items() if v})
        box.messages[message["message_id"]] = message
        self._push({"message": message})
        return message

    def send_sticker(self, user: JSON, chat: JSON | None = None) -> JSON:
        return self.send_message(user, chat, sticker={
            "file_id": "CAACAgIAAxkBAAI", "file_unique_id": "AgAD", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False})

    def send_photo(self, user: JSON, chat: JSON | None = None) -> JSON:
        return self.send_message(user, chat, photo=[
            {"file_id": "AgACAgIAAxkBAAI", "file_unique_id": "AQAD", "width": 90, "height": 90}])

    def send_voice(self, user: JSON, chat: JSON | None = None) -> JSON:
        return self.send_message(user, chat, voice={
            "file_id": "AwACAgIAAxkBAAI", "file_unique_id": "AgADv", "duration": 3})

    def send_document(self, user: JSON, chat: JSON | None = None) -> JSON:
        return self.send_message(user, chat, document={
            "file_id": "BQACAgIAAxkBAAI", "file_unique_id": "AgADd", "file_name": "a.pdf"})

    def send_location(self, user: JSON, chat: JSON | None = None) -> JSON:
        return self.send_message(user, chat, location={"latitude": 36.65, "longitude": 116.98})

    def press(self, user: JSON, on: Sent, data: str) -> str:
        """`user` presses a button with `data` on the bot's message `on`; the query id."""
        query_id = str(next(self._query_ids))
        self._queries.add(query_id)
        self._push({"callback_query": {
            "id": query_id, "from": user, "message": on.message,
            "chat_instance": f"ci{on.chat_id}", "data": data,
        }})
        return query_id

    def fail(self, method: str, status: int, description: str, times: int = 1,
             retry_after: int | None = None) -> None:
        """The next `times` calls of `method` get this error instead of their result."""
        self._faults.append(Fault(method, status, description, times, retry_after))

    def clear_faults(self) -> None:
        """Forget the faults not applied yet."""
        self._faults.clear()

    def slow(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` are answered (normally) only after `seconds`."""
        self._faults.append(Fault(method, 0, "", times, delay=seconds))

    def drop(self, method: str, times: int = 1, after: bool = False) -> None:
        """The next `times` calls of `method` get their connection closed without an answer;
        with `after`, only once the call has taken effect (a message is then delivered)."""
        self._faults.append(Fault(method, 0, "", times, drop="after" if after else "before"))

    async def post_to_webhook(self, update: JSON, secret: str | None) -> int:
        """POST `update` to the bot's webhook with `secret` in the header; the HTTP status."""
        assert self.webhook is not None and self._client is not None, "no webhook is set"
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with self._client.post(self.webhook["url"], json=update, headers=headers) as r:
            return r.status

    @property
    def last_update_id(self) -> int:
        """The id of the update the test injected last."""
        return self._last_pushed

    def make_update(self, **content: Any) -> JSON:
        """An update with a fresh id that is not queued (for post_to_webhook)."""
        return {"update_id": next(self._update_ids), **content}

    # ------------------------------------------------------------------ test side: reading

    async def next_message(self, chat: JSON | int, timeout: float = 5.0) -> Sent:
        """The next message the bot sent (or edited) in `chat` that the test has not read."""
        chat_id = chat if isinstance(chat, int) else int(chat["id"])

        def unread() -> list[Sent]:
            return [s for s in self.sent if s.chat_id == chat_id][self._read.get(chat_id, 0):]

        await self.wait_until(lambda: bool(unread()), timeout,
                              f"the bot sent nothing (more) to chat {chat_id}")
        first = unread()[0]
        self._read[chat_id] = self._read.get(chat_id, 0) + 1
        return first

    def unread(self, chat: JSON | int) -> list[Sent]:
        chat_id = chat if isinstance(chat, int) else int(chat["id"])
        return [s for s in self.sent if s.chat_id == chat_id][self._read.get(chat_id, 0):]

    async def answer_to(self, query_id: str, timeout: float = 5.0) -> JSON:
        """The answerCallbackQuery parameters the bot gave for `query_id`."""
        await self.wait_until(lambda: query_id in self.callback_answers, timeout,
                              f"callback query {query_id} was never answered")
        return self.callback_answers[query_id]

    async def wait_confirmed(self, update_id: int | None = None, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched and confirmed every update so far (or `update_id`)."""
        target = update_id if update_id is not None else self._last_update_id()
        await self.wait_until(lambda: self.confirmed > target or
                              (self.webhook is not None and not self._updates), timeout,
                              f"update {target} was never fetched")

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0,
                         what: str = "condition") -> None:
        """Wait (at most `timeout` seconds) until `predicate()` holds."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout} s: {what}") from None

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # ------------------------------------------------------------------ the server side

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        params = await self._params(request)
        try:
            fault = self._take_fault(method)
            if fault is not None:
                self.injected.append((method, fault.kind))
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.drop == "before":
                    self.calls.append(Call(method, params, False, time.monotonic()))
                    return self._hang_up(request)
                if fault.status:
                    raise ApiError(fault.status, fault.description, fault.retry_after)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            hook = self.hooks.get(method)
            if hook is not None:
                await hook(params)
            result = await handler(params)
        except ApiError as exc:
            if exc.status == 409 and (request.transport is None
                                      or request.transport.is_closing()):
                return web.Response(status=499)  # a long poll its client gave up: nobody hears
            self.calls.append(Call(method, params, False, time.monotonic()))
            self._notify()
            body: JSON = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return web.json_response(body, status=exc.status)
        self.calls.append(Call(method, params, True, time.monotonic()))
        self._notify()
        if fault is not None and fault.drop == "after":
            return self._hang_up(request)
        return web.json_response({"ok": True, "result": result})

    def _hang_up(self, request: web.Request) -> web.Response:
        """Close the connection without answering: the client sees "server disconnected"."""
        self._notify()
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=499)

    @staticmethod
    async def _params(request: web.Request) -> JSON:
        if request.content_type == "application/json":
            data = await request.json()
            return dict(data) if isinstance(data, dict) else {}
        params: JSON = {}
        for key, value in (await request.post()).items():
            if not isinstance(value, str):
                continue  # an uploaded file: not part of this fake
            if key in _STRING_PARAMS:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    # Bot API methods ---------------------------------------------------------------------

    async def _api_getMe(self, params: JSON) -> JSON:
        return self.bot_user

    async def _api_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        # As Telegram does, a new getUpdates ends one still waiting with 409 Conflict: two
        # processes polling with one token keep kicking each other out.
        self._polls += 1
        mine = self._polls
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self.confirmed = max(self.confirmed, offset)
        self._notify()
        if timeout > 0:
            try:
                async with asyncio.timeout(timeout):
                    while not self._updates and not self._closing and self._polls == mine:
                        await self._changed.wait()
            except TimeoutError:
                pass
        if self._polls != mine:
            self.conflicts += 1
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure "
                                "that only one bot instance is running")
        return self._updates[:limit]

    async def _api_sendMessage(self, params: JSON) -> JSON:
        box = self._known_chat(params.get("chat_id"))
        text = str(params.get("text", ""))
        plain = parse_html(text) if str(params.get("parse_mode", "")).upper() == "HTML" else text
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        markup = _check_markup(params.get("reply_markup"))
        message: JSON = {"message_id": box.next_message_id, "date": int(time.time()),
                         "chat": box.info, "from": self.bot_user, "text": plain}
        box.next_message_id += 1
        reply = params.get("reply_parameters") or {}
        replied = box.messages.get(int(reply.get("message_id", 0)))
        if replied is not None:
            message["reply_to_message"] = replied
        if markup is not None:
            message["reply_markup"] = markup
        box.messages[message["message_id"]] = message
        self.sent.append(Sent("sendMessage", box.info["id"], message, text, params))
        return message

    async def _api_editMessageText(self, params: JSON) -> JSON:
        box, message = self._own_message(params)
        text = str(params.get("text", ""))
        plain = parse_html(text) if str(params.get("parse_mode", "")).upper() == "HTML" else text
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = _check_markup(params.get("reply_markup"))
        if plain == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same as a current "
                                "content and reply markup of the message")
        edited = {**message, "text": plain, "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        if markup is not None:
            edited["reply_markup"] = markup
        box.messages[edited["message_id"]] = edited
        self.sent.append(Sent("editMessageText", box.info["id"], edited, text, params))
        return edited

    async def _api_editMessageReplyMarkup(self, params: JSON) -> JSON:
        box, message = self._own_message(params)
        markup = _check_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same as a current "
                                "content and reply markup of the message")
        edited = {**message, "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        if markup is not None:
            edited["reply_markup"] = markup
        box.messages[edited["message_id"]] = edited
        self.sent.append(Sent("editMessageReplyMarkup", box.info["id"], edited,
                              str(message.get("text", "")), params))
        return edited

    async def _api_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id in self.callback_answers or query_id not in self._queries:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired "
                                "or query ID is invalid")
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    async def _api_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description must be 1-256 characters")
        self.commands[params.get("language_code") or None] = commands
        return True

    async def _api_deleteWebhook(self, params: JSON) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_setWebhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._api_deleteWebhook(params)
        self.webhook = {"url": url, "secret_token": params.get("secret_token"),
                        "allowed_updates": params.get("allowed_updates")}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if self._deliverer is None or self._deliverer.done():
            self._deliverer = asyncio.create_task(self._deliver())
        return True

    async def _api_getWebhookInfo(self, params: JSON) -> JSON:
        hook = self.webhook or {}
        return {"url": hook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _api_sendChatAction(self, params: JSON) -> bool:
        self._known_chat(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    # helpers -----------------------------------------------------------------------------

    def _chat(self, info: JSON) -> _Chat:
        return self._chats.setdefault(int(info["id"]), _Chat(info))

    def _known_chat(self, chat_id: Any) -> _Chat:
        try:
            return self._chats[int(chat_id)]
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    def _own_message(self, params: JSON) -> tuple[_Chat, JSON]:
        box = self._known_chat(params.get("chat_id"))
        message = box.messages.get(int(params.get("message_id") or 0))
        if message is None or message.get("from", {}).get("id") != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message to edit not found")
        return box, message

    def _push(self, content: JSON) -> JSON:
        update = {"update_id": next(self._update_ids), **content}
        self._last_pushed = update["update_id"]
        self._updates.append(update)
        self._notify()
        return update

    def _last_update_id(self) -> int:
        return self._updates[-1]["update_id"] if self._updates else self.confirmed - 1

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _deliver(self) -> None:
        """While a webhook is set, POST queued updates to it, as Telegram does."""
        while self.webhook is not None and not self._closing:
            if not self._updates:
                await self._changed.wait()
                continue
            update = self._updates.pop(0)
            status = await self.post_to_webhook(update, self.webhook.get("secret_token"))
            self.webhook_deliveries.append((update["update_id"], status))
            self.confirmed = max(self.confirmed, update["update_id"] + 1)
            self._notify()

    def _entities(self, text: str) -> list[JSON]:
        entities: list[JSON] = []
        for m in re.finditer(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?"
                             r"|(?<!\w)@[A-Za-z0-9_]{5,32}", text):
            kind = "bot_command" if m.group().startswith("/") else "mention"
            entities.append({"type": kind, "offset": utf16_len(text[:m.start()]),
                             "length": utf16_len(m.group())})
        return entities
