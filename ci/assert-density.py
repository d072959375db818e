#!/usr/bin/env python3
"""Assertion density of zzz's non-test code, per module, and the loops that lack a bound.

    python3 ci/assert-density.py [ROOT]          # a table per module, and the totals
    python3 ci/assert-density.py --loops [ROOT]  # every `loop`/`while` without a stated bound

Counts, per module (a file, or a directory's files together), the lines of code (not blank,
not comments) outside tests (`tests/` directories, `tests.rs`, `#[cfg(test)]` items) and the
assertions among them: `assert!`, `assert_eq!`, `assert_ne!`, their `debug_` forms, and
`const _: () = assert!(..)` layout checks. Density is assertions per 100 lines.

A loop counts as bounded when it is a `for` over a finite range or slice, or when its
`loop`/`while` line (or the comment block right above it) carries a `// Bounded:` comment naming its budget
variable AND the loop body asserts or errors on that budget; `--loops` lists the `loop` and
`while` lines without the `Bounded:` marker, for review.
"""

import os
import re
import sys

ASSERT = re.compile(r"\b(debug_)?assert(_eq|_ne)?!")
LOOP = re.compile(r"^\s*(?:'[a-z_]+:\s*)?(loop\s*\{|while\s)")


def strip_tests(text):
    """The text without `#[cfg(test)]` items (brace-matched)."""
    out = []
    i = 0
    while True:
        j = text.find("#[cfg(test)]", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        k = j + len("#[cfg(test)]")
        # The item ends at the matching brace of its first `{`, or at a `;` before any brace.
        depth = 0
        while k < len(text):
            c = text[k]
            if c == ";" and depth == 0:
                k += 1
                break
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    k += 1
                    break
            k += 1
        i = k


def code_lines(text):
    lines = []
    in_block = False
    for line in text.splitlines():
        s = line.strip()
        if in_block:
            if "*/" in s:
                in_block = False
            continue
        if s.startswith("/*"):
            in_block = "*/" not in s
            continue
        if not s or s.startswith("//"):
            continue
        lines.append(line)
    return lines


def module_of(path, root):
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    # crate/src/a/b.rs -> crate::a ; crate/src/a.rs -> crate::a ; crate/src/lib.rs -> crate
    crate = parts[0]
    inner = parts[2:] if len(parts) > 2 and parts[1] == "src" else parts[1:]
    if len(inner) >= 2:
        return f"{crate}::{inner[0]}"
    name = inner[0].removesuffix(".rs")
    return crate if name in ("lib", "main") else f"{crate}::{name}"


def files(root):
    for crate in ("core", "backend-uring"):
        base = os.path.join(root, crate, "src")
        for dirpath, _, names in os.walk(base):
            if f"{os.sep}tests" in dirpath[len(base):]:
                continue
            for name in sorted(names):
                if name.endswith(".rs") and name != "tests.rs":
                    yield os.path.join(dirpath, name)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), "..")
    root = os.path.abspath(root)
    if "--loops" in sys.argv:
        for path in files(root):
            lines = strip_tests(open(path).read()).splitlines()
            for n, line in enumerate(lines):
                if LOOP.match(line):
                    # The marker is on the loop's line or in the comment block right above.
                    above = n - 1
                    marked = "Bounded:" in line
                    while above >= 0 and not marked:
                        prev = lines[above].strip()
                        if not (prev.startswith("//") or prev.startswith("let mut budget")):
                            break
                        marked = "Bounded:" in prev
                        above -= 1
                    if not marked:
                        print(f"{os.path.relpath(path, root)}: {line.strip()}")
        return
    table = {}
    for path in files(root):
        code = code_lines(strip_tests(open(path).read()))
        asserts = sum(len(ASSERT.findall(line)) for line in code)
        m = module_of(path, root)
        lines, count = table.get(m, (0, 0))
        table[m] = (lines + len(code), count + asserts)
    print("| module | code lines | asserts | per 100 lines |")
    print("|---|--:|--:|--:|")
    total_lines = total_asserts = 0
    for m in sorted(table):
        lines, count = table[m]
        total_lines += lines
        total_asserts += count
        print(f"| {m} | {lines} | {count} | {100 * count / max(lines, 1):.2f} |")
    print(f"| **all** | {total_lines} | {total_asserts} | {100 * total_asserts / max(total_lines, 1):.2f} |")


main()
