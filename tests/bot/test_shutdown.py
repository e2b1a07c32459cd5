"""Stopping within a bounded time without losing an update Telegram was told we received;
updates left over are answered after the next start, exactly once (bot.journal)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from harness import StartBot

from bot import journal

QUESTION = "What guards the mouth of the Tagus river?"


def answered(fake: Any) -> Counter[tuple[int, int]]:
    return Counter(
        (p["chat_id"], (p.get("reply_parameters") or {}).get("message_id"))
        for p in fake.delivered()
        if p.get("reply_parameters")
    )


async def test_stop_with_a_backlog_is_bounded_and_loses_nothing(
    start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "DRAIN_SECONDS", 0.5)
    bot = await start_bot(QUESTIONS_PER_MINUTE="0")
    users = [{"id": 40_000 + n, "is_bot": False, "first_name": f"U{n}"} for n in range(90)]
    # Telegram's 30 messages a second make this a 3 s backlog.
    asked = [bot.message(QUESTION, user=u) for u in users]
    await bot.replies_to(asked[0])
    started = time.monotonic()
    await bot.stop()
    stopped_in = time.monotonic() - started
    before = answered(bot.fake)
    assert stopped_in < 0.5 + 2.0, stopped_in
    assert 0 < len(before) < len(asked)  # some answered, the rest left for later
    db = sqlite3.connect(bot.config.database_path)
    try:
        [(pending,)] = db.execute(
            "SELECT count(*) FROM bot_update_journal WHERE done_at IS NULL"
        ).fetchall()
    finally:
        db.close()
    assert pending == len(asked) - len(before)
    # Handled updates keep their id (to recognise a re-delivery), not their text.
    db = sqlite3.connect(bot.config.database_path)
    try:
        [(kept_text,)] = db.execute(
            "SELECT count(*) FROM bot_update_journal WHERE done_at IS NOT NULL AND raw != ''"
        ).fetchall()
    finally:
        db.close()
    assert kept_text == 0

    again = await start_bot(QUESTIONS_PER_MINUTE="0")
    again._ids = itertools.count(10_000)  # the first bot's message ids are taken
    for message in asked:
        await again.replies_to(message)
    await again.settle()
    counts = answered(again.fake)
    assert all(counts[(m["chat"]["id"], m["message_id"])] == 1 for m in asked)


async def test_an_update_delivered_again_after_a_crash_is_not_answered_twice(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot()
    question = bot.message(QUESTION)
    await bot.replies_to(question)
    first_id = 1
    await bot.settle()
    await bot.stop()
    # As if the process died before confirming: Telegram sends the same update again.
    bot.fake.push({"update_id": first_id, "message": question})
    again = await start_bot()
    again._ids = itertools.count(10_000)  # the first bot's message ids are taken
    await again.settle()
    # The marker came after the re-delivered update: it was fetched, and ignored.
    assert f"Ignored 1 update(s) received before: [{first_id}]" in caplog.text
    await asyncio.sleep(0.5)  # what a second answer would need (it takes ~20 ms)
    assert answered(again.fake)[(question["chat"]["id"], question["message_id"])] == 1


async def test_the_journal_forgets_handled_updates_after_a_day(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    first = journal.UpdateJournal(path)
    await first.open()
    try:
        fresh = await first.receive([{"update_id": 1, "message": {}}, {"update_id": 2}])
        assert fresh == [{"update_id": 1, "message": {}}, {"update_id": 2}]
        await first.done(1)
        await first.done(2)
        assert await first.pending() == []
        # Seen before: emptied, whatever it carries now.
        assert await first.receive([{"update_id": 2, "message": {"text": "x"}}]) == [
            {"update_id": 2}
        ]
    finally:
        await first.close()
    db = sqlite3.connect(path)
    try:
        db.execute(
            "UPDATE bot_update_journal SET done_at = ? WHERE update_id = 1",
            (time.time() - journal.KEEP_DONE_SECONDS - 1,),
        )
        db.commit()
    finally:
        db.close()
    second = journal.UpdateJournal(path)
    await second.open()
    try:
        # Update 1 is forgotten (a day old), update 2 is still recognised.
        assert await second.receive([{"update_id": 1}, {"update_id": 2, "x": 1}]) == [
            {"update_id": 1},
            {"update_id": 2},
        ]
        assert await second.pending() == [{"update_id": 1}]
    finally:
        await second.close()
