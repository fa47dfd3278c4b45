"""The `kata` program: the command group of checker.cli with every command module registered.

Command modules import checker.cli (never the other way round), so checker/ has no import
cycle; a new group of commands is one more import line here.
"""
from checker import cli_grade  # noqa: F401  kata grade, grade-merge, gradescope
from checker import cli_learn  # noqa: F401  kata next, watch, solution
from checker.cli import main

__all__ = ["main"]
