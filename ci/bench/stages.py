#!/usr/bin/env python3
"""Instructions per request by stage, from callgrind profiles of zzz's bench example.

    python3 ci/bench/stages.py NAME=PROFILE:REQUESTS [NAME=PROFILE:REQUESTS ...]

Each PROFILE is a callgrind output file of a server that answered REQUESTS requests while it
was recorded (ci/bench/stages.sh makes them). Prints a Markdown table: one row per stage, one
column per profile (instructions per request), and the ratio of the last column to the first.

Callgrind charges inlined code to the source file it came from, inside the symbol it was
inlined into; a stage is therefore recognised by the file (zzz's own sources), and, for code
from the standard library or another crate, by the symbol it ran in. Standard library only.
"""

import re
import subprocess
import sys

# (stage, source-file patterns, symbol patterns, broad source-file patterns). A line goes to
# the first stage whose source-file patterns match its file; failing that, to the first whose
# symbol patterns match the symbol it ran in (standard library code inlined into the parser
# is parsing); failing that, to the first whose broad patterns match its file.
STAGES = [
    ("parse the request head", [r"core/src/http/parse/"], [r"HeadParser"], []),
    ("route", [r"core/src/router/"], [r"zzz_core::router"], []),
    (
        "handler and response writing",
        [
            r"core/src/http/response/",
            r"core/src/handler\.rs",
            r"core/src/http/(date|status)\.rs",
            r"apps/src/",
            r"/itoa-",
        ],
        [r"ResponseWriter", r"header_field", r"zzz_apps::", r"handler::"],
        [],
    ),
    (
        "HTTP/1.1 exchange (request life cycle, queueing the answer)",
        [r"core/src/http1/"],
        [r"zzz_core::http1", r"zzz_core::http::"],
        [r"core/src/http/"],
    ),
    (
        "server layer (slots, buffers, timers, operations)",
        [r"core/src/server/", r"core/src/(timer|pool|stats)\.rs"],
        [r"zzz_core::server", r"zzz_core::timer", r"zzz_core::pool"],
        [],
    ),
    (
        "io_uring loop (zzz-uring, io-uring crate)",
        [r"backend-uring/", r"/io-uring-"],
        [r"zzz_uring", r"io_uring"],
        [],
    ),
    ("memcpy and memmove (libc)", [r"/string/", r"memmove|memcpy"], [r"memmove|memcpy"], []),
]
OTHER = "other (std, libc, start-up)"


def stage_of(path, symbol):
    for subject, patterns in ((path, 1), (symbol, 2), (path, 3)):
        for stage in STAGES:
            if any(re.search(p, subject) for p in stage[patterns]):
                return stage[0]
    return OTHER


def self_costs(profile):
    """(path, symbol, instructions) for every row of the profile's self costs."""
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no", profile],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows, total = [], None
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*?):(\S.*?)(?: \[.*\])?$", line)
        t = re.match(r"\s*([\d,]+) \(.*\)\s+PROGRAM TOTALS", line)
        if t:
            total = int(t.group(1).replace(",", ""))
        elif m:
            rows.append((m.group(2), m.group(3), int(m.group(1).replace(",", ""))))
    # A profile zeroed while the loop ran (callgrind_control -z) shows each function that was
    # on the stack then (the thread's start, down to the loop) with the whole total as its own
    # cost; those rows are the total again, not work of their own.
    return [r for r in rows if r[2] != total]


def main():
    columns = []
    for arg in sys.argv[1:]:
        name, _, rest = arg.partition("=")
        profile, _, requests = rest.rpartition(":")
        if not (name and profile and requests.isdigit() and int(requests) > 0):
            sys.exit("usage: stages.py NAME=PROFILE:REQUESTS ...")
        per_stage = {}
        for path, symbol, ir in self_costs(profile):
            stage = stage_of(path, symbol)
            per_stage[stage] = per_stage.get(stage, 0) + ir
        columns.append((name, {k: v / int(requests) for k, v in per_stage.items()}))
    if not columns:
        sys.exit("usage: stages.py NAME=PROFILE:REQUESTS ...")
    names = [stage[0] for stage in STAGES] + [OTHER]
    first, last = columns[0], columns[-1]
    change = len(columns) > 1
    head = " | ".join(f"{n} instr/req" for n, _ in columns)
    print(f"| stage | {head} |" + (f" {last[0]}/{first[0]} |" if change else ""))
    print("|---|" + "--:|" * len(columns) + ("--:|" if change else ""))
    for stage in names + ["total"]:
        values = [
            sum(c.values()) if stage == "total" else c.get(stage, 0.0) for _, c in columns
        ]
        if stage != "total" and not any(v >= 0.5 for v in values):
            continue
        label = f"**{stage}**" if stage == "total" else stage
        figures = " | ".join(f"{v:,.0f}" for v in values)
        ratio = f" {values[-1] / values[0]:.2f} |" if change and values[0] else (" – |" if change else "")
        print(f"| {label} | {figures} |{ratio}")


if __name__ == "__main__":
    main()
