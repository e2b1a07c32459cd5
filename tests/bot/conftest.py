"""Fixtures for the bot tests: a fake Bot API server and the real application polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram
from harness import ADMIN_ID, BREAD, LIGHTHOUSES, TOKEN, Harness, StartBot

from bot.app import ALLOWED_UPDATES, build_application
from bot.config import load_config


@pytest.fixture
def bot_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "bot_corpus"
    root.mkdir()
    (root / "lighthouses.md").write_text(LIGHTHOUSES, encoding="utf-8")
    (root / "bread.txt").write_text(BREAD, encoding="utf-8")
    return root


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN)
    fake.start()
    yield fake
    fake.stop()
    # Telegram would have refused these: the bot did something wrong even if the test passed.
    if not fake.rejections_expected:
        assert fake.rejected == [], f"calls Telegram would refuse: {fake.rejected}"


@pytest.fixture
async def start_bot(
    fake_telegram: FakeTelegram, bot_corpus: Path, tmp_path: Path
) -> AsyncIterator[StartBot]:
    """Start the application ``qabot run`` builds, polling the fake server, as ``run_polling``
    would (initialize, post_init, polling, start); stop it the same way at teardown."""
    async with AsyncExitStack() as stack:

        async def start(corpus: Path | None = None, **env: str) -> Harness:
            settings = {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_BASE_URL": fake_telegram.base_url,
                "TELEGRAM_BASE_FILE_URL": fake_telegram.base_file_url,
                "ADMIN_USER_IDS": str(ADMIN_ID),
                "CORPUS_DIR": str(corpus or bot_corpus),
                "DATABASE_PATH": str(tmp_path / "db" / "qabot.sqlite3"),
                **env,
            }
            config = load_config(settings)
            app = build_application(config)
            assert app.post_init is not None and app.post_shutdown is not None
            assert app.updater is not None
            # Per bot, so that a test can stop one and start another on the same database.
            # Teardown runs in reverse: updater.stop, stop, shutdown, post_shutdown.
            own = AsyncExitStack()
            await stack.enter_async_context(own)
            own.push_async_callback(app.post_shutdown, app)
            await app.initialize()
            own.push_async_callback(app.shutdown)
            await app.post_init(app)
            await app.updater.start_polling(
                poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
            )
            await app.start()
            own.push_async_callback(app.stop)
            own.push_async_callback(app.updater.stop)
            return Harness(fake_telegram, app, config, own.aclose)

        yield start


@pytest.fixture
async def bot(start_bot: StartBot) -> Harness:
    return await start_bot()
