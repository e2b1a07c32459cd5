"""The admin's loop: /unanswered (refused questions) and /feedback (answers that got 👎),
each paged with buttons, read from the question log the bot already keeps."""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackContext

from bot.admin import NOT_ADMIN
from bot.errors import answer_callback
from bot.i18n import ENGLISH, N_, Translations, for_update
from bot.render import clip, esc
from bot.state import BotState, get_state

Context = CallbackContext[Any, Any, Any, Any]

WINDOW_DAYS = 30
UNANSWERED_PER_PAGE = 10
FEEDBACK_PER_PAGE = 5
QUESTION_CHARS = 200
QUOTE_CHARS = 300
# callback_data of the page buttons: "un:<page>" or "fb:<page>".
PAGE_PATTERN = r"^(?:un|fb):\d{1,6}$"
_NOT_INLINE = "NOT (chat_type = 'inline' OR chat_type LIKE 'inline:%')"
_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")
LIST_EXPIRED = N_("This list has expired — send the command again.")


def normalize_question(question: str) -> str:
    """One key for the same question typed differently: "Who is X?" and "who is  x"."""
    text = unicodedata.normalize("NFKC", question).casefold().replace("’", "'")
    return _EDGE_PUNCTUATION.sub("", " ".join(text.split()))


@dataclass(frozen=True, slots=True)
class Unanswered:
    question: str
    """The latest wording asked."""
    count: int


@dataclass(frozen=True, slots=True)
class Disliked:
    question: str
    downvotes: int
    quote: str | None
    document_id: str | None


async def unanswered_questions(
    db: aiosqlite.Connection, *, now: float | None = None
) -> list[Unanswered]:
    """Refused questions of the last 30 days, most frequent first (then most recent)."""
    since = (time.time() if now is None else now) - WINDOW_DAYS * 86400
    groups: dict[str, list[Any]] = {}
    async with db.execute(
        "SELECT question, asked_at FROM bot_questions"
        f" WHERE abstained = 1 AND asked_at >= ? AND {_NOT_INLINE} ORDER BY asked_at",
        (since,),
    ) as cursor:
        async for question, asked_at in cursor:
            key = normalize_question(str(question))
            if not key:
                continue
            entry = groups.setdefault(key, [str(question), 0, 0.0])
            entry[0], entry[1], entry[2] = str(question), entry[1] + 1, float(asked_at)
    ordered = sorted(groups.values(), key=lambda e: (-e[1], -e[2]))
    return [Unanswered(question, count) for question, count, _ in ordered]


async def disliked_answers(db: aiosqlite.Connection) -> list[Disliked]:
    """Questions whose answer got 👎, latest vote first, with the first quote shown."""
    async with db.execute(
        "SELECT q.question, COUNT(*), MAX(f.created_at), q.quote_ids,"
        " (SELECT a.quotes FROM bot_answers a WHERE a.question_id = q.id"
        "  ORDER BY a.result_offset LIMIT 1)"
        " FROM bot_feedback f JOIN bot_questions q ON q.id = f.question_id"
        " WHERE f.value = -1 GROUP BY q.id ORDER BY MAX(f.created_at) DESC, q.id DESC"
    ) as cursor:
        rows = await cursor.fetchall()
    found = []
    for question, votes, _, quote_ids, page in rows:
        quote: str | None = None
        document: str | None = None
        if page:
            stored = json.loads(page)
            if stored:
                document, quote = str(stored[0][0]), str(stored[0][3]) or None
        if document is None:
            keys = json.loads(quote_ids or "[]")
            document = str(keys[0]).rsplit(":", 1)[0] if keys else None
        found.append(Disliked(str(question), int(votes), quote, document))
    return found


