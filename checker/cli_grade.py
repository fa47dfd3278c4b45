"""`kata grade`, `kata grade-merge` and `kata gradescope ...`: the instructor's commands.

Registered by checker/commands.py. Exit codes of `kata grade`: 0 every pair graded (whatever the
scores), 1 some pairs could not be graded (the engine failed on them; listed, retried by the next
run), 2 a usage error (missing folder, bad --shard, unknown kata) or a kata's reference below 100
in the grading sandbox (the canary: nothing is graded), 130 interrupted. Errors are one clear
line (the canary adds the engine's traceback), never the grader's own traceback.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from checker.cli import UsageError, _console, main


def _split(text):
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _root(ctx):
    return str(ctx.obj["catalog"].root)


@main.command()
@click.argument("submissions", type=click.Path(file_okay=False, path_type=Path))
@click.option("--katas", default=None, help="Comma-separated kata ids (default: every kata).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("grades"),
              show_default=True, help="Output folder (gradebook, grades.json, feedback, journal).")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Checks run in parallel (one sandbox slot each).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True,
              help="Grading seed; the same seed gives the same grades.")
@click.option("--shard", default=None, help="Grade only shard i of N (i/N), e.g. for a CI matrix.")
@click.option("--hide-details", default="", help="Properties shown by name only in feedback: "
              "comma-separated `kata.prop`, `prop` or `kata.*`.")
@click.option("--fresh", is_flag=True, help="Ignore the journal in --out and grade everything again.")
@click.option("--uid-base", type=int, default=61000, show_default=True,
              help="As root: slot i runs attempts as uid UID_BASE+i (must be unused uids).")
@click.option("--hidden-until", metavar="YYYY-MM-DD", default=None,
              help="--hide-details applies until this day; grading again on or after it (nothing "
                   "is re-run) writes the full feedback.")
@click.option("--similarity-threshold", type=float, default=0.8, show_default=True,
              help="Pairs of submissions this similar or more are flagged similar:<other>.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write JUnit XML (one testsuite per kata, one testcase per property).")
@click.option("--canvas-csv", "canvas", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a gradebook CSV that Canvas imports (one assignment per kata).")
@click.option("--no-progress", is_flag=True, help="No progress bar (logs).")
@click.pass_context
def grade(ctx, submissions, katas, out, jobs, seed, shard, hide_details, fresh, uid_base, hidden_until,
          similarity_threshold, junit, canvas, no_progress):
    """Grade a class: SUBMISSIONS/<student>/<kata>.py, each check in an isolated sandbox.

    Interrupted runs resume: finished (student, kata) pairs whose file did not change are kept.
    """
    from checker import grading as g
    from checker.grading import summary
    console = _console()
    try:
        opts = g.Options(submissions=submissions, out=out, katas=_split(katas) or None, seed=seed,
                         jobs=jobs, shard=g.parse_shard(shard), hide=_split(hide_details),
                         root=_root(ctx), uid_base=uid_base, fresh=fresh, progress=not no_progress,
                         hidden_until=hidden_until, similarity_threshold=similarity_threshold,
                         junit=junit, canvas=canvas)
        result = g.run(opts, console)
    except g.CanaryFailed as exc:
        _canary_failed(console, exc)
    except g.GradeError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        kept = (out / ".state" / "journal.jsonl").exists()
        console.print("\n[yellow]Interrupted.[/] " + (f"Finished checks are kept in {out}/.state; run the same "
                      "command again to resume." if kept else "Nothing was graded yet."), highlight=False)
        sys.exit(130)
    summary.show(result.book, console)
    console.print(f"{len(result.students)} students, {result.graded} checks graded, {result.reused} "
                  f"reused from the journal, {len(result.ungraded)} ungraded, {result.wall:.1f} s. "
                  f"Isolation: {result.isolation}.", highlight=False)
    extra = "".join(f", {p}" for p in (junit, canvas) if p)
    console.print(f"Outputs in {result.out}: gradebook.csv, grades.json, feedback/, report.html, "
                  f"similarity.csv, timings.csv{extra}", highlight=False)
    if result.ungraded:
        sys.exit(1)


def _canary_failed(console, exc):
    from rich.markup import escape
    first, _, rest = str(exc).partition("\n")
    console.print(f"[red bold]kata grade stopped:[/] {escape(first)}", highlight=False)
    if rest.strip():
        console.print(escape(rest.rstrip()), highlight=False)
    console.print("Fix the environment (or the kata) and run the same command again.", highlight=False)
    sys.exit(2)


@main.command("grade-merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the merged gradebook.")
def grade_merge(shards, out):
    """Combine the --out folders of `kata grade --shard i/N` runs into one gradebook."""
    from checker import grading as g
    from checker.grading import summary
    try:
        book = g.merge(out.resolve(), [Path(s).resolve() for s in shards])
    except g.GradeError as exc:
        raise UsageError(str(exc)) from None
    summary.show(book, _console())
    click.echo(f"merged {len(shards)} shards, {len(book.students)} students into {out}")
    if book.ungraded():
        sys.exit(1)


@main.group()
def gradescope():
    """Run as a Gradescope autograder, or build the autograder bundle."""


@gradescope.command("run")
@click.option("--submission", type=click.Path(path_type=Path), default=Path("/autograder/submission"),
              show_default=True, help="Folder holding the student's <kata>.py files.")
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("/autograder/results/results.json"), show_default=True)
@click.option("--katas", default=None, help="Comma-separated kata ids (default: from --config, else all).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="kata_autograder.json written by `kata gradescope bundle`.")
@click.option("--seed", type=int, default=None)
@click.option("--hide-details", default=None)
@click.pass_context
def gradescope_run(ctx, submission, results, katas, config, seed, hide_details):
    """Grade one submission and write Gradescope's results.json."""
    from checker import gradescope as gs
    from checker.grading import GradeError
    try:
        cfg = gs.load_config(config)
        if katas:
            cfg["katas"] = _split(katas)
        if seed is not None:
            cfg["seed"] = seed
        if hide_details is not None:
            cfg["hide"] = _split(hide_details)
        data = gs.run(submission, results, cfg, root=_root(ctx))
    except GradeError as exc:
        raise UsageError(str(exc)) from None
    if "score" not in data:  # an internal error: no score at all rather than one that blames the student
        click.echo(f"internal error: the submission could not be graded -> {results}", err=True)
        sys.exit(3)
    click.echo(f"score {data['score']:g} / {sum(t['max_score'] for t in data['tests']):g} -> {results}")


