"""report.html: what an instructor asks after grading, on one self-contained page.

Per kata: the score distribution, each property's pass rate (sorted, with its meaning), the
common mistakes (failures matched to the kata's known mistakes, else the most common failure
signatures), flagged and similar submissions; then every student with a link to their feedback.
Plots are matplotlib SVG embedded in the page: no network, no side files.
"""
from __future__ import annotations

import html
import io
import re
from collections import Counter
from pathlib import Path

from checker.grading.outputs import Book, _atomic
from checker.grading.records import Graded

_STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}.num{text-align:right}.flag{color:#a40}.plots{display:flex;flex-wrap:wrap;gap:1em}
.plots figure{margin:0}.muted{color:#777}"""


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)  # a date: same input, same bytes
    return text[text.index("<svg"):]


def _plots(kata: str, scores: list[float], rates: list[tuple[str, float]]) -> str:
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"   # text stays text: searchable, small
    matplotlib.rcParams["svg.hashsalt"] = "kata"   # element ids the same every run
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 2.8))
    ax.hist(scores, bins=[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100.001], color="#4a7ab5", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("students")
    ax.set_title(f"{kata}: scores")
    hist = _svg(fig)
    fig, ax = plt.subplots(figsize=(5.6, 0.32 * len(rates) + 1.0))
    names = [n for n, _ in rates]
    ax.barh(names, [100 * r for _, r in rates], color="#5a9e5a")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of graded students passing")
    ax.set_title(f"{kata}: properties")
    bars = _svg(fig)
    return (f'<div class="plots"><figure data-plot="scores">{hist}</figure>'
            f'<figure data-plot="properties">{bars}</figure></div>')


def _kata_section(book: Book, kata: str) -> list[str]:
    info = book.katas[kata]
    graded = [book.record(s, kata) for s in book.students]
    graded = [r for r in graded if isinstance(r, Graded)]
    scores = [r.score for r in graded]
    props = info.get("properties") or (graded[0].report["properties"] if graded else [])
    names = [p if isinstance(p, str) else p[0] if isinstance(p, (list, tuple)) else p["name"] for p in props]
    meaning = {}
    for r in graded:
        for p in r.report["properties"]:
            meaning.setdefault(p["name"], p.get("description", ""))
    passed = Counter(p["name"] for r in graded for p in r.report["properties"] if p["status"] == "pass")
    rates = sorted(((n, passed[n] / len(graded) if graded else 0.0) for n in names), key=lambda x: (x[1], x[0]))
    out = [f'<section data-kata="{html.escape(kata)}"><h2>{html.escape(kata)} — {html.escape(info.get("title", kata))}</h2>']
    mean = f"{sum(scores) / len(scores):.1f}" if scores else "—"
    out.append(f"<p>{len(graded)} graded of {len(book.students)} students · mean score {mean} · "
               f"{sum(s == 100 for s in scores)} at 100</p>")
    if graded:
        out.append(_plots(kata, scores, rates))
    out.append('<table class="rates"><tr><th>property</th><th>pass rate</th><th>meaning</th></tr>')
    out += [f'<tr><td><code>{html.escape(n)}</code></td><td class="num">{100 * r:.0f}%</td>'
            f"<td>{html.escape(meaning.get(n, ''))}</td></tr>" for n, r in rates]
    out.append("</table>")
    out.append("<h3>Common mistakes</h3>")
    rows = common_mistakes([r for r in graded if r.score < 100])
    if rows:
        out.append('<table class="mistakes"><tr><th>students</th><th>looks like</th><th>failed properties</th></tr>')
        out += [f'<tr><td class="num">{n}</td><td>{html.escape(what)}</td><td>{html.escape(", ".join(sig))}</td></tr>'
                for n, what, sig in rows]
        out.append("</table>")
    else:
        out.append('<p class="muted">no failing submissions</p>')
    flagged = [(r.student, f) for r in graded for f in r.flags]
    similar = [p for p in book.similar() if p.kata == kata]
    if flagged or similar:
        out.append("<h3>Flagged</h3><ul>")
        out += [f'<li class="flag">{html.escape(s)}: {html.escape(f)}</li>' for s, f in flagged]
        out += [f'<li class="flag">similar: {html.escape(p.a)} ~ {html.escape(p.b)} ({p.score:.2f}; '
                f'lines {html.escape(_spans(p.lines_a))} ~ {html.escape(_spans(p.lines_b))})</li>' for p in similar]
        out.append("</ul>")
    out.append("</section>")
    return out


def _spans(spans) -> str:
    return ", ".join(f"{a}-{b}" for a, b in spans[:6]) + (" …" if len(spans) > 6 else "")


def common_mistakes(failing: list[Graded]) -> list[tuple[int, str, list[str]]]:
    """(students, what it looks like, properties failed), most common first: each failing
    submission counts for the known mistake its report names first (the mutant diagnosis of
    `kata check`), else for its own set of failed properties."""
    counts: Counter = Counter()
    for r in failing:
        diag = r.report.get("diagnosis") or []
        props = r.report["properties"]
        if diag:
            key = (diag[0]["mistake"], ())
        elif r.report.get("error"):
            key = ("the file could not be loaded", ())
        elif all(p["status"] == "error" for p in props) and len({(p.get("message") or "")[:200] for p in props}) == 1:
            key = ("unfinished: every property raised the same error", ())
        else:
            key = ("no known mistake matches",
                   tuple(sorted(p["name"] for p in r.report["properties"] if p["status"] != "pass")))
        counts[key] += 1
    return [(n, what, list(sig)) for (what, sig), n in counts.most_common(10)]


def report_html(book: Book) -> str:
    body = [f"<h1>Class report</h1><p class=muted>{len(book.students)} students · "
            f"{len(book.kata_ids)} katas · seed {book.seed} · engine {html.escape(str(book.engine))}</p>"]
    for kata in book.kata_ids:
        body += _kata_section(book, kata)
    body.append('<h2>Students</h2><table class="students"><tr><th>student</th>'
                + "".join(f"<th>{html.escape(k)}</th>" for k in book.kata_ids) + "<th>total</th><th>flags</th></tr>")
    for row in book.rows():
        cells = "".join(f'<td class="num">{"ungraded" if row.scores[k] is None else f"{row.scores[k]:g}"}</td>'
                        for k in book.kata_ids)
        total = "—" if row.total is None else f"{row.total:g}"
        body.append(f'<tr><td><a href="feedback/{html.escape(row.student)}.md">{html.escape(row.student)}</a></td>'
                    f'{cells}<td class="num">{total}</td><td class="flag">{html.escape(" ".join(row.flags))}</td></tr>')
    body.append("</table>")
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>kata grade: class report</title>"
            f"<style>{_STYLE}</style></head><body>" + "\n".join(body) + "</body></html>\n")


def write_report_html(out: Path, book: Book):
    _atomic(Path(out) / "report.html", report_html(book))
