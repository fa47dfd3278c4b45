"""Mutants: plausible wrong attempts, declared as edits of a kata's reference solution.

    solutions/<id>/mutants.toml

    [[mutant]]
    name = "strict_tie_drops"                  # unique in the kata
    mistake = "compares with >= and loses equal values"   # one line, in a learner's words
    killed_by = ["merges"]                     # properties that must fail for it
    edits = [{ old = "a > b", new = "a >= b" }]   # applied in order to reference.py

    [[mutant]]
    name = "insertion_sort"                    # a genuine rewrite stays a whole file
    mistake = "sorts by insertion: right values, quadratic time"
    killed_by = ["linear_time"]
    file = "mutants/insertion_sort.py"

    [[mutant]]
    name = "insertion_sort_tracer_off"         # a variant of another mutant: its edits apply
    mistake = "sorts by insertion and switches the line counter off"   # to that mutant's source
    killed_by = ["linear_time"]
    base = "insertion_sort"
    edits = [{ old = "def merge(", new = "import sys\nsys.settrace(None)\n\n\ndef merge(" }]

Each `old` must occur exactly once in the text it is applied to, so an edit that no longer fits
the reference fails loudly (MutantError) instead of silently producing a different attempt.
Mutants are materialised checker-side; the worker only ever sees the resulting file, like any
attempt.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYS = {"name", "mistake", "killed_by", "edits", "file", "base"}


class MutantError(Exception):
    """A mutant that cannot be built as declared; the message names the kata and the mutant."""


@dataclass(frozen=True)
class Edit:
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    name: str
    mistake: str
    killed_by: tuple[str, ...]
    edits: tuple[Edit, ...] = ()
    file: str | None = None        # relative to solutions/<id>/, for a whole-file rewrite
    base: str | None = None        # the mutant whose source the edits apply to (else the reference)

    @property
    def is_rewrite(self) -> bool:
        return self.file is not None


@dataclass
class Manifest:
    path: Path
    mutants: list[Mutant] = field(default_factory=list)


def manifest_path(kata) -> Path:
    return kata.solutions / "mutants.toml"


def load_mutants(kata) -> list[Mutant]:
    """The kata's mutants in file order; MutantError for a malformed manifest."""
    path = manifest_path(kata)
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise MutantError(f"{path}: {exc}") from None
    entries = data.get("mutant", [])
    if set(data) - {"mutant"} or not isinstance(entries, list):
        raise MutantError(f"{path}: only [[mutant]] tables belong here")
    out, seen = [], set()
    for i, entry in enumerate(entries, 1):
        out.append(_parse(path, i, entry, seen))
    _check_bases(path, out)
    return out


def _check_bases(path, mutants):
    """Every `base` names a mutant of the same manifest, and no chain of bases loops."""
    by_name = {m.name: m for m in mutants}
    for m in mutants:
        chain, at = [m.name], m
        while at.base is not None:
            if at.base not in by_name:
                raise MutantError(f"{path}: mutant '{at.name}': its base '{at.base}' is not a mutant here")
            at = by_name[at.base]
            if at.name in chain:
                raise MutantError(f"{path}: mutant '{m.name}': its bases loop ({' -> '.join(chain + [at.name])})")
            chain.append(at.name)