@gradescope.command("bundle")
@click.option("--katas", required=True, help="Comma-separated kata ids to include.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--hide-details", default="", help="Properties shown by name only (as --hide-details of grade).")
@click.option("--details-after-due-date", is_flag=True,
              help="Hidden properties show their names before the due date and their details after it.")
@click.pass_context
def gradescope_bundle(ctx, katas, out, seed, hide_details, details_after_due_date):
    """Build the Gradescope autograder zip (setup.sh, run_autograder, the engine, the chosen katas)."""
    from checker import gradescope as gs
    from checker.grading import GradeError
    try:
        names = gs.bundle(out, _split(katas), seed=seed, hide=_split(hide_details), root=_root(ctx),
                          hidden_visibility="after_due_date" if details_after_due_date else "after_published")
    except GradeError as exc:
        raise UsageError(str(exc)) from None
    click.echo(f"wrote {out} with {len(names)} files; upload it as the autograder of the assignment")


@main.group()
def prairielearn():
    """PrairieLearn external grader mode (see docs/grading.md)."""


@prairielearn.command("run")
@click.option("--job", type=click.Path(file_okay=False, path_type=Path), default=Path("/grade"),
              show_default=True, help="PrairieLearn's job folder: student/ in, results/results.json out.")
@click.option("--katas", required=True, help="Comma-separated kata ids the question grades.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--hide-details", default="", help="Properties shown by name only.")
@click.pass_context
def prairielearn_run(ctx, job, katas, seed, hide_details):
    """Grade /grade/student and write /grade/results/results.json."""
    from checker import prairielearn as pl
    from checker.grading import GradeError
    try:
        data = pl.run(job, _split(katas), seed=seed, hide=_split(hide_details), root=_root(ctx))
    except GradeError as exc:
        raise UsageError(str(exc)) from None
    if not data["gradable"]:
        click.echo(f"internal error: the submission could not be graded -> {job}/results/results.json", err=True)
        sys.exit(3)
    click.echo(f"score {data['score']:g} -> {job}/results/results.json")
