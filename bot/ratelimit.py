"""Per-user question limit (a sliding one-minute window), on top of PTB's send-side limiter."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from bot.i18n import ENGLISH, Translations

WINDOW_SECONDS = 60.0
# Clients send an inline query every few keystrokes, so one inline question costs several.
INLINE_QUERIES_PER_QUESTION = 5


class QuestionLimiter:
    """Allows each user ``per_minute`` questions in any 60 s window; 0 disables the limit."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._asked: dict[int, deque[float]] = {}
        self._told_until: dict[int, float] = {}

    def check(self, user_id: int) -> float:
        """Record a question; return 0 when allowed, else the seconds to wait."""
        if self._per_minute <= 0:
            return 0.0
        now = self._clock()
        asked = self._asked.setdefault(user_id, deque())
        while asked and asked[0] <= now - WINDOW_SECONDS:
            asked.popleft()
        if len(asked) >= self._per_minute:
            return max(0.1, asked[0] + WINDOW_SECONDS - now)
        asked.append(now)
        self._forget_idle(now)
        return 0.0

    def first_refusal(self, user_id: int, wait_seconds: float) -> bool:
        """True for the first refusal until ``wait_seconds`` (what :meth:`check` returned) have
        passed, so that a user over the limit is told once, not at every message."""
        now = self._clock()
        if now < self._told_until.get(user_id, 0.0):
            return False
        self._told_until[user_id] = now + wait_seconds
        return True

    def _forget_idle(self, now: float) -> None:
        # Keeps memory bounded by active users rather than everyone who ever asked.
        if len(self._asked) < 10_000:
            return
        for user_id in [
            u for u, q in self._asked.items() if not q or q[-1] <= now - WINDOW_SECONDS
        ]:
            del self._asked[user_id]
        for user_id in [u for u, until in self._told_until.items() if until <= now]:
            del self._told_until[user_id]


def limit_message(wait_seconds: float, *, tr: Translations = ENGLISH) -> str:
    seconds = max(1, round(wait_seconds))
    return tr.gettext(
        "🐢 You're asking faster than I can keep up. Please wait about {seconds} s and ask again."
    ).format(seconds=seconds)
