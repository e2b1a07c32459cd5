"""Settings of the production features: webhook mode, log format, corpus watching."""

from __future__ import annotations

import pytest
from harness import TOKEN

from bot.config import ConfigError, WebhookConfig, load_config


def test_webhook_settings() -> None:
    config = load_config(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "WEBHOOK_URL": "https://bot.example.org/tg/hook/",
            "WEBHOOK_SECRET": "abc_DEF-123",
            "WEBHOOK_LISTEN": "127.0.0.1:9000",
        }
    )
    assert config.webhook == WebhookConfig(
        url="https://bot.example.org/tg/hook/", secret="abc_DEF-123", host="127.0.0.1", port=9000
    )
    assert config.webhook.path == "/tg/hook"
    assert "abc_DEF" not in repr(config)


def test_webhook_defaults_and_polling() -> None:
    assert load_config({"TELEGRAM_BOT_TOKEN": TOKEN}).webhook is None
    config = load_config(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://b.example", "WEBHOOK_SECRET": "x"}
    )
    assert config.webhook is not None
    assert (config.webhook.host, config.webhook.port, config.webhook.path) == ("0.0.0.0", 8080, "")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WEBHOOK_URL": "bot.example.org"}, "WEBHOOK_URL must be an http(s) URL"),
        ({"WEBHOOK_URL": "https://b.example"}, "WEBHOOK_SECRET is required"),
        ({"WEBHOOK_URL": "https://b.example", "WEBHOOK_SECRET": "a" * 257}, "1-256"),
        (
            {"WEBHOOK_URL": "https://b.example", "WEBHOOK_SECRET": "x", "WEBHOOK_LISTEN": ":80"},
            "WEBHOOK_LISTEN must be host:port",
        ),
        (
            {"WEBHOOK_URL": "https://b.example", "WEBHOOK_SECRET": "x", "WEBHOOK_LISTEN": "h:0"},
            "WEBHOOK_LISTEN must be host:port",
        ),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be one of text, json"),
        ({"WATCH_CORPUS": "maybe"}, "WATCH_CORPUS must be 1 or 0"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config({"TELEGRAM_BOT_TOKEN": TOKEN, **env})


def test_log_format_and_watch() -> None:
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_FORMAT": "JSON", "WATCH_CORPUS": "1"})
    assert (config.log_format, config.watch_corpus) == ("json", True)
