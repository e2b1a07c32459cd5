"""Webhook mode: PTB's own webhook server (``run_webhook``), plus ``GET /healthz``.

PTB's server (tornado) checks ``X-Telegram-Bot-Api-Secret-Token`` itself: a request without
the secret given to ``setWebhook`` is answered 403 before any update is decoded, so it never
reaches a handler. PTB offers no hook for extra routes, so :func:`initialize` makes the
updater build its tornado application from a subclass that adds the health route.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram.ext import _updater
from telegram.ext._utils.webhookhandler import WebhookAppClass

from bot.config import WebhookConfig

HEALTH_PATH = "/healthz"

Healthy = Callable[[], bool]


class HealthHandler(tornado.web.RequestHandler):
    """200 ``ok`` when the index is loaded, else 503: for container health checks."""

    SUPPORTED_METHODS = ("GET", "HEAD")

    def initialize(self, healthy: Healthy) -> None:
        self.healthy = healthy

    def get(self) -> None:
        ok = self.healthy()
        self.set_status(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish("ok\n" if ok else "starting\n")

    def head(self) -> None:
        self.set_status(HTTPStatus.OK if self.healthy() else HTTPStatus.SERVICE_UNAVAILABLE)
        self.finish()


def initialize(healthy: Healthy) -> None:
    """Serve ``/healthz`` (answered by ``healthy``) from the next webhook server PTB starts."""

    class WebhookWithHealth(WebhookAppClass):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Host pattern ".*": any Host header, like PTB's own route.
            self.add_handlers(r".*", [(HEALTH_PATH, HealthHandler, {"healthy": healthy})])

    # The updater looks the class up in its module when it starts the server.
    setattr(_updater, "WebhookAppClass", WebhookWithHealth)  # noqa: B010


def shutdown() -> None:
    """Give the updater PTB's own application class back."""
    setattr(_updater, "WebhookAppClass", WebhookAppClass)  # noqa: B010


def webhook_arguments(config: WebhookConfig) -> dict[str, Any]:
    """Keyword arguments for ``run_webhook`` / ``Updater.start_webhook``."""
    return {
        "listen": config.host,
        "port": config.port,
        "url_path": config.path,
        "webhook_url": config.url,
        "secret_token": config.secret,
    }
