"""``/remove NAME``: take a document out of the corpus (into its ``.trash/`` folder)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import CallbackContext

from bot.admin import log_change
from bot.render import esc
from bot.state import get_state
from bot.texts import render_reindex_report
from retrieval.errors import DocumentError, QabotError

logger = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

USAGE_REMOVE = (
    "Send <code>/remove NAME</code> with a document's file name (its path in the corpus "
    "folder), e.g. <code>/remove notes.md</code>. The file is moved to the corpus' "
    "<code>.trash/</code> folder, never deleted."
)
LISTED_IDS = 40


def find_document(ids: list[str], name: str) -> list[str]:
    """The document ids ``name`` means: the id itself, else ids whose file name is ``name``."""
    if name in ids:
        return [name]
    return [i for i in ids if i.rsplit("/", 1)[-1].lower() == name.lower()]


async def remove(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    state = get_state(context)
    parts = message.text.split(maxsplit=1)
    name = parts[1].strip() if len(parts) > 1 else ""
    ids = sorted(d.id for d in state.engine.documents())
    if not name:
        listed = "\n".join(f"<code>{esc(i)}</code>" for i in ids[:LISTED_IDS])
        more = f"\n… and {len(ids) - LISTED_IDS} more" if len(ids) > LISTED_IDS else ""
        await message.reply_text(f"{USAGE_REMOVE}\n\nDocuments:\n{listed}{more}")
        return
    matches = find_document(ids, name)
    if len(matches) != 1:
        listed = ", ".join(f"<code>{esc(m)}</code>" for m in matches[:10])
        await message.reply_text(
            f"❌ Several documents are named <code>{esc(name)}</code>: {listed}. Give the full name."
            if matches
            else f"❌ No document is named <code>{esc(name)}</code>. See /sources."
        )
        return
    try:
        report = await state.engine.remove_document(matches[0])
    except DocumentError as exc:
        await message.reply_text(f"❌ Not removed: {esc(exc.reason)}.")
        return
    except QabotError as exc:
        logger.warning("Removal of %r failed: %s", matches[0], exc)
        await message.reply_text(f"❌ Not removed: {esc(str(exc))}. The file is back in place.")
        return
    log_change("remove", update, report, document=matches[0])
    await message.reply_text(
        render_reindex_report(report, title=f"Removed {matches[0]} (moved to .trash/)")
    )
