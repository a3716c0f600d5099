#!/usr/bin/env python3
"""Checks that the layering Package.swift declares is the layering the code has.

For every source target (not tests): each module it imports must be a declared dependency,
and each declared target dependency must be imported somewhere (a dependency nothing uses is
an arrow that misleads). The README's "Layout" table lists each library target with the
targets it depends on; that column must match Package.swift too.

usage: scripts/check-layering.py   (from anywhere; exit 1 with the differences)
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Modules of the toolchain and the C library: not package dependencies (Testing: the shared
# test-support target defines swift-testing traits).
SYSTEM = {"Glibc", "Musl", "Darwin", "Foundation", "FoundationEssentials", "Synchronization", "Dispatch", "Testing"}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@_exported\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)


def declared(package: dict) -> dict[str, tuple[Path, set[str], set[str]]]:
    """target name -> (source dir, target dependencies, product dependencies)"""
    result = {}
    for target in package["targets"]:
        if target["type"] == "test":
            continue
        directory = ROOT / (target.get("path") or f"Sources/{target['name']}")
        targets, products = set(), set()
        for dependency in target["dependencies"]:
            kind, value = next(iter(dependency.items()))
            (products if kind == "product" else targets).add(value[0])
        result[target["name"]] = (directory, targets, products)
    return result


def imports(directory: Path) -> set[str]:
    found: set[str] = set()
    for source in directory.rglob("*.swift"):
        text = source.read_text(encoding="utf-8")
        text = re.sub(r'#*"""(?:.|\n)*?"""#*', "", text)  # multi-line strings (embedded scripts)
        found.update(IMPORT.findall(text))
    return found - SYSTEM


def readme_table() -> dict[str, set[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            table[cells[0].strip("`")] = set(re.findall(r"`([^`]+)`", cells[1]))
    return table


def main() -> int:
    dump = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True, capture_output=True, text=True)
    package = json.loads(dump.stdout)
    targets = declared(package)
    problems = []
    for name, (directory, target_deps, product_deps) in sorted(targets.items()):
        used = imports(directory)
        for module in sorted(used - target_deps - product_deps - {name}):
            problems.append(f"{name} imports {module}, which Package.swift does not list as its dependency")
        for module in sorted(target_deps - used):
            problems.append(f"{name} declares a dependency on {module} but never imports it")
    table = readme_table()
    for name, (directory, target_deps, _) in sorted(targets.items()):
        # The README describes the product's targets; test support and benchmarks are left out.
        if not directory.is_relative_to(ROOT / "Sources") or name.endswith("-bench"):
            continue
        if name not in table:
            problems.append(f"README's Layout table has no row for {name}")
        elif table[name] != target_deps:
            problems.append(f"README's Layout table says {name} depends on {sorted(table[name])}; Package.swift says {sorted(target_deps)}")
    for name in sorted(set(table) - set(targets)):
        problems.append(f"README's Layout table lists {name}, which is not a source target")
    if problems:
        print("\n".join(problems))
        return 1
    print(f"layering: {len(targets)} targets; imports, Package.swift and the README agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
