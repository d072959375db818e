#!/usr/bin/env python3
"""Turns one ci/bench/run.sh result directory into a Markdown report on stdout.

    python3 ci/bench/report.py ci/bench/results/<stamp>

Reads meta.env, runs.tsv (one line per measured wrk run), checks.tsv and the wrk outputs
beside them. Per cell (mode x connections) and server it reports the mean req/s of the runs
and their spread, requests per server CPU-second (all runs' requests over all runs' server
utime+stime), how busy the server's and wrk's CPUs were, the mean p50 and p99 latencies, the
highest peak RSS, the ratio to uring-limit, and any wrk errors. When zzz was measured, a second
table gives zzz / best peer and zzz / limit per cell; a "Latency" table sets zzz's p50 and p99
(and zzz-nowait's, when measured) beside the lowest of the peers'; "Where the server's CPU
goes" splits each server's CPU per request into user and kernel time (runs.tsv's kernel_ticks,
absent from older result directories). Runs whose wrk script counted answers by status
(ci/bench/notes-post.lua prints `status 201: N`) get a table of those shares. Standard library
only.
"""

import re
import sys
from collections import OrderedDict
from pathlib import Path

LIMIT = "uring-limit"
ZZZ = "zzz"
# Statuses a wrk script counts that are answers, not errors: 409, a full store (notes-post.lua).
EXPECTED_STATUSES = {409}
# What each mode requests, for the cell names and the report's introduction.
MODES = {
    "keepalive": ("keepalive", "keep-alive `GET /plaintext` (examples/bench.rs)"),
    "pipelined": ("pipelined", "pipelined `GET /plaintext`"),
    "home": ("GET / (home)", "`GET /`, the site's home page (examples/site.rs: an askama template with loops, 2.3 KiB)"),
    "note-get": ("GET /notes/{id}", "`GET /notes/{id}`, a note as JSON (examples/api.rs)"),
    "note-post": (
        "POST /notes (+DELETE)",
        "`POST /notes` with a JSON body (201, the note), each created note deleted again by "
        "`DELETE /notes/{id}` (204), about half the requests each (ci/bench/notes-post.lua)",
    ),
}
UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_wrk(text):
    """The figures of one wrk --latency output; raises ValueError if it has none."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    done = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b", text, re.M)
    if not rps or not done:
        raise ValueError("no Requests/sec in wrk output:\n" + text)
    percentiles = [
        (float(p), float(v) * UNIT_SECONDS[u])
        for p, v, u in re.findall(r"^\s*([\d.]+)%\s+([\d.]+)(us|ms|s|m|h)\b", text, re.M)
    ]
    p50 = next((v for p, v in percentiles if p == 50.0), None)
    p99 = next((v for p, v in percentiles if p == 99.0), None)
    # A percentile of 0 is wrk's sign of a broken histogram (samples added below the minimum
    # its percentile walk starts from): then none of them holds.
    if any(v == 0 for _, v in percentiles):
        p50 = p99 = None
    statuses = {int(k): int(v) for k, v in re.findall(r"^status (\d{3}): (\d+)$", text, re.M)}
    errors = {}
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    if sock:
        for name, value in zip(("connect", "read", "write", "timeout"), sock.groups()):
            if int(value):
                errors[name] = int(value)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx and int(non2xx.group(1)) and not statuses:
        errors["non-2xx"] = int(non2xx.group(1))
    # Counted by status: the answers the script expects (a 409 from a full store) are no error.
    for status, n in statuses.items():
        if status >= 400 and status not in EXPECTED_STATUSES:
            errors[str(status)] = n
    return {
        "rps": float(rps.group(1)),
        "requests": int(done.group(1)),
        "duration": float(done.group(2)) * UNIT_SECONDS[done.group(3)],
        "p50_ms": p50 * 1e3 if p50 is not None else None,
        "p99_ms": p99 * 1e3 if p99 is not None else None,
        "errors": errors,
        "statuses": statuses,
    }


def read_meta(path):
    meta, skipped = {}, []
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "skipped":
            skipped.append(value)
        else:
            meta[key] = value
    return meta, skipped


def read_runs(outdir, clk_tck):
    lines = (outdir / "runs.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    runs = []
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t")))
        run = parse_wrk((outdir / row["wrk_output"]).read_text())
        if row["mode"] == "pipelined":
            # wrk times a pipelined batch as one sample but its coordinated-omission
            # correction takes each response for one, so it fills the histogram with
            # samples at a 16 times too short interval: no percentile of it means anything.
            run["p50_ms"] = run["p99_ms"] = None
        run.update(
            server=row["server"],
            mode=row["mode"],
            conns=int(row["conns"]),
            cpu_seconds=int(row["cpu_ticks"]) / clk_tck,
            # Older result directories have no kernel column.
            kernel_seconds=int(row["kernel_ticks"]) / clk_tck if "kernel_ticks" in row else None,
            peak_rss_mib=int(row["peak_rss_kb"]) / 1024,
            wrk_cpu_seconds=float(row["wrk_cpu_s"]),
            cpus_task_seconds=int(row["cpus_task_busy"]) / clk_tck,
            cpus_seconds=int(row["cpus_total"]) / clk_tck,
        )
        runs.append(run)
    return runs


def summarize(runs):
    """One summary per (mode, conns, server), in the order first measured."""
    groups = OrderedDict()
    for run in runs:
        groups.setdefault((run["mode"], run["conns"], run["server"]), []).append(run)
    cells = OrderedDict()
    for (mode, conns, server), rs in groups.items():
        rps = [r["rps"] for r in rs]
        mean = sum(rps) / len(rps)
        cpu = sum(r["cpu_seconds"] for r in rs)
        kernel = None if any(r["kernel_seconds"] is None for r in rs) else sum(r["kernel_seconds"] for r in rs)
        requests = sum(r["requests"] for r in rs)
        wrk_cpu = sum(r["wrk_cpu_seconds"] for r in rs)
        cpus = sum(r["cpus_seconds"] for r in rs)
        other = sum(r["cpus_task_seconds"] for r in rs) - cpu - wrk_cpu
        duration = sum(r["duration"] for r in rs)
        p50s = [r["p50_ms"] for r in rs if r["p50_ms"] is not None]
        p99s = [r["p99_ms"] for r in rs if r["p99_ms"] is not None]
        errors, statuses = {}, {}
        for r in rs:
            for k, v in r["errors"].items():
                errors[k] = errors.get(k, 0) + v
            for k, v in r["statuses"].items():
                statuses[k] = statuses.get(k, 0) + v
        cells.setdefault((mode, conns), OrderedDict())[server] = {
            "rps": mean,
            "spread": (max(rps) - min(rps)) / mean if mean else 0.0,
            "runs": len(rs),
            "per_cpu_s": requests / cpu if cpu else None,
            "user_ns": (cpu - kernel) / requests * 1e9 if kernel is not None and requests else None,
            "kernel_ns": kernel / requests * 1e9 if kernel is not None and requests else None,
            "server_cpu": cpu / duration if duration else None,
            "client_cpu": wrk_cpu / duration if duration else None,
            "other_load": max(0.0, other) / cpus if cpus else None,
            "p50_ms": sum(p50s) / len(p50s) if p50s else None,
            "p99_ms": sum(p99s) / len(p99s) if p99s else None,
            "rss_mib": max(r["peak_rss_mib"] for r in rs),
            "errors": errors,
            "statuses": statuses,
            "each": [
                (r["rps"], r["requests"] / r["cpu_seconds"] if r["cpu_seconds"] else None)
                for r in rs
            ],
        }
    return cells


def per_round(servers):
    """zzz's req/CPU-s over the best peer's and over the limit's, round by round: run i of
    every server is round i. (None where a round lacks a peer or the limit.)"""
    z = servers.get(ZZZ)
    if not z:
        return []
    peers = [v for k, v in servers.items() if k != LIMIT and not is_zzz(k)]
    limit = servers.get(LIMIT)
    out = []
    for i, (_, eff) in enumerate(z["each"]):
        best = max((p["each"][i][1] or 0 for p in peers if i < len(p["each"])), default=0)
        at_limit = limit["each"][i][1] if limit and i < len(limit["each"]) else None
        out.append(
            (
                eff / best if eff and best else None,
                eff / at_limit if eff and at_limit else None,
            )
        )
    return out


def is_zzz(server):
    """zzz itself or one of its variants (zzz-direct, zzz-nowait, zzz-before)."""
    return server == ZZZ or server.startswith(ZZZ + "-")


def num(x):
    return "–" if x is None else f"{x:,.0f}"


def pct(x):
    return "–" if x is None else f"{100 * x:.0f}%"


def ms(x):
    if x is None:
        return "–"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def ratio(a, b):
    return "–" if a is None or not b else f"{a / b:.2f}"


def cell_name(mode, conns, depth):
    name = MODES.get(mode, (mode, ""))[0]
    return f"{name} x{depth}, c={conns}" if mode == "pipelined" else f"{name}, c={conns}"


def report(outdir):
    meta, skipped = read_meta(outdir / "meta.env")
    cells = summarize(read_runs(outdir, int(meta["clk_tck"])))
    depth = meta.get("depth", "16")
    out = []
    w = out.append
    modes = list(OrderedDict.fromkeys(mode for mode, _ in cells))
    has_limit = any(LIMIT in servers for servers in cells.values())
    limit_head = " vs limit |" if has_limit else ""
    plaintext = any(m in ("keepalive", "pipelined") for m in modes)
    pages = any(m not in ("keepalive", "pipelined") for m in modes)
    kind = " and ".join(k for k, on in (("plaintext", plaintext), ("pages", pages)) if on)
    w(f"# Benchmark ({kind or 'no cells'}), {meta.get('stamp', '?')} (zzz {meta.get('git', '?')})")
    w("")
    w(
        f"{meta.get('ncpu', '?')} CPUs ({meta.get('cpu_model', '?')}), Linux {meta.get('kernel', '?')}, "
        f"{meta.get('wrk', 'wrk')}. Each server runs {meta.get('threads', '1')} thread pinned to "
        f"CPU {meta.get('server_cpu', '?')}; wrk runs 1 thread pinned to CPU "
        f"{meta.get('client_cpu', '?')}. Per cell: {meta.get('warmup', '?')} s warm-up, then "
        f"{meta.get('runs', '?')} runs of {meta.get('seconds', '?')} s."
    )
    w("")
    w("Cells:")
    w("")
    for m in modes:
        what = MODES.get(m, (m, m))[1]
        if m == "pipelined":
            what += f", {depth} requests per write (ci/bench/pipeline.lua)"
        w(f"- {what}.")
    w("")
    w(
        "req/s: mean of the runs (spread = (max - min) / mean). req/CPU-s: requests served per "
        "second of server CPU time (utime + stime of its process). server CPU: that CPU time over "
        "the wall time; wrk CPU: the same for wrk (near 100% means wrk, not the server, may be "
        "the limit). other load: the share of the two CPUs' time that went to other processes "
        "(user + system time not the server's nor wrk's; interrupt time excluded): above a few "
        "per cent, something else ran on this machine and the req/s are suspect. p50, p99: "
        "means of the runs' latency percentiles; none for pipelined runs, where wrk "
        "times a batch as one sample but corrects its histogram as if each response were one, "
        "which voids its percentiles. peak RSS: highest VmHWM of the runs."
        + (f" vs limit: req/s over {LIMIT}'s." if has_limit else "")
    )
    w("")
    if int(meta.get("waited", "0")):
        w(
            f"Other processes were busy on this machine: the benchmark waited or redid runs for "
            f"{meta['waited']} s (BENCH_WAIT_BUDGET); see the other load column."
        )
        w("")
    for s in skipped:
        w(f"**Skipped:** {s}.")
        w("")
    w(
        "| cell | server | req/s | spread | req/CPU-s | server CPU | wrk CPU | other load "
        f"| p50 ms | p99 ms | peak RSS MiB |{limit_head} errors |"
    )
    w("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|" + ("--:|" if has_limit else "") + "---|")
    for (mode, conns), servers in cells.items():
        limit = servers.get(LIMIT)
        for server, c in servers.items():
            errors = ", ".join(f"{k} {v:,}" for k, v in c["errors"].items()) or "0"
            w(
                f"| {cell_name(mode, conns, depth)} | {server} | {num(c['rps'])} | "
                f"{pct(c['spread'])} | {num(c['per_cpu_s'])} | {pct(c['server_cpu'])} | "
                f"{pct(c['client_cpu'])} | {pct(c['other_load'])} | {ms(c['p50_ms'])} | "
                f"{ms(c['p99_ms'])} | {c['rss_mib']:.1f} | "
                + (f"{ratio(c['rps'], limit['rps'] if limit else None)} | " if has_limit else "")
                + f"{errors} |"
            )
    w("")

    counted = [(key, servers) for key, servers in cells.items() if any(c["statuses"] for c in servers.values())]
    if counted:
        codes = sorted({k for _, servers in counted for c in servers.values() for k in c["statuses"]})
        w("## Answers by status")
        w("")
        w(
            "Share of the answers with each status, as the wrk script counted them. A store "
            "holds 64 notes (zzz's notes API, and the peers as it): with more connections than "
            "twice that, some POSTs find it full and are answered 409 (problem details, after "
            "the body was read and checked), and the mix differs between servers."
        )
        w("")
        w("| cell | server | " + " | ".join(str(k) for k in codes) + " |")
        w("|---|---|" + "--:|" * len(codes))
        for (mode, conns), servers in counted:
            for server, c in servers.items():
                total = sum(c["statuses"].values())
                shares = " | ".join(pct(c["statuses"].get(k, 0) / total if total else None) for k in codes)
                w(f"| {cell_name(mode, conns, depth)} | {server} | {shares} |")
        w("")

    if any(ZZZ in servers for servers in cells.values()):
        w("## zzz against the peers")
        w("")
        w(
            "best peer: the best of the others, uring-limit excepted, by req/s for the req/s "
            "ratio and by req/CPU-s for the req/CPU-s ratio."
        )
        w("")
        w(
            "| cell | zzz req/s | best peer by req/s | zzz/best peer req/s | zzz req/CPU-s "
            "| best peer by req/CPU-s | zzz/best peer req/CPU-s |"
            + (" zzz/limit req/s | zzz/limit req/CPU-s |" if has_limit else "")
        )
        w("|---|--:|---|--:|--:|---|--:|" + ("--:|--:|" if has_limit else ""))
        for (mode, conns), servers in cells.items():
            z = servers.get(ZZZ)
            if not z:
                continue
            peers = {k: v for k, v in servers.items() if k != LIMIT and not is_zzz(k)}
            limit = servers.get(LIMIT)
            best = max(peers, key=lambda k: peers[k]["rps"]) if peers else None
            best_eff = max(peers, key=lambda k: peers[k]["per_cpu_s"] or 0) if peers else None
            w(
                f"| {cell_name(mode, conns, depth)} | {num(z['rps'])} | {best or '–'} | "
                f"{ratio(z['rps'], peers[best]['rps'] if best else None)} | "
                f"{num(z['per_cpu_s'])} | {best_eff or '–'} | "
                f"{ratio(z['per_cpu_s'], peers[best_eff]['per_cpu_s'] if best_eff else None)} |"
                + (
                    f" {ratio(z['rps'], limit['rps'] if limit else None)} | "
                    f"{ratio(z['per_cpu_s'], limit['per_cpu_s'] if limit else None)} |"
                    if has_limit
                    else ""
                )
            )
        w("")
        rounds = [(key, per_round(servers)) for key, servers in cells.items()]
        rounds = [(key, r) for key, r in rounds if len(r) > 1]
        if rounds:
            w(
                "By round: the runs go round the servers, so run i of every server in a cell is "
                "one round, measured within seconds of each other; each round's zzz/best peer"
                + (" and zzz/limit" if has_limit else "")
                + " in req/CPU-s, and the lowest (what a goal met in every run must clear)."
            )
            w("")
            w(
                "| cell | zzz/best peer req/CPU-s by round | lowest |"
                + (" zzz/limit req/CPU-s by round | lowest |" if has_limit else "")
            )
            w("|---|---|--:|" + ("---|--:|" if has_limit else ""))
            for (mode, conns), r in rounds:
                peer = [p for p, _ in r if p is not None]
                limit = [x for _, x in r if x is not None]
                w(
                    f"| {cell_name(mode, conns, depth)} | "
                    f"{', '.join(f'{x:.2f}' for x in peer) or '–'} | "
                    f"{f'{min(peer):.2f}' if peer else '–'} |"
                    + (
                        f" {', '.join(f'{x:.2f}' for x in limit) or '–'} | "
                        f"{f'{min(limit):.2f}' if limit else '–'} |"
                        if has_limit
                        else ""
                    )
                )
            w("")

    latency = [
        (key, servers)
        for key, servers in cells.items()
        if ZZZ in servers and servers[ZZZ]["p50_ms"] is not None
    ]
    if latency:
        nowait = "zzz-nowait"
        with_nowait = any(nowait in servers for _, servers in latency)
        w("## Latency")
        w("")
        w(
            (
                "zzz's bench example gathers completions for up to 50 µs per wait "
                "(`--batch-wait-us 50`): less CPU per request, more latency at the median. "
                "zzz-nowait is the same server with `--batch-wait-us 0`, which is also "
                "`Builder`'s default (and the site's and the notes API's): each wait returns "
                "at the first completion. "
                if with_nowait
                else ""
            )
            + "lowest peer: the peer (uring-limit excepted) with the lowest figure."
        )
        w("")
        nowait_heads = f" {nowait} p50 ms | {nowait} p99 ms |" if with_nowait else ""
        w(
            f"| cell | zzz p50 ms | zzz p99 ms |{nowait_heads} "
            "lowest peer p50 ms | lowest peer p99 ms |"
        )
        w("|---|--:|--:|" + ("--:|--:|" if with_nowait else "") + "---|---|")
        for (mode, conns), servers in latency:
            z, n = servers[ZZZ], servers.get(nowait)
            peers = {
                k: v for k, v in servers.items()
                if k != LIMIT and not is_zzz(k) and v["p50_ms"] is not None
            }

            def lowest(key):
                if not peers:
                    return "–"
                best = min(peers, key=lambda k: peers[k][key])
                return f"{ms(peers[best][key])} ({best})"

            nowait_cells = (
                f" {ms(n['p50_ms']) if n else '–'} | {ms(n['p99_ms']) if n else '–'} |"
                if with_nowait
                else ""
            )
            w(
                f"| {cell_name(mode, conns, depth)} | {ms(z['p50_ms'])} | {ms(z['p99_ms'])} |"
                f"{nowait_cells} {lowest('p50_ms')} | {lowest('p99_ms')} |"
            )
        w("")

    costed = [
        (key, servers)
        for key, servers in cells.items()
        if any(c["user_ns"] is not None for c in servers.values())
    ]
    if costed:
        w("## Where the server's CPU goes")
        w("")
        w(
            "CPU time per request, in nanoseconds: in the server's own code (user, its utime) "
            "and in the kernel on its behalf (kernel, its stime: the sockets, TCP over "
            "loopback, io_uring or epoll). The kernel's part is much the same for every "
            "server doing the same I/O; what a server's own code costs is the user part."
        )
        w("")
        w("| cell | server | user ns/req | kernel ns/req | total ns/req |")
        w("|---|---|--:|--:|--:|")
        for (mode, conns), servers in costed:
            for server, c in servers.items():
                if c["user_ns"] is None:
                    continue
                w(
                    f"| {cell_name(mode, conns, depth)} | {server} | {c['user_ns']:.0f} | "
                    f"{c['kernel_ns']:.0f} | {c['user_ns'] + c['kernel_ns']:.0f} |"
                )
        w("")

    variants = sorted({k for servers in cells.values() for k in servers if is_zzz(k) and k != ZZZ})
    if variants and any(ZZZ in servers for servers in cells.values()):
        w("## zzz's variants against zzz")
        w("")
        w(
            "zzz-direct: one receive per read into the connection's buffer (`--recv-direct`) "
            "instead of the provided-buffer ring; zzz-nowait: every wait returns at the first "
            "completion (`--batch-wait-us 0`) instead of gathering for up to 50 µs."
        )
        w("")
        w("| cell | variant | req/s | variant/zzz req/s | req/CPU-s | variant/zzz req/CPU-s |")
        w("|---|---|--:|--:|--:|--:|")
        for (mode, conns), servers in cells.items():
            z = servers.get(ZZZ)
            for v in variants:
                c = servers.get(v)
                if z and c:
                    w(
                        f"| {cell_name(mode, conns, depth)} | {v} | {num(c['rps'])} | "
                        f"{ratio(c['rps'], z['rps'])} | {num(c['per_cpu_s'])} | "
                        f"{ratio(c['per_cpu_s'], z['per_cpu_s'])} |"
                    )
        w("")

    runs = max((c["runs"] for servers in cells.values() for c in servers.values()), default=0)
    if runs > 1:
        w("## Each run")
        w("")
        w("req/s and req/CPU-s of every measured run, in the order they ran.")
        w("")
        heads = "".join(f" run {i + 1} req/s | run {i + 1} req/CPU-s |" for i in range(runs))
        w(f"| cell | server |{heads}")
        w("|---|---|" + "--:|--:|" * runs)
        for (mode, conns), servers in cells.items():
            for server, c in servers.items():
                each = list(c["each"]) + [(None, None)] * (runs - len(c["each"]))
                figures = "".join(f" {num(rps)} | {num(eff)} |" for rps, eff in each)
                w(f"| {cell_name(mode, conns, depth)} | {server} |{figures}")
        w("")

    checks = (outdir / "checks.tsv").read_text().splitlines()
    if checks:
        w(
            "Contract (ci/bench/check.sh, uring-limit for plaintext and pipelining only; "
            "'(pages)': ci/bench/check-pages.sh, the answers compared with zzz's):"
        )
        w("")
        for line in checks:
            server, _, result = line.partition("\t")
            w(f"- {server}: {result}")
        w("")
    return "\n".join(out)


def chart(outdir):
    """The report's req/CPU-s as an SVG bar chart: a group of bars per cell, one bar per
    server, zzz's in a colour of their own, each labelled with its figure."""
    meta, _ = read_meta(outdir / "meta.env")
    cells = summarize(read_runs(outdir, int(meta["clk_tck"])))
    depth = meta.get("depth", "16")
    rows = []
    for (mode, conns), servers in cells.items():
        rows.append(("cell", cell_name(mode, conns, depth), None, None))
        for server, c in servers.items():
            rows.append(("bar", server, c["per_cpu_s"], is_zzz(server)))
    top = max((r[2] for r in rows if r[0] == "bar" and r[2]), default=1.0)
    bar_h, gap, left, width = 18, 6, 150, 520
    height = 40 + sum(bar_h + gap if kind == "bar" else 26 for kind, *_ in rows)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" '
        f'height="{height}" font-family="sans-serif" font-size="12">',
        f'<text x="8" y="20" font-size="14" font-weight="bold">Requests per server '
        f"CPU-second ({meta.get('stamp', '?')}, zzz {meta.get('git', '?')})</text>",
    ]
    y = 40
    for kind, label, value, zzz in rows:
        if kind == "cell":
            out.append(f'<text x="8" y="{y + 16}" font-weight="bold">{escape(label)}</text>')
            y += 26
            continue
        length = 0 if not value else max(1, round(width * value / top))
        colour = "#d95f02" if zzz else "#7570b3"
        out.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        out.append(
            f'<rect x="{left}" y="{y}" width="{length}" height="{bar_h}" fill="{colour}"/>'
        )
        out.append(f'<text x="{left + length + 4}" y="{y + 13}">{num(value)}</text>')
        y += bar_h + gap
    out.append("</svg>")
    return "\n".join(out) + "\n"


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: report.py RESULT_DIR [CHART.svg]")
    print(report(Path(sys.argv[1])))
    if len(sys.argv) == 3:
        Path(sys.argv[2]).write_text(chart(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
