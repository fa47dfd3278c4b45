"""The `kata` command line (click). Exit codes: 0 success, 1 a check below 100 or a failed
validation, 2 a usage error (unknown kata, missing file, bad option), 3 an internal error of the
checker (`kata check` gives no score then: the engine failed, not the attempt)."""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from checker import __version__
from checker.catalog import Catalog, KataError
from checker.workspace import Workspace, locate


class UsageError(click.UsageError):
    exit_code = 2


INTERNAL_ERROR = 3


def _console():
    from rich.console import Console
    # Piped output (CI logs, files) gets 120 columns instead of rich's 80, so rows stay on one line.
    width = None if sys.stdout.isatty() else 120
    return Console(highlight=False, soft_wrap=False, width=width)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", "-w", type=click.Path(file_okay=False), default=None,
              help="Folder for your attempts (default: $KATA_WORKSPACE, else ./kata-workspace).")
@click.option("--root", type=click.Path(exists=True, file_okay=False), default=None, hidden=True,
              help="Folder holding katas/ and solutions/ (default: the installed ones).")
@click.version_option(__version__, prog_name="kata")
@click.pass_context
def main(ctx, workspace, root):
    """Algorithm katas, checked by hidden property-based suites."""
    ctx.obj = {"catalog": Catalog(root), "workspace": Workspace(locate(workspace))}


def _kata(ctx, name):
    try:
        return ctx.obj["catalog"].get(name)
    except KataError as exc:
        raise UsageError(str(exc)) from None


def kata_command(**command_kw):
    """Register `kata CMD NAME [OPTIONS]`: the function (below its click options) is called as
    fn(ctx, kata, **options) with NAME looked up in the catalogue (unknown: a usage error)."""
    def register(fn):
        @functools.wraps(fn)
        def command(ctx, name, **options):
            return fn(ctx, _kata(ctx, name), **options)
        return main.command(**command_kw)(click.argument("name")(click.pass_context(command)))
    return register


@main.command("list")
@click.option("--markdown", is_flag=True,
              help="The catalogue as the README's Markdown table (properties and mutants counted).")
@click.pass_context
def list_cmd(ctx, markdown):
    """Every kata with its difficulty, topics and your progress."""
    from rich.table import Table
    if markdown:
        click.echo(_markdown_table(_catalog(ctx).all()))
        return
    ws = ctx.obj["workspace"]
    table = Table(title="katas")
    for col in ("id", "title", "difficulty", "topics", "status"):
        table.add_column(col)
    colours = {"solved": "green", "not started": "dim"}
    katas = _catalog(ctx).all()
    nxt = ws.next_kata(katas)
    for k in katas:
        status = ws.status(k)
        mark = "  [bold cyan]← next[/]" if nxt is not None and k.id == nxt.id else ""
        table.add_row(k.id, k.title, k.difficulty, ", ".join(k.topics),
                      f"[{colours.get(status, 'yellow')}]{status}[/]{mark}")
    _console().print(table)


def _markdown_table(katas) -> str:
    """The README's kata table, derived from the katas themselves (so it cannot drift)."""
    from checker.mutants import load_mutants
    from checker.runner import suite_properties
    rows = ["| kata | title | difficulty | topics | properties | mutants |", "|---|---|---|---|---|---|"]
    for k in katas:
        rows.append(f"| `{k.id}` | {k.title} | {k.difficulty} | {', '.join(k.topics)} | "
                    f"{len(suite_properties(k))} | {len(load_mutants(k))} |")
    return "\n".join(rows)


def _catalog(ctx):
    try:
        ctx.obj["catalog"].all()
    except KataError as exc:
        raise UsageError(str(exc)) from None
    return ctx.obj["catalog"]


@kata_command()
def show(ctx, kata):
    """Print a kata's spec."""
    from rich.markdown import Markdown
    _console().print(Markdown(kata.spec.read_text()))


@kata_command()
@click.option("--force", is_flag=True, help="Replace an existing attempt (the old one is kept as .py.bak).")
def start(ctx, kata, force):
    """Copy a kata's stub into your workspace."""
    ws = ctx.obj["workspace"]
    try:
        path = ws.start(kata, force)
    except FileExistsError as exc:
        raise UsageError(f"{exc} already exists; your work is untouched. "
                         "Use --force to start over (the old file is kept as .py.bak).") from None
    click.echo(f"Started {kata.id}: edit {path}\nRead the task with `kata show {kata.id}`, "
               f"then run `kata check {kata.id}`.")


@kata_command()
@click.option("--file", "file_", type=click.Path(dir_okay=False), default=None,
              help="Check this file instead of the workspace attempt.")
