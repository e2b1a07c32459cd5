"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the bot.

It speaks just enough of the Bot API for python-telegram-bot's real HTTP client: long polling
(``getUpdates`` honours ``offset`` and ``timeout``), the sending methods the bot uses, and file
downloads. Every call is recorded with its decoded parameters so tests can assert on them.

Like Telegram, it refuses what Telegram refuses: text that does not parse under
``parse_mode=HTML``, text over 4096 characters or 100 entities, ``callback_data`` over 64 bytes,
a callback query answered twice. Each refusal is a Telegram-shaped 400 error and is recorded in
:attr:`FakeTelegram.rejected`; the ``fake_telegram`` fixture fails the test at teardown when
any was, unless the test called :meth:`FakeTelegram.expect_rejections`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from html_check import TelegramHTMLError, parse_telegram_html

# Long polls are cut short so that stopping the bot never waits for a held request.
MAX_POLL_SECONDS = 1.0
# Parameters whose values are text and must not be JSON-decoded ("42" stays a string).
_TEXT_PARAMS = {
    "text",
    "caption",
    "callback_query_id",
    "inline_query_id",
    "file_id",
    "parse_mode",
    "action",
    "next_offset",
    "url",
    "query",
}

# Bot API limits the fake enforces.
MAX_TEXT_CHARS = 4096
MAX_ENTITIES = 100
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_CHARS = 200
MAX_INLINE_RESULTS = 50

BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "QA Bot",
    "username": "qa_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic, compare=False)
    """When the fake received it (``time.monotonic``)."""


FaultKind = Literal["error", "html", "drop_before", "drop_after", "delay"]


@dataclass
class Fault:
    """What goes wrong with a matching call.

    * ``error``: a Telegram-shaped JSON error (``status``, ``description``, ``retry_after``);
    * ``html``: ``status`` with an HTML page as a proxy in front of Telegram sends (nginx 502);
    * ``drop_before``: the connection is closed before the call takes effect;
    * ``drop_after``: the call takes effect, then the connection is closed without a response;
    * ``delay``: the call is answered normally after ``seconds``.
    """

    kind: FaultKind
    status: int = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None
    seconds: float = 0.0


@dataclass
class _Injected:
    method: str
    fault: Fault
    chat_id: int | None
    times: int | None
    probability: float


def error(status: int, description: str, *, retry_after: int | None = None) -> Fault:
    return Fault("error", status=status, description=description, retry_after=retry_after)


TOO_MANY = error(429, "Too Many Requests: retry after 1", retry_after=1)
SERVER_ERROR = error(500, "Internal Server Error")
BAD_GATEWAY_HTML = Fault("html", status=502)
BLOCKED = error(403, "Forbidden: bot was blocked by the user")
PARSE_ENTITIES = error(400, "Bad Request: can't parse entities: unexpected end tag at byte 5")
DROP_BEFORE = Fault("drop_before")
DROP_AFTER = Fault("drop_after")
NGINX_502 = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"


class Rejected(Exception):
    """A call Telegram would refuse with 400 Bad Request; the message is its description."""


