"""The Jupyter extension with a real kernel (nbclient runs a notebook on this Python)."""
import nbformat
from nbclient import NotebookClient

from tests.conftest import FIXTURES

WRONG = "def total(xs):\n    return sum(xs) + 1\n\n\ndef add(a, b):\n    return a + b\n"


def _run(tmp_path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def _html(cell):
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def test_cell_magic_checks_the_cell_in_a_worker_and_renders_html(tmp_path, monkeypatch):
    monkeypatch.setenv("KATA_ROOT", str(FIXTURES / "root"))
    nb = _run(tmp_path, "%load_ext checker",
              "%%kata check toy --seed 1\n" + WRONG,
              "import sys\n"
              "print(kata_report['score'], 'total' in dir(), any(m.startswith('kata_reference') "
              "or m.startswith('kata_suite') or m == 'toy' for m in sys.modules))")
    html = _html(nb.cells[1])
    assert "<pre" in html and "Score:" in html and "totals" in html and "input" in html
    # The report came back; the kernel defines no attempt function and never loaded the
    # attempt, the suite or the reference.
    assert nb.cells[2].outputs[0]["text"].split() == ["25.0", "False", "False"]


def test_a_passing_cell_scores_100_and_bad_usage_says_how(tmp_path, monkeypatch):
    monkeypatch.setenv("KATA_ROOT", str(FIXTURES / "root"))
    right = "def total(xs):\n    return sum(xs)\n\n\ndef add(a, b):\n    return a + b\n"
    nb = _run(tmp_path, "%load_ext checker", "%%kata check toy\n" + right, "%%kata\nx = 1",
              "%%kata check nosuchkata\nx = 1")
    assert "Score: 100/100" in _html(nb.cells[1])
    assert "usage: %%kata check NAME" in "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert "no kata named" in _html(nb.cells[3])


def test_cells_of_one_kata_share_a_warm_checker_process(tmp_path, monkeypatch):
    monkeypatch.setenv("KATA_ROOT", str(FIXTURES / "root"))
    pid = "import checker.notebook as n\nprint(n._servers['toy'].pid)"
    nb = _run(tmp_path, "%load_ext checker", "%%kata check toy --seed 2\n" + WRONG, pid,
              "%%kata check toy\n" + WRONG, pid)
    assert "Score:" in _html(nb.cells[1]) and "Score:" in _html(nb.cells[3])
    assert nb.cells[2].outputs[0]["text"] == nb.cells[4].outputs[0]["text"]