def render_unanswered(items: Sequence[Unanswered], page: int, *, tr: Translations = ENGLISH) -> str:
    if not items:
        return tr.gettext("🎉 No refused questions in the last {days} days.").format(
            days=WINDOW_DAYS
        )
    start, end, pages = _bounds(len(items), page, UNANSWERED_PER_PAGE)
    lines = [
        tr.gettext(
            "<b>Unanswered questions</b>, last {days} days "
            "({count} different, page {page}/{pages}):"
        ).format(days=WINDOW_DAYS, count=len(items), page=page + 1, pages=pages)
    ]
    for item in items[start:end]:
        lines.append(f"{item.count}× {esc(clip(item.question, QUESTION_CHARS))}")
    lines += [
        "",
        tr.gettext("Add a document that answers them (send a .txt or .md file), then ask again."),
    ]
    return "\n".join(lines)


def render_feedback(items: Sequence[Disliked], page: int, *, tr: Translations = ENGLISH) -> str:
    if not items:
        return tr.gettext("🎉 No answer has been given a 👎.")
    start, end, pages = _bounds(len(items), page, FEEDBACK_PER_PAGE)
    lines = [
        tr.gettext("<b>Answers given a 👎</b> ({count}, page {page}/{pages}):").format(
            count=len(items), page=page + 1, pages=pages
        )
    ]
    for item in items[start:end]:
        votes = f" ({item.downvotes}×👎)" if item.downvotes > 1 else ""
        lines += ["", f"❓ {esc(clip(item.question, QUESTION_CHARS))}{votes}"]
        if item.quote:
            lines.append(f"<blockquote>{esc(clip(item.quote, QUOTE_CHARS))}</blockquote>")
        if item.document_id:
            lines.append(f"— <code>{esc(item.document_id)}</code>")
    return "\n".join(lines)


def page_keyboard(
    kind: str, page: int, total: int, per_page: int, *, tr: Translations = ENGLISH
) -> InlineKeyboardMarkup | None:
    pages = max(1, -(-total // per_page))
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(tr.gettext("◂ Previous"), callback_data=f"{kind}:{page - 1}")
        )
    if page + 1 < pages:
        row.append(InlineKeyboardButton(tr.gettext("Next ▸"), callback_data=f"{kind}:{page + 1}"))
    return InlineKeyboardMarkup([row]) if row else None


def _bounds(total: int, page: int, per_page: int) -> tuple[int, int, int]:
    pages = max(1, -(-total // per_page))
    start = min(page, pages - 1) * per_page
    return start, start + per_page, pages


async def _page(
    state: BotState, kind: str, page: int, tr: Translations
) -> tuple[str, InlineKeyboardMarkup | None]:
    if kind == "un":
        items: Sequence[Any] = await unanswered_questions(state.storage.db)
        per_page, text = UNANSWERED_PER_PAGE, render_unanswered(items, page, tr=tr)
    else:
        items = await disliked_answers(state.storage.db)
        per_page, text = FEEDBACK_PER_PAGE, render_feedback(items, page, tr=tr)
    page = min(page, max(0, -(-len(items) // per_page) - 1))
    return text, page_keyboard(kind, page, len(items), per_page, tr=tr)


async def unanswered(update: Update, context: Context) -> None:
    await _first_page(update, context, "un")


async def feedback(update: Update, context: Context) -> None:
    await _first_page(update, context, "fb")


async def _first_page(update: Update, context: Context, kind: str) -> None:
    message = update.effective_message
    if message is None:
        return
    text, markup = await _page(get_state(context), kind, 0, for_update(update))
    await message.reply_text(text, reply_markup=markup)


async def on_page(update: Update, context: Context) -> None:
    """A page button under /unanswered or /feedback: the message shows that page instead."""
    query = update.callback_query
    if query is None or not query.data:
        return
    state = get_state(context)
    tr = for_update(update)
    if not state.is_admin(query.from_user.id):
        await answer_callback(query, context, tr.gettext(NOT_ADMIN))
        return
    kind, _, number = query.data.partition(":")
    message = query.message
    if not (isinstance(message, Message) and message.is_accessible):
        await answer_callback(query, context, tr.gettext(LIST_EXPIRED))
        return
    text, markup = await _page(state, kind, int(number), tr)
    await answer_callback(query, context)
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
