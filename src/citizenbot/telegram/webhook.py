"""The bot's own web server for webhook mode: the webhook, /healthz and /metrics.

python-telegram-bot's built-in webhook server serves one route, so this follows its documented
"custom webhook" pattern instead: a small tornado server (tornado comes with the webhooks extra)
that checks Telegram's secret header and puts each update on `application.update_queue`, and
that also serves

- ``GET /healthz``: 200 "ok" while the bot is running and its database answers, else 503;
- ``GET /metrics``: Prometheus metrics (citizenbot.metrics).

Both are for the operator: the reverse proxy passes only the webhook path to the internet.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
from typing import Any, Final, cast
from urllib.parse import urlsplit

import tornado.web
from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from citizenbot.config import Settings
from citizenbot.metrics import CONTENT_TYPE, Metrics
from citizenbot.model import StoreError
from citizenbot.service import Service
from citizenbot.telegram import inbox
from citizenbot.telegram.common import BotApp, services_of

log = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_SERVER: Final = "citizenbot.webhook_server"
RESERVED_PATHS: Final = ("healthz", "metrics")
ALLOWED_UPDATES: Final = [Update.MESSAGE, Update.CALLBACK_QUERY]
MAX_BODY: Final = 1024 * 1024  # updates are a few KB; anything this big is not from Telegram
HEALTH_TIMEOUT: Final = 2.0  # seconds the database may take to answer /healthz
REFUSAL_LOG_EVERY: Final = 60.0  # seconds: refused requests are logged at most this often


def webhook_target(url: str, path: str) -> str:
    """The URL Telegram posts updates to: the public URL, ending in the webhook path."""
    base, path = url.rstrip("/"), path.strip("/")
    if not path or urlsplit(base).path.rstrip("/").endswith("/" + path):
        return base
    return f"{base}/{path}"


# --------------------------------------------------------------------------- request handlers

class _TelegramUpdates(tornado.web.RequestHandler):
    """POST /<webhook path>: an update from Telegram, recognised by the secret header."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    async def post(self) -> None:
        server = self.server
        given = self.request.headers.get(SECRET_HEADER, "")
        # Constant-time: how much of a guess matched must not show in the response time.
        if not hmac.compare_digest(given.encode(), server.secret.encode()):
            server.metrics.webhook_requests.labels("forbidden").inc()
            server.refused(self.request.remote_ip, "without the right secret token")
            raise tornado.web.HTTPError(403)
        try:
            data = json.loads(self.request.body)
            if not isinstance(data, dict):
                raise ValueError("an update is a JSON object")
            update = Update.de_json(data, server.application.bot)
        except Exception as exc:  # whatever the JSON held, it is not an update
            server.metrics.webhook_requests.labels("bad_request").inc()
            server.refused(self.request.remote_ip, f"that is not an update ({exc})")
            raise tornado.web.HTTPError(400) from None
        server.metrics.webhook_requests.labels("accepted").inc()
        # Stored before the 200 (Telegram forgets an update once it has its 200); an id seen
        # before is answered 200 and not handled again.
        await inbox.accept(server.application, inbox.inbox_of(server.application), [update])
        self.set_status(200)

    def log_exception(self, *args: Any) -> None:
        """HTTP errors are ours (403/400, counted and logged above); nothing else raises."""


class _Healthz(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET", "HEAD")

    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    async def get(self) -> None:
        problem = await self.server.problem()
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        if problem:
            self.set_status(503)
            self.write(f"unhealthy: {problem}\n")
        else:
            self.write("ok\n")

    async def head(self) -> None:
        await self.get()


class _Metrics(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET",)

    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.write(self.server.metrics.render())


class _Routes(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: one line per update would drown the bot's own log."""


# --------------------------------------------------------------------------- the server

class WebhookServer:
    """The webhook, /healthz and /metrics on CITIZENBOT_WEBHOOK_LISTEN:CITIZENBOT_WEBHOOK_PORT."""

    def __init__(self, application: BotApp, settings: Settings, metrics: Metrics,
                 service: Service) -> None:
        path = settings.webhook_path.strip("/")
        if not path or path in RESERVED_PATHS:
            raise ValueError(f"CITIZENBOT_WEBHOOK_PATH must not be empty, 'healthz' or "
                             f"'metrics' (got {settings.webhook_path!r})")
        if not settings.webhook_secret:
            raise ValueError("webhook mode needs CITIZENBOT_WEBHOOK_SECRET")
        self.application = application
        self.settings = settings
        self.secret = settings.webhook_secret
        self.metrics = metrics
        self.service = service
        self._last_refusal = -REFUSAL_LOG_EVERY
        args = {"server": self}
        routes = _Routes([
            (rf"/{re.escape(path)}/?", _TelegramUpdates, args),
            (r"/healthz", _Healthz, args),
            (r"/metrics", _Metrics, args),
        ])
        self._http = HTTPServer(routes, max_body_size=MAX_BODY, xheaders=False)
        self.port = settings.webhook_port

    def listen(self) -> None:
        """Bind and start serving; raises OSError when the address is taken."""
        sockets = bind_sockets(self.settings.webhook_port, address=self.settings.webhook_listen)
        self._http.add_sockets(sockets)
        self.port = int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        self._http.stop()
        await self._http.close_all_connections()

    async def problem(self) -> str | None:
        """Why the bot is unhealthy, or None: it runs and its database answers and takes
        writes."""
        if not self.application.running:
            return "the bot is not running"
        storage = self.service.storage
        if storage is not None and storage.trouble is not None:
            return f"the database cannot take writes ({storage.trouble})"
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await self.service.ping()
        except (StoreError, TimeoutError) as exc:
            log.error("health check: the database does not answer: %s",
                      exc or f"no answer within {HEALTH_TIMEOUT:g} s")
            return "the database does not answer"
        return None

    def refused(self, remote: str | None, why: str) -> None:
        now = time.monotonic()
        if now - self._last_refusal >= REFUSAL_LOG_EVERY:
            self._last_refusal = now
            log.warning("webhook: refused a request from %s %s (further refusals in the next "
                        "%g s are counted in /metrics, not logged)", remote or "?", why,
                        REFUSAL_LOG_EVERY)


def register(application: BotApp) -> None:
    """Prepare the webhook server (its settings are checked now: a wrong path or a missing
    secret stops the bot before it connects)."""
    svc = services_of(application)
    application.bot_data[WEBHOOK_SERVER] = WebhookServer(application, svc.settings, svc.metrics,
                                                         svc.service)


async def start(application: BotApp) -> str:
    """Serve the webhook (and /healthz, /metrics), then tell Telegram where it is; the URL."""
    server = cast(WebhookServer, application.bot_data[WEBHOOK_SERVER])
    settings = server.settings
    server.listen()
    url = webhook_target(cast(str, settings.webhook_url), settings.webhook_path)
    await application.bot.set_webhook(url, secret_token=settings.webhook_secret,
                                      allowed_updates=ALLOWED_UPDATES)
    return url


async def stop(application: BotApp) -> None:
    """Stop accepting updates (Telegram keeps them and retries until the bot is back)."""
    server = application.bot_data.get(WEBHOOK_SERVER)
    if isinstance(server, WebhookServer):
        await server.close()
