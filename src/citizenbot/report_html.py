"""The staff report: one self-contained HTML page of what citizens asked and what went unanswered.

Pure: figures in (an ``Overview`` from the store, question groups from ``suggest``), one HTML
string out. The page loads nothing from anywhere (no scripts, fonts or stylesheets; a
Content-Security-Policy says so to the browser), so it can be mailed around and opened offline.

Charts are inline SVG drawn by the few functions below, not by a plotting library: the report
needs two shapes (stacked bars over time, a proportion bar), which take under a hundred lines,
while a plotting dependency would outweigh the whole bot and emit fixed-size SVG with embedded
fonts. Our SVG only draws the marks, stretched to the width of the screen
(preserveAspectRatio="none"); every label is ordinary HTML text, so it stays legible on a phone,
and colours come from CSS variables, so the charts follow the reader's dark mode.

Everything that comes from the log or the knowledge base is escaped with ``html.escape``:
a question containing ``<script>`` is shown as text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from html import escape

from citizenbot.store import Overview, Ticket
from citizenbot.suggest import QuestionGroup
from citizenbot.tickets import age, minute, reference

__all__ = ["render_report"]

STATUS_ORDER = ("answered", "clarify", "fallback")
STATUS_LABEL = {
    "answered": "Answered",
    "clarify": "Asked to clarify",
    "fallback": "Could not answer",
}
LANGUAGE_LABEL = {"en": "English", "zh": "Chinese"}
MAX_GROUPS = 30
MAX_WORDINGS = 8
# Beyond this many days a bar per day gets too thin to read; beyond the second, a bar per week.
DAILY_UP_TO = 92
WEEKLY_UP_TO = 7 * 104
# An open --since/--until is stretched to the data, but not across months of empty bars.
MAX_EMPTY_EDGE_DAYS = 62
MIN_SLOTS = 7  # one or two days of data should not become two fat bars

CSS = """
:root{color-scheme:light dark;--bg:#f4f6f8;--card:#fff;--text:#1b2330;--muted:#5a6474;
--line:#e2e6eb;--answered:#0072b2;--clarify:#e69f00;--fallback:#d55e00;--en:#0072b2;
--zh:#009e73;--other:#8a94a3;--good:#009e73;--bad:#d55e00;--track:#eef1f4}
@media (prefers-color-scheme:dark){:root{--bg:#101318;--card:#191e25;--text:#e7eaef;
--muted:#9ba5b4;--line:#2a313b;--answered:#56b4e9;--clarify:#f0b429;--fallback:#f07a3a;
--en:#56b4e9;--zh:#35c49a;--good:#35c49a;--bad:#f07a3a;--track:#262c35}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,"PingFang SC","Hiragino Sans GB",
"Microsoft YaHei","Noto Sans CJK SC",sans-serif;-webkit-text-size-adjust:100%}
header,main,footer{max-width:880px;margin:0 auto;padding:0 16px}
header{padding-top:28px}
h1{font-size:1.7rem;line-height:1.2;margin:0 0 4px}
h2{font-size:1.15rem;margin:0 0 4px}
.sub,.muted{color:var(--muted)}
.sub{margin:0}
.small{font-size:.875rem}
section{background:var(--card);border:1px solid var(--line);border-radius:14px;
padding:18px;margin:16px 0}
section>p.intro{margin:0 0 14px;color:var(--muted);font-size:.9rem}
#summary{background:none;border:0;padding:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:14px 16px}
.card .label{color:var(--muted);font-size:.875rem}
.card .value{display:block;font-size:2rem;font-weight:650;line-height:1.2;
font-variant-numeric:tabular-nums}
.card .note{color:var(--muted);font-size:.8rem}
.chart{display:grid;grid-template-columns:auto 1fr;column-gap:8px;margin-top:8px}
.yaxis{position:relative;height:180px;min-width:1.5em;font-size:.75rem;color:var(--muted)}
.yaxis span{position:absolute;right:0;transform:translateY(50%);line-height:1}
.plot svg{display:block;width:100%;height:180px;overflow:visible}
.grid{stroke:var(--line);stroke-width:1}
.xaxis{position:relative;height:1.6em;font-size:.75rem;color:var(--muted)}
.xaxis span{position:absolute;top:4px;transform:translateX(-50%);white-space:nowrap}
.split{display:block;width:100%;height:22px;border-radius:6px;overflow:hidden;
background:var(--track)}
.split.thin{height:10px;border-radius:5px}
.k-answered{fill:var(--answered);background:var(--answered)}
.k-clarify{fill:var(--clarify);background:var(--clarify)}
.k-fallback{fill:var(--fallback);background:var(--fallback)}
.k-en{fill:var(--en);background:var(--en)}
.k-zh{fill:var(--zh);background:var(--zh)}
.k-other{fill:var(--other);background:var(--other)}
.k-good{fill:var(--good);background:var(--good)}
.k-bad{fill:var(--bad);background:var(--bad)}
.legend{list-style:none;padding:0;margin:10px 0 0;display:flex;flex-wrap:wrap;gap:6px 18px}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:3px;flex:none}
.num{font-variant-numeric:tabular-nums;font-weight:600}
ol.rows{list-style:none;padding:0;margin:0}
ol.rows>li{padding:10px 0;border-top:1px solid var(--line)}
ol.rows>li:first-child{border-top:0;padding-top:0}
.row{display:flex;justify-content:space-between;align-items:baseline;gap:12px}
.row .name,.q{overflow-wrap:anywhere;min-width:0}
.row .right{flex:none;white-space:nowrap;text-align:right}
.name code{white-space:nowrap}
.q{font-weight:550}
code{font:.8em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--muted)}
.meter{height:8px;border-radius:4px;background:var(--track);margin-top:6px;overflow:hidden}
.meter span{display:block;height:100%;background:var(--answered);border-radius:4px}
details{margin-top:6px}
summary{cursor:pointer;color:var(--muted);font-size:.875rem}
details ul{margin:6px 0 0;padding-left:20px}
details li{overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:.875rem;margin-top:8px}
th,td{text-align:right;padding:4px 6px;border-bottom:1px solid var(--line);
font-variant-numeric:tabular-nums}
th:first-child,td:first-child{text-align:left}
.empty{text-align:center;padding:40px 18px}
.empty h2{font-size:1.4rem}
footer{color:var(--muted);font-size:.8rem;padding-bottom:32px}
"""


def render_report(
    overview: Overview,
    groups: Sequence[QuestionGroup],
    *,
    generated: datetime,
    since: date | None = None,
    until: date | None = None,
    titles: Mapping[str, str] | None = None,
    open_tickets: Sequence[Ticket] = (),
) -> str:
    """The whole report as one HTML document.

    ``since`` and ``until`` are the first and last day asked for (inclusive, UTC), only for
    labelling and the time axis; ``titles`` maps intent ids to the titles staff know them by.
    ``open_tickets`` (questions waiting for district staff, whenever asked) get a section of
    their own when there are any.
    """
    titles = titles or {}
    period = _period_label(overview, since, until)
    head = (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        "<meta name=\"generator\" content=\"citizenbot report\">\n"
        f"<title>Citizen enquiries · {escape(period)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n"
        "<header>\n<h1>What citizens asked</h1>\n"
        "<p class=\"sub\">citizenbot · questions about Shizhong District's 2021 Government "
        f"Work Report</p>\n<p class=\"sub small\">{escape(period)} · generated "
        f"{escape(generated.strftime('%Y-%m-%d %H:%M'))} UTC</p>\n</header>\n<main>\n"
    )
    waiting = _open_tickets(open_tickets, generated) if open_tickets else ""
    if overview.total == 0:
        body = waiting + (
            "<section id=\"empty\" class=\"empty\">\n<h2>No enquiries yet</h2>\n"
            "<p class=\"muted\">Nothing was logged in this period. As soon as people ask the "
            "bot questions, in Telegram or in the terminal chat, they show up here.</p>\n"
            "</section>\n"
        )
    else:
        today = generated.date()
        body = "".join((
            _summary(overview),
            waiting,
            _per_day(overview, since, until, today),
            _outcomes(overview),
            _unanswered(overview, groups),
            _top_intents(overview, titles),
            _feedback(overview, titles),
            _languages(overview),
        ))
    foot = (
        "</main>\n<footer>\n<p>Days are counted in UTC. Questions are shown as people typed "
        "them. The log keeps no names or Telegram ids, only a pseudonymous hash per user, "
        "which this report does not show.</p>\n</footer>\n</body>\n</html>\n"
    )
    return head + body + foot


# --------------------------------------------------------------------------- sections


def _summary(o: Overview) -> str:
    answered = o.by_status.get("answered", 0)
    clarify = o.by_status.get("clarify", 0)
    fallback = o.by_status.get("fallback", 0)
    helpful = sum(h for h, _ in o.feedback.values())
    votes = sum(h + u for h, u in o.feedback.values())
    days = len(o.by_day)
    return (
        "<section id=\"summary\" aria-label=\"Summary\">\n<div class=\"cards\">\n"
        + _card("Enquiries", "total", str(o.total),
                f"on {days} day{'s' if days != 1 else ''} with enquiries")
        + _card("Answer rate", "answer-rate", _pct(answered, o.total),
                f"{answered} answered from the report")
        + _card("Not answered", "unanswered", str(clarify + fallback),
                f"{clarify} asked to clarify · {fallback} could not answer")
        + _card("Found helpful", "helpful-share", _pct(helpful, votes),
                f"of {votes} vote{'s' if votes != 1 else ''}" if votes else "no votes yet")
        + "</div>\n</section>\n"
    )


def _open_tickets(tickets: Sequence[Ticket], generated: datetime) -> str:
    rows = []
    for t in tickets:
        if t.answer is not None:
            state = "answer waiting for delivery"
        elif t.staff_message_id is None:
            state = "not yet in the staff chat"
        else:
            state = "waiting for staff"
        rows.append(
            f"<li class=\"ticket\" data-ref=\"{reference(t.id)}\"><div class=\"row\">"
            f"<span class=\"q\">{escape(t.question)}</span>"
            f"<span class=\"right num\">{escape(age(t.ts, generated))}</span></div>"
            f"<div class=\"muted small\">{reference(t.id)} · asked {escape(minute(t.ts))} · "
            f"{escape(LANGUAGE_LABEL.get(t.language, t.language))} · {state}</div></li>"
        )
    n = len(tickets)
    return (
        "<section id=\"tickets\">\n<h2>Questions waiting for district staff</h2>\n"
        f"<p class=\"intro\">{n} open ticket{'s' if n != 1 else ''}, oldest first, with how "
        "long each has waited (whatever the period above). Answer in the staff chat or with "
        "<code>citizenbot reply</code>.</p>\n"
        f"<ol class=\"rows\">{''.join(rows)}</ol>\n</section>\n"
    )


def _card(label: str, key: str, value: str, note: str) -> str:
    return (
        f"<div class=\"card\"><span class=\"label\">{escape(label)}</span>"
        f"<span class=\"value\" data-figure=\"{key}\">{escape(value)}</span>"
        f"<span class=\"note\">{escape(note)}</span></div>\n"
    )


def _per_day(o: Overview, since: date | None, until: date | None, today: date) -> str:
    unit, buckets = _buckets(o, since, until, today)
    peak = max((sum(c.values()) for _, _, c in buckets), default=0)
    top, ticks = _nice_scale(peak)
    slots = max(len(buckets), MIN_SLOTS)
    offset = (slots - len(buckets)) / 2
    width = slots * 10

    marks = [
        f"<line class=\"grid\" x1=\"0\" x2=\"{width}\" y1=\"{_y(t, top):.2f}\" "
        f"y2=\"{_y(t, top):.2f}\" vector-effect=\"non-scaling-stroke\"/>"
        for t in ticks
    ]
    for i, (_, title, counts) in enumerate(buckets):
        x = (offset + i) * 10 + 1.5
        base = 0
        tip = escape(f"{title}: {sum(counts.values())} enquiries ("
                     + ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUS_ORDER) + ")")
        parts = []
        for status in STATUS_ORDER:
            n = counts.get(status, 0)
            if n:
                y0, y1 = _y(base + n, top), _y(base, top)
                parts.append(f"<rect class=\"k-{status}\" x=\"{x:.2f}\" y=\"{y0:.3f}\" "
                              f"width=\"7\" height=\"{y1 - y0:.3f}\"/>")
                base += n
        if parts:
            marks.append(f"<g><title>{tip}</title>{''.join(parts)}</g>")
    svg = (
        f"<svg viewBox=\"0 0 {width} 100\" preserveAspectRatio=\"none\" role=\"img\" "
        f"aria-label=\"Enquiries per {unit}, stacked by outcome\">"
        + "".join(marks) + "</svg>"
    )
    y_labels = "".join(
        f"<span style=\"bottom:{100 * t / top:.2f}%\">{t}</span>" for t in ticks
    )
    every = max(1, math.ceil(len(buckets) / 6))
    x_labels = "".join(
        f"<span style=\"left:{100 * (offset + i + 0.5) / slots:.2f}%\">{escape(label)}</span>"
        for i, (label, _, _) in enumerate(buckets) if i % every == 0
    )
    rows = "".join(
        f"<tr data-bucket=\"{escape(title)}\"><td>{escape(title)}</td>"
        f"<td>{sum(c.values())}</td>"
        + "".join(f"<td>{c.get(s, 0)}</td>" for s in STATUS_ORDER) + "</tr>"
        for _, title, c in buckets
    )
    return (
        f"<section id=\"per-day\">\n<h2>Enquiries per {unit}</h2>\n"
        "<div class=\"chart\">"
        f"<div class=\"yaxis\" aria-hidden=\"true\">{y_labels}</div>"
        f"<div class=\"plot\">{svg}<div class=\"xaxis\" aria-hidden=\"true\">{x_labels}</div>"
        "</div></div>\n"
        + _status_legend(o, figures=False)
        + "<details><summary>Show the figures</summary><table><thead><tr>"
        f"<th>{unit.capitalize()}</th><th>Total</th>"
        + "".join(f"<th>{escape(STATUS_LABEL[s])}</th>" for s in STATUS_ORDER)
        + f"</tr></thead><tbody>{rows}</tbody></table></details>\n</section>\n"
    )


def _outcomes(o: Overview) -> str:
    parts = [(f"k-{s}", o.by_status.get(s, 0), STATUS_LABEL[s]) for s in STATUS_ORDER]
    return (
        "<section id=\"outcomes\">\n<h2>How the bot replied</h2>\n"
        "<p class=\"intro\">Answered: quoted the report. Asked to clarify: offered a choice of "
        "topics. Could not answer: said it does not know, or that the topic is outside the "
        "report.</p>\n"
        + _split_bar(parts, "Outcome of every enquiry")
        + _status_legend(o, figures=True)
        + "</section>\n"
    )


def _status_legend(o: Overview, *, figures: bool) -> str:
    items = []
    for s in STATUS_ORDER:
        n = o.by_status.get(s, 0)
        figure = (f" <span class=\"num\" data-figure=\"status-{s}\">{n}</span>"
                  f" <span class=\"muted\">({_pct(n, o.total)})</span>") if figures else ""
        items.append(f"<li><span class=\"swatch k-{s}\"></span>{escape(STATUS_LABEL[s])}"
                     f"{figure}</li>")
    return f"<ul class=\"legend small\">{''.join(items)}</ul>\n"


def _unanswered(o: Overview, groups: Sequence[QuestionGroup]) -> str:
    n_questions = sum(g.count for g in groups)
    if not groups:
        inner = "<p class=\"muted\">Every question in this period was answered.</p>\n"
    else:
        items = []
        for g in groups[:MAX_GROUPS]:
            statuses = " · ".join(f"{n} {escape(STATUS_LABEL.get(s, s).lower())}"
                                  for s, n in g.statuses.items())
            others = g.wordings[1:]
            more = ""
            if others:
                listed = "".join(
                    f"<li>{escape(w)}" + (f" <span class=\"muted\">×{n}</span>" if n > 1 else "")
                    + "</li>"
                    for w, n in others[:MAX_WORDINGS]
                )
                if len(others) > MAX_WORDINGS:
                    listed += f"<li class=\"muted\">… {len(others) - MAX_WORDINGS} more</li>"
                more = (f"<details><summary>{len(others)} similar "
                        f"question{'s' if len(others) != 1 else ''}</summary>"
                        f"<ul>{listed}</ul></details>")
            items.append(
                f"<li class=\"group\" data-count=\"{g.count}\"><div class=\"row\">"
                f"<span class=\"q\">{escape(g.representative)}</span>"
                f"<span class=\"right num\">{g.count}×</span></div>"
                f"<div class=\"muted small\">{statuses} · last asked "
                f"{escape(g.last_ts[:10])}</div>{more}</li>"
            )
        hidden = groups[MAX_GROUPS:]
        tail = ""
        if hidden:
            tail = (f"<p class=\"muted small\">… and {len(hidden)} more groups "
                    f"({sum(g.count for g in hidden)} questions).</p>\n")
        inner = f"<ol class=\"rows\">{''.join(items)}</ol>\n{tail}"
    shown = len(o.unanswered)
    capped = ""
    if shown < o.by_status.get("clarify", 0) + o.by_status.get("fallback", 0):
        capped = f" (the latest {shown})"
    return (
        "<section id=\"unanswered\">\n<h2>Questions the bot could not answer</h2>\n"
        f"<p class=\"intro\">{n_questions} question{'s' if n_questions != 1 else ''}{capped} "
        "that ended in a clarification or “could not answer”, grouped by similarity, most "
        "asked first. <code>citizenbot suggest --yaml</code> turns them into intent examples "
        "to review.</p>\n"
        + inner + "</section>\n"
    )


def _top_intents(o: Overview, titles: Mapping[str, str]) -> str:
    if not o.top_intents:
        inner = "<p class=\"muted\">No question was answered in this period.</p>\n"
    else:
        answered = o.by_status.get("answered", 0)
        peak = o.top_intents[0][1]
        items = "".join(
            f"<li class=\"intent\" data-intent=\"{escape(i)}\" data-count=\"{n}\">"
            f"<div class=\"row\"><span class=\"name\">{_intent_name(i, titles)}</span>"
            f"<span class=\"right\"><span class=\"num\">{n}</span> "
            f"<span class=\"muted small\">{_pct(n, answered)}</span></span></div>"
            f"<div class=\"meter\"><span style=\"width:{100 * n / peak:.1f}%\"></span></div></li>"
            for i, n in o.top_intents
        )
        inner = f"<ol class=\"rows\">{items}</ol>\n"
    return (
        "<section id=\"top-intents\">\n<h2>Most asked topics</h2>\n"
        "<p class=\"intro\">Answered questions by topic, with the share of all answered "
        "questions.</p>\n" + inner + "</section>\n"
    )


def _feedback(o: Overview, titles: Mapping[str, str]) -> str:
    rated = [(i, h, u) for i, (h, u) in o.feedback.items() if h + u]
    # Least helpful first: what staff should improve; among equals, the most voted.
    rated.sort(key=lambda r: (r[1] / (r[1] + r[2]), -(r[1] + r[2]), r[0]))
    if not rated:
        inner = "<p class=\"muted\">Nobody rated an answer in this period.</p>\n"
    else:
        items = "".join(
            f"<li class=\"rated\" data-intent=\"{escape(i)}\" data-helpful=\"{h}\" "
            f"data-not-helpful=\"{u}\"><div class=\"row\">"
            f"<span class=\"name\">{_intent_name(i, titles)}</span>"
            f"<span class=\"right small\"><span class=\"num\">{_pct(h, h + u)}</span> "
            f"<span class=\"muted\">of {h + u}</span></span></div>"
            + _split_bar([("k-good", h, "helpful"), ("k-bad", u, "not helpful")],
                         f"{h} helpful, {u} not helpful", thin=True)
            + "</li>"
            for i, h, u in rated
        )
        inner = (
            f"<ol class=\"rows\">{items}</ol>\n<ul class=\"legend small\">"
            "<li><span class=\"swatch k-good\"></span>Helpful</li>"
            "<li><span class=\"swatch k-bad\"></span>Not helpful</li></ul>\n"
        )
    return (
        "<section id=\"feedback\">\n<h2>Were the answers helpful?</h2>\n"
        "<p class=\"intro\">Share of “Helpful” votes (against “Not helpful”) on the answers to "
        "each topic, out of all its votes; least helpful first.</p>\n" + inner + "</section>\n"
    )


def _languages(o: Overview) -> str:
    known = [lang for lang in LANGUAGE_LABEL if lang in o.by_language]
    others = [lang for lang in o.by_language if lang not in LANGUAGE_LABEL]
    parts = [(f"k-{lang}", o.by_language[lang], LANGUAGE_LABEL[lang]) for lang in known]
    parts += [("k-other", o.by_language[lang], lang) for lang in others]
    legend = "".join(
        f"<li><span class=\"swatch {cls}\"></span>{escape(label)} "
        f"<span class=\"num\" data-figure=\"language-{escape(label)}\">{n}</span> "
        f"<span class=\"muted\">({_pct(n, o.total)})</span></li>"
        for cls, n, label in parts
    )
    return (
        "<section id=\"languages\">\n<h2>Languages</h2>\n"
        "<p class=\"intro\">The language of the reply (the language the question was asked "
        "in, or the one the user chose).</p>\n"
        + _split_bar(parts, "Enquiries by language")
        + f"<ul class=\"legend small\">{legend}</ul>\n</section>\n"
    )


# --------------------------------------------------------------------------- drawing


def _split_bar(parts: Sequence[tuple[str, int, str]], label: str, *, thin: bool = False) -> str:
    """A bar split in proportion to the counts, drawn across the full width."""
    total = sum(n for _, n, _ in parts)
    rects = []
    x = 0.0
    for cls, n, name in parts:
        if n and total:
            w = 1000 * n / total
            rects.append(f"<rect class=\"{cls}\" x=\"{x:.2f}\" y=\"0\" width=\"{w:.2f}\" "
                         f"height=\"10\"><title>{escape(name)}: {n}</title></rect>")
            x += w
    return (
        f"<svg class=\"split{' thin' if thin else ''}\" viewBox=\"0 0 1000 10\" "
        f"preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{escape(label)}\">"
        + "".join(rects) + "</svg>\n"
    )


def _y(value: float, top: float) -> float:
    """SVG y (0 at the top, 100 at the bottom) of a value on a 0..top scale."""
    return 100 - 100 * value / top


def _nice_scale(peak: int) -> tuple[int, list[int]]:
    """A rounded top for the axis and 3-5 evenly spaced whole-number ticks from 0 up to it."""
    if peak <= 0:
        return 1, [0, 1]
    raw = peak / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    top = step * math.ceil(peak / step)
    return top, list(range(0, top + 1, step))


def _buckets(o: Overview, since: date | None, until: date | None,
             today: date) -> tuple[str, list[tuple[str, str, dict[str, int]]]]:
    """(unit, [(axis label, full label, status -> count)]) covering the period without gaps."""
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
            out.append((k.strftime("%m-%d"), f"week of {k.isoformat()}", sums[k]))
        else:
            out.append((k.strftime("%Y-%m"), k.strftime("%Y-%m"), sums[k]))
    return unit, out


# --------------------------------------------------------------------------- text


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "–"


def _intent_name(intent_id: str, titles: Mapping[str, str]) -> str:
    title = titles.get(intent_id)
    if title:
        return f"{escape(title)} <code>{escape(intent_id)}</code>"
    return f"<code>{escape(intent_id)}</code>"


def _period_label(o: Overview, since: date | None, until: date | None) -> str:
    if since and until:
        return f"{since.isoformat()} to {until.isoformat()}"
    if since:
        return f"since {since.isoformat()}"
    if until:
        return f"up to {until.isoformat()}"
    if o.first_ts and o.last_ts:
        return f"all enquiries, {o.first_ts[:10]} to {o.last_ts[:10]}"
    return "all enquiries"
