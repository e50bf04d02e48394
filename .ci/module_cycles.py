#!/usr/bin/env python3
"""Fails when sibling modules of a Rust crate import each other in a cycle.

Usage: module_cycles.py <crate src dir>...

For every directory, the modules declared there (`foo.rs`, `foo/mod.rs`) are nodes; an edge
A -> B is any path from A's files (and its submodules' files) to sibling B: `crate::B`,
`super::B` (from a child of the same parent), or `self::B`/`B::` from the parent file itself
is not counted (a parent wiring its children is not a dependency of a child on the parent).
References to the parent's own items (`super::Item`) are not edges either: only sibling
modules are nodes. A cycle among siblings is what this checks (issue #17). Test code is
not part of the layering: a module declared `#[cfg(test)] mod x;` is skipped, and so is
everything from a `#[cfg(test)]` to the end of a file (where this codebase keeps its tests).
"""

import re
import sys
from pathlib import Path

USE = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")


def module_files(name: str, directory: Path) -> list[Path]:
    """The files of module `name` declared in `directory`, with its submodules' files, less
    test-only submodules."""
    own = directory / f"{name}.rs"
    sub = directory / name
    files = [own] if own.is_file() else []
    if (sub / "mod.rs").is_file():
        files.append(sub / "mod.rs")
    if sub.is_dir():
        skipped = test_only(sub)
        for child in sorted(modules_in(sub)):
            if child not in skipped:
                files.extend(module_files(child, sub))
    return files


def modules_in(directory: Path) -> list[str]:
    """The names of the modules whose files sit in `directory`."""
    names = []
    for entry in sorted(directory.iterdir()):
        if entry.is_file() and entry.suffix == ".rs" and entry.stem not in ("mod", "lib", "main"):
            names.append(entry.stem)
        elif entry.is_dir() and (entry / "mod.rs").is_file() and not (directory / f"{entry.name}.rs").is_file():
            names.append(entry.name)
    return names


def module_path(file: Path, root: Path) -> list[str]:
    """`crate::a::b` segments of the module a file defines."""
    rel = file.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


TEST_MOD = re.compile(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;")


def strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def shipped(text: str) -> str:
    """The file without comments and without its trailing test code."""
    text = strip_comments(text)
    text = TEST_MOD.sub("", text)
    at = text.find("#[cfg(test)]")
    return text if at < 0 else text[:at]


def test_only(directory: Path) -> set[str]:
    """Modules the directory's parent file declares `#[cfg(test)] mod x;`."""
    names: set[str] = set()
    parents = [directory / "mod.rs", directory / "lib.rs", directory / "main.rs", directory.with_suffix(".rs")]
    for parent in parents:
        if parent.is_file():
            names.update(TEST_MOD.findall(strip_comments(parent.read_text())))
    return names


def targets(file: Path, root: Path) -> set[tuple[str, ...]]:
    """Absolute module paths (as tuples) a file refers to."""
    here = module_path(file, root)
    is_mod_file = file.stem in ("mod", "lib", "main")
    out = set()
    text = shipped(file.read_text())
    for m in USE.finditer(text):
        head, tail = m.group(1), [s for s in m.group(2).split("::") if s]
        if head == "crate":
            out.add(tuple(tail))
        else:
            # `super` is the parent of the module the file defines.
            base = here[:-1]
            while tail and tail[0] == "super":
                base, tail = base[:-1], tail[1:]
            out.add(tuple(base + tail))
        # Groups like `crate::{a, b::c}` are rare here; `use super::{x, y}` names items.
    for m in re.finditer(r"\b(?:crate|super)::\{([^}]*)\}", text):
        base = [] if m.group(0).startswith("crate") else here[:-1]
        for item in m.group(1).split(","):
            item = item.strip().split("::")
            if item and item[0]:
                out.add(tuple(base + item))
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (c := visit(m)):
                return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (c := visit(n)):
            return c
    return None


def check(root: Path) -> list[str]:
    problems = []
    dirs = [root] + sorted(d for d in root.rglob("*") if d.is_dir())
    for directory in dirs:
        skipped = test_only(directory)
        mods = {n: module_files(n, directory) for n in modules_in(directory) if n not in skipped}
        if len(mods) < 2:
            continue
        prefix = module_path(directory / "mod.rs", root)
        graph: dict[str, set[str]] = {name: set() for name in mods}
        for name, files in mods.items():
            for f in files:
                for t in targets(f, root):
                    if list(t[: len(prefix)]) == prefix and len(t) > len(prefix):
                        other = t[len(prefix)]
                        if other in mods and other != name:
                            graph[name].add(other)
        if cycle := find_cycle(graph):
            where = directory.relative_to(root.parent)
            problems.append(f"{where}: modules import each other in a cycle: {' -> '.join(cycle)}")
    return problems


def main() -> int:
    problems = [p for root in sys.argv[1:] for p in check(Path(root))]
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print("break the cycle: move what both need into a module both import (issue #17)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
