"""The README's facts that can be derived are derived: its kata table is `kata list --markdown`."""
from pathlib import Path

from click.testing import CliRunner

from checker.commands import main

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_kata_table_is_the_generated_one():
    r = CliRunner().invoke(main, ["list", "--markdown"])
    assert r.exit_code == 0, r.output
    table = r.output.strip()
    assert table in README.read_text(), (
        "README.md's kata table differs from the catalogue: paste the output of `kata list --markdown`")
