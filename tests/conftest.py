"""Shared fixtures: a tiny kata root (tests/fixtures/root), attempt files (fixtures/attempts) and
the hostile kinds (tests/hostile_kinds.py) made into toy attempts."""
from pathlib import Path

import pytest

from checker import runner
from checker.catalog import Catalog
from tests import hostile_kinds

FIXTURES = Path(__file__).parent / "fixtures"
ATTEMPTS = FIXTURES / "attempts"


@pytest.fixture(scope="session")
def catalog():
    return Catalog(FIXTURES / "root")


@pytest.fixture(scope="session")
def toy(catalog):
    return catalog.get("toy")


@pytest.fixture
def check(catalog, toy, tmp_path):
    """check(name_or_path, seed=1) -> Report, for an attempt in fixtures/attempts, or a hostile
    kind (its misbehaviour in total() only; add() stays right)."""
    def run(name, seed=1, **kw):
        if str(name) in hostile_kinds.KINDS:
            path = tmp_path / f"{name}.py"
            path.write_text(hostile_kinds.one_call(str(name), toy, "total"))
        else:
            path = Path(name) if "/" in str(name) else ATTEMPTS / f"{name}.py"
        return runner.check(catalog, toy, path, seed=seed, **kw)
    return run


def by_name(report):
    return {p.name: p for p in report.properties}


@pytest.fixture
def kata(tmp_path):
    """kata(*args) -> click Result: the CLI on the toy root with a fresh workspace."""
    from click.testing import CliRunner

    from checker.commands import main
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["--root", str(FIXTURES / "root"), "--workspace", str(tmp_path / "ws"), *args])
    return run
