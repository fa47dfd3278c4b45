"""What the instructor sees in the terminal: a progress bar while grading, then the score
distribution per kata, the flagged students and every pair that could not be graded."""
from __future__ import annotations

from checker.grading.outputs import Book
from checker.grading.records import Graded, Refused, Ungraded


class Progress:
    def __init__(self, total: int, enabled: bool, console):
        self.bar = None
        if enabled and total:
            from rich.progress import (BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)
            from rich.progress import Progress as Bar
            self.bar = Bar(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                           TimeRemainingColumn(), TextColumn("{task.description}"), console=console,
                           transient=False)
            self.task = self.bar.add_task("", total=total)
            self.bar.start()

    def advance(self, what: str):
        if self.bar:
            self.bar.update(self.task, advance=1, description=what)

    def stop(self):
        if self.bar:
            self.bar.stop()
            self.bar = None


def show(book: Book, console):
    from rich.markup import escape
    from rich.table import Table
    table = Table(title="score distribution per kata")
    for col in ("kata", "students", "100", "50–99", "1–49", "0", "missing", "ungraded", "mean"):
        table.add_column(col, justify="right" if col != "kata" else "left")
    for k in book.kata_ids:
        recs = [book.record(s, k) for s in book.students]
        scores = [r.score if isinstance(r, Graded) else 0.0 for r in recs if not isinstance(r, Ungraded)]
        missing = sum(isinstance(r, Refused) and r.missing for r in recs)
        ungraded = sum(isinstance(r, Ungraded) for r in recs)
        buckets = [sum(s == 100 for s in scores), sum(50 <= s < 100 for s in scores),
                   sum(0 < s < 50 for s in scores), sum(s == 0 for s in scores)]
        mean = sum(scores) / len(scores) if scores else 0
        table.add_row(k, str(len(recs)), *map(str, buckets), str(missing), str(ungraded), f"{mean:.1f}")
    console.print(table)
    flagged = []
    for row in book.rows():
        load_errors = [k for k in book.kata_ids if isinstance(r := book.record(row.student, k), Graded)
                       and r.report.get("error")]
        if row.flags or load_errors:
            flagged.append((row.student, "; ".join(row.flags), ", ".join(load_errors)))
    if flagged:
        t2 = Table(title="students with errors or flags")
        for col in ("student", "flags", "load errors"):
            t2.add_column(col)
        for cells in flagged:
            t2.add_row(*map(escape, cells))
        console.print(t2)
    bad = book.ungraded()
    if bad:
        console.print(f"[red bold]{len(bad)} (student, kata) pair{'s' if len(bad) > 1 else ''} could not be "
                      "graded[/] (the engine failed, not the students; errors in grades.json; run the "
                      "same command again to retry them):")
        for u in bad:
            console.print(f"  [red]ungraded[/] {escape(u.student)}/{escape(u.kata)}: {escape(u.summary)}",
                          highlight=False)
