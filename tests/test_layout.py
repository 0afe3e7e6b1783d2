"""The package's shape: one import name, every module importable on its own, no import cycles,
and the rule that storage never imports the crawler or the command line."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Repository folder -> the package it installs as (pyproject.toml, [tool.setuptools] package-dir).
FOLDERS = {
    "palimpsest": "palimpsest",
    "crawler": "palimpsest.crawler",
    "storage": "palimpsest.storage",
    "migrations": "palimpsest.migrations",
    "newsroom": "palimpsest.newsroom",
}
# Scripts that a tool runs, not modules to import: alembic's environment and revisions, and
# the ``python -m`` entry points (importing them would run them).
NOT_IMPORTABLE = ("palimpsest.migrations.env", "palimpsest.migrations.versions.", ".__main__")


def project_modules() -> dict[str, Path]:
    modules = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Every import of a project module by a project module, at the top or inside a function.

    Importing ``a.b.c`` runs ``a/b/__init__.py`` first, so the target's packages count too,
    except those that enclose the importing module (they are loaded already by then)."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in modules:
                        targets.add(f"{node.module}.{alias.name}")
                    elif node.module in modules:
                        targets.add(node.module)
        enclosing = {name.rsplit(".", depth)[0] for depth in range(1, name.count(".") + 1)} | {name}
        for target in targets:
            parts = target.split(".")
            for end in range(1, len(parts) + 1):
                package = ".".join(parts[:end])
                if package in modules and package not in enclosing:
                    graph[name].add(package)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle():
    """The finder itself, on a made-up graph with one cycle."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_project_modules():
    assert cycles(import_graph(project_modules())) == []


def test_storage_never_imports_the_crawler_or_the_command_line():
    """Storage stands alone: only its own modules, and the migration scripts' folder."""
    graph = import_graph(project_modules())
    offenders = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("palimpsest.storage")
        for target in targets
        if not target.startswith(("palimpsest.storage", "palimpsest.migrations")) and target != "palimpsest"
    }
    assert offenders == set()


def test_the_crawler_never_imports_the_command_line_or_the_web_view():
    graph = import_graph(project_modules())
    offenders = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("palimpsest.crawler")
        for target in targets
        if target.startswith(("palimpsest.cli", "palimpsest.web", "palimpsest.archive", "palimpsest.captures"))
    }
    assert offenders == set()


def test_every_module_imports_on_its_own():
    """Each module in a fresh interpreter state: a forked child per module, after the parent
    loaded only third-party libraries, so no module leans on another having been imported."""
    names = [name for name in project_modules() if not any(part in name for part in NOT_IMPORTABLE)]
    script = """
import os, sys, importlib
import scrapy, twisted, sqlalchemy, alembic, lxml.html, trafilatura, warcio, flask  # third-party only
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException as exc:
            print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        failed.append(name)
print("\\n".join(failed))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, *names], capture_output=True, text=True, timeout=600, cwd="/"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", result.stderr
    assert len(names) > 60  # the walk found the package, not an empty folder


@pytest.mark.parametrize("name", ["crawler", "storage", "migrations", "newsroom"])
def test_the_mandated_folders_are_not_top_level_names(name):
    """Run outside the checkout: only ``palimpsest`` is importable, never ``storage`` & co."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr
