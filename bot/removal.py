"""``/remove NAME``: take a document out of the corpus (into its ``.trash/`` folder)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import CallbackContext

from bot.admin import log_change
from bot.i18n import N_, for_update
from bot.render import esc
from bot.state import get_state
from bot.texts import render_reindex_report
from retrieval.errors import DocumentError, QabotError

logger = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]

USAGE_REMOVE = N_(
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
    tr = for_update(update)
    parts = message.text.split(maxsplit=1)
    name = parts[1].strip() if len(parts) > 1 else ""
    ids = sorted(d.id for d in state.engine.documents())
    if not name:
        listed = "\n".join(f"<code>{esc(i)}</code>" for i in ids[:LISTED_IDS])
        more = ""
        if len(ids) > LISTED_IDS:
            count = len(ids) - LISTED_IDS
            more = "\n" + tr.ngettext("… and {count} more", "… and {count} more", count).format(
                count=count
            )
        heading = tr.gettext("Documents:")
        await message.reply_text(f"{tr.gettext(USAGE_REMOVE)}\n\n{heading}\n{listed}{more}")
        return
    matches = find_document(ids, name)
    if len(matches) != 1:
        listed = ", ".join(f"<code>{esc(m)}</code>" for m in matches[:10])
        named = f"<code>{esc(name)}</code>"
        await message.reply_text(
            tr.gettext(
                "❌ Several documents are named {name}: {listed}. Give the full name."
            ).format(name=named, listed=listed)
            if matches
            else tr.gettext("❌ No document is named {name}. See /sources.").format(name=named)
        )
        return
    try:
        report = await state.engine.remove_document(matches[0])
    except DocumentError as exc:
        await message.reply_text(
            tr.gettext("❌ Not removed: {reason}.").format(reason=esc(exc.reason))
        )
        return
    except QabotError as exc:
        logger.warning("Removal of %r failed: %s", matches[0], exc)
        await message.reply_text(
            tr.gettext("❌ Not removed: {reason}. The file is back in place.").format(
                reason=esc(str(exc))
            )
        )
        return
    log_change("remove", update, report, document=matches[0])
    title = tr.gettext("Removed {document} (moved to .trash/)").format(document=matches[0])
    await message.reply_text(render_reindex_report(report, title=title, tr=tr))
