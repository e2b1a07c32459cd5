"""Admin-only actions: /reload, /stats and document uploads; a polite refusal for others.

Who is an admin is decided by numeric user id (``filters.User``) when the handlers are
registered: usernames can be changed or taken over, ids cannot.
"""

from __future__ import annotations

import logging
import re
from pathlib import PurePath
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CallbackContext

from bot.i18n import ENGLISH, N_, Translations, for_update
from bot.render import esc
from bot.state import get_state
from bot.texts import render_reindex_report, render_stats
from retrieval.engine import safe_document_name
from retrieval.errors import DocumentError, QabotError
from retrieval.models import ReindexReport

logger = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

ALREADY_RELOADING = N_("⏳ A reload is already running; this one follows as soon as it ends.")
NOT_ADMIN = N_("🔒 Sorry, only the bot's admins can do that.")
DOWNLOAD_TOO_BIG = N_("Telegram lets bots download files up to 20 MB")
NOT_ADMIN_UPLOAD = N_(
    "🔒 Thanks, but only the bot's admins can add documents. Just ask me a question!"
)


async def reload(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    state = get_state(context)
    tr = for_update(update)
    if state.engine.reindexing:
        # The engine runs one re-index at a time: this one starts when the other ends.
        await message.reply_text(tr.gettext(ALREADY_RELOADING))
    try:
        report = await state.engine.reindex()
    except QabotError as exc:
        logger.warning("Reload failed: %s", exc)
        await message.reply_text(
            tr.gettext(
                "❌ Reload failed, the previous index keeps serving.\nReason: {reason}"
            ).format(reason=esc(str(exc)))
        )
        return
    log_change("reload", update, report)
    await message.reply_text(render_reindex_report(report, tr=tr))


async def stats(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    state = get_state(context)
    usage = await state.storage.usage()
    await message.reply_text(render_stats(state.engine.stats(), usage, tr=for_update(update)))


async def upload(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.document is None:
        return
    state = get_state(context)
    tr = for_update(update)
    document = message.document
    limit = state.config.max_upload_bytes
    name = document.file_name or ""
    try:
        # Only what must be known before downloading; add_document checks the rest.
        safe_document_name(name)
        if document.file_size is not None and document.file_size > limit:
            raise DocumentError(name, size_versus_limit(document.file_size, limit, tr=tr))
        try:
            telegram_file = await document.get_file()
            data = bytes(await telegram_file.download_as_bytearray())
        except BadRequest as exc:
            # A document sent without file_size can still be over the Bot API's limit.
            raise DocumentError(name, _download_refused(exc, tr)) from exc
        report = await state.engine.add_document(name, data, max_bytes=limit)
    except DocumentError as exc:
        problem = exc.reason
    except QabotError as exc:
        logger.warning("Upload of %r failed: %s", name, exc)
        problem = str(exc)
    else:
        stored = stored_id(report, name)
        log_change("upload", update, report, document=stored)
        title = tr.gettext("Added {document}").format(document=stored)
        await message.reply_text(render_reindex_report(report, title=title, tr=tr), do_quote=True)
        return
    await message.reply_text(
        tr.gettext("❌ Not added: {problem}. Nothing was stored.").format(problem=esc(problem)),
        do_quote=True,
    )


def log_change(
    event: str, update: Update, report: ReindexReport, *, document: str | None = None
) -> None:
    """One INFO line per reload, upload or removal, naming the admin who asked."""
    admin_id = update.effective_user.id if update.effective_user else None
    logger.info(
        "%s by admin %s%s: %d added, %d changed, %d removed, %d documents, %.2f s",
        event,
        admin_id,
        f" ({document})" if document else "",
        len(report.added),
        len(report.changed),
        len(report.removed),
        report.stats.documents,
        report.seconds,
        extra={
            "event": event,
            "admin_id": admin_id,
            "document": document,
            "added": len(report.added),
            "changed": len(report.changed),
            "removed": len(report.removed),
            "documents": report.stats.documents,
            "seconds": round(report.seconds, 3),
        },
    )


def stored_id(report: ReindexReport, file_name: str) -> str:
    """The id the upload was stored under (``Porto_Bridges.txt``, ``notes-2.md``), from the
    report of its reindex; other files a concurrent reload picked up are passed over."""
    safe = PurePath(safe_document_name(file_name))
    pattern = re.compile(rf"{re.escape(safe.stem)}(?:-\d+)?{re.escape(safe.suffix)}")
    ids = (*report.added, *report.changed)
    return next((i for i in ids if pattern.fullmatch(i)), ids[0] if ids else safe.name)


async def refuse(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(for_update(update).gettext(NOT_ADMIN), do_quote=True)


async def refuse_upload(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(for_update(update).gettext(NOT_ADMIN_UPLOAD), do_quote=True)


def _download_refused(exc: BadRequest, tr: Translations) -> str:
    if "too big" in exc.message.lower():
        return tr.gettext(DOWNLOAD_TOO_BIG)
    return tr.gettext("Telegram refused the download ({reason})").format(reason=exc.message)


def human_size(size: int, *, tr: Translations = ENGLISH) -> str:
    if size < 1024:
        return tr.ngettext("{n} byte", "{n} bytes", size).format(n=size)
    if size < 1024 * 1024:
        return tr.gettext("{n} KB").format(n=f"{size / 1024:.1f}")
    return tr.gettext("{n} MB").format(n=f"{size / (1024 * 1024):.1f}")


def size_versus_limit(size: int, limit: int, *, tr: Translations = ENGLISH) -> str:
    """ "the file is 6.2 MB, the limit is 5.0 MB"; in exact bytes when rounding would make
    the two look equal ("1,048,577 bytes, the limit is 1,048,576 bytes")."""
    shown, allowed = human_size(size, tr=tr), human_size(limit, tr=tr)
    if shown == allowed:
        shown = tr.ngettext("{n} byte", "{n} bytes", size).format(n=f"{size:,}")
        allowed = tr.ngettext("{n} byte", "{n} bytes", limit).format(n=f"{limit:,}")
    return tr.gettext("the file is {size}, the limit is {limit}").format(size=shown, limit=allowed)
