"""The Telegram bot put together, and how it runs: the only module that imports the features.

`build_application` reads like python-telegram-bot's examples: the builder, the flood gate,
each feature's `register` (as aiogram includes its routers at the root), one error handler,
the jobs. `run_telegram` runs it until SIGINT/SIGTERM, in python-telegram-bot's own order:
initialize, post_init, receiving updates, start; then stop receiving, stop, post_stop,
shutdown, post_shutdown. It cannot use `run_polling`, because webhook mode serves /healthz and
/metrics beside the webhook and the tests run the bot inside their own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from citizenbot import callback_data as cb
from citizenbot.config import Settings
from citizenbot.core.knowledge import KnowledgeBaseError
from citizenbot.core.responder import Responder
from citizenbot.flood import FloodGate, Verdict
from citizenbot.html_text import Span, split_html
from citizenbot.logs import protect_secrets
from citizenbot.model import StoreError
from citizenbot.ops import HEARTBEAT_EVERY, Heartbeat
from citizenbot.service import Service, StaffChat, TicketDesk
from citizenbot.service.inbox import UpdateInbox
from citizenbot.store import (
    InstanceLock,
    Journal,
    Store,
    check_file,
    import_journal,
    journal_path,
    load_or_create_salt,
)
from citizenbot.telegram import admin, answers, common, inbox, tickets, webhook
from citizenbot.telegram.common import (
    FLOOD_GROUP,
    FOR_US,
    BotApp,
    BotServices,
    Context,
    every,
    language,
    send,
    services,
    services_of,
)
from citizenbot.telegram.messenger import TelegramMessenger
from citizenbot.texts import TextSchema, require

log = logging.getLogger(__name__)

EXIT_UNUSABLE: Final = 2
POLL_TIMEOUT: Final = 30  # seconds a getUpdates long poll may wait
MAX_CONCURRENT_UPDATES: Final = 256
CONNECTIONS: Final = 32  # to the Bot API at once (sends; getUpdates has its own)
POOL_WAIT: Final = 30.0  # seconds a request may wait for one of them
# How often a send is retried when Telegram answers 429 "retry after N" (its flood control):
# Telegram asks to wait N seconds and then try again, which AIORateLimiter does.
RETRIES_AFTER_FLOOD_CONTROL: Final = 3
# Telegram's limit on messages a second to all chats together; AIORateLimiter keeps to it.
OVERALL_MAX_RATE: Final = 30
PURGE_EVERY: Final = 24 * 60 * 60.0  # the retention purge runs at start and then this often
INBOX_PRUNE_EVERY: Final = 60 * 60.0  # handled updates older than two days are forgotten
JOURNAL_IMPORT_EVERY: Final = 60.0  # journaled enquiries go home once the database takes writes
RELOAD_TASKS: Final = "citizenbot.reload_tasks"
POLLER: Final = "citizenbot.poller"
INCOMPLETE_GROUP: Final = FLOOD_GROUP - 1  # before the flood gate: an update nobody can answer

# Every text the running bot uses; checked at start and by /reload, and by `citizenbot validate`.
TEXTS: Final[TextSchema] = common.TEXTS | answers.TEXTS | tickets.TEXTS | admin.TEXTS

FLOOD_COUNTED: Final = filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL & (
    filters.COMMAND | FOR_US)


# --------------------------------------------------------------------------- the flood gate

async def limit_flood(update: Update, context: Context) -> None:
    """Lets a user's messages through up to the per-minute limit, then one notice, then drops."""
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    verdict = svc.gate.check(user.id, time.monotonic())
    if verdict is Verdict.PASS:
        return
    query = update.callback_query
    if verdict is Verdict.NOTICE:
        log.info("flood limit reached by user %s…; dropping their messages for now",
                 svc.owner(user))
        notice = svc.text("telegram.flood", language(update, context))
        if query is not None:
            await query.answer(notice[:common.MAX_TOAST], show_alert=True)
        else:
            await send(update, context, split_html([[Span(notice)]]))
    else:
        log.debug("dropped update %s (flood limit; %d dropped in all)", update.update_id,
                  svc.gate.dropped)
        if query is not None:
            # Without an answer the client shows a spinner on the button for a long while.
            await query.answer()
    raise ApplicationHandlerStop


