"""The running bot's figures for Prometheus (`GET /metrics` in webhook mode).

prometheus_client keeps the counters and writes the text exposition format; each bot has its
own registry, so that several bots in one process (the tests) never share or clash.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from citizenbot.model import STATUSES

CONTENT_TYPE: Final = CONTENT_TYPE_PLAIN_0_0_4
# Reply latency buckets in seconds: answering takes milliseconds, sending to Telegram most of
# the rest; anything past a few seconds is the rate limiter waiting out Telegram's limits.
LATENCY_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ERROR_KINDS: Final = ("telegram", "handler")
WEBHOOK_OUTCOMES: Final = ("accepted", "forbidden", "bad_request")
RELOAD_RESULTS: Final = ("ok", "failed")


class Metrics:
    """The bot's figures since it started. Every labelled series exists from the start at 0,
    so a dashboard sees "no errors" rather than "no data"."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.enquiries = Counter(
            "citizenbot_enquiries", "Questions answered since start, by status (answered, "
            "clarify, fallback).", ["status"], registry=self.registry)
        self.reply_latency = Histogram(
            "citizenbot_reply_latency_seconds", "Time from starting to answer a question to "
            "the reply accepted by Telegram.", buckets=LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter(
            "citizenbot_errors", "Errors while handling updates or running jobs: telegram (the "
            "Bot API refused or failed) or handler (a fault in the bot).", ["kind"],
            registry=self.registry)
        self.webhook_requests = Counter(
            "citizenbot_webhook_requests", "Requests to the webhook path, by outcome.",
            ["outcome"], registry=self.registry)
        self.reloads = Counter(
            "citizenbot_knowledge_base_reloads", "Knowledge-base reloads (/reload or SIGHUP), "
            "by result.", ["result"], registry=self.registry)
        start = Gauge("citizenbot_start_time_seconds", "When the bot started, in seconds since "
                      "the Unix epoch.", registry=self.registry)
        start.set_to_current_time()
        for counter, labels in ((self.enquiries, sorted(STATUSES)), (self.errors, ERROR_KINDS),
                                (self.webhook_requests, WEBHOOK_OUTCOMES),
                                (self.reloads, RELOAD_RESULTS)):
            for label in labels:
                counter.labels(label)

    def render(self) -> bytes:
        """Every figure in Prometheus' text exposition format (CONTENT_TYPE)."""
        return generate_latest(self.registry)
