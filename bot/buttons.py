"""Callback queries from the buttons under an answer: More, Context, 👍 and 👎."""

from __future__ import annotations

import logging
from typing import Any

from telegram import CallbackQuery, Message, ReplyParameters, Update
from telegram.error import BadRequest
from telegram.ext import CallbackContext

from bot.answering import ButtonData, decode_button, send_answer, without_more
from bot.errors import answer_callback
from bot.i18n import N_, Translations, for_update
from bot.ratelimit import limit_message
from bot.render import render_context
from bot.state import BotState, get_state
from bot.storage import StoredAnswer
from retrieval.errors import QabotError

logger = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

STALE = N_("This button has expired — please ask your question again.")
RELOADED = N_(
    "This answer came from an earlier index (reloaded or restarted since) — please ask again."
)
DOCUMENT_CHANGED = N_("That document has changed since — please ask again for fresh quotes.")
NO_MORE = N_("That's all I found.")
MORE_TAKEN = N_("The next quotes are already on their way.")
SEARCH_FAILED = N_("😕 I couldn't search just now. Please try again later.")
THANKS = {
    1: N_("Thanks for the 👍!"),
    -1: N_("Thanks — noted 👎. Try rephrasing, or see /sources."),
}


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    state = get_state(context)
    tr = for_update(update)
    button = decode_button(query.data)
    stored = await state.storage.get_answer(button.answer_id) if button else None
    # Telegram sends a message older than 48 hours as inaccessible: only its chat and id,
    # dated 0 (PTB keeps it a Message, with is_accessible False).
    message = query.message
    if not (isinstance(message, Message) and message.is_accessible):
        message = None
    if button is None or stored is None:
        await answer_callback(query, context, tr.gettext(STALE))
        return
    if button.kind in ("up", "down"):
        value = 1 if button.kind == "up" else -1
        await state.storage.record_feedback(
            question_id=stored.question_id, user_id=query.from_user.id, value=value
        )
        await answer_callback(query, context, tr.gettext(THANKS[value]))
    elif message is None:
        # Without the message there is no keyboard to update nor page to continue.
        await answer_callback(query, context, tr.gettext(STALE))
    elif button.kind == "context":
        await _context(query, context, state, stored, button, message, tr)
    else:
        await _more(query, context, state, stored, message, tr)


async def _context(
    query: CallbackQuery,
    context: Context,
    state: BotState,
    stored: StoredAnswer,
    button: ButtonData,
    message: Message,
    tr: Translations,
) -> None:
    if button.index >= len(stored.quotes):
        await answer_callback(query, context, tr.gettext(STALE))
        return
    if wait := state.limiter.check(query.from_user.id):
        await answer_callback(query, context, limit_message(wait, tr=tr))
        return
    ref = stored.quotes[button.index]
    paragraph = await state.engine.context(
        ref.document_id, ref.start, ref.end, text=ref.text or None
    )
    if paragraph is None:
        await answer_callback(query, context, tr.gettext(DOCUMENT_CHANGED))
        return
    await answer_callback(query, context)
    await message.reply_text(
        render_context(paragraph, tr=tr),
        reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
    )


async def _more(
    query: CallbackQuery,
    context: Context,
    state: BotState,
    stored: StoredAnswer,
    message: Message,
    tr: Translations,
) -> None:
    if stored.index_built_at != state.engine.stats().built_at:
        # Offsets into a different index would skip or repeat quotes.
        await answer_callback(query, context, tr.gettext(RELOADED))
        return
    # Claimed before searching: of a double tap (updates run concurrently) one sends the page.
    if not await state.storage.claim_more(stored.id):
        await answer_callback(query, context, tr.gettext(MORE_TAKEN))
        return
    if wait := state.limiter.check(query.from_user.id):
        await state.storage.release_more(stored.id)
        await answer_callback(query, context, limit_message(wait, tr=tr))
        return
    offset = stored.offset + len(stored.quotes)
    try:
        answer = await state.engine.ask(
            stored.question, limit=state.config.results_per_answer, offset=offset
        )
    except QabotError:
        logger.exception("More failed for answer %s", stored.id)
        await state.storage.release_more(stored.id)
        await answer_callback(query, context, tr.gettext(SEARCH_FAILED))
        return
    if answer.abstained or not answer.quotes:
        await answer_callback(query, context, tr.gettext(NO_MORE))
        return
    try:
        await send_answer(
            context.bot,
            state,
            chat_id=message.chat.id,
            reply_to=message.message_id,
            answer=answer,
            question_id=stored.question_id,
            offset=offset,
            thread_id=message.message_thread_id if message.is_topic_message else None,
            tr=tr,
        )
    except Exception:
        # The old page keeps its "More" (it is removed only below): let it work again.
        await state.storage.release_more(stored.id)
        raise
    await answer_callback(query, context)
    if message.reply_markup is not None:
        # One "More" per page: the next page, now sent, carries its own.
        try:
            await message.edit_reply_markup(without_more(message.reply_markup))
        except BadRequest as exc:
            logger.debug("More button not removed: %s", exc)