def _parse(path, i, entry, seen) -> Mutant:
    where = f"{path}: mutant #{i}"
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise MutantError(f"{where}: `name` must be an identifier")
    where = f"{path}: mutant '{name}'"
    if name in seen:
        raise MutantError(f"{where}: the name is used twice")
    seen.add(name)
    unknown = set(entry) - _KEYS
    if unknown:
        raise MutantError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    mistake = entry.get("mistake")
    if not isinstance(mistake, str) or not mistake.strip() or "\n" in mistake.strip():
        raise MutantError(f"{where}: `mistake` must be one line saying what is wrong")
    killed_by = entry.get("killed_by")
    if not isinstance(killed_by, list) or not killed_by or not all(isinstance(p, str) for p in killed_by):
        raise MutantError(f"{where}: `killed_by` must list the properties that fail for it")
    edits, file, base = entry.get("edits"), entry.get("file"), entry.get("base")
    if (edits is None) == (file is None):
        raise MutantError(f"{where}: give either `edits` or `file`")
    if base is not None and (file is not None or not isinstance(base, str) or base == name):
        raise MutantError(f"{where}: `base` names another mutant, and goes with `edits`")
    if file is not None:
        if not isinstance(file, str) or Path(file).is_absolute() or ".." in Path(file).parts:
            raise MutantError(f"{where}: `file` must be a path inside solutions/<id>/")
        return Mutant(name, mistake.strip(), tuple(killed_by), file=file)
    if not isinstance(edits, list) or not edits:
        raise MutantError(f"{where}: `edits` must be a non-empty list of {{old, new}}")
    parsed = []
    for e in edits:
        if not isinstance(e, dict) or set(e) != {"old", "new"} or not all(isinstance(v, str) for v in e.values()):
            raise MutantError(f"{where}: each edit is {{ old = \"...\", new = \"...\" }}")
        if not e["old"]:
            raise MutantError(f"{where}: an edit's `old` text is empty")
        parsed.append(Edit(e["old"], e["new"]))
    return Mutant(name, mistake.strip(), tuple(killed_by), edits=tuple(parsed), base=base)


def apply_edits(text: str, edits, *, where: str = "", onto: str = "the reference") -> str:
    """Apply edits in order; each `old` must occur exactly once in the text at that point."""
    for n, edit in enumerate(edits, 1):
        count = text.count(edit.old)
        if count != 1:
            found = "does not occur" if count == 0 else f"occurs {count} times"
            first = edit.old.strip().splitlines()[0] if edit.old.strip() else edit.old
            raise MutantError(f"{where}edit {n}: its `old` text {found} in {onto} "
                              f"(first line: {first!r})")
        text = text.replace(edit.old, edit.new)
    return text


def materialise(kata, mutant: Mutant) -> str:
    """The mutant's source code."""
    if mutant.is_rewrite:
        path = kata.solutions / mutant.file
        if not path.is_file():
            raise MutantError(f"{kata.id} mutant '{mutant.name}': no file {path}")
        return path.read_text()
    if mutant.base is None:
        source, onto = kata.reference.read_text(), "the reference"
    else:  # load_mutants has checked that the base exists and that bases do not loop
        base = next(m for m in load_mutants(kata) if m.name == mutant.base)
        source, onto = materialise(kata, base), f"mutant '{base.name}'"
    return apply_edits(source, mutant.edits, where=f"{kata.id} mutant '{mutant.name}': ", onto=onto)


def diff(kata, mutant: Mutant) -> str:
    """The mutant as a unified diff against the reference (what `kata validate --show` prints)."""
    ref = kata.reference.read_text().splitlines(keepends=True)
    new = materialise(kata, mutant).splitlines(keepends=True)
    return "".join(difflib.unified_diff(ref, new, "reference.py", f"{mutant.name}.py"))


def write_attempt(kata, mutant: Mutant, folder: Path) -> Path:
    """Materialise the mutant into `folder` (outside solutions/, which attempts cannot read)."""
    path = Path(folder) / f"{kata.id}.py"
    path.write_text(materialise(kata, mutant))
    return path


def stray_files(kata, mutants) -> list[Path]:
    """Mutant files no manifest entry names (a mutant that would silently stop being checked)."""
    named = {(kata.solutions / m.file).resolve() for m in mutants if m.is_rewrite}
    folder = kata.solutions / "mutants"
    files = sorted(folder.glob("*.py")) if folder.is_dir() else []
    return [p for p in files if p.resolve() not in named]


def alternatives(kata) -> list[Path]:
    """Correct attempts written differently from the reference: each must score 100."""
    folder = kata.solutions / "alternatives"
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_")) if folder.is_dir() else []
