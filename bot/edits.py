"""Edited messages: an edited question is answered as the new question (a reply to it);
every other edit (commands other than /ask, uploads, media) is ignored, so that fixing a typo
in "/reload" or a document's caption never runs it again."""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, CallbackContext

Context = CallbackContext[Any, Any, Any, Any]

EDITS_GROUP = -2
_ASK = re.compile(r"^/ask(?:@\w+)?(?:\s|$)", re.IGNORECASE)


def is_question_edit(update: Update) -> bool:
    message = update.edited_message
    if message is None:
        return True  # not an edit: not this module's business
    if message.text is not None:
        return not message.text.startswith("/") or bool(_ASK.match(message.text))
    # A caption is a question in private chats (not on documents: those are uploads).
    return (
        message.caption is not None
        and message.document is None
        and message.chat.type == ChatType.PRIVATE
    )


async def ignore_other_edits(update: object, context: Context) -> None:
    if isinstance(update, Update) and not is_question_edit(update):
        raise ApplicationHandlerStop