# --------------------------------------------------------------------------- incomplete updates

async def drop_incomplete(update: Update, context: Context) -> None:
    """Drops a message or button press that names no sender or no chat (Telegram sends such
    updates for channel posts and anonymous admins; a forged webhook request may too): there is
    nobody to answer, and every handler after this one may rely on both."""
    if update.effective_user is not None and update.effective_chat is not None:
        return
    if update.callback_query is not None and update.effective_user is not None:
        return  # a button under an inline message: no chat, but a user to answer
    log.info("update %s has no sender or no chat; ignored", update.update_id)
    raise ApplicationHandlerStop


# --------------------------------------------------------------------------- errors

async def on_error(update: object, context: Context) -> None:
    """Logs the error with the update id (or the job) and, where it helps, tells the user."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    services(context).metrics.errors.labels(
        "telegram" if isinstance(error, TelegramError) else "handler").inc()
    if isinstance(error, Forbidden):
        # The user blocked the bot or removed it from the group: Telegram's rule is to stop
        # writing to them, not to retry.
        log.info("update %s: Telegram refused to deliver (%s); not retrying", update_id, error)
        return
    if isinstance(error, RetryAfter):
        log.warning("update %s: %s, still after %d retries; that reply was dropped",
                    update_id, error, RETRIES_AFTER_FLOOD_CONTROL)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        # Transient (includes TimedOut): polling retries by itself with a growing pause; a reply
        # that timed out may have been delivered, so it is not sent twice.
        log.warning("update %s: network trouble talking to Telegram: %s", update_id, error)
        return
    if isinstance(error, Conflict):
        log.error("Telegram reports a conflict: %s (is another copy of this bot running with the "
                  "same token?)", error)
        return
    if context.job is not None:
        # A job's next round comes anyway: nothing to tell anyone but the log.
        log.error("the job %r failed; it runs again at its next turn", context.job.name,
                  exc_info=error)
        return
    log.error("update %s caused an error", update_id, exc_info=error)
    if isinstance(update, Update):
        await _apologise(update, context)


async def _apologise(update: Update, context: Context) -> None:
    svc, lang = services(context), language(update, context)
    text = svc.text("telegram.error", lang)
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):  # it may have been answered before the error
            await update.callback_query.answer(text[:common.MAX_TOAST])
            return
    with contextlib.suppress(TelegramError):
        await send(update, context, split_html([[Span(text)]]))


# --------------------------------------------------------------------------- concurrency

class _OnePerChat(BaseUpdateProcessor):
    """Handles updates concurrently, but one at a time per chat and in arrival order.

    A slow send to one chat (Telegram's limits) does not hold up everyone else, a user's
    questions are still answered in the order they were asked, and the /ask dialogue (a
    ConversationHandler) sees each chat's updates one by one, as it requires.

    Each update's handling is followed by the inbox (telegram.inbox.handle), and afterwards
    python-telegram-bot's per-user and per-chat dictionaries are dropped when they hold nothing,
    so that memory does not grow with every person who ever wrote.
    """

    def __init__(self, max_concurrent_updates: int, updates: UpdateInbox,
                 application: Callable[[], BotApp]) -> None:
        super().__init__(max_concurrent_updates)
        self._inbox = updates
        self._application = application
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await inbox.handle(self._inbox, update, coroutine)
            self._forget_if_empty(update)
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._users[chat.id] = self._users.get(chat.id, 0) + 1
        try:
            async with lock:
                await inbox.handle(self._inbox, update, coroutine)
                self._forget_if_empty(update)
        finally:
            self._users[chat.id] -= 1
            if not self._users[chat.id]:
                del self._users[chat.id], self._locks[chat.id]

    def _forget_if_empty(self, update: object) -> None:
        if not isinstance(update, Update):
            return
        application = self._application()
        user, chat = update.effective_user, update.effective_chat
        # Under the chat's lock: no other update of this chat is being handled to refill them.
        if user is not None and not application.user_data.get(user.id, True):
            application.drop_user_data(user.id)
        if chat is not None and not application.chat_data.get(chat.id, True):
            application.drop_chat_data(chat.id)
        # Without persistence python-telegram-bot still notes every user and chat it saw for a
        # persistence that never comes, in sets nobody empties (about 100 bytes per person);
        # what the updates in hand note after this is bounded by how many are in hand.
        if application.persistence is None:
            for name in ("_user_ids_to_be_updated_in_persistence",
                         "_user_ids_to_be_deleted_in_persistence",
                         "_chat_ids_to_be_updated_in_persistence",
                         "_chat_ids_to_be_deleted_in_persistence"):
                noted = getattr(application, name, None)
                if isinstance(noted, set):
                    noted.clear()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


# --------------------------------------------------------------------------- jobs

async def beat(context: Context) -> None:
    """Job: touch the heartbeat file `citizenbot health` reads."""
    svc = services(context)
    if svc.heartbeat is not None:
        svc.heartbeat.beat(problems(svc))


async def prune_inbox(context: Context) -> None:
    """Job: forget handled updates older than two days (no repeat of their ids can come)."""
    storage = services(context).service.storage
    if storage is not None:
        await storage.prune_inbox()


async def bring_journal_home(context: Context) -> None:
    """Job: once the database takes writes again, move the journaled enquiries into it."""
    service = services(context).service
    journal, storage = service.journal, service.storage
    if not isinstance(journal, Journal) or storage is None or not journal.waiting:
        return
    try:
        await import_journal(storage, journal)
    except StoreError as exc:
        # Still refusing: already said loudly by the writer and the heartbeat.
        log.debug("the journal stays until the database takes writes: %s", exc)


def problems(svc: BotServices) -> list[str]:
    """What is wrong with keeping the log right now, for the heartbeat, /healthz and logs."""
    found = []
    storage, journal = svc.service.storage, svc.service.journal
    if storage is not None and storage.trouble is not None:
        found.append(f"the database cannot take writes: {storage.trouble}")
    if journal is not None:
        if journal.problem is not None:
            found.append(journal.problem)
        waiting = journal.waiting
        if waiting:
            found.append(f"{waiting} enquiries wait in the journal {journal.path}")
        if journal.lost:
            found.append(f"{journal.lost} enquiries could not be recorded at all")
    return found


async def apply_retention(context: Context) -> None:
    """Job: delete enquiries (and finished tickets) older than CITIZENBOT_RETENTION_DAYS."""
    svc = services(context)
    await svc.service.purge(svc.settings.retention_days)


# --------------------------------------------------------------------------- lifecycle

async def post_init(application: BotApp) -> None:
    """After connecting: the command menu, and SIGHUP reloads the knowledge base."""
    await register_commands(application)
    sighup = getattr(signal, "SIGHUP", None)
    if sighup is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(sighup, _request_reload, application)


async def post_stop(application: BotApp) -> None:
    """After the last update and job: no more reloads, and a stopped bot is not a stuck one."""
    sighup = getattr(signal, "SIGHUP", None)
    if sighup is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(sighup)
    await asyncio.gather(*application.bot_data.get(RELOAD_TASKS, ()), return_exceptions=True)
    svc = services_of(application)
    if svc.heartbeat is not None:
        svc.heartbeat.stop()
    log.info("stopped; %d messages were dropped by the flood limit", svc.gate.dropped)


def _request_reload(application: BotApp) -> None:
    """SIGHUP: reload in the background, logging the outcome."""
    log.info("SIGHUP: reloading the knowledge base")
    tasks: set[asyncio.Task[list[str]]] = application.bot_data.setdefault(RELOAD_TASKS, set())
    task = asyncio.get_running_loop().create_task(admin.reload_knowledge_base(application))
    tasks.add(task)  # a reference, so the task is not collected half-way
    task.add_done_callback(tasks.discard)


async def register_commands(application: BotApp) -> None:
    """Registers the command menu in English (the default too) and Chinese; failure is logged."""
    svc = services_of(application)
    entries = [*answers.menu(svc.settings), *tickets.menu(svc.settings)]
    for language_code in (None, "en", "zh"):
        lang = language_code or "en"
        commands = [BotCommand(command, svc.text(key, lang)) for command, key in entries]
        try:
            await application.bot.set_my_commands(commands, language_code=language_code)
        except TelegramError as exc:
            log.warning("could not register the %s command menu: %s", language_code or "default",
                        exc)


# --------------------------------------------------------------------------- building

def build_application(settings: Settings, service: Service, *,
                      overall_max_rate: float = OVERALL_MAX_RATE) -> BotApp:
    """The bot with every feature registered: the one place it is put together.

    ``service`` must have storage and a salt. Raises ValueError without a token (or with bad
    webhook settings) and KnowledgeBaseError if interface texts are missing or wrong.
    ``overall_max_rate`` is Telegram's; only the load benchmark lifts it (0: no overall cap),
    to measure the bot rather than the limit.
    """
    if not settings.token:
        raise ValueError("a bot token is needed (TELEGRAM_BOT_TOKEN)")
    if service.storage is None:
        raise ValueError("the Telegram bot logs every enquiry: give the service a store")
    require(service.kb, TEXTS)
    protect_secrets(settings.token, settings.webhook_secret)
    storage = service.storage
    updates = UpdateInbox(storage, service.salt)
    built: list[BotApp] = []
    application = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(inbox.InboxRateLimiter(overall_max_rate=overall_max_rate,
                                             max_retries=RETRIES_AFTER_FLOOD_CONTROL))
        .concurrent_updates(_OnePerChat(MAX_CONCURRENT_UPDATES, updates, lambda: built[0]))
        # httpx looks at every pooled connection for each request: a pool sized for the
        # replies that go out at once (inbox.FIRST_REPLIES_AT_ONCE and the rest), not for
        # every update in hand, costs less CPU per message; a request waits for a free
        # connection rather than failing.
        .connection_pool_size(CONNECTIONS)
        .pool_timeout(POOL_WAIT)
        # No Updater: telegram.inbox.Poller fetches the updates and stores each batch before
        # Telegram is told it arrived (see that module for why).
        .updater(None)
        .post_init(post_init)
        .post_stop(post_stop)
        .build()
    )
    built.append(application)
    application.bot_data[inbox.INBOX] = updates
    common.install(application, BotServices(
        settings=settings, service=service,
        desk=TicketDesk(storage, lambda: service.kb,
                        StaffChat(settings.staff_chat_id, settings.staff_language)),
        messenger=TelegramMessenger(application.bot), gate=FloodGate(settings.rate_limit),
        button_key=cb.derive_key(service.salt), texts=TEXTS,
        heartbeat=Heartbeat(settings.db_path),
    ))
    application.add_handler(TypeHandler(Update, drop_incomplete), group=INCOMPLETE_GROUP)
    application.add_handler(MessageHandler(FLOOD_COUNTED, limit_flood), group=FLOOD_GROUP)
    application.add_handler(CallbackQueryHandler(limit_flood), group=FLOOD_GROUP)
    # Within a handler group the first feature registered that accepts an update wins: the
    # ticket handlers (staff replies, ticket buttons) before the general question and button
    # handlers of answers; admin last, with the reply to unknown commands.
    tickets.register(application)
    answers.register(application)
    admin.register(application)
    if settings.webhook_url:
        webhook.register(application)
    application.add_error_handler(on_error)
    every(application, HEARTBEAT_EVERY, beat, "heartbeat")
    every(application, INBOX_PRUNE_EVERY, prune_inbox, "inbox")
    every(application, JOURNAL_IMPORT_EVERY, bring_journal_home, "journal")
    if settings.retention_days > 0:
        log.info("retention: enquiries older than %d days are deleted now and every %g h",
                 settings.retention_days, PURGE_EVERY / 3600)
        every(application, PURGE_EVERY, apply_retention, "retention")
    return application


# --------------------------------------------------------------------------- running

async def start_bot(application: BotApp,
                    on_fatal: Callable[[str], None] | None = None) -> None:
    """Connect (getMe), run post_init, queue what the inbox holds from the last run, start
    receiving and handling updates and the jobs. ``on_fatal`` hears why receiving had to stop
    for good (another process polling with the token: 409 Conflict)."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    settings = services_of(application).settings
    updates = inbox.inbox_of(application)
    newest = await inbox.replay(application, updates)
    if settings.webhook_url:
        url = await webhook.start(application)
        log.info("receiving updates by webhook at %s (listening on %s:%d; also /healthz and "
                 "/metrics)", url, settings.webhook_listen, settings.webhook_port)
    else:
        poller = inbox.Poller(application, updates, timeout=POLL_TIMEOUT,
                              allowed_updates=webhook.ALLOWED_UPDATES,
                              on_fatal=on_fatal or _fatal)
        application.bot_data[POLLER] = poller
        await poller.start(newest)
        log.info("receiving updates by long polling")
    await application.start()


def _fatal(reason: str) -> None:
    log.critical("citizenbot stopped receiving updates: %s", reason)


async def stop_bot(application: BotApp) -> None:
    """Stop receiving updates, finish the updates and jobs in hand, and disconnect."""
    await webhook.stop(application)
    poller = application.bot_data.get(POLLER)
    if isinstance(poller, inbox.Poller):
        await poller.stop()
    if application.running:
        await application.stop()  # waits for the updates being handled and the running jobs
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


def run_telegram(settings: Settings, responder: Responder) -> int:
    """Serve Telegram users until SIGINT or SIGTERM; return the process exit code."""
    if settings.log_level != "DEBUG":
        # httpx logs every request at INFO: noise (and its URLs carry the token, redacted).
        logging.getLogger("httpx").setLevel(logging.WARNING)
    protect_secrets(settings.token, settings.webhook_secret)
    try:
        return asyncio.run(_serve(settings, responder))
    except (StoreError, KnowledgeBaseError, ValueError) as exc:
        print(f"citizenbot: cannot start: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


async def _serve(settings: Settings, responder: Responder) -> int:
    salt = settings.salt or load_or_create_salt(settings.salt_path)
    # One bot per database: a second one would answer every question twice.
    with InstanceLock.take(settings.db_path):
        # A corrupt page with the header intact opens fine and fails later, mid-answer.
        check_file(settings.db_path)
        store = await Store.open(settings.db_path)
        journal = Journal(journal_path(settings.db_path))
        try:
            return await _run_bot(settings, responder, store, journal, salt)
        finally:
            await store.close()
            journal.close()


async def _run_bot(settings: Settings, responder: Responder, store: Store, journal: Journal,
                   salt: str) -> int:
    stopping = asyncio.Event()
    fatal: list[str] = []

    def give_up(reason: str) -> None:
        fatal.append(reason)
        stopping.set()

    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
            # From the first moment: a SIGTERM while the journal is imported is a clean stop.
            loop.add_signal_handler(sig, stopping.set)
    try:
        # Enquiries kept in the journal while the database was unwritable come home first.
        await import_journal(store, journal)
    except StoreError as exc:
        log.error("could not import the journal %s yet: %s", journal.path.name, exc)
    journal.reserve()
    service = Service(responder, store, salt=salt, journal=journal,
                      context_seconds=settings.context_minutes * 60)
    application = build_application(settings, service)
    # The knowledge base is hundreds of thousands of objects that live as long as the process:
    # kept out of the garbage collector's sight, its full passes stop walking them (they cost
    # pauses of tens of milliseconds under load, enough to show in the reply time's p99).
    gc.collect()
    gc.freeze()
    try:
        await start_bot(application, give_up)
        await stopping.wait()
        log.info("stopping: finishing the updates in hand")
    except InvalidToken:
        print("citizenbot: cannot start: Telegram refused the bot token "
              "(check TELEGRAM_BOT_TOKEN)", file=sys.stderr)
        return EXIT_UNUSABLE
    except (TelegramError, OSError) as exc:
        print(f"citizenbot: cannot start: {exc} (Bot API at {settings.api_url})",
              file=sys.stderr)
        return EXIT_UNUSABLE
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
        await stop_bot(application)
    if fatal:
        print(f"citizenbot: {fatal[0]}", file=sys.stderr)
        return EXIT_UNUSABLE
    return 0
