"""WATCH_CORPUS=1: the running bot indexes files added, changed and removed by itself."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from harness import Harness, StartBot

from bot import watch

PORTO = "Porto bridges\n\nThe Dom Luis bridge crosses the Douro river between Porto and Gaia.\n"


async def until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def ids(bot: Harness) -> list[str]:
    return sorted(d.id for d in bot.state.engine.documents())


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "POLL_SECONDS", 0.05)


async def test_added_changed_and_removed_files_are_indexed(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(WATCH_CORPUS="1")
    corpus = bot.config.corpus_dir
    (corpus / "porto.txt").write_text(PORTO, encoding="utf-8")
    await until(lambda: "porto.txt" in ids(bot))
    [reply] = await bot.replies_to(bot.message("Which river does the Dom Luis bridge cross?"))
    assert "Douro" in reply["text"]

    (corpus / "porto.txt").write_text(
        PORTO + "\nThe Arrábida bridge opened in 1963.\n", encoding="utf-8"
    )
    await until(
        lambda: (
            bot.state.engine.index.document("porto.txt") is not None
            and "1963" in bot.state.engine.index.document("porto.txt").text
        )
    )  # type: ignore[union-attr]
    (corpus / "bread.txt").unlink()
    await until(lambda: ids(bot) == ["lighthouses.md", "porto.txt"])
    changes = [
        (r.change, r.document)  # type: ignore[attr-defined]
        for r in caplog.records
        if getattr(r, "event", None) == "watch"
    ]
    assert changes == [("added", "porto.txt"), ("changed", "porto.txt"), ("removed", "bread.txt")]


async def test_without_the_setting_nothing_is_watched(start_bot: StartBot) -> None:
    bot = await start_bot()
    (bot.config.corpus_dir / "porto.txt").write_text(PORTO, encoding="utf-8")
    await asyncio.sleep(0.5)  # ten polls' worth
    assert ids(bot) == ["bread.txt", "lighthouses.md"]


def test_snapshot_sees_what_the_engine_indexes(tmp_path: Path) -> None:
    root = tmp_path
    (root / ".trash").mkdir()
    (root / ".trash" / "old.txt").write_text("x", encoding="utf-8")
    (root / "a.md").write_text("y", encoding="utf-8")
    (root / "b.pdf").write_text("z", encoding="utf-8")
    # Every file is indexed or listed as skipped with its reason, so every file is watched.
    assert sorted(watch.snapshot(root)) == ["a.md", "b.pdf"]
    assert watch.snapshot(root / "missing") == {}
