"""A check's result: per-property outcomes, the score, and how it is shown (terminal or JSON)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

STATUSES = ("pass", "fail", "error", "timeout", "crash", "forbidden")


@dataclass
class PropertyResult:
    name: str
    weight: float
    description: str
    status: str                    # one of STATUSES
    message: str = ""
    input: str | None = None       # the shrunk counterexample's input
    expected: str | None = None    # the reference's value or the violated rule
    got: str | None = None         # what the attempt returned
    seconds: float = 0.0
    call: str | None = None        # the failing call, as the attempt received it
    repro: str | None = None       # a standalone script replaying it (checker.repro)
    repro_note: str | None = None  # why there is no script

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass
class Report:
    kata: str
    seed: int
    attempt: str
    properties: list[PropertyResult]
    error: str | None = None        # the attempt could not be loaded at all
    # The engine failed (sandbox, environment, suite): no verdict at all, never a score of 0.
    engine_error: str | None = None
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    version: str = ""
    diagnosis: list = field(default_factory=list)  # likely known mistakes (checker.diagnose)

    @property
    def score(self) -> float:
        total = sum(p.weight for p in self.properties)
        got = sum(p.weight for p in self.properties if p.passed)
        if not total:
            return 0.0
        return 100.0 if got == total else round(100.0 * got / total, 1)

    @property
    def passed(self) -> bool:
        return not self.engine_error and bool(self.properties) and all(p.passed for p in self.properties)

    @property
    def graded(self) -> bool:
        return self.engine_error is None

    def to_json(self) -> dict:
        props = []
        for p in self.properties:
            d = asdict(p)
            d["counterexample"] = ({"input": p.input, "call": p.call, "expected": p.expected,
                                    "got": p.got}
                                   if not p.passed and (p.input or p.expected or p.got) else None)
            for k in ("input", "expected", "got", "call"):
                d.pop(k)
            d["seconds"] = round(p.seconds, 3)
            props.append(d)
        if self.engine_error:
            return {"kata": self.kata, "score": None, "passed": False, "seed": self.seed,
                    "attempt": self.attempt, "version": self.version,
                    "error": None, "flags": sorted(self.flags), "internal_error": self.engine_error,
                    "seconds": round(self.seconds, 3), "properties": []}
        return {"kata": self.kata, "score": self.score, "passed": self.passed, "seed": self.seed,
                "attempt": self.attempt, "version": self.version, "error": self.error,
                "flags": sorted(self.flags), "seconds": round(self.seconds, 3), "properties": props,
                "diagnosis": [{k: d[k] for k in ("mutant", "why", "similarity")} | {"mistake": d["mistake"]}
                              for d in self.diagnosis]}


_MARK = {"pass": ("✓", "green"), "fail": ("✗", "red"), "error": ("!", "red"),
         "timeout": ("⏱", "yellow"), "crash": ("☠", "red"), "forbidden": ("⊘", "magenta")}


def render(report: Report, console) -> None:
    """Print a report on a rich console: one line per property, details under each failure."""
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[bold]kata check {report.kata}[/]  [dim]seed {report.seed} · {report.attempt}[/]")
    if report.engine_error:
        console.print("[red bold]Internal error: the checker itself failed, so this attempt has no score.[/]\n"
                      "This is not a verdict on your code. Please report it with the text below.\n",
                      highlight=False)
        console.print(escape(report.engine_error.rstrip()), highlight=False)
        return
    if report.error:
        console.print(f"[red bold]The attempt could not be loaded:[/]\n{escape(report.error)}")
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(width=2)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column(style="dim")
    for p in report.properties:
        mark, colour = _MARK[p.status]
        label = "" if p.passed else f" [{colour}]{p.status}[/]"
        table.add_row(f"[{colour}]{mark}[/]", escape(p.name) + label, f"{p.weight:g}", escape(p.description))
    console.print(table)
    first_with = {}
    for p in report.properties:
        if p.passed or report.error:
            continue
        _, colour = _MARK[p.status]
        console.print(f"\n[{colour} bold]{escape(p.name)}[/] — {p.status}")
        if p.status == "error" and p.message in first_with:
            # The same exception everywhere (an unfinished stub): say it once.
            console.print(f"the same error as {first_with[p.message]}", highlight=False)
            continue
        first_with.setdefault(p.message, p.name)
        console.print(escape(p.message.rstrip()), highlight=False)
        for label, text in (("input", p.input), ("call", p.call), ("expected", p.expected),
                            ("got", p.got)):
            if text:
                console.print(f"  [bold]{label:>8}:[/] " + escape(text).replace("\n", "\n" + " " * 12),
                              highlight=False)
    for i, d in enumerate(report.diagnosis):
        lead = "\n[bold]This looks like a known mistake:[/]" if i == 0 else "  or:"
        console.print(f"{lead} {escape(d['mistake'])}  [dim]({escape(d['why'])})[/]", highlight=False)
    colour = "green" if report.passed else ("yellow" if report.score else "red")
    n_pass = sum(p.passed for p in report.properties)
    console.print(f"\n[{colour} bold]Score: {report.score:g}/100[/]  "
                  f"({n_pass} of {len(report.properties)} properties, {report.seconds:.1f} s)")
