"""Every file a grading run writes from its Book: the tables of outputs.py and the class report."""
from __future__ import annotations

from pathlib import Path

from checker.grading.class_report import write_report_html
from checker.grading.outputs import WRITERS, Book

ALL = (*WRITERS, write_report_html)


def write_all(out: Path, book: Book, writers=ALL):
    for write in writers:
        write(out, book)
