"""Questions: private messages, group mentions and replies, ``/ask``, and inline queries."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import CallbackContext

from bot.answering import quote_refs, send_answer
from bot.chat_action import typing_while_slow
from bot.commands import throttled
from bot.i18n import N_, for_update
from bot.oplog import log_question
from bot.render import clip, inline_description, plain_source, render_inline_message
from bot.smalltalk import small_talk_reply
from bot.state import get_state
from retrieval.errors import IndexNotReadyError, QabotError
from retrieval.text import normalize_space

logger = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

MAX_QUESTION_CHARS = 500
INLINE_RESULTS = 5
# Inline queries arrive as the user types; very short prefixes are not questions yet.
MIN_INLINE_CHARS = 3
INLINE_CACHE_SECONDS = 60

USAGE_ASK = N_("Ask me like this: <code>/ask When did the conflict start?</code>")
NOT_READY = N_("⏳ I'm still reading my documents. Please ask again in a minute.")
SEARCH_FAILED = N_("😕 I couldn't search my documents just now. Please try again later.")
TOO_LONG = N_("That's a long one! Please keep questions under {limit} characters.")


def addressed_text(message: Message, bot_id: int, bot_username: str | None) -> str | None:
    """The question in a group message meant for the bot, else None.

    A message is meant for the bot when it mentions it (``@name`` or a text mention) or
    replies to one of its messages; the mention itself is removed from the question.
    """
    text = message.text or ""
    mentions: list[MessageEntity] = []
    for entity, entity_text in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        is_bot = (
            entity.type == MessageEntity.MENTION
            and bot_username is not None
            and entity_text.lstrip("@").lower() == bot_username.lower()
        ) or (
            entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == bot_id
        )
        if is_bot:
            mentions.append(entity)
    reply = message.reply_to_message
    # In forum topics every message "replies" to the topic's creation message.
    replied = (
        reply is not None
        and reply.forum_topic_created is None
        and reply.from_user is not None
        and reply.from_user.id == bot_id
    )
    if mentions:
        return without_entities(text, mentions)
    return text if replied else None


def without_entities(text: str, entities: list[MessageEntity]) -> str:
    """``text`` with each entity's span (offsets in UTF-16 code units) replaced by a space;
    other occurrences of the same words stay."""
    utf16 = text.encode("utf-16-le")
    space = " ".encode("utf-16-le")
    for entity in sorted(entities, key=lambda e: e.offset, reverse=True):
        start, end = 2 * entity.offset, 2 * (entity.offset + entity.length)
        utf16 = utf16[:start] + space + utf16[end:]
    return utf16.decode("utf-16-le")


async def answer_question(update: Update, context: Context, raw_question: str) -> None:
    """Rate-limit, ask the engine, log, and reply to the message with quotes or a refusal."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None:
        return
    state = get_state(context)
    tr = for_update(update)
    question = normalize_space(raw_question)
    if not question:
        await message.reply_text(tr.gettext(USAGE_ASK), do_quote=True)
        return
    if len(question) > MAX_QUESTION_CHARS:
        await message.reply_text(
            tr.gettext(TOO_LONG).format(limit=MAX_QUESTION_CHARS), do_quote=True
        )
        return
    if await throttled(state, message, user):
        return
    if (friendly := small_talk_reply(question, tr=tr)) is not None:
        # Not a question: not logged, never counted as refused.
        await message.reply_text(friendly, do_quote=True)
        return
    thread_id = message.message_thread_id if message.is_topic_message else None
    async with typing_while_slow(context.bot, chat.id, thread_id=thread_id):
        try:
            answer = await state.engine.ask(question, limit=state.config.results_per_answer)
        except IndexNotReadyError:
            await message.reply_text(tr.gettext(NOT_READY), do_quote=True)
            return
        except QabotError:
            logger.exception("Search failed for chat %s", chat.id)
            await message.reply_text(tr.gettext(SEARCH_FAILED), do_quote=True)
            return
        question_id = await state.storage.log_question(
            user_id=user.id if user else None,
            chat_id=chat.id,
            chat_type=str(chat.type),
            question=question,
            abstained=answer.abstained,
            quotes=quote_refs(answer.quotes),
            latency_ms=answer.latency_ms,
        )
        log_question(update, answer.abstained, answer.latency_ms)
    await send_answer(
        context.bot,
        state,
        chat_id=chat.id,
        reply_to=message.message_id,
        answer=answer,
        question_id=question_id,
        thread_id=thread_id,
        tr=tr,
    )


async def private_message(update: Update, context: Context) -> None:
    message = update.effective_message
    # A photo's (or other media's) caption is read as the question.
    text = (message.text or message.caption) if message is not None else None
    if text:
        await answer_question(update, context, text)


async def group_message(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    question = addressed_text(message, context.bot.id, context.bot.username)
    if question is not None:
        await answer_question(update, context, question)


async def ask_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    # The raw text keeps the question as typed; context.args would collapse quoting.
    parts = message.text.split(maxsplit=1)
    await answer_question(update, context, parts[1] if len(parts) > 1 else "")


async def inline_query(update: Update, context: Context) -> None:
    query = update.inline_query
    if query is None:
        return
    state = get_state(context)
    question = normalize_space(query.query)[:MAX_QUESTION_CHARS]
    if len(question) < MIN_INLINE_CHARS or state.inline_limiter.check(query.from_user.id):
        await query.answer([], cache_time=0, is_personal=True)
        return
    try:
        answer = await state.engine.ask(question, limit=INLINE_RESULTS)
    except QabotError:
        logger.exception("Inline search failed")
        await query.answer([], cache_time=0, is_personal=True)
        return
    await state.storage.log_question(
        user_id=query.from_user.id,
        chat_id=None,
        chat_type=f"inline:{query.chat_type}" if query.chat_type else "inline",
        question=question,
        abstained=answer.abstained,
        quotes=quote_refs(answer.quotes),
        latency_ms=answer.latency_ms,
    )
    quotes = () if answer.abstained else answer.quotes[:INLINE_RESULTS]
    tr = for_update(update)
    results = [
        InlineQueryResultArticle(
            id=str(n),
            title=clip(plain_source(quote.document), 100),
            description=inline_description(quote),
            input_message_content=InputTextMessageContent(
                render_inline_message(quote, tr=tr), parse_mode=ParseMode.HTML
            ),
        )
        for n, quote in enumerate(quotes)
    ]
    # Personal: the results are in the user's language ("p. 12"), so Telegram must not hand
    # them to another user typing the same query.
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=True)
