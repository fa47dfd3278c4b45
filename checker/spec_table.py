"""The "Scored properties" table of a kata's spec.md, generated from its suite.

The suite's `@prop`s are the one place a property's name, weight and meaning are written; the
spec shows them as a table under the heading "## Scored properties". `kata validate` fails when
the table differs from the suite, and `kata validate --fix-spec` rewrites it.
"""
from __future__ import annotations

HEADING = "## Scored properties"


def generate(props) -> list[str]:
    rows = ["| property | weight | meaning |", "|---|---|---|"]
    for p in props:
        meaning = p.description.rstrip(".").replace("|", "\\|")
        rows.append(f"| `{p.name}` | {p.weight:g} | {meaning} |")
    return rows


def _locate(lines: list[str]) -> tuple[int, int] | None:
    """(start, end) of the table under the heading; start = end when the section has none."""
    try:
        h = next(i for i, ln in enumerate(lines) if ln.strip() == HEADING)
    except StopIteration:
        return None
    i = h + 1
    while i < len(lines) and not lines[i].startswith("|") and not lines[i].startswith("#"):
        i += 1
    if i >= len(lines) or lines[i].startswith("#"):
        return h + 1, h + 1
    j = i
    while j < len(lines) and lines[j].startswith("|"):
        j += 1
    return i, j


def _props(kata):
    from checker.runner import suite_properties
    return suite_properties(kata)


def mismatch(kata) -> str | None:
    """None when spec.md's table is the generated one, else what is wrong (one line)."""
    lines = kata.spec.read_text().splitlines()
    where = _locate(lines)
    if where is None:
        return f"spec.md has no '{HEADING}' section (run `kata validate {kata.id} --fix-spec`)"
    if lines[where[0]:where[1]] != generate(_props(kata)):
        return f"spec.md's property table differs from the suite (run `kata validate {kata.id} --fix-spec`)"
    return None


def write(kata) -> bool:
    """Rewrite the table (adding the section at the end if missing). True if the file changed."""
    text = kata.spec.read_text()
    lines = text.splitlines()
    table = generate(_props(kata))
    where = _locate(lines)
    if where is None:
        lines += ["", HEADING, "", *table]
    else:
        start, end = where
        if start == end:
            table = ["", *table, ""] if start < len(lines) else ["", *table]
        lines[start:end] = table
    new = "\n".join(lines) + "\n"
    if new != text:
        kata.spec.write_text(new)
    return new != text
