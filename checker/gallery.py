"""`kata solution NAME`: the reference solution, then the gallery of mistakes the suite catches.

Each mistake is a mutant (solutions/<id>/mutants.toml, read by checker.mutants): its one line,
the properties that catch it and its diff against the reference. Shown only after the kata is
solved (the command checks the workspace), so the mutants' code never helps an unsolved attempt.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Mistake:
    name: str
    mistake: str
    killed_by: list = field(default_factory=list)
    diff: str = ""


def mistakes(kata) -> list[Mistake]:
    """The kata's mutants as gallery entries, in the manifest's order."""
    from checker.mutants import diff, load_mutants
    return [Mistake(m.name, m.mistake, list(m.killed_by), diff(kata, m)) for m in load_mutants(kata)]


def render_solution(kata, console) -> None:
    from rich.markup import escape
    from rich.rule import Rule
    from rich.syntax import Syntax

    console.print(Rule(f"{kata.id}: the reference solution"))
    console.print(Syntax(kata.reference.read_text(), "python", line_numbers=False, word_wrap=True))
    gallery = mistakes(kata)
    console.print(Rule(f"the mistakes the suite catches ({len(gallery)})"))
    for i, m in enumerate(gallery, 1):
        caught = ", ".join(m.killed_by) if m.killed_by else "see `kata validate`"
        console.print(f"\n[bold]{i}. {escape(m.mistake)}[/]  [dim]({escape(m.name)}; caught by "
                      f"{escape(caught)})[/]")
        if m.diff:
            console.print(Syntax(m.diff, "diff", word_wrap=True))
