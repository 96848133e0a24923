"""The layout's rules, checked by reading the source (no module is imported):

* imports run one way: no cycle among the modules of ``ganmodels`` (nor of ``demo``/``serving``),
  counting imports inside functions too;
* ``ganmodels`` never imports ``gradio``, ``demo`` or ``serving``;
* ``argparse`` and ``SystemExit`` appear only in the command-line modules;
* nothing under ``ganmodels/``, ``demo/`` or ``serving/`` points at ``../shared``;
* no ``sys.path.insert`` anywhere (the project is installed in place, see pyproject.toml).

Each checker is also run on a small tree the test writes with the fault in it, so that a checker
that stopped finding anything would fail here.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ganmodels", "demo", "serving")
# the only modules that may parse arguments or exit the process
CLI_MODULES = {"ganmodels.__main__", "ganmodels.train", "ganmodels.evaluate"}
CLI_PACKAGE = "ganmodels.cli"
FORBIDDEN_IN_GANMODELS = ("gradio", "demo", "serving")


def modules(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted module name → file, for every .py under the given packages."""
    out = {}
    for pkg in packages:
        for f in sorted((root / pkg).rglob("*.py")):
            parts = list(f.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, top level or inside functions.

    ``from a.b import c`` counts as importing ``a.b.c`` when that is a module, else ``a.b``;
    relative imports are resolved against the importing module's package.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[:len(base) - node.level + (1 if is_pkg else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                full = f"{mod}.{a.name}"
                out.append((full if full in known else mod, node.lineno))
    return out


def import_graph(root: Path, packages=PACKAGES) -> tuple[dict[str, set[str]], dict]:
    mods = modules(root, packages)
    known = set(mods)
    graph, where = {}, {}
    for name, path in mods.items():
        edges = set()
        for target, line in imports(name, path, known):
            # importing a.b.c runs a/__init__ and a/b/__init__ too
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                t = ".".join(parts[:i])
                if t in known and t != name and not name.startswith(t + "."):
                    edges.add(t)
                    where.setdefault((name, t), line)
        graph[name] = edges
    return graph, where


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def forbidden_imports(root: Path) -> list[str]:
    mods = modules(root, ("ganmodels",))
    bad = []
    for name, path in mods.items():
        for target, line in imports(name, path, set(mods)):
            if target.split(".")[0] in FORBIDDEN_IN_GANMODELS:
                bad.append(f"{path.relative_to(root)}:{line} imports {target}")
    return bad


def cli_only_violations(root: Path) -> list[str]:
    """argparse imported, or SystemExit named, outside the command-line modules."""
    bad = []
    for name, path in modules(root, ("ganmodels",)).items():
        if name in CLI_MODULES or name == CLI_PACKAGE or name.startswith(CLI_PACKAGE + "."):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "argparse" for a in node.names):
                bad.append(f"{path.relative_to(root)}:{node.lineno} imports argparse")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "argparse":
                bad.append(f"{path.relative_to(root)}:{node.lineno} imports argparse")
            elif isinstance(node, ast.Name) and node.id == "SystemExit":
                bad.append(f"{path.relative_to(root)}:{node.lineno} uses SystemExit")
    return bad


def text_violations(root: Path, needles=("../shared", '"shared"', "'shared'"), packages=PACKAGES) -> list[str]:
    bad = []
    for pkg in packages:
        for f in sorted((root / pkg).rglob("*.py")):
            for i, line in enumerate(f.read_text().splitlines(), 1):
                if any(n in line for n in needles):
                    bad.append(f"{f.relative_to(root)}:{i}: {line.strip()}")
    return bad


def sys_path_inserts(root: Path) -> list[str]:
    bad = []
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root)
        if rel.parts[0].startswith(".") or rel.parts[0] in ("runs", "build"):
            continue
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if "sys.path.insert" in line and rel != Path("tests/test_layout.py"):
                bad.append(f"{rel}:{i}")
    return bad


# ------------------------------------------------------------------ the project


def test_no_import_cycle():
    graph, where = import_graph(ROOT)
    found = cycles(graph)
    detail = [" → ".join(c) + "  (" + ", ".join(f"{a}:{where[(a, b)]}→{b}" for a in c for b in graph[a] if b in c)
              + ")" for c in found]
    assert not found, "import cycles:\n" + "\n".join(detail)


def test_ganmodels_never_imports_the_ui():
    assert not forbidden_imports(ROOT), "\n".join(forbidden_imports(ROOT))


def test_argparse_and_systemexit_only_in_the_cli():
    bad = cli_only_violations(ROOT)
    assert not bad, "library code that parses arguments or exits the process:\n" + "\n".join(bad)


def test_nothing_points_at_the_shared_data_folder():
    bad = text_violations(ROOT)
    assert not bad, "data locations come from flags (--data-dir), not ../shared:\n" + "\n".join(bad)


def test_no_sys_path_insert():
    assert not sys_path_inserts(ROOT), "\n".join(sys_path_inserts(ROOT))


# ------------------------------------------------------------------ the checkers find real faults


@pytest.fixture
def faulty(tmp_path):
    """A tree with one of each fault the checkers look for."""
    def write(rel, text):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    write("ganmodels/__init__.py", "")
    write("ganmodels/models/__init__.py", "")
    write("ganmodels/models/a.py", "from ganmodels.models import b\n")
    write("ganmodels/models/b.py", "def f():\n    from ganmodels.models import c\n")   # inside a function
    write("ganmodels/models/c.py", "from . import a\n")                                   # relative
    write("ganmodels/models/d.py", "import argparse\nimport gradio as gr\n"
                                   "def f():\n    raise SystemExit('no')\n")
    write("ganmodels/cli/__init__.py", "")
    write("ganmodels/cli/main.py", "import argparse\nraise SystemExit(0)\n")
    write("demo/__init__.py", "")
    write("demo/tab.py", "DATA = '../shared'\n")
    write("serving/__init__.py", "")
    write("bench/x.py", "import sys\nsys.path.insert(0, '..')\n")
    return tmp_path


def test_checkers_find_the_faults(faulty):
    graph, _ = import_graph(faulty)
    assert cycles(graph) == [["ganmodels.models.a", "ganmodels.models.b", "ganmodels.models.c"]]
    assert forbidden_imports(faulty) == ["ganmodels/models/d.py:2 imports gradio"]
    assert cli_only_violations(faulty) == ["ganmodels/models/d.py:1 imports argparse",
                                           "ganmodels/models/d.py:4 uses SystemExit"]
    assert text_violations(faulty) == ["demo/tab.py:1: DATA = '../shared'"]
    assert sys_path_inserts(faulty) == ["bench/x.py:2"]


def test_checkers_pass_a_clean_tree(tmp_path):
    (tmp_path / "ganmodels").mkdir()
    (tmp_path / "ganmodels" / "__init__.py").write_text("")
    (tmp_path / "ganmodels" / "a.py").write_text("from ganmodels import b\n")
    (tmp_path / "ganmodels" / "b.py").write_text("import numpy\n")
    graph, _ = import_graph(tmp_path, ("ganmodels",))
    assert graph == {"ganmodels": set(), "ganmodels.a": {"ganmodels.b"}, "ganmodels.b": set()}
    assert cycles(graph) == [] and forbidden_imports(tmp_path) == [] and cli_only_violations(tmp_path) == []
