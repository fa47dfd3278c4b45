"""Finding katas and reading their metadata. Knows the folder format, never a particular kata.

    katas/<id>/kata.toml   metadata: title, difficulty, topics, forbidden APIs, limits, hints
    katas/<id>/spec.md     what the learner reads
    katas/<id>/stub.py     the starting point copied by `kata start`
    katas/<id>/suite.py    the hidden properties (checker side only)
    katas/<id>/harness.py  optional worker-side glue (builds inputs the attempt needs, e.g. trees)
    solutions/<id>/reference.py, solutions/<id>/mutants.toml (checker.mutants), alternatives/*.py
"""
from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DIFFICULTIES = ("easy", "medium", "hard")


class KataError(Exception):
    """A problem the user can fix (unknown kata, broken metadata); shown without a traceback."""


@dataclass
class Limits:
    call_timeout: float = 10.0      # seconds for one call into the attempt
    property_timeout: float = 60.0  # seconds for one property, all its examples together
    load_timeout: float = 20.0      # seconds to import the attempt (after the preloads)
    memory_mb: int = 2048           # address-space cap of the worker


@dataclass
class Kata:
    id: str
    title: str
    difficulty: str
    topics: list[str]
    folder: Path
    solutions: Path
    forbidden: list[str] = field(default_factory=list)
    preload: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)

    @property
    def spec(self) -> Path:
        return self.folder / "spec.md"

    @property
    def stub(self) -> Path:
        return self.folder / "stub.py"

    @property
    def suite(self) -> Path:
        return self.folder / "suite.py"

    @property
    def harness(self) -> Path | None:
        h = self.folder / "harness.py"
        return h if h.exists() else None

    @property
    def reference(self) -> Path:
        return self.solutions / "reference.py"

    @property
    def filename(self) -> str:
        """The attempt's file name in a workspace or a class submission folder."""
        return f"{self.id}.py"

    def version(self) -> str:
        """A hash of what decides a verdict: suite, harness, reference and metadata."""
        h = hashlib.sha256()
        for p in (self.folder / "kata.toml", self.suite, self.harness, self.reference):
            if p is not None and p.exists():
                h.update(p.read_bytes())
        return h.hexdigest()[:12]


class Catalog:
    def __init__(self, root: Path | str | None = None):
        root = Path(root or os.environ.get("KATA_ROOT") or PACKAGE_ROOT)
        self.root = root.resolve()
        self.katas_dir = self.root / "katas"
        self.solutions_dir = self.root / "solutions"
        self._katas: dict[str, Kata] | None = None

    def all(self) -> list[Kata]:
        if self._katas is None:
            found = {}
            for meta in sorted(self.katas_dir.glob("*/kata.toml")):
                kata = self._load(meta)
                found[kata.id] = kata
            order = self.order()
            rank = {kid: i for i, kid in enumerate(order)}
            self._katas = dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(order)), kv[0])))
        return list(self._katas.values())

    def order(self) -> list[str]:
        """Kata ids in catalogue order, from katas/order.toml (the one place it is written)."""
        path = self.katas_dir / "order.toml"
        if not path.exists():
            return []
        try:
            order = tomllib.loads(path.read_text()).get("order", [])
        except tomllib.TOMLDecodeError as exc:
            raise KataError(f"{path}: {exc}") from None
        if not isinstance(order, list) or not all(isinstance(x, str) for x in order):
            raise KataError(f"{path}: `order` must be a list of kata ids")
        return order

    def unordered(self) -> list[str]:
        """Katas that katas/order.toml does not list (an authoring mistake `kata validate` reports)."""
        listed = set(self.order())
        return [k.id for k in self.all() if k.id not in listed]

    def get(self, name: str) -> Kata:
        katas = {k.id: k for k in self.all()}
        if name in katas:
            return katas[name]
        close = difflib.get_close_matches(name, list(katas), n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise KataError(f"no kata named '{name}'.{hint} (`kata list` shows them all)")

    def secret_paths(self) -> list[str]:
        """Files an attempt must not read: reference solutions and hidden suites (and their bytecode)."""
        paths = [str(self.solutions_dir)]
        for d in self.katas_dir.iterdir():
            # Only kata folders hold a suite; katas/_shared's bytecode stays readable (and cached).
            if (d / "suite.py").exists():
                paths += [str(d / "suite.py"), str(d / "__pycache__")]
        return paths

    def _load(self, meta: Path) -> Kata:
        folder = meta.parent
        try:
            data = tomllib.loads(meta.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise KataError(f"{meta}: {exc}") from None
        kid = data.get("id", folder.name)
        if kid != folder.name:
            raise KataError(f"{meta}: id '{kid}' does not match its folder '{folder.name}'")
        missing = [k for k in ("title", "difficulty") if k not in data]
        if missing:
            raise KataError(f"{meta}: missing {', '.join(missing)}")
        if data["difficulty"] not in DIFFICULTIES:
            raise KataError(f"{meta}: difficulty must be one of {', '.join(DIFFICULTIES)}")
        limits = Limits(**data.get("limits", {}))
        return Kata(id=kid, title=data["title"], difficulty=data["difficulty"],
                    topics=list(data.get("topics", [])), folder=folder,
                    solutions=self.solutions_dir / kid, forbidden=list(data.get("forbidden", [])),
                    preload=list(data.get("preload", [])), hints=list(data.get("hints", [])),
                    limits=limits)
