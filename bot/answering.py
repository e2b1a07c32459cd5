"""Answer pages: send a rendered answer with its buttons and remember what the buttons mean.

Telegram gives ``callback_data`` only 64 bytes, so a button carries a short answer id and
the page itself (question, quote positions, offset) lives in the ``bot_answers`` table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from bot.i18n import ENGLISH, Translations
from bot.render import answer_page
from bot.state import BotState
from bot.storage import QuoteRef
from retrieval.models import Answer, Quote

ButtonKind = Literal["more", "context", "up", "down"]
_PREFIX: dict[ButtonKind, str] = {"more": "m", "context": "c", "up": "u", "down": "d"}
_KIND = {prefix: kind for kind, prefix in _PREFIX.items()}
CONTEXT_BUTTONS_PER_ROW = 5


@dataclass(frozen=True, slots=True)
class ButtonData:
    kind: ButtonKind
    answer_id: str
    index: int = 0


def encode_button(kind: ButtonKind, answer_id: str, index: int = 0) -> str:
    data = f"{_PREFIX[kind]}:{answer_id}:{index}"
    if len(data.encode()) > 64:  # pragma: no cover - ids are 11 characters
        raise ValueError("callback_data longer than Telegram's 64 bytes")
    return data


def decode_button(data: str | None) -> ButtonData | None:
    """The button's meaning, or None for anything this bot did not produce."""
    if not data:
        return None
    parts = data.split(":")
    # isdigit() alone accepts "²", which int() refuses.
    if (
        len(parts) != 3
        or parts[0] not in _KIND
        or not parts[1]
        or not (parts[2].isascii() and parts[2].isdigit())
    ):
        return None
    return ButtonData(_KIND[parts[0]], parts[1], int(parts[2]))


def answer_keyboard(
    answer_id: str, *, count: int, offset: int, has_more: bool, tr: Translations = ENGLISH
) -> InlineKeyboardMarkup:
    # Translators: a button under an answer; {number} is the quote's number.
    context_label = tr.gettext("📄 Context {number}")
    context_buttons = [
        InlineKeyboardButton(
            context_label.format(number=offset + i + 1),
            callback_data=encode_button("context", answer_id, i),
        )
        for i in range(count)
    ]
    rows = [
        context_buttons[i : i + CONTEXT_BUTTONS_PER_ROW]
        for i in range(0, len(context_buttons), CONTEXT_BUTTONS_PER_ROW)
    ]
    last_row: list[InlineKeyboardButton] = []
    if has_more:
        last_row.append(
            InlineKeyboardButton(
                tr.gettext("More ▸"), callback_data=encode_button("more", answer_id)
            )
        )
    last_row.append(InlineKeyboardButton("👍", callback_data=encode_button("up", answer_id)))
    last_row.append(InlineKeyboardButton("👎", callback_data=encode_button("down", answer_id)))
    rows.append(last_row)
    return InlineKeyboardMarkup(rows)


def without_more(markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    """The same keyboard minus its "More" button, once the next page has been sent."""
    rows = [
        [b for b in row if not (b.callback_data and str(b.callback_data).startswith("m:"))]
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup([row for row in rows if row])


def quote_refs(quotes: Sequence[Quote]) -> list[QuoteRef]:
    return [QuoteRef(q.document.id, q.start, q.end, q.text) for q in quotes]


async def send_answer(
    bot: Bot,
    state: BotState,
    *,
    chat_id: int,
    reply_to: int | None,
    answer: Answer,
    question_id: int,
    offset: int = 0,
    thread_id: int | None = None,
    tr: Translations = ENGLISH,
) -> None:
    """Send ``answer`` (a few messages at most) with its buttons under the last message.

    Quotes that do not fit are left for "More": the stored page holds only those shown, and
    the next page starts after them.
    """
    chunks, shown = answer_page(answer, offset=offset, tr=tr)
    markup: InlineKeyboardMarkup | None = None
    if shown:
        has_more = answer.has_more or shown < len(answer.quotes)
        answer_id = await state.storage.save_answer(
            question_id=question_id,
            offset=offset,
            quotes=quote_refs(answer.quotes[:shown]),
            has_more=has_more,
            # The index that answered: a reload since ask() must not be credited.
            index_built_at=answer.index_built_at,
        )
        markup = answer_keyboard(answer_id, count=shown, offset=offset, has_more=has_more, tr=tr)
    for n, chunk in enumerate(chunks):
        first, last = n == 0, n == len(chunks) - 1
        await bot.send_message(
            chat_id,
            chunk,
            message_thread_id=thread_id,
            reply_parameters=(
                ReplyParameters(reply_to, allow_sending_without_reply=True)
                if first and reply_to is not None
                else None
            ),
            reply_markup=markup if last else None,
        )
