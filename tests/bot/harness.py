"""The running bot under test, the fake Telegram it polls, and builders for updates."""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fake_telegram import FakeTelegram

from bot.app import BotApplication
from bot.config import BotConfig
from bot.state import STATE_KEY, BotState

TOKEN = "123456789:TEST-fake-token-for-the-bot-tests_xyz"
ADMIN_ID = 1001
USER_ID = 2002
GROUP_ID = -100555

ADMIN = {"id": ADMIN_ID, "is_bot": False, "first_name": "Ada", "username": "ada"}
USER = {"id": USER_ID, "is_bot": False, "first_name": "Bob", "username": "bob"}
GROUP = {"id": GROUP_ID, "type": "supergroup", "title": "Readers"}

# Written so that several sentences answer "lighthouse" questions (for "More") and one
# document carries full metadata (for the source line).
LIGHTHOUSES = (
    "---\n"
    "title: Lighthouses & <Keepers>\n"
    "author: Maria Lopes\n"
    "date: 2020-03-04\n"
    "url: https://example.org/lights?a=1&b=2\n"
    "---\n"
    "The Cape Roca lighthouse stands on the westernmost point of mainland Europe.\n"
    "Its lamp was first lit in 1772 by order of the Marquis of Pombal.\n\n"
    "The Bugio lighthouse guards the mouth of the Tagus river on a small round fort.\n"
    "Keepers rowed supplies to the Bugio lighthouse every fortnight.\n\n"
    "The Santa Marta lighthouse in Cascais is now a small museum about lighthouse keepers.\n"
    "The Berlenga lighthouse sits on an island full of seabirds.\n"
)
BREAD = (
    "Bread of Mafra\n\n"
    "Mafra bread is baked in wood-fired ovens and has a thick crust.\n"
    "Bakers in Mafra start kneading the dough before dawn.\n"
)


@dataclass
class Harness:
    """The running bot and the fake Telegram it talks to, with update builders."""

    fake: FakeTelegram
    app: BotApplication
    config: BotConfig
    stop: Callable[[], Awaitable[None]]
    """Stop the bot the way ``run_polling`` does on SIGINT."""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def state(self) -> BotState:
        state = self.app.bot_data[STATE_KEY]
        assert isinstance(state, BotState)
        return state

    def message(
        self,
        text: str | None = None,
        *,
        user: dict[str, Any] = USER,
        chat: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_to: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Push a message update; returns the message as pushed."""
        chat = chat or {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            **extra,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self.fake.push({"message": message})
        return message

    def document(
        self,
        file_name: str,
        data: bytes,
        *,
        user: dict[str, Any] = ADMIN,
        file_size: int | None = None,
        mime_type: str = "text/plain",
        announce_size: bool = True,
    ) -> dict[str, Any]:
        """Push a document message; ``announce_size=False`` leaves out ``file_size``, which
        Telegram may do."""
        file_id = f"file{next(self._ids)}"
        self.fake.add_file(file_id, data)
        document: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
        }
        if announce_size:
            document["file_size"] = len(data) if file_size is None else file_size
        return self.message(user=user, document=document)

    def press(
        self, button_data: str, message: dict[str, Any], *, user: dict[str, Any] = USER
    ) -> str:
        query_id = f"cb{next(self._ids)}"
        self.fake.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": "ci1",
                    "data": button_data,
                    "message": message,
                }
            }
        )
        return query_id

    def inline(self, query: str, *, user: dict[str, Any] = USER) -> str:
        query_id = f"iq{next(self._ids)}"
        self.fake.push(
            {"inline_query": {"id": query_id, "from": user, "query": query, "offset": ""}}
        )
        return query_id

    async def replies_to(self, message: dict[str, Any], count: int = 1) -> list[dict[str, Any]]:
        """The first ``count`` of the bot's messages replying to ``message`` (continuation
        chunks of a long answer do not reply to it and are not included)."""
        return await self.fake.wait_for(
            "sendMessage",
            lambda p: (
                (p.get("reply_parameters") or {}).get("message_id") == message["message_id"]
                and p.get("chat_id") == message["chat"]["id"]
            ),
            count=count,
        )

    async def settle(self, *, chat: dict[str, Any] | None = None) -> dict[str, Any]:
        """Push a marker (``/help``, which is never limited) and wait for its reply.

        Updates are fetched in order, so by then every update pushed before the marker has
        been handed to its handler, and a handler that sends nothing has finished: a test can
        assert that nothing else was sent (besides the marker's reply, which this returns).
        """
        [reply] = await self.replies_to(self.message("/help", chat=chat))
        return reply

    @staticmethod
    def buttons(sent: dict[str, Any]) -> dict[str, str]:
        """Button text → callback data of a sent message."""
        rows = sent.get("reply_markup", {}).get("inline_keyboard", [])
        return {b["text"]: b["callback_data"] for row in rows for b in row}


StartBot = Callable[..., Awaitable[Harness]]
