"""Wiring: configuration → a python-telegram-bot Application with every handler registered."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import admin, buttons, commands, profile, questions, removal, reports, webhook
from bot.config import BotConfig, ConfigError, load_config
from bot.errors import install_token_redaction, on_error, redact
from bot.oplog import configure_logging
from bot.ratelimit import INLINE_QUERIES_PER_QUESTION, QuestionLimiter
from bot.state import STATE_KEY, BotState
from bot.storage import Storage, StorageError
from bot.watch import CorpusWatcher
from retrieval.engine import Engine
from retrieval.errors import IndexNotReadyError, QabotError

logger = logging.getLogger(__name__)

CONFIG_KEY = "qabot_config"
WATCH_KEY = "qabot_watch"
# Answers run concurrently so that a long /reload or upload never holds up questions;
# the engine keeps serving the old index until the new one is swapped in.
CONCURRENT_UPDATES = 16
# Retries after Telegram's "Too Many Requests" (the limiter's default is none).
RATE_LIMIT_RETRIES = 3

# Explicit, because Telegram otherwise keeps whatever an earlier deployment asked for.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]

BotApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(config: BotConfig) -> BotApplication:
    """The application ``qabot run`` polls with; tests point ``base_url`` at a fake server."""
    install_token_redaction(config.token)
    application = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                # Replies quote the message they answer: in groups that says whom we answer.
                do_quote=True,
            )
        )
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data[CONFIG_KEY] = config
    _register_handlers(application, config)
    return application


def _register_handlers(application: BotApplication, config: BotConfig) -> None:
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    new_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    admins = filters.User(user_id=config.admin_user_ids)

    # Within a group the first matching handler wins, so admin handlers precede refusals.
    application.add_handlers(
        [
            CommandHandler("start", commands.start),
            CommandHandler("help", commands.help_command),
            CommandHandler("sources", commands.sources),
            CommandHandler("ask", questions.ask_command),
            CommandHandler("reload", admin.reload, filters=admins),
            CommandHandler("stats", admin.stats, filters=admins),
            CommandHandler("unanswered", reports.unanswered, filters=admins),
            CommandHandler("feedback", reports.feedback, filters=admins),
            CommandHandler("remove", removal.remove, filters=admins),
            CommandHandler(["reload", "stats", "unanswered", "feedback", "remove"], admin.refuse),
            MessageHandler(private & filters.Document.ALL & admins, admin.upload),
            MessageHandler(private & filters.Document.ALL, admin.refuse_upload),
            MessageHandler(private & new_text, questions.private_message),
            MessageHandler(groups & new_text, questions.group_message),
            MessageHandler(private & filters.COMMAND, commands.unknown_command),
            MessageHandler(
                private & filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
                commands.not_text,
            ),
            CallbackQueryHandler(reports.on_page, pattern=reports.PAGE_PATTERN),
            CallbackQueryHandler(buttons.on_button),
            InlineQueryHandler(questions.inline_query),
        ]
    )
    application.add_error_handler(on_error)


async def _post_init(application: BotApplication) -> None:
    config: BotConfig = application.bot_data[CONFIG_KEY]
    engine = await Engine.open(config.corpus_dir, config.database_path)
    storage = Storage(config.database_path)
    try:
        await storage.initialize()
    except BaseException:
        await engine.close()
        raise
    limiter = QuestionLimiter(config.questions_per_minute)
    inline_limiter = QuestionLimiter(config.questions_per_minute * INLINE_QUERIES_PER_QUESTION)
    application.bot_data[STATE_KEY] = BotState(config, engine, storage, limiter, inline_limiter)
    await commands.register_commands(application.bot, config.admin_user_ids)
    stats = engine.stats()
    await profile.initialize(application.bot, stats)
    if config.watch_corpus:
        watcher = CorpusWatcher(engine, config.corpus_dir)
        await watcher.initialize()
        application.bot_data[WATCH_KEY] = watcher
    logger.info(
        "qabot ready as @%s: %d documents, %d sentences",
        application.bot.username,
        stats.documents,
        stats.sentences,
    )


async def _post_shutdown(application: BotApplication) -> None:
    watcher = application.bot_data.pop(WATCH_KEY, None)
    if isinstance(watcher, CorpusWatcher):
        await watcher.shutdown()
    state = application.bot_data.pop(STATE_KEY, None)
    if isinstance(state, BotState):
        try:
            await state.storage.shutdown()
        finally:
            await state.engine.close()


def run_bot(corpus_dir: Path | None = None, db_path: Path | None = None) -> int:
    """``qabot run``: poll Telegram until SIGINT/SIGTERM; return the process exit code."""
    # The .env next to where the bot is started, not next to this installed module.
    load_dotenv(Path.cwd() / ".env", override=False)
    try:
        config = load_config(os.environ, corpus_dir=corpus_dir, database_path=db_path)
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}", 2)
    if not config.corpus_dir.is_dir():
        return _fail(f"configuration error: corpus directory {config.corpus_dir} not found", 2)
    configure_logging(config.log_level, config.log_format)
    application = build_application(config)
    try:
        if config.webhook is None:
            # Polling starts by deleting any webhook an earlier deployment set.
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            webhook.initialize(lambda: is_healthy(application))
            application.run_webhook(
                **webhook.webhook_arguments(config.webhook), allowed_updates=ALLOWED_UPDATES
            )
    except InvalidToken:
        return _fail("Telegram rejected TELEGRAM_BOT_TOKEN (revoked or mistyped?)", 2)
    except (QabotError, StorageError, TelegramError, OSError) as exc:
        return _fail(redact(str(exc)) or type(exc).__name__, 1)
    return 0


def is_healthy(application: BotApplication) -> bool:
    """Whether the bot is started and its index loaded (``GET /healthz``)."""
    state = application.bot_data.get(STATE_KEY)
    if not isinstance(state, BotState):
        return False
    try:
        state.engine.stats()
    except IndexNotReadyError:
        return False
    return True


def _fail(message: str, code: int) -> int:
    print(f"qabot: {message}", file=sys.stderr)
    return code
