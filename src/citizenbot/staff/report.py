"""The staff report: one self-contained HTML page of what citizens asked and what went unanswered.

Pure: figures in (an `Overview`, question groups from staff.suggest, open tickets), one HTML
string out. The markup is the Jinja2 template `templates/report.html` and the look is
`templates/report.css`, inlined, so the page loads nothing from anywhere (a
Content-Security-Policy says so to the browser) and can be mailed around and opened offline.
Autoescaping is on: a question containing ``<script>`` is shown as text. Every word on the page
is an interface text (`report.*` in texts.staff.yml), so the report speaks the language asked.

The charts' geometry is computed here and the template only draws it: inline SVG that marks the
bars, stretched to the width of the screen (preserveAspectRatio="none"), with every label
ordinary HTML text, so it stays legible on a phone; colours come from CSS variables, so the
charts follow the reader's dark mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Final

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.model import Overview, Ticket
from citizenbot.staff.suggest import QuestionGroup
from citizenbot.texts import PLACEHOLDER, TextSchema, declare, fill, plural, plural_key
from citizenbot.tickets import age, minute, reference

STATUS_ORDER: Final = ("answered", "clarify", "fallback")
LANGUAGE_KEYS: Final = {"en": "english", "zh": "chinese"}
UNITS: Final = ("day", "week", "month")
MAX_GROUPS: Final = 30
MAX_WORDINGS: Final = 8
# Beyond this many days a bar per day gets too thin to read; beyond the second, a bar per week.
DAILY_UP_TO: Final = 92
WEEKLY_UP_TO: Final = 7 * 104
# An open --since/--until is stretched to the data, but not across months of empty bars.
MAX_EMPTY_EDGE_DAYS: Final = 62
MIN_SLOTS: Final = 7  # one or two days of data should not become two fat bars
SLOT: Final = 10  # SVG units per bar slot; the bar takes BAR of it, centred
BAR: Final = 7

# Why a fallback gave no quote, as the responder logs it (texts.yml says each in full).
REFUSALS: Final = ("not_in_report", "no_more", "no_previous", "no_choice", "other_place",
                   "other_year", "outcome", "personal",
                   "practical_detail", "no_figure", "abridged", "general", "other_language",
                   "weather", "documents", "transport", "health", "personal_matters", "leisure",
                   "personal_finance", "utilities")

TEXTS: Final[TextSchema] = declare("texts.staff.yml", {
    "report.title": ("period",), "report.heading": (), "report.subtitle": (),
    "report.generated": ("period", "time"), "report.footer": (),
    "report.period.between": ("since", "until"), "report.period.since": ("since",),
    "report.period.until": ("until",), "report.period.all_between": ("first", "last"),
    "report.period.all": (), "report.empty.title": (), "report.empty.text": (),
    **{f"report.status.{s}": () for s in STATUS_ORDER},
    **{f"report.language.{k}": () for k in LANGUAGE_KEYS.values()},
    "report.summary.label": (), "report.summary.total": (), "report.summary.answer_rate": (),
    "report.summary.answered": ("count",), "report.summary.unanswered": (),
    "report.summary.unanswered_note": ("clarify", "fallback"), "report.summary.helpful": (),
    "report.summary.no_votes": (),
    **plural("report.summary.days", "count"), **plural("report.summary.votes", "count"),
    **plural("report.tickets.intro", "count", "command"),
    "report.tickets.title": (), "report.tickets.line": ("ref", "time", "language", "state"),
    "report.tickets.answer_waiting": (), "report.tickets.not_forwarded": (),
    "report.tickets.waiting": (),
    **{f"report.per_day.title.{unit}": () for unit in UNITS},
    **{f"report.per_day.when.{unit}": () for unit in UNITS},
    "report.per_day.chart": (), "report.per_day.week_of": ("date",),
    "report.per_day.bar": ("when", "total", *STATUS_ORDER), "report.per_day.figures": (),
    "report.per_day.total": (),
    "report.outcomes.title": (), "report.outcomes.intro": (), "report.outcomes.chart": (),
    "report.unanswered.title": (),
    **plural("report.unanswered.intro", "count", "capped", "command"),
    "report.unanswered.capped": ("count",), "report.unanswered.none": (),
    "report.unanswered.status": ("count", "status"),
    "report.unanswered.meta": ("statuses", "date"),
    **plural("report.unanswered.similar", "count"),
    "report.unanswered.more_wordings": ("count",),
    "report.unanswered.more_groups": ("count", "questions"),
    "report.refusals.intro": (), **{f"report.refusals.{r}": () for r in REFUSALS},
    "report.top_intents.title": (), "report.top_intents.intro": (),
    "report.top_intents.none": (),
    "report.feedback.title": (), "report.feedback.intro": (), "report.feedback.none": (),
    "report.feedback.of": ("count",), "report.feedback.bar": ("helpful", "not_helpful"),
    "report.feedback.helpful": (), "report.feedback.not_helpful": (),
    "report.languages.title": (), "report.languages.intro": (), "report.languages.chart": (),
})


# --------------------------------------------------------------------------- texts

class _Words:
    """The report's texts in one language, as the template uses them."""

    def __init__(self, kb: KnowledgeBase, lang: str) -> None:
        self.kb = kb
        self.lang = lang

    def __call__(self, key: str, **values: object) -> str:
        return fill(self.kb.text(f"report.{key}", self.lang), **values)

    def plural(self, key: str, count: int, **values: object) -> str:
        return self(plural_key(key, count), count=count, **values)

    def html(self, key: str, count: int, **values: object) -> Markup:
        """A plural text whose values may be markup (a <code> command): the text is escaped,
        the values are escaped unless they already are Markup."""
        template = escape(self.kb.text(f"report.{plural_key(key, count)}", self.lang))
        given = {"count": count, **values}
        return Markup(PLACEHOLDER.sub(lambda m: str(escape(given[m.group(1)])), template))

    def status(self, status: str) -> str:
        return self(f"status.{status}") if status in STATUS_ORDER else status

    def language(self, code: str) -> str:
        key = LANGUAGE_KEYS.get(code)
        return self(f"language.{key}") if key else code

    def refusal(self, category: str) -> str:
        return self(f"refusals.{category}") if category in REFUSALS else category


