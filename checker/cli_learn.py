"""The learner's loop beyond check: `kata next`, `kata watch`, `kata solution`.

Registered by checker/commands.py; imports checker.cli, never the other way round.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from checker.cli import UsageError, _catalog, _console, _kata, kata_command, main


@main.command("next")
@click.pass_context
def next_cmd(ctx):
    """Start (or resume) the first kata, in catalogue order, that you have not solved."""
    ws = ctx.obj["workspace"]
    kata = ws.next_kata(_catalog(ctx).all())
    if kata is None:
        click.echo("Every kata is solved. Well done! `kata solution NAME` shows how the reference "
                   "does it and the mistakes the suites catch.")
        return
    path = ws.attempt(kata)
    if path.exists():
        click.echo(f"Next: {kata.id} — {kata.title} ({ws.status(kata)}). Your attempt is {path}.")
    else:
        path = ws.start(kata, False)
        click.echo(f"Next: {kata.id} — {kata.title}. Started it: edit {path}.")
    click.echo(f"Read the task with `kata show {kata.id}`, then `kata check {kata.id}` "
               f"(or `kata watch` to check on every save).")


@main.command()
@click.argument("name", required=False)
@click.option("--file", "file_", type=click.Path(dir_okay=False), default=None,
              help="Watch this file instead of the workspace attempt.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None,
              help="Use this seed for every check (default: a new one each time).")
@click.option("--max-checks", type=click.IntRange(1), default=None, hidden=True,
              help="Stop after this many checks (tests, benchmarks).")
@click.pass_context
def watch(ctx, name, file_, seed, max_checks):
    """Check your attempt again every time you save it (default: the kata last started or checked)."""
    from checker.watch import Loop, WarmChecker
    ws = ctx.obj["workspace"]
    name = name or ws.last_kata()
    if name is None:
        raise UsageError("which kata? Give its name (`kata watch lca`) or `kata start` one first.")
    kata = _kata(ctx, name)
    path = Path(file_).resolve() if file_ else ws.attempt(kata)
    if not path.is_file():
        hint = "" if file_ else f" Run `kata start {kata.id}` first."
        raise UsageError(f"no attempt at {path}.{hint}")
    import faulthandler
    import signal
    try:
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: where is it stuck
    except (ValueError, AttributeError, OSError):
        pass  # stderr is not a real file (click.testing)
    console = _console()
    console.print(f"[dim]warming up the checker for {kata.id}…[/]")
    warm = None
    try:
        warm = WarmChecker(ctx.obj["catalog"], kata, hide=[ws.meta])
        record = None if file_ else (lambda report: ws.record(kata.id, report.score))
        Loop(warm, path, console, seed=seed, database=ws.database(), record=record).run(
            max_checks=max_checks)
    except KeyboardInterrupt:
        pass
    finally:
        timer = _exit_if_stuck(console, seconds=10)
        if warm is not None:
            warm.close()
        timer.cancel()
    console.print("\nStopped watching.")


def _exit_if_stuck(console, seconds):
    """After Ctrl-C, a call still in flight must not keep the terminal: if cleaning up takes
    longer than `seconds`, leave anyway (the zygote dies with this process, PR_SET_PDEATHSIG)."""
    import os
    import threading

    def leave():
        console.print("\nStopped watching (a call was still running; it was abandoned).")
        os._exit(130)
    timer = threading.Timer(seconds, leave)
    timer.daemon = True
    timer.start()
    return timer


@kata_command()
@click.option("--force", is_flag=True, help="Show it before solving (recorded in your workspace).")
def solution(ctx, kata, force):
    """After you solve a kata: the reference solution and the gallery of mistakes the suite catches."""
    from checker.gallery import render_solution
    ws = ctx.obj["workspace"]
    if not ws.solved(kata.id):
        if not force:
            raise UsageError(f"{kata.id} is not solved yet ({ws.status(kata)}): the solution opens "
                             f"once `kata check {kata.id}` scores 100. `--force` shows it anyway "
                             "(and notes in your workspace that you looked).")
        ws.note_solution_forced(kata.id)
    render_solution(kata, _console())
    sys.exit(0)


@kata_command(hidden=True)
def serve(ctx, kata):
    """For the notebook extension: a warm checker answering JSON lines on stdin/stdout.

    Each request is {"file": PATH, "seed": N or null}; each answer is the report's JSON (as
    `kata check --json`) on one line, or {"error": text}. Ends at end of input."""
    import json
    from checker.watch import WarmChecker
    warm = WarmChecker(ctx.obj["catalog"], kata)
    try:
        for line in sys.stdin:
            try:
                req = json.loads(line)
                report = warm.check(Path(req["file"]), seed=req.get("seed"))
                answer = report.to_json()
            except Exception as exc:  # noqa: BLE001 - one bad request must not end the server
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        warm.close()
