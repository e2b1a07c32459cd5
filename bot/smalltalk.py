"""Greetings and thanks: a short friendly reply instead of a refusal, and not logged as a
question (so /stats and /unanswered count only real questions)."""

from __future__ import annotations

import re

GREETING_REPLY = "👋 Hi! Ask me anything about my documents — /start shows a few examples."
THANKS_REPLY = "You're welcome! 😊"
BYE_REPLY = "Bye! 👋 Come back with more questions any time."

_WORD_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_WHO = r"(?: (?:there|all|everyone|everybody|folks|bot|qabot|again))?"
_GREETING = re.compile(
    rf"^(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|day)){_WHO}$"
)
_THANKS = re.compile(
    r"^(?:(?:thanks|thank you|thank u|thx|ty|cheers|many thanks|great|perfect|awesome|cool|ok)"
    r"(?: (?:a lot|so much|very much|again|a bunch|bot|qabot))?(?: thanks| thank you)?)$"
)
_BYE = re.compile(r"^(?:bye|goodbye|good bye|bye bye|see you|see ya|good night)" + _WHO + "$")


def small_talk_reply(text: str) -> str | None:
    """The reply to a greeting, thanks or goodbye; None for anything else (a question)."""
    words = " ".join(_WORD_EDGES.sub("", text.casefold().replace("’", "'")).split())
    words = re.sub(r"[!.,]+", "", words)
    if _GREETING.fullmatch(words):
        return GREETING_REPLY
    if _THANKS.fullmatch(words):
        return THANKS_REPLY
    if _BYE.fullmatch(words):
        return BYE_REPLY
    return None
