"""The engine's shape: no import cycle in checker/ (lazy imports inside functions count too),
no file over 400 lines."""
import ast
from pathlib import Path

CHECKER = Path(__file__).resolve().parents[2] / "checker"


def _modules():
    mods = {}
    for p in CHECKER.rglob("*.py"):
        parts = p.relative_to(CHECKER.parent).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return mods


def _imports(name, path, known):
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            # `from pkg import submodule` needs the submodule; `from pkg import name`, the package.
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return {m for m in found if m in known and m != name}


def import_graph():
    mods = _modules()
    return {name: _imports(name, path, mods) for name, path in mods.items()}


def cycles(graph):
    found, done = [], set()

    def visit(node, stack):
        for dep in sorted(graph[node]):
            if dep in stack:
                found.append(stack[stack.index(dep):] + [dep])
            elif dep not in done:
                visit(dep, stack + [dep])
        done.add(node)
    for node in sorted(graph):
        if node not in done:
            visit(node, [node])
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_checker_has_no_import_cycle():
    graph = import_graph()
    assert "checker.runner" in graph and "checker.proxy" in graph["checker.runner"]
    assert cycles(graph) == []


def test_no_file_in_checker_is_over_400_lines():
    long = {str(p.relative_to(CHECKER)): n for p in CHECKER.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
