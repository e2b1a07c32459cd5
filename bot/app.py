"""Wiring: configuration → a python-telegram-bot Application with every handler registered."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import (
    access,
    admin,
    alerts,
    buttons,
    commands,
    edits,
    profile,
    questions,
    removal,
    reports,
    webhook,
)
from bot.config import BotConfig, ConfigError, load_config
from bot.delivery import build_bot, is_transient
from bot.errors import install_token_redaction, on_error, redact
from bot.journal import JournaledApplication, UpdateJournal
from bot.oplog import configure_logging
from bot.ratelimit import INLINE_QUERIES_PER_QUESTION, QuestionLimiter
from bot.startup import (
    EXIT_DATABASE,
    EXIT_NETWORK,
    HideStartupTracebacks,
    StartupError,
    preflight,
    unreachable,
)
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

# Explicit, because Telegram otherwise keeps whatever an earlier deployment asked for.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
]

BotApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(config: BotConfig) -> BotApplication:
    """The application ``qabot run`` polls with; tests point ``base_url`` at a fake server."""
    install_token_redaction(config.token)
    journal = UpdateJournal(config.database_path)
    application = (
        ApplicationBuilder()
        # Journaled updates and a bounded stop: see bot.journal.
        .application_class(JournaledApplication)
        # Token, URLs, proxy, defaults, rate limits and retries: see bot.delivery.
        .bot(build_bot(config, journal))
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    assert isinstance(application, JournaledApplication)
    application.journal = journal
    application.bot_data[CONFIG_KEY] = config
    _register_handlers(application, config)
    return application


def _register_handlers(application: BotApplication, config: BotConfig) -> None:
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    # Edited questions too (bot.edits stops every other kind of edit first).
    new_text = filters.UpdateType.MESSAGES & filters.TEXT & ~filters.COMMAND
    caption = filters.UpdateType.MESSAGES & filters.CAPTION & ~filters.Document.ALL
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
            MessageHandler(private & caption, questions.private_message),
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
    application.add_error_handler(alerts.on_error)
    # Before every other handler: admin actions logged, refused users stopped.
    application.add_handler(TypeHandler(Update, access.gate), group=access.ACCESS_GROUP)
    application.add_handler(TypeHandler(Update, edits.ignore_other_edits), group=edits.EDITS_GROUP)


async def _post_init(application: BotApplication) -> None:
    config: BotConfig = application.bot_data[CONFIG_KEY]
    engine = await Engine.open(config.corpus_dir, config.database_path)
    storage = Storage(config.database_path)
    try:
        await storage.initialize()
    except BaseException:
        await engine.close()
        raise
    if isinstance(application, JournaledApplication) and application.journal is not None:
        try:
            await application.journal.open()
        except BaseException:
            await storage.shutdown()
            await engine.close()
            raise
        await application.replay_pending()
    limiter = QuestionLimiter(config.questions_per_minute)
    inline_limiter = QuestionLimiter(config.questions_per_minute * INLINE_QUERIES_PER_QUESTION)
    application.bot_data[STATE_KEY] = BotState(config, engine, storage, limiter, inline_limiter)
    await commands.register_commands(application.bot, config.admin_user_ids)
    stats = engine.stats()
    if stats.documents == 0:
        logger.warning(
            "The corpus %s has no documents: questions find nothing until files are added "
            "(then /reload) or an admin uploads one",
            config.corpus_dir,
        )
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
    if isinstance(application, JournaledApplication) and application.journal is not None:
        await application.journal.close()
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
    try:
        preflight(config)
    except StartupError as exc:
        return _fail(str(exc), exc.code)
    configure_logging(config.log_level, config.log_format)
    for handler in logging.getLogger().handlers:
        handler.addFilter(HideStartupTracebacks())
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
    except StorageError as exc:
        return _fail(redact(str(exc)) or type(exc).__name__, EXIT_DATABASE)
    except NetworkError as exc:
        if not is_transient(exc):
            return _fail(redact(str(exc)) or type(exc).__name__, 1)
        return _fail(str(unreachable(config, redact(str(exc)))), EXIT_NETWORK)
    except (QabotError, TelegramError, OSError) as exc:
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