@click.option("--reference", is_flag=True, help="Check the reference solution (for authors).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Repeat a run exactly.")
@click.option("--repro", "repro_prop", default=None, metavar="PROP",
              help="Print a standalone script that reproduces PROP's failure.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="With --repro: write the script to this file instead.")
def check(ctx, kata, file_, reference, as_json, seed, repro_prop, out):
    """Run the hidden suite on your attempt and score it."""
    from checker import runner
    from checker.report import render
    ws = ctx.obj["workspace"]
    if reference and file_:
        raise UsageError("give either --file or --reference, not both")
    if reference:
        path, database = kata.reference, None
    else:
        path = Path(file_) if file_ else ws.attempt(kata)
        if not path.is_file():
            hint = "" if file_ else f" Run `kata start {kata.id}` first."
            raise UsageError(f"no attempt at {path}.{hint}")
        database = ws.database()
    if out and not repro_prop:
        raise UsageError("--out goes with --repro PROP")
    if repro_prop and repro_prop not in runner.property_names(kata):
        raise UsageError(f"{kata.id} has no property '{repro_prop}' "
                         f"(its properties: {', '.join(runner.property_names(kata))})")
    report = runner.check(ctx.obj["catalog"], kata, path, seed=seed, database=database,
                          repro=bool(as_json or repro_prop), only={repro_prop} if repro_prop else None)
    if not reference and not file_ and not repro_prop and report.graded:  # --repro: one property, no score
        ws.record(kata.id, report.score)
    if repro_prop:
        from checker.repro import emit
        sys.exit(emit(report, repro_prop, out, path))
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=1))
    else:
        render(report, _console())
        failed = [p.name for p in report.properties if p.status in ("fail", "error")]
        if failed and not report.error:
            click.echo(f"To replay a failure outside the checker: kata check {kata.id} "
                       f"--repro {failed[0]} --out repro.py")
    sys.exit(INTERNAL_ERROR if report.engine_error else 0 if report.passed else 1)


@kata_command()
def hint(ctx, kata):
    """Show the next hint for a kata (one more each time)."""
    if not kata.hints:
        click.echo(f"{kata.id} has no hints.")
        return
    i = ctx.obj["workspace"].next_hint(kata.id, len(kata.hints))
    click.echo(f"Hint {i + 1}/{len(kata.hints)} for {kata.id}:\n{kata.hints[i]}")


@main.command()
@click.argument("names", nargs=-1)
@click.option("--seeds", default="1,2,3", help="Seeds the reference must score 100 under.")
@click.option("--show", "show_", metavar="MUTANT", default=None,
              help="Print a mutant (or `all`) as a diff against the reference; runs nothing.")
@click.option("--mutant", "only", metavar="MUTANT", multiple=True,
              help="Check only these mutants (repeatable).")
@click.option("--fix-spec", is_flag=True, help="Rewrite spec.md's property tables from the suites.")
@click.pass_context
def validate(ctx, names, seeds, show_, only, fix_spec):
    """For authors and CI: reference and alternatives = 100, stub = 0, every mutant killed."""
    from checker.validate import validate_kata
    catalog = _catalog(ctx)
    katas = [_kata(ctx, n) for n in names] if names else catalog.all()
    if show_:
        _show_mutants(katas, show_)
        return
    if fix_spec:
        from checker import spec_table
        for kata in katas:
            if spec_table.write(kata):
                click.echo(f"rewrote the property table of {kata.spec}")
    try:
        seed_list = tuple(int(s) for s in seeds.split(","))
    except ValueError:
        raise UsageError("--seeds takes comma-separated integers, e.g. 1,2,3") from None
    console = _console()
    failed = 0

    def show_row(r):
        nonlocal failed
        failed += not r.ok
        mark = "[green]ok[/]" if r.ok else "[red bold]FAIL[/]"
        console.print(f"{mark:>22} {r.kata:<16} {r.subject:<34} {r.score:>5g} {r.rule:<9} "
                      f"[dim]{r.seconds:5.1f}s[/] {escape(r.note)}", soft_wrap=True)  # one greppable line

    from rich.markup import escape
    for kata in katas:
        validate_kata(catalog, kata, seed_list, on_row=show_row, only=set(only) or None)
    console.print(f"\n{'[green]all invariants hold' if not failed else f'[red]{failed} failed'}[/]")
    sys.exit(1 if failed else 0)


def _show_mutants(katas, which):
    from checker.mutants import MutantError, diff, load_mutants
    shown = 0
    for kata in katas:
        try:
            for m in load_mutants(kata):
                if which in ("all", m.name):
                    click.echo(f"# {kata.id} · {m.name}: {m.mistake}\n# killed by: {', '.join(m.killed_by)}"
                               + (f"\n# edits of mutant {m.base}" if m.base else ""))
                    click.echo(diff(kata, m))
                    shown += 1
        except MutantError as exc:
            raise UsageError(str(exc)) from None
    if not shown:
        raise UsageError(f"no mutant named '{which}' in {', '.join(k.id for k in katas)}")
