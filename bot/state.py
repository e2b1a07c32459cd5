"""What the handlers share at run time, created in ``post_init`` and closed in ``post_shutdown``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import CallbackContext

from bot.config import BotConfig
from bot.ratelimit import QuestionLimiter
from bot.storage import Storage
from retrieval.engine import Engine

STATE_KEY = "qabot"


@dataclass
class BotState:
    config: BotConfig
    engine: Engine
    storage: Storage
    limiter: QuestionLimiter
    inline_limiter: QuestionLimiter

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.config.admin_user_ids


def get_state(context: CallbackContext[Any, Any, Any, Any]) -> BotState:
    state = context.application.bot_data.get(STATE_KEY)
    if not isinstance(state, BotState):
        raise RuntimeError("the bot is not initialized (post_init has not run)")
    return state
