"""The dashboard's HTML: plain pages with inline SVG plots, no script, one small style
sheet inline, readable on a phone. Everything links within the site or to lore."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from reviewbot.adapters.web import svg

STYLE = """
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,sans-serif;margin:0;
color:#222;background:#fafafa}header{background:#24364b;color:#fff;padding:.6em 1em}
header a{color:#fff;text-decoration:none;font-weight:600}main{max-width:70em;margin:auto;
padding:.5em 1em 2em}section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;
padding:.6em 1em;margin:1em 0}h1{font-size:1.4em;margin:.4em 0}h2{font-size:1.1em;margin:.2em 0
.5em}table{border-collapse:collapse;width:100%}td,th{padding:.3em .5em;border-bottom:1px solid
#eee;text-align:left;vertical-align:top}th{font-weight:600}td.n,th.n{text-align:right}
.figs{display:flex;flex-wrap:wrap;gap:.5em}.fig{flex:1 1 9em;background:#f3f6f9;border-radius:6px;
padding:.4em .6em}.fig b{display:block;font-size:1.4em}.legend{font-size:.85em;margin:.2em 0}
.key{margin-right:1em;white-space:nowrap}.key i{display:inline-block;width:.8em;height:.8em;
margin-right:.3em;border-radius:2px}.muted{color:#666;font-size:.9em}.scroll{overflow-x:auto}
form{margin:.5em 0}input{font:inherit;padding:.3em;max-width:100%}
@media (max-width:600px){td.opt,th.opt{display:none}body{font-size:14px}}
"""


def page(title: str, body: str, home: str = "/") -> str:
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)} - reviewbot</title><style>{STYLE}</style>"
            "<link rel=\"icon\" href=\"data:,\"></head><body>"
            f"<header><a href=\"{escape(home)}\">reviewbot</a></header>"
            f"<main>{body}</main></body></html>")


def subsystem_url(name: str, as_of: str | None = None) -> str:
    return "/subsystems/" + quote(name, safe="") + (f"?as_of={quote(as_of)}" if as_of else "")


def _when(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M") if iso else "-"


def _days_since(iso: str | None, now: datetime) -> str:
    if not iso:
        return "-"
    return f"{(now - datetime.fromisoformat(iso)).total_seconds() / 86400:.0f} d"


def index(data: dict[str, Any]) -> str:
    now = datetime.fromisoformat(data["as_of"])
    rows = []
    for r in data["subsystems"]:
        states = ", ".join(f"{k} {v}" for k, v in r["open_by_state"].items()) or "none"
        rows.append(
            f'<tr><td><a href="{escape(subsystem_url(r["name"], data["as_of_param"]))}">'
            f'{escape(r["name"])}</a></td>'
            f'<td class="n">{r["open_total"]}</td><td class="opt">{escape(states)}</td>'
            f'<td class="n">{_days_since(r["oldest_waiting_since"], now)}</td></tr>')
    note = "" if data["configured"] else (
        '<p class="muted">No subsystems configured ([metrics] subsystems, policies or '
        "sources): showing the sections with the most open series.</p>")
    body = (f"<h1>Review backlog</h1><p class=\"muted\">as of {now:%Y-%m-%d %H:%M} UTC; "
            f"{data['sections_with_open']} sections have open series</p>"
            f'<section><h2>Subsystems</h2>{note}<div class="scroll"><table><thead><tr>'
            '<th>Subsystem</th><th class="n">Open</th><th class="opt">By state</th>'
            '<th class="n">Oldest waiting</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>"
            '<form action="/subsystems" method="get"><label>Any MAINTAINERS section or list: '
            '<input name="name" placeholder="INFINIBAND SUBSYSTEM"></label> '
            + (f'<input type="hidden" name="as_of" value="{escape(data["as_of_param"])}">'
               if data["as_of_param"] else "")
            + '<button type="submit">Show</button></form></section>')
    as_of = data["as_of_param"]
    return page("Review backlog", body, f"/?as_of={quote(as_of)}" if as_of else "/")


def _series_rows(rows: list[dict[str, Any]], now: datetime) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    out = []
    for r in rows:
        since = r.get("since")
        out.append(f'<tr><td class="n">{_days_since(since, now)}</td>'
                   f'<td><a href="{escape(r["lore"])}">{escape(r["title"] or r["series_id"])}'
                   f'</a><div class="muted">{escape(r["state"])}, {escape(r["turn"])}\'s turn: '
                   f'{escape(r["reason"])}</div></td></tr>')
    return ('<div class="scroll"><table><thead><tr><th class="n">Waiting</th><th>Series</th>'
            "</tr></thead><tbody>" + "".join(out) + "</tbody></table></div>")


def _fig(label: str, value: object) -> str:
    return f'<div class="fig"><span class="muted">{escape(label)}</span><b>{value}</b></div>'


def _pct(p: dict[str, Any]) -> str:
    return f"{p['p50_days']} d / {p['p90_days']} d" if p["count"] else "-"


def subsystem(d: dict[str, Any]) -> str:
    now = datetime.fromisoformat(d["as_of"])
    st = d["stats"]
    figs = ('<div class="figs">' + _fig("open series", st["open_total"])
            + _fig("ready to apply", len(d["ready"]))
            + _fig("first review p50/p90", _pct(st["time_to_first_review"]))
            + _fig("applied p50/p90", _pct(st["time_to_applied"])) + "</div>"
            + '<p class="muted">By state: ' + escape(", ".join(
                f"{k} {v}" for k, v in st["open_by_state"].items()) or "none") + "</p>")
    backlog = d["backlog"]
    labels = [datetime.fromisoformat(p["at"]).strftime("%b %y") for p in backlog]
    names = [s.replace("_", " ") for s in d["backlog_states"]]
    layers = [[p["counts"][k] for p in backlog] for k in range(len(names))]
    over_time = (svg.legend(names) + svg.stacked_area("Open series over the last 12 months",
                                                       labels, layers, names, every=9)
                 + '<p class="muted">Weekly: series posted and not yet applied, superseded, '
                   "rejected or archived; split by whether anyone but the author has "
                   "reviewed them yet.</p>")
    ages = d["ages"]
    age_plot = svg.bars("Open series by age", list(ages), [list(ages.values())], ["open"])
    fr = d["first_review"]
    months = [m["month"][2:] for m in fr]
    first = (svg.legend(["p50 days", "p90 days"])
             + svg.bars("Time to first review by month of posting", months,
                        [[m["p50_days"] or 0 for m in fr], [m["p90_days"] or 0 for m in fr]],
                        ["p50", "p90"], every=2, unit=" d")
             + '<div class="scroll"><table><thead><tr><th>Month</th><th class="n">Posted</th>'
               '<th class="n">Reviewed</th></tr></thead><tbody>'
             + "".join(f'<tr><td>{m["month"]}</td><td class="n">{m["posted"]}</td>'
                       f'<td class="n">{m["reviewed"]}</td></tr>' for m in fr)
             + "</tbody></table></div>")
    load = svg.hbars("Open series assigned or claimed, per reviewer",
                     sorted(d["reviewer_load"].items(), key=lambda kv: (-kv[1], kv[0]))[:15])
    c = d["cycle"]
    cycle = (f'<p class="muted">{c["reviews"]} reviews on {c["series"]} series active '
             f'{escape(c["label"])} (since {_when(c["since"])})</p>'
             "<h3>Given, by person</h3>" + svg.hbars("Reviews given", _pairs(c["given"]))
             + "<h3>Received, by author</h3>"
             + svg.hbars("Reviews received", _pairs(c["received"]))
             + "<h3>By employer domain</h3>" + _domains(c))
    name = d["name"]
    body = (f"<h1>{escape(name)}</h1><p class=\"muted\">as of {now:%Y-%m-%d %H:%M} UTC</p>"
            f"<section><h2>At a glance</h2>{figs}</section>"
            f"<section><h2>Backlog over time</h2>{over_time}</section>"
            f"<section><h2>Age of open series</h2>{age_plot}</section>"
            f"<section><h2>Time to first review</h2>{first}</section>"
            f"<section><h2>Reviewer load</h2>{load}</section>"
            f"<section><h2>Reviews this cycle</h2>{cycle}</section>"
            f"<section><h2>Ready to apply</h2>{_series_rows(d['ready'], now)}</section>"
            f"<section><h2>Oldest waiting on reviewers or maintainers</h2>"
            f"{_series_rows(d['oldest'], now)}</section>")
    as_of = d["as_of_param"]
    return page(name, body, f"/?as_of={quote(as_of)}" if as_of else "/")


def _pairs(rows: list[list[Any]]) -> list[tuple[str, float]]:
    return [(str(k), float(v)) for k, v in rows]


def _domains(c: dict[str, Any]) -> str:
    given = dict((k, v) for k, v in c["given_by_domain"])
    received = dict((k, v) for k, v in c["received_by_domain"])
    domains = sorted(set(given) | set(received), key=lambda k: (-given.get(k, 0) - received.get(
        k, 0), k))
    if not domains:
        return '<p class="muted">none</p>'
    return ('<div class="scroll"><table><thead><tr><th>Domain</th><th class="n">Given</th>'
            '<th class="n">Received</th></tr></thead><tbody>'
            + "".join(f'<tr><td>{escape(k)}</td><td class="n">{given.get(k, 0)}</td>'
                      f'<td class="n">{received.get(k, 0)}</td></tr>' for k in domains)
            + "</tbody></table></div>")


def error(status: int, message: str) -> str:
    return page(f"{status}", f"<h1>{status}</h1><p>{escape(message)}</p>"
                '<p><a href="/">All subsystems</a></p>')
