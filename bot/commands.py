"""Commands everyone can use: /start, /help, /sources, and the answer to unknown ones."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ExtBot

from bot.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    Translations,
    for_update,
    other_languages,
    translation,
    translator,
)
from bot.ratelimit import limit_message
from bot.state import BotState, get_state
from bot.texts import render_help, render_sources, render_start
from retrieval.errors import QabotError

logger = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

PUBLIC_COMMANDS = (
    BotCommand("ask", N_("Ask a question about the documents")),
    BotCommand("sources", N_("The documents I quote from")),
    BotCommand("help", N_("How to use me")),
    BotCommand("start", N_("What I know, with example questions")),
)
ADMIN_COMMANDS = (
    BotCommand("reload", N_("Re-read the corpus folder")),
    BotCommand("stats", N_("Index and usage statistics")),
    BotCommand("unanswered", N_("Refused questions of the last 30 days")),
    BotCommand("feedback", N_("Answers given a 👎")),
    BotCommand("remove", N_("Move a document to the corpus' .trash folder")),
)
EXAMPLE_QUESTIONS = 3
UNKNOWN_COMMAND = N_("I don't know that command. See /help.")
NOT_TEXT = N_(
    "I can only read questions typed as text. (Admins can also send documents: .txt, .md, .pdf, .html, .docx, .odt, .epub.)"
)


def translated(commands: Sequence[BotCommand], tr: Translations) -> list[BotCommand]:
    return [BotCommand(c.command, tr.gettext(c.description)) for c in commands]


async def register_commands(bot: ExtBot[Any], admin_ids: frozenset[int]) -> None:
    """Publish the command menu, in English by default and in each catalog's language for
    users of that language; admins see theirs in their private chat only."""
    languages: list[str | None] = [None, *other_languages()]
    for language in languages:
        tr = translation(language or DEFAULT_LANGUAGE)
        await bot.set_my_commands(translated(PUBLIC_COMMANDS, tr), language_code=language)
    for admin_id in sorted(admin_ids):
        try:
            # Telegram prefers a chat scope without language over the default with one: the
            # admin's scope gets every language too.
            for language in languages:
                tr = translation(language or DEFAULT_LANGUAGE)
                await bot.set_my_commands(
                    translated(PUBLIC_COMMANDS + ADMIN_COMMANDS, tr),
                    scope=BotCommandScopeChat(admin_id),
                    language_code=language,
                )
        except TelegramError as exc:
            # Telegram refuses a chat scope until the admin has opened a chat with the bot.
            logger.warning("Admin commands not set for user %s: %s", admin_id, exc)


async def throttled(state: BotState, message: Message, user: User | None) -> bool:
    """Apply the per-user limit; True when over it. The user is told once per wait; later
    messages in it are ignored, so that a flood in a group gets one reply, not one each."""
    if user is not None and (wait := state.limiter.check(user.id)):
        if state.limiter.first_refusal(user.id, wait):
            tr = translator(user.language_code)
            await message.reply_text(limit_message(wait, tr=tr), do_quote=True)
        return True
    return False


async def start(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    state = get_state(context)
    if await throttled(state, message, user):
        return
    try:
        examples = await state.engine.example_questions(EXAMPLE_QUESTIONS)
    except QabotError:
        logger.exception("Could not draw example questions")
        examples = []
    await message.reply_text(
        render_start(
            state.engine.stats(),
            examples,
            is_admin=state.is_admin(user.id if user else None),
            tr=for_update(update),
        )
    )


async def help_command(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    state = get_state(context)
    await message.reply_text(
        render_help(
            is_admin=state.is_admin(user.id if user else None),
            bot_username=context.bot.username,
            tr=for_update(update),
        )
    )


async def sources(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    state = get_state(context)
    if await throttled(state, message, user):
        return
    await message.reply_text(
        render_sources(state.engine.documents(), state.engine.failed_files(), tr=for_update(update))
    )


async def unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(for_update(update).gettext(UNKNOWN_COMMAND))


async def not_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(for_update(update).gettext(NOT_TEXT))
