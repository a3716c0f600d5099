#!/usr/bin/env python3
"""Every test suite has a time limit, so a hang fails one suite instead of stalling CI.

A top-level type in Tests/ that holds an @Test must be declared with
@Suite(.timeLimit(...)), or @Suite(.exclusive(timeLimit: ...)) whose limit starts once the test
runs alone, on the lines just above it. Prints each offender; exit 1 if any.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

TYPE = re.compile(r"^(?:public |final |private |fileprivate |internal )*(struct|class|enum|actor|extension)\s+(\w+)")


def strip_attributes(line: str) -> tuple[str, str]:
    """(the attributes written before the declaration on this line, the rest)."""
    rest = line
    while rest.startswith("@"):
        i, depth = 1, 0
        while i < len(rest) and (depth > 0 or rest[i] not in " \t"):
            depth += {"(": 1, ")": -1}.get(rest[i], 0)
            i += 1
        rest = rest[i:].lstrip()
    return line[: len(line) - len(rest)], rest


def offenders(path: Path) -> list[str]:
    """`file:line: Name` for each top-level type with tests but no suite time limit."""
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if TYPE.match(strip_attributes(line)[1])]
    found = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        kind, name = TYPE.match(strip_attributes(lines[start])[1]).groups()
        # An extension's tests run in the suite its type declares (checked there).
        if kind == "extension" or not any("@Test" in line for line in lines[start + 1:end]):
            continue
        attributes = [strip_attributes(lines[start])[0]]
        i = start
        while i > 0 and lines[i - 1].startswith("@"):
            i -= 1
            attributes.append(lines[i])
        head = " ".join(attributes)
        if not re.search(r"@Suite\(.*(\.timeLimit\(|\.exclusive\(timeLimit:)", head):
            found.append(f"{path}:{start + 1}: {name}")
    return found


def main() -> int:
    root = Path(__file__).resolve().parent.parent / "Tests"
    bad = [o for path in sorted(root.rglob("*.swift")) for o in offenders(path)]
    for line in bad:
        print(f"{line} has tests but no @Suite(.timeLimit(...)) or @Suite(.exclusive(timeLimit: ...))")
    suites = sum(1 for path in root.rglob("*.swift") for line in path.read_text(encoding="utf-8").splitlines() if "@Suite(" in line)
    if bad:
        return 1
    print(f"test limits: {suites} suites, each with a time limit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
