"""Greetings and thanks: a short friendly reply instead of a refusal, and not logged as a
question (so /stats and /unanswered count only real questions)."""

from __future__ import annotations

import re

from bot.i18n import ENGLISH, N_, Translations

GREETING_REPLY = N_("👋 Hi! Ask me anything about my documents — /start shows a few examples.")
THANKS_REPLY = N_("You're welcome! 😊")
BYE_REPLY = N_("Bye! 👋 Come back with more questions any time.")

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
# The same in Russian (ё read as е), for the users the Russian catalog speaks to.
_WHO_RU = r"(?: (?:всем|все|бот|ещё раз|еще раз))?"
_GREETING_RU = re.compile(
    rf"^(?:привет|приветствую|здравствуй|здравствуйте|добрый (?:день|вечер)|доброе утро){_WHO_RU}$"
)
_THANKS_RU = re.compile(
    r"^(?:спасибо|спс|благодарю|отлично|супер|класс)"
    r"(?: (?:большое|огромное|тебе|вам|бот|ещё раз|еще раз))?$"
)
_BYE_RU = re.compile(r"^(?:пока|до свидания|до встречи|спокойной ночи)" + _WHO_RU + "$")


def small_talk_reply(text: str, *, tr: Translations = ENGLISH) -> str | None:
    """The reply to a greeting, thanks or goodbye; None for anything else (a question)."""
    words = " ".join(_WORD_EDGES.sub("", text.casefold().replace("’", "'")).split())
    words = re.sub(r"[!.,]+", "", words)
    if _GREETING.fullmatch(words) or _GREETING_RU.fullmatch(words):
        return tr.gettext(GREETING_REPLY)
    if _THANKS.fullmatch(words) or _THANKS_RU.fullmatch(words):
        return tr.gettext(THANKS_REPLY)
    if _BYE.fullmatch(words) or _BYE_RU.fullmatch(words):
        return tr.gettext(BYE_REPLY)
    return None