class FakeTelegram:
    """Start with :meth:`start`, stop with :meth:`stop`; thread-safe recording."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.failures: dict[str, tuple[int, str]] = {}
        self.rejected: list[tuple[Call, str]] = []
        """Calls refused as Telegram would refuse them, with the error description."""
        self.rejections_expected = False
        self._answered_queries: set[str] = set()
        self.allowed_updates: list[str] | None = None
        """The update kinds the bot asked for (``getUpdates``' ``allowed_updates``)."""
        self._updates: list[dict[str, Any]] = []
        self._chats: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(10_000)
        self._server: ThreadingHTTPServer | None = None
        self._faults: list[_Injected] = []
        self._random = random.Random(0)
        self._thread: threading.Thread | None = None
        self.webhook: dict[str, Any] | None = None
        """The last ``setWebhook`` parameters, until ``deleteWebhook``."""

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        # A short poll interval keeps shutdown() quick.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            with self._cond:
                self._cond.notify_all()
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- test side ---------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update (its ``update_id`` is assigned here) and wake a waiting poll."""
        with self._cond:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **update})
            for key in ("message", "callback_query"):
                body = update.get(key)
                message = body.get("message") if key == "callback_query" and body else body
                if message and "chat" in message:
                    self._chats[message["chat"]["id"]] = message["chat"]
            self._cond.notify_all()
        return update_id

    def deliver(self, update: dict[str, Any], *, secret: str | None = "") -> int:
        """POST an update to the webhook the bot set, as Telegram does; the HTTP status.

        The secret sent is the one given to ``setWebhook`` unless ``secret`` is passed
        (``None`` sends no secret header at all)."""
        assert self.webhook is not None, "the bot has not set a webhook"
        update = {"update_id": next(self._update_ids), **update}
        headers = {"Content-Type": "application/json"}
        token = self.webhook.get("secret_token") if secret == "" else secret
        if token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        request = urllib.request.Request(
            self.webhook["url"], data=json.dumps(update).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def add_file(self, file_id: str, data: bytes) -> None:
        self.files[file_id] = data

    def fail(self, method: str, code: int, description: str) -> None:
        """Make every later call of ``method`` fail like Telegram would."""
        self.failures[method] = (code, description)

    def inject(
        self,
        method: str,
        fault: Fault,
        *,
        chat_id: int | None = None,
        times: int | None = 1,
        probability: float = 1.0,
        seed: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``None``: every one; for ``chat_id``
        only, if given) go wrong as ``fault`` says, each with ``probability``. Faults are
        tried in the order injected; the first that applies wins."""
        with self._cond:
            if seed is not None:
                self._random.seed(seed)
            self._faults.append(_Injected(method, fault, chat_id, times, probability))

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()

    def delivered(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """Params of the calls that took effect (a failed call did not; ``drop_after`` did)."""
        return [p for p in self.requests_params(method) if "_result" in p]

    def _fault_for(self, method: str, params: dict[str, Any]) -> Fault | None:
        with self._cond:
            for injected in self._faults:
                if injected.method != method or injected.times == 0:
                    continue
                if injected.chat_id is not None:
                    try:
                        if int(params.get("chat_id", 0)) != injected.chat_id:
                            continue
                    except (TypeError, ValueError):
                        continue
                if injected.probability < 1.0 and self._random.random() >= injected.probability:
                    continue
                if injected.times is not None:
                    injected.times -= 1
                return injected.fault
        return None

    def expect_rejections(self) -> None:
        """This test provokes refusals on purpose: do not fail it for them at teardown."""
        self.rejections_expected = True

    def recover(self, method: str) -> None:
        """Undo :meth:`fail`."""
        self.failures.pop(method, None)

    def requests(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if method is None or c.method == method]

    def requests_params(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.requests(method)]

    async def wait_for(
        self,
        method: str,
        where: Callable[[dict[str, Any]], bool] = lambda p: True,
        *,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """The params of the first ``count`` matching calls; fails the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c.params for c in self.requests(method) if where(c.params)]
            if len(found) >= count:
                return found[:count]
            if time.monotonic() > deadline:
                seen = [(c.method, c.params) for c in self.requests()][-10:]
                raise AssertionError(f"no {count}x {method} matching; last calls: {seen}")
            await asyncio.sleep(0.02)

    # --- server side -------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        # httpx percent-encodes the ':' of the token in file URLs.
        path = unquote(urlsplit(request.path).path)
        file_prefix = f"/file/bot{self.token}/"
        api_prefix = f"/bot{self.token}/"
        if path.startswith(file_prefix):
            data = self.files.get(path[len(file_prefix) :].removeprefix("documents/"))
            if data is None:
                self._send(request, 404, b"Not Found", "text/plain")
            else:
                self._send(request, 200, data, "application/octet-stream")
            return
        if not path.startswith(api_prefix):
            self._reply(
                request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
            return
        method = path[len(api_prefix) :]
        params = self._params(request)
        call = Call(method, params)
        with self._cond:
            self.calls.append(call)
        fault = self._fault_for(method, params)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        elif fault is not None and fault.kind == "drop_before":
            request.close_connection = True
            return
        elif fault is not None and fault.kind == "html":
            self._send(request, fault.status, NGINX_502, "text/html")
            return
        elif fault is not None and fault.kind == "error":
            body: dict[str, Any] = {
                "ok": False,
                "error_code": fault.status,
                "description": fault.description,
            }
            if fault.retry_after is not None:
                body["parameters"] = {"retry_after": fault.retry_after}
            self._reply(request, fault.status, body)
            return
        if method in self.failures:
            code, description = self.failures[method]
            self._reply(
                request, code, {"ok": False, "error_code": code, "description": description}
            )
            return
        try:
            self._validate(method, params)
        except Rejected as exc:
            description = f"Bad Request: {exc}"
            with self._cond:
                self.rejected.append((Call(method, params), description))
            self._reply(request, 400, {"ok": False, "error_code": 400, "description": description})
            return
        try:
            result = self._dispatch(method, params)
        except LookupError as exc:
            self._reply(request, 400, {"ok": False, "error_code": 400, "description": str(exc)})
            return
        if fault is not None and fault.kind == "drop_after":
            request.close_connection = True
            return
        self._reply(request, 200, {"ok": True, "result": result})

    def _params(self, request: BaseHTTPRequestHandler) -> dict[str, Any]:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        content_type = request.headers.get("Content-Type", "")
        if "application/json" in content_type:
            raw: dict[str, Any] = json.loads(body or b"{}")
            return raw
        if "multipart/form-data" in content_type:
            raise NotImplementedError("the bot is not expected to upload files")
        query = parse_qs(urlsplit(request.path).query)
        query.update(parse_qs(body.decode("utf-8")))
        params: dict[str, Any] = {}
        for key, values in query.items():
            value = values[-1]
            if key not in _TEXT_PARAMS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            params[key] = value
        return params

    def _validate(self, method: str, params: dict[str, Any]) -> None:
        """Raise :class:`Rejected` for what Telegram would refuse."""
        if method in ("sendMessage", "editMessageText"):
            _check_text(params.get("text"), params.get("parse_mode"))
        if method == "answerInlineQuery":
            results = params.get("results") or []
            if len(results) > MAX_INLINE_RESULTS:
                raise Rejected("RESULTS_TOO_MUCH")
            for result in results:
                if not 1 <= len(str(result.get("id", "")).encode()) <= 64:
                    raise Rejected("RESULT_ID_INVALID")
                content = result.get("input_message_content") or {}
                _check_text(content.get("message_text"), content.get("parse_mode"))
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                        raise Rejected("BUTTON_DATA_INVALID")
        if method == "answerCallbackQuery":
            if len(params.get("text") or "") > MAX_CALLBACK_ANSWER_CHARS:
                raise Rejected("MESSAGE_TOO_LONG")
            query_id = params["callback_query_id"]
            with self._cond:
                if query_id in self._answered_queries:
                    raise Rejected(
                        "query is too old and response timeout expired or query ID is invalid"
                    )
                self._answered_queries.add(query_id)

    def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            return self._get_updates(params)
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            message = self._message(params)
            params["_result"] = message  # lets tests press the buttons of a sent message
            return message
        if method == "getFile":
            file_id = params["file_id"]
            if file_id not in self.files:
                raise LookupError("Bad Request: invalid file_id")
            return {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"documents/{file_id}",
            }
        if method == "setWebhook":
            self.webhook = params
            return True
        if method == "deleteWebhook":
            self.webhook = None
            return True
        if method in (
            "setMyDescription",
            "setMyShortDescription",
            "setMyCommands",
            "deleteMyCommands",
            "answerCallbackQuery",
            "answerInlineQuery",
            "sendChatAction",
        ):
            return True
        raise LookupError(f"Not Found: method {method} is not faked")

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        deadline = time.monotonic() + timeout
        with self._cond:
            # Like Telegram: the last list given applies until another is; other kinds of
            # update are never delivered.
            if params.get("allowed_updates"):
                self.allowed_updates = list(params["allowed_updates"])
            # Telegram forgets updates once a later offset confirms them.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if self.allowed_updates is not None:
                allowed = set(self.allowed_updates)
                self._updates = [u for u in self._updates if allowed & u.keys()]
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            limit = int(params.get("limit") or 100)
            return list(self._updates[:limit])

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat = self._chats.get(chat_id, {"id": chat_id, "type": "private", "first_name": "X"})
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or self.next_message_id()),
            "date": int(time.time()),
            "chat": chat,
            "from": BOT_USER,
            "text": params.get("text", "edited"),
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        FakeTelegram._send(request, status, json.dumps(body).encode(), "application/json")

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str) -> None:
        try:
            request.send_response(status)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass  # the bot gave up on a long poll while stopping


def _check_text(text: str | None, parse_mode: str | None) -> None:
    if parse_mode not in (None, "HTML"):
        raise Rejected(f"unsupported parse_mode {parse_mode!r} in the fake")
    plain, entities = text or "", 0
    if parse_mode == "HTML":
        try:
            plain, entities = parse_telegram_html(plain)
        except TelegramHTMLError as exc:
            raise Rejected(f"can't parse entities: {exc}") from exc
    if not plain.strip():
        raise Rejected("message text is empty")
    if len(plain) > MAX_TEXT_CHARS:
        raise Rejected("message is too long")
    if entities > MAX_ENTITIES:
        raise Rejected("too many entities")
