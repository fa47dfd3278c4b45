"""Shared fixtures: a tiny kata root (tests/fixtures/root) and attempt files for each fault."""
from pathlib import Path

import pytest

from checker import runner
from checker.catalog import Catalog

FIXTURES = Path(__file__).parent / "fixtures"
ATTEMPTS = FIXTURES / "attempts"


@pytest.fixture(scope="session")
def catalog():
    return Catalog(FIXTURES / "root")


@pytest.fixture(scope="session")
def toy(catalog):
    return catalog.get("toy")


@pytest.fixture
def check(catalog, toy):
    """check(name_or_path, seed=1) -> Report, for an attempt in fixtures/attempts."""
    def run(name, seed=1, **kw):
        path = Path(name) if "/" in str(name) else ATTEMPTS / f"{name}.py"
        return runner.check(catalog, toy, path, seed=seed, **kw)
    return run


def by_name(report):
    return {p.name: p for p in report.properties}
