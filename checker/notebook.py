"""The Jupyter extension: `%load_ext checker`, then a cell

    %%kata check lca
    def lowest_common_ancestor(root, p, q):
        ...

checks the cell's source as the attempt and shows the report as HTML. The check runs in a
separate process, which runs the attempt in its own worker as always: the notebook's kernel
never imports the attempt, nor the hidden suite or the reference (a kernel that held them would
hand the solution to the notebook). That process is a warm checker (`kata serve NAME`, the
machinery of `kata watch`) kept per kata between cells, so a re-check costs the properties' own
work; other options after the kata's name (`--seed 3` is served) go to a one-off
`kata check --json`. The report's data is left in the notebook as `kata_report`.
"""
from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from checker.report import PropertyResult, Report, render

USAGE = "usage: %%kata check NAME [--seed N]  (the cell below the line is your attempt)"


def report_from_json(data: dict) -> Report:
    """A Report rebuilt from `kata check --json` output, for rendering."""
    props = []
    for p in data["properties"]:
        ce = p.get("counterexample") or {}
        props.append(PropertyResult(
            p["name"], p["weight"], p.get("description", ""), p["status"], p.get("message", ""),
            input=ce.get("input"), expected=ce.get("expected"), got=ce.get("got"),
            seconds=p.get("seconds", 0.0), call=ce.get("call")))
    return Report(kata=data["kata"], seed=data["seed"], attempt=data.get("attempt", ""),
                  properties=props, error=data.get("error"), flags=data.get("flags", []),
                  seconds=data.get("seconds", 0.0), version=data.get("version", ""),
                  diagnosis=data.get("diagnosis", []))


def to_html(report: Report) -> str:
    from rich.console import Console
    console = Console(record=True, width=110, file=io.StringIO(), force_jupyter=False,
                      color_system="truecolor", highlight=False)
    render(report, console)
    return console.export_html(inline_styles=True, code_format="<pre style=\"{stylesheet}\">{code}</pre>")


_servers: dict[str, subprocess.Popen] = {}   # kata id -> its warm `kata serve` process


def _served(name, path, seed):
    """The report from the kata's warm server (started on first use), or None if it is gone."""
    proc = _servers.get(name)
    if proc is None or proc.poll() is not None:
        proc = subprocess.Popen([sys.executable, "-m", "checker", "serve", name], text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        _servers[name] = proc
    try:
        proc.stdin.write(json.dumps({"file": str(path), "seed": seed}) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
    except (BrokenPipeError, OSError):
        line = ""
    if not line:
        _servers.pop(name, None)
        return None
    data = json.loads(line)
    return None if "error" in data else data


def _seed_only(options):
    """The --seed of `%%kata check NAME --seed N`, if that is the only option (else "other")."""
    if not options:
        return None
    if len(options) == 2 and options[0] == "--seed" and options[1].isdigit():
        return int(options[1])
    return "other"


def run_check(name: str, source: str, options=()) -> tuple[dict | None, str]:
    """(the JSON report or None, error text) of `kata check NAME` on `source`, out of process."""
    with tempfile.TemporaryDirectory(prefix="kata-cell-") as tmp:
        path = Path(tmp) / f"{name}.py"
        path.write_text(source)
        seed = _seed_only(list(options))
        if seed != "other" and name.isidentifier():
            data = _served(name, path, seed)
            if data is not None:
                return data, ""
        done = subprocess.run([sys.executable, "-m", "checker", "check", name, "--file", str(path),
                               "--json", *options], capture_output=True, text=True, cwd=tmp)
    if done.returncode in (0, 1):
        try:
            return json.loads(done.stdout), ""
        except ValueError:
            pass
    return None, (done.stderr or done.stdout).strip() or f"kata check exited with {done.returncode}"


def kata_magic(line: str, cell: str | None = None):
    from IPython import get_ipython
    from IPython.display import HTML, display
    words = shlex.split(line)
    if cell is None or len(words) < 2 or words[0] != "check":
        print(USAGE, file=sys.stderr)
        return
    data, error = run_check(words[1], cell, words[2:])
    if data is None:
        display(HTML(f"<pre style='color:#b00'>{_escape(error)}</pre>"))
        return
    ip = get_ipython()
    if ip is not None:
        ip.user_ns["kata_report"] = data
    display(HTML(to_html(report_from_json(data))))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def load(ipython):
    ipython.register_magic_function(kata_magic, magic_kind="line_cell", magic_name="kata")