# --------------------------------------------------------------------------- chart geometry

@dataclass(frozen=True)
class Segment:
    status: str
    y: str  # SVG units, formatted
    height: str


@dataclass(frozen=True)
class Bar:
    x: str
    tip: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Label:
    text: str
    at: str  # percent of the axis, formatted


@dataclass(frozen=True)
class Row:
    """One bucket of the per-day chart's figures table."""

    title: str
    total: int
    counts: tuple[int, ...]  # in STATUS_ORDER


@dataclass(frozen=True)
class TimeChart:
    unit: str
    width: int
    grid: tuple[str, ...]  # y of each horizontal grid line
    bars: tuple[Bar, ...]
    y_labels: tuple[Label, ...]
    x_labels: tuple[Label, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Part:
    css: str  # the colour class, k-<name>
    count: int
    name: str


@dataclass(frozen=True)
class Rect:
    css: str
    x: str
    width: str
    title: str


@dataclass(frozen=True)
class SplitBar:
    """A bar split in proportion to the counts, drawn across the full width."""

    label: str
    rects: tuple[Rect, ...]
    thin: bool = False


def split_bar(parts: Sequence[Part], label: str, *, thin: bool = False) -> SplitBar:
    total = sum(p.count for p in parts)
    rects = []
    x = 0.0
    for p in parts:
        if p.count and total:
            w = 1000 * p.count / total
            rects.append(Rect(p.css, f"{x:.2f}", f"{w:.2f}", f"{p.name}: {p.count}"))
            x += w
    return SplitBar(label, tuple(rects), thin)


def _y(value: float, top: float) -> float:
    """SVG y (0 at the top, 100 at the bottom) of a value on a 0..top scale."""
    return 100 - 100 * value / top


def nice_scale(peak: int) -> tuple[int, list[int]]:
    """A rounded top for the axis and 3-5 evenly spaced whole-number ticks from 0 up to it."""
    if peak <= 0:
        return 1, [0, 1]
    raw = peak / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    top = step * math.ceil(peak / step)
    return top, list(range(0, top + 1, step))


def buckets(o: Overview, since: date | None, until: date | None, today: date,
            week_of: str) -> tuple[str, list[tuple[str, str, dict[str, int]]]]:
    """(unit, [(axis label, full label, status -> count)]) covering the period without gaps.

    ``week_of`` is the full label of a week, with {date} for its Monday."""
    days = {date.fromisoformat(d): counts for d, counts in o.by_day}
    first, last = min(days), max(days)
    start = since if since is not None and 0 <= (first - since).days <= MAX_EMPTY_EDGE_DAYS \
        else first
    end = last
    if until is not None:
        stretched = min(until, max(today, last))
        if 0 <= (stretched - last).days <= MAX_EMPTY_EDGE_DAYS:
            end = stretched
    span = (end - start).days + 1
    unit = "day" if span <= DAILY_UP_TO else "week" if span <= WEEKLY_UP_TO else "month"

    def key(d: date) -> date:
        if unit == "week":
            return d - timedelta(days=d.weekday())
        if unit == "month":
            return d.replace(day=1)
        return d

    sums: dict[date, dict[str, int]] = {}
    d = start
    while d <= end:
        sums.setdefault(key(d), {})
        d += timedelta(days=1)
    for d, counts in days.items():
        bucket = sums.setdefault(key(d), {})
        for status, n in counts.items():
            bucket[status] = bucket.get(status, 0) + n
    out = []
    for k in sorted(sums):
        if unit == "day":
            out.append((k.strftime("%m-%d"), k.isoformat(), sums[k]))
        elif unit == "week":
            out.append((k.strftime("%m-%d"), fill(week_of, date=k.isoformat()), sums[k]))
        else:
            out.append((k.strftime("%Y-%m"), k.strftime("%Y-%m"), sums[k]))
    return unit, out


def time_chart(o: Overview, since: date | None, until: date | None, today: date,
               t: _Words) -> TimeChart:
    unit, found = buckets(o, since, until, today, t.kb.text("report.per_day.week_of", t.lang))
    peak = max((sum(c.values()) for _, _, c in found), default=0)
    top, ticks = nice_scale(peak)
    slots = max(len(found), MIN_SLOTS)
    offset = (slots - len(found)) / 2
    bars = []
    for i, (_, title, counts) in enumerate(found):
        x = (offset + i) * SLOT + (SLOT - BAR) / 2
        base = 0
        segments = []
        for status in STATUS_ORDER:
            n = counts.get(status, 0)
            if n:
                y0, y1 = _y(base + n, top), _y(base, top)
                segments.append(Segment(status, f"{y0:.3f}", f"{y1 - y0:.3f}"))
                base += n
        if segments:
            tip = t("per_day.bar", when=title, total=sum(counts.values()),
                    **{s: counts.get(s, 0) for s in STATUS_ORDER})
            bars.append(Bar(f"{x:.2f}", tip, tuple(segments)))
    every = max(1, math.ceil(len(found) / 6))
    return TimeChart(
        unit=unit, width=slots * SLOT,
        grid=tuple(f"{_y(tick, top):.2f}" for tick in ticks),
        bars=tuple(bars),
        y_labels=tuple(Label(str(tick), f"{100 * tick / top:.2f}") for tick in ticks),
        x_labels=tuple(Label(label, f"{100 * (offset + i + 0.5) / slots:.2f}")
                       for i, (label, _, _) in enumerate(found) if i % every == 0),
        rows=tuple(Row(title, sum(c.values()), tuple(c.get(s, 0) for s in STATUS_ORDER))
                   for _, title, c in found),
    )


# --------------------------------------------------------------------------- the page

def pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "–"


def period_label(o: Overview, since: date | None, until: date | None, t: _Words) -> str:
    if since and until:
        return t("period.between", since=since.isoformat(), until=until.isoformat())
    if since:
        return t("period.since", since=since.isoformat())
    if until:
        return t("period.until", until=until.isoformat())
    if o.first_ts and o.last_ts:
        return t("period.all_between", first=o.first_ts[:10], last=o.last_ts[:10])
    return t("period.all")


def _ticket_state(ticket: Ticket) -> str:
    if ticket.answer is not None:
        return "answer_waiting"
    if ticket.staff_message_id is None:
        return "not_forwarded"
    return "waiting"


@cache
def _environment() -> Environment:
    # autoescape on for everything: every value on the page is text unless it is Markup.
    return Environment(loader=PackageLoader("citizenbot.staff", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def render_report(
    overview: Overview,
    groups: Sequence[QuestionGroup],
    *,
    kb: KnowledgeBase,
    generated: datetime,
    since: date | None = None,
    until: date | None = None,
    titles: Mapping[str, str] | None = None,
    open_tickets: Sequence[Ticket] = (),
    lang: str = "en",
) -> str:
    """The whole report as one HTML document, its words from ``kb``'s texts in ``lang``.

    ``since`` and ``until`` are the first and last day asked for (inclusive, UTC), only for
    labelling and the time axis; ``titles`` maps intent ids to the titles staff know them by.
    ``open_tickets`` (questions waiting for district staff, whenever asked) get a section of
    their own when there are any.
    """
    t = _Words(kb, lang)
    o = overview
    rated = [(i, h, u) for i, (h, u) in o.feedback.items() if h + u]
    # Least helpful first: what staff should improve; among equals, the most voted.
    rated.sort(key=lambda r: (r[1] / (r[1] + r[2]), -(r[1] + r[2]), r[0]))
    known = [code for code in LANGUAGE_KEYS if code in o.by_language]
    languages = [Part(f"k-{code}", o.by_language[code], t.language(code)) for code in known]
    languages += [Part("k-other", n, code) for code, n in o.by_language.items()
                  if code not in LANGUAGE_KEYS]
    codes = known + [code for code in o.by_language if code not in LANGUAGE_KEYS]
    statuses = [Part(f"k-{s}", o.by_status.get(s, 0), t.status(s)) for s in STATUS_ORDER]
    unanswered = o.by_status.get("clarify", 0) + o.by_status.get("fallback", 0)
    page = _environment().get_template("report.html").render(
        t=t, lang=lang, o=overview, titles=titles or {},
        period=period_label(o, since, until, t),
        generated=generated.strftime("%Y-%m-%d %H:%M"),
        statuses=STATUS_ORDER, pct=pct, code=lambda text: Markup(f"<code>{escape(text)}</code>"),
        helpful=sum(h for h, _ in o.feedback.values()),
        votes=sum(h + u for h, u in o.feedback.values()),
        tickets=[(ticket, age(ticket.ts, generated, lang), minute(ticket.ts),
                  reference(ticket.id), _ticket_state(ticket)) for ticket in open_tickets],
        chart=time_chart(o, since, until, generated.date(), t) if o.total else None,
        outcomes=split_bar(statuses, t("outcomes.chart")),
        groups=[(g, " · ".join(t("unanswered.status", count=n, status=t.status(s).lower())
                                for s, n in g.statuses.items())) for g in groups[:MAX_GROUPS]],
        hidden=groups[MAX_GROUPS:], max_wordings=MAX_WORDINGS,
        asked=sum(g.count for g in groups),
        capped=len(o.unanswered) < unanswered, shown=len(o.unanswered),
        answered=o.by_status.get("answered", 0),
        rated=[(i, h, u, split_bar([Part("k-good", h, t("feedback.helpful").lower()),
                                    Part("k-bad", u, t("feedback.not_helpful").lower())],
                                   t("feedback.bar", helpful=h, not_helpful=u), thin=True))
               for i, h, u in rated],
        languages=split_bar(languages, t("languages.chart")),
        language_rows=list(zip(codes, languages, strict=True)),
    )
    return str(page)
