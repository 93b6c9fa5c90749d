#!/usr/bin/env python3
"""bench/report.py - turn one bench/run.sh output directory into report.md.

usage: report.py OUT_DIR [--update-docs docs/PERFORMANCE.md]

Reads OUT_DIR/meta.tsv, runs.tsv, idle.tsv, idlecpu.tsv, syscalls.tsv and the
raw wrk / strace files they name; writes OUT_DIR/report.md, OUT_DIR/results.tsv
(the median run of every server and cell) and OUT_DIR/chart.dat (for
chart.sh). With --update-docs it also replaces the text between the
"bench:results" markers of the given PERFORMANCE.md with the report.
Python standard library only.
"""
import os
import re
import sys

SERVER_ORDER = ["riptide", "nginx", "h2o", "lighttpd", "floor"]
PEERS = ["nginx", "h2o", "lighttpd"]
THROUGHPUT_CELLS = ["ka612", "pipe16", "ka64k", "ka1m", "close612", "w2", "proxy"]
PROXY_SERVERS = ["riptide", "nginx"]  # the proxy cell compares these two only
CELL_TITLES = {
    "ka612": "ka612 - 612 B file, keep-alive, 1 worker (server CPU 0, wrk CPU 1)",
    "pipe16": "pipe16 - 612 B file, 16 pipelined requests per write, 1 worker",
    "ka64k": "ka64k - 64 KiB file, keep-alive, 1 worker",
    "ka1m": "ka1m - 1 MiB file, keep-alive, 1 worker",
    "close612": "close612 - 612 B file, new connection per request (Connection: close), 1 worker",
    "w2": "w2 - 612 B file, keep-alive, 2 workers, unpinned",
    "proxy": "proxy - reverse proxy of one nginx upstream serving the 612 B file, keep-alive both sides, "
             "1 worker (proxy CPU 0, wrk CPU 1)",
}
BEGIN_MARK = "<!-- bench:results:begin -->"
END_MARK = "<!-- bench:results:end -->"


def read_tsv(path, ncols):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            cols = line.split("\t")
            cols += [""] * (ncols - len(cols))
            rows.append(cols[:ncols])
    return rows


def read_meta(path):
    meta = {}
    for k, v in read_tsv(path, 2):
        meta[k] = v
    return meta


UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}


def to_bytes(text):
    m = re.match(r"^([0-9.]+)([KMGT]?B)$", text or "")
    if not m:
        return None
    return float(m.group(1)) * UNITS[m.group(2)]


def to_us(text):
    m = re.match(r"^([0-9.]+)(us|ms|s|m)$", text or "")
    if not m:
        return None
    v = float(m.group(1))
    return v * {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}[m.group(2)]


def parse_wrk(path):
    """Numbers of one wrk --latency output, or None if it has none."""
    if not path or path == "-" or not os.path.exists(path):
        return None
    text = open(path, errors="replace").read()
    r = {}
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if not m:
        return None
    r["rps"] = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m), ([0-9.]+[KMGT]?B) read", text, re.M)
    r["requests"] = int(m.group(1)) if m else 0
    r["read_bytes"] = to_bytes(m.group(4)) if m else None
    m = re.search(r"^Transfer/sec:\s+([0-9.]+[KMGT]?B)", text, re.M)
    r["xfer"] = to_bytes(m.group(1)) if m else None
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % pct, text, re.M)
        v = to_us(m.group(1)) if m else None
        r["p" + pct] = v if v else None  # wrk prints 0.00us when it could not time requests (pipelining)
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    r["errors"] = errors
    return r


def parse_strace(path):
    """{syscall: calls} and the total from an strace -c summary."""
    calls, total = {}, 0
    if not path or not os.path.exists(path):
        return None, 0
    with open(path, errors="replace") as f:
        for line in f:
            tok = line.split()
            if len(tok) < 5 or not re.match(r"^[0-9.]+$", tok[0]):
                continue
            try:
                n = int(tok[3])
            except ValueError:
                continue
            if tok[-1] == "total":
                total = n
            else:
                calls[tok[-1]] = n
    return calls, total


# ----------------------------------------------------------------- formatting
def fnum(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return "{:,.0f}".format(v)
    return "{:,.{}f}".format(v, digits)


def fbytes(v):
    if v is None:
        return "-"
    for unit, div in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if abs(v) >= div:
            return "%.2f %s" % (v / div, unit)
    return "%.0f B" % v


def flat(us):
    if us is None:
        return "-"
    if us >= 1e6:
        return "%.2f s" % (us / 1e6)
    if us >= 1e3:
        return "%.2f ms" % (us / 1e3)
    return "%.0f us" % us


def fratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return "%.2f" % (a / b)


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def sort_rows(rows):
    names = order([r[0] for r in rows])
    return sorted(rows, key=lambda r: names.index(r[0]))


def order(servers):
    known = [s for s in SERVER_ORDER if s in servers]
    return known + sorted(s for s in servers if s not in SERVER_ORDER)


# ----------------------------------------------------------------- throughput cells
def load_runs(out):
    """{(server, cell): {"runs": [...], "median": run or None, "status": str, "note": str}}"""
    cells = {}
    for r in read_tsv(os.path.join(out, "runs.tsv"), 12):
        rnd, server, cell, workers, status, wfile, wall_ms, ticks, clk, cli_ms, note, up_ticks = r
        run = {"round": rnd, "workers": workers, "status": status, "note": note}
        if status == "ok":
            w = parse_wrk(wfile)
            if w is None:
                run["status"] = "nowrk"
                run["note"] = "wrk printed no result (%s)" % os.path.basename(wfile)
            else:
                run.update(w)
                wall = max(int(wall_ms or 0), 1) / 1000.0
                cpu = int(ticks or 0) / float(clk or 100)
                run["cpu_s"] = cpu
                run["cpu_pct"] = 100.0 * cpu / wall
                run["cli_pct"] = 100.0 * int(cli_ms or 0) / 1000.0 / wall
                run["per_core_s"] = run["requests"] / cpu if cpu > 0 else None
                # proxy cell: the upstream's CPU, to show it was not the limit
                run["up_pct"] = (100.0 * int(up_ticks) / float(clk or 100) / wall) if up_ticks else None
        entry = cells.setdefault((server, cell), {"runs": []})
        entry["runs"].append(run)
    for key, entry in cells.items():
        ok = sorted((r for r in entry["runs"] if r["status"] == "ok"), key=lambda r: r["rps"])
        if ok:
            mid = ok[(len(ok) - 1) // 2]  # the lower middle for an even count
            entry["median"] = mid
            entry["status"] = "ok"
            entry["spread"] = (ok[-1]["rps"] - ok[0]["rps"]) / mid["rps"] if mid["rps"] > 0 and len(ok) > 1 else None
            entry["n_ok"] = len(ok)
            entry["n"] = len(entry["runs"])
        else:
            entry["median"] = None
            entry["status"] = entry["runs"][0]["status"]
            entry["note"] = entry["runs"][0]["note"]
            entry["spread"] = None
    return cells


STATUS_TEXT = {
    "failed": "did not start",
    "n/a": "n/a",
    "badcontent": "wrong content",
    "nowrk": "no wrk result",
}


def cell_table(cells, cell, servers):
    base_n = cells.get(("nginx", cell), {}).get("median")
    base_f = cells.get(("floor", cell), {}).get("median")
    proxy = cell == "proxy"
    header = ["server", "req/s", "transfer/s", "p50", "p99", "errors", "server CPU",
              "req per server core-s", "vs nginx", "upstream CPU" if proxy else "vs floor", "spread", "wrk CPU"]
    rows = []
    for s in servers:
        e = cells.get((s, cell))
        if e is None:
            continue
        m = e["median"]
        if m is None:
            text = STATUS_TEXT.get(e["status"], e["status"])
            note = e.get("note") or ""
            if note and note != "-":
                text += ": " + note[:140].replace("|", "/")
            rows.append([s, text] + [""] * (len(header) - 2))
            continue
        spread = "-" if e["spread"] is None else "%.0f%% (%d runs)" % (100 * e["spread"], e["n_ok"])
        if e["n_ok"] < e["n"]:
            spread += ", %d failed" % (e["n"] - e["n_ok"])
        rows.append([
            s, fnum(m["rps"]), fbytes(m["xfer"]) + "/s", flat(m["p50"]), flat(m["p99"]),
            fnum(m["errors"]), "%.0f%%" % m["cpu_pct"], fnum(m["per_core_s"]),
            fratio(m["rps"], base_n["rps"] if base_n else None),
            ("-" if m.get("up_pct") is None else "%.0f%%" % m["up_pct"]) if proxy else
            fratio(m["rps"], base_f["rps"] if base_f else None) if cell not in ("ka64k", "ka1m") else "-",
            spread, "%.0f%%" % m["cli_pct"],
        ])
    return table(header, rows)


# ----------------------------------------------------------------- idle, idlecpu, syscalls
def median_wrk(files):
    """p99 and req/s of several wrk runs (comma-separated files): the median of each,
    the lower middle for an even count."""
    runs = [r for r in (parse_wrk(f) for f in (files or "").split(",")) if r]
    if not runs:
        return None
    def mid(key):
        vals = sorted(r[key] for r in runs if r.get(key) is not None)
        return vals[(len(vals) - 1) // 2] if vals else None
    return {"p99": mid("p99"), "rps": mid("rps"), "runs": len(runs)}


def idle_section(out, servers):
    rows = read_tsv(os.path.join(out, "idle.tsv"), 12)
    if not rows:
        return None, {}
    by = {}
    trows = []
    for s, status, k, opened, alive, r0, r1, w0, w1, note, kd0, kd1 in rows:
        if status != "ok":
            trows.append([s, "did not start: " + note[:120].replace("|", "/")] + [""] * 10)
            continue
        opened, alive, r0, r1 = int(opened or 0), int(alive or 0), int(r0 or 0), int(r1 or 0)
        a, b = median_wrk(w0), median_wrk(w1)
        bpc = (r1 - r0) / opened if opened else None
        p99r = (b["p99"] / a["p99"]) if a and b and a.get("p99") and b.get("p99") else None
        by[s] = {"bpc": bpc, "p99_ratio": p99r, "opened": opened, "target": int(k or 0), "alive": alive}
        trows.append([
            s, "%d / %s" % (opened, k), str(alive), fbytes(r0), fbytes(r1), fnum(bpc),
            flat(a["p99"]) if a else "-", flat(b["p99"]) if b else "-",
            "%.2f" % p99r if p99r else "-",
            fnum(a["rps"]) if a else "-", fnum(b["rps"]) if b else "-",
            "%s / %s ms" % (kd0, kd1) if kd0 != "" else "-",
            "" if note == "-" else note.replace("|", "/"),
        ])
    header = ["server", "idle conns opened / asked", "still open at end", "RSS before", "RSS with idle",
              "bytes per idle conn", "p99 without", "p99 with", "p99 ratio", "req/s without",
              "req/s with", "reclaim CPU without / with", "note"]
    trows = sort_rows(trows)
    return table(header, trows), by


def idlecpu_section(out):
    rows = read_tsv(os.path.join(out, "idlecpu.tsv"), 10)
    if not rows:
        return None, {}
    by, trows = {}, []
    for s, status, ms, ctx, ticks, clk, threads, sfile, ssecs, note in rows:
        if status == "failed":
            trows.append([s, "did not start: " + note[:120].replace("|", "/"), "", "", "", ""])
            continue
        secs = max(int(ms or 0), 1) / 1000.0
        ctx_s = int(ctx or 0) / secs
        cpu_ms = int(ticks or 0) * 1000.0 / float(clk or 100)
        calls, total = parse_strace(sfile)
        if calls is None:
            sys_s, top = None, "(strace gave nothing)"
        else:
            # restart_syscall is strace's own attach interrupting a sleeping call
            n = sum(v for k, v in calls.items() if k != "restart_syscall")
            sys_s = n / float(ssecs or 1)
            seen = [(k, v) for k, v in sorted(calls.items(), key=lambda kv: -kv[1]) if k != "restart_syscall"]
            top = ", ".join("%s %d" % kv for kv in seen[:4]) or "none"
        by[s] = {"ctx_s": ctx_s, "sys_s": sys_s}
        trows.append([s, threads, "%.1f" % ctx_s, "%.0f" % cpu_ms,
                      "-" if sys_s is None else "%.1f" % sys_s, top])
    header = ["server", "threads", "context switches/s", "CPU ms in window", "syscalls/s", "syscalls seen (count)"]
    trows = sort_rows(trows)
    return table(header, trows), by


def syscalls_section(out):
    rows = read_tsv(os.path.join(out, "syscalls.tsv"), 5)
    if not rows:
        return None, {}
    by, trows = {}, []
    for s, status, sfile, wfile, note in rows:
        if status == "failed":
            trows.append([s, "did not start: " + note[:120].replace("|", "/"), "", "", "", ""])
            continue
        w = parse_wrk(wfile)
        calls, total = parse_strace(sfile)
        if not w or not w["requests"] or calls is None:
            trows.append([s, "no data (strace or wrk gave nothing)", "", "", "", ""])
            continue
        n = float(w["requests"])
        ep = sum(v for k, v in calls.items() if k.startswith("epoll_wait") or k.startswith("epoll_pwait"))
        per = total / n
        per_no_ep = (total - ep) / n
        busy = [(k, v) for k, v in sorted(calls.items(), key=lambda kv: -kv[1]) if v / n >= 0.005]
        top = ", ".join("%s %.2f" % (k, v / n) for k, v in busy[:8])
        by[s] = {"per": per, "per_no_ep": per_no_ep, "ep": ep / n}
        trows.append([s, fnum(n), "%.2f" % per, "%.2f" % per_no_ep, "%.3f" % (ep / n), top])
    header = ["server", "requests (traced)", "syscalls / request", "without epoll_wait",
              "epoll_wait / request", "top syscalls per request"]
    trows = sort_rows(trows)
    return table(header, trows), by


# ----------------------------------------------------------------- targets
def targets(cells, idle_by, idlecpu_by, sys_by):
    lines = []

    def med(s, c):
        e = cells.get((s, c))
        return e["median"] if e else None

    def line(ok, text):
        tag = {True: "PASS", False: "FAIL", None: "n/a "}[ok]
        lines.append("- [%s] %s" % (tag, text))

    rip = lambda c: med("riptide", c)  # noqa: E731

    present = {k[1] for k in cells}
    for c in ("ka612", "w2"):
        if c not in present:
            continue
        r, f = rip(c), med("floor", c)
        if r and f and r.get("per_core_s") and f.get("per_core_s"):
            q = r["per_core_s"] / f["per_core_s"]
            line(q >= 0.9, "%s: riptide %s req/core-s = %.0f%% of floor's %s (target >= 90%%)"
                 % (c, fnum(r["per_core_s"]), 100 * q, fnum(f["per_core_s"])))
        else:
            line(None, "%s: riptide req/core-s >= 90%% of floor's (no data for riptide or floor)" % c)
    for c in THROUGHPUT_CELLS:
        if c == "proxy" or not any(k[1] == c for k in cells):
            continue
        r = rip(c)
        peers = [(p, med(p, c)) for p in PEERS if med(p, c)]
        if not r or not peers:
            line(None, "%s: riptide req/s >= every peer's (no data for riptide or the peers)" % c)
            continue
        worst = [p for p, m in peers if m["rps"] > r["rps"]]
        best = max(peers, key=lambda pm: pm[1]["rps"])
        line(not worst, "%s: riptide %s req/s vs best peer %s %s (target >= every peer)%s"
             % (c, fnum(r["rps"]), best[0], fnum(best[1]["rps"]),
                "" if not worst else "; behind " + ", ".join(worst)))
    r, f = rip("pipe16"), med("floor", "pipe16")
    if "pipe16" not in present:
        pass
    elif r and f:
        q = r["rps"] / f["rps"]
        line(q >= 0.7, "pipe16: riptide %s req/s = %.0f%% of floor's %s (target >= 70%%)"
             % (fnum(r["rps"]), 100 * q, fnum(f["rps"])))
    else:
        line(None, "pipe16: riptide >= 70% of floor req/s (no data)")
    r, l = rip("ka1m"), med("lighttpd", "ka1m")
    if "ka1m" not in present:
        pass
    elif r and l and r["xfer"] and l["xfer"]:
        line(r["xfer"] >= l["xfer"], "ka1m: riptide %s/s vs lighttpd %s/s (target >= lighttpd)"
             % (fbytes(r["xfer"]), fbytes(l["xfer"])))
    else:
        line(None, "ka1m: riptide bytes/s >= lighttpd's (no data)")
    if "proxy" in present:
        r, n = rip("proxy"), med("nginx", "proxy")
        if r and n and r.get("p99") and n.get("p99"):
            line(r["rps"] >= n["rps"] and r["p99"] <= n["p99"],
                 "proxy: riptide %s req/s, p99 %s vs nginx %s req/s, p99 %s (target req/s >= nginx's and p99 <= nginx's)"
                 % (fnum(r["rps"]), flat(r["p99"]), fnum(n["rps"]), flat(n["p99"])))
        else:
            line(None, "proxy: riptide req/s >= nginx's and p99 <= nginx's (no data for riptide or nginx)")
    i = (idle_by or {}).get("riptide")
    if idle_by is None:
        pass
    elif i and i["bpc"] is not None:
        line(i["bpc"] <= 256, "idle: riptide %s bytes per idle connection, %d of %d held (target <= 256)"
             % (fnum(i["bpc"]), i["opened"], i["target"]))
        if i["p99_ratio"]:
            f = idle_by.get("floor")
            control = ""
            if f and f["p99_ratio"]:
                # The floor keeps 16 bytes and no timer per connection: what it loses is the machine's.
                control = "; the floor, which does nothing per idle connection, %.2fx in the same run" % f["p99_ratio"]
            line(i["p99_ratio"] <= 1.10, "idle: riptide p99 with the idle connections held = %.2fx without (target <= 1.10)%s"
                 % (i["p99_ratio"], control))
    else:
        line(None, "idle: riptide <= 256 B per idle connection, p99 within 10% (no data)")
    s = (sys_by or {}).get("riptide")
    if sys_by is None:
        pass
    elif s:
        line(s["per_no_ep"] <= 2.05, "syscalls: riptide %.2f syscalls/request + %.3f epoll_wait/request (target <= 2 + amortized "
             "epoll_wait; up to 2.05 passes: wrk's connection setup, accept4 and the like, falls in the window)"
             % (s["per_no_ep"], s["ep"]))
    else:
        line(None, "syscalls: riptide <= 2 syscalls/request (no data)")
    ic = (idlecpu_by or {}).get("riptide")
    if idlecpu_by is None:
        pass
    elif ic and ic["sys_s"] is not None:
        line(ic["sys_s"] == 0 and ic["ctx_s"] == 0,
             "idlecpu: riptide %.1f syscalls/s, %.1f context switches/s with no traffic (target 0)"
             % (ic["sys_s"], ic["ctx_s"]))
    else:
        line(None, "idlecpu: riptide zero syscalls and wakeups when idle (no data)")
    return "\n".join(lines)


# ----------------------------------------------------------------- main
def build_report(out):
    meta = read_meta(os.path.join(out, "meta.tsv"))
    cells = load_runs(out)
    servers = order(set(meta.get("servers", "").split()) | {k[0] for k in cells})
    parts = []
    parts.append("Run: %s, `%s`" % (meta.get("date", "?"), meta.get("command", "?")))
    parts.append("")
    parts.append("Machine: %s CPUs (%s), %s; open files %s. Load: %s, 1 thread, %s connections, "
                 "%s s per run, %s interleaved round(s), median run by req/s; pinning: %s."
                 % (meta.get("nproc", "?"), meta.get("cpu", "?"), meta.get("kernel", "?"),
                    meta.get("nofile", "?"), meta.get("wrk", "wrk"), meta.get("conns", "?"),
                    meta.get("duration", "?"), meta.get("rounds", "?"), meta.get("pinned", "?")))
    parts.append("")
    parts.append("Load average (1, 5, 15 min) at the start: %s; at the end: %s. Anything well above 0 "
                 "means other work shared the CPUs and the numbers are noisier than the spread shows."
                 % (meta.get("load_start", "?"), meta.get("load_end", "?")))
    parts.append("")
    parts.append("Servers: " + "; ".join(meta.get("version_" + s, s) for s in servers) + ".")
    parts.append("")
    parts.append("Columns: server CPU = CPU time of all the server's processes / wall time (100% = one core); "
                 "req per server core-s = requests / server CPU seconds; vs nginx / vs floor = req/s ratio; "
                 "spread = (max - min) / median req/s over the rounds; wrk CPU = the load generator's CPU "
                 "(near 100% means wrk, not the server, was the limit).")
    for c in THROUGHPUT_CELLS:
        if not any(k[1] == c for k in cells):
            continue
        parts.append("")
        parts.append("#### " + CELL_TITLES[c])
        parts.append("")
        if c == "proxy":
            parts.append("Both proxies forward every request to the same upstream: %s, keep-alive, %s idle "
                         "connections kept per proxy. Server CPU = the proxy's; upstream CPU = the upstream's "
                         "(near 100%% means the upstream, not the proxy, was the limit); vs nginx = riptide/nginx."
                         % (meta.get("proxy_upstream", "nginx"), meta.get("proxy_keepalive", "?")))
            parts.append("")
        parts.append(cell_table(cells, c, [s for s in servers if s in PROXY_SERVERS] if c == "proxy" else servers))
    idle_t, idle_by = idle_section(out, servers)
    if idle_t:
        parts.append("")
        parts.append("#### idle - %s idle keep-alive connections, 1 worker; wrk ka612 %s x %s s without, then "
                     "with them held (p99 and req/s: medians of the runs)"
                     % (meta.get("idle_k", "?"), meta.get("idle_runs", "1"), meta.get("idle_wrk", "?")))
        parts.append("")
        parts.append("RSS = sum of VmRSS over all the server's processes. \"still open at end\" counts the idle "
                     "connections the server had not closed when the client let go of them. \"reclaim CPU\" is "
                     "the CPU time the kernel's memory-reclaim threads (kdamond, kswapd) took during each wrk run: "
                     "where the machine runs DAMON proactive reclaim, it preempts wrk for milliseconds at a time "
                     "once the idle connections' memory is in use, and every server's p99 shows it (compare the "
                     "floor's, which does nothing per idle connection).")
        parts.append("")
        parts.append(idle_t)
    ic_t, ic_by = idlecpu_section(out)
    if ic_t:
        parts.append("")
        parts.append("#### idlecpu - no traffic for %s s, 1 worker" % meta.get("idle_secs", "?"))
        parts.append("")
        parts.append("Context switches from /proc/PID/task/*/status (voluntary + nonvoluntary, all threads); "
                     "syscalls from strace -c -f on all the server's processes in a second window of the same "
                     "length (restart_syscall, caused by strace attaching, not counted).")
        parts.append("")
        parts.append(ic_t)
    sc_t, sc_by = syscalls_section(out)
    if sc_t:
        parts.append("")
        parts.append("#### syscalls - per request under ka612 load (strace -c -f, %s s of wrk, 1 worker)"
                     % meta.get("syscall_secs", "?"))
        parts.append("")
        parts.append("Total syscalls of all server processes / requests wrk completed in the window. strace slows "
                     "the server, so each epoll_wait returns more events than at full speed: the epoll_wait "
                     "share is lower than untraced; the other counts are per request as usual.")
        parts.append("")
        parts.append(sc_t)
    parts.append("")
    parts.append("#### Targets")
    parts.append("")
    parts.append(targets(cells, idle_by if idle_t else None, ic_by if ic_t else None, sc_by if sc_t else None))
    body = "\n".join(parts) + "\n"

    # results.tsv and chart.dat
    with open(os.path.join(out, "results.tsv"), "w") as f:
        f.write("server\tcell\tstatus\treq_s\tbytes_s\tp50_us\tp99_us\terrors\tcpu_pct\treq_per_core_s\tspread\n")
        for (s, c), e in sorted(cells.items()):
            m = e["median"]
            if m is None:
                f.write("%s\t%s\t%s\t\t\t\t\t\t\t\t\n" % (s, c, e["status"]))
                continue
            f.write("%s\t%s\tok\t%.0f\t%s\t%s\t%s\t%d\t%.1f\t%s\t%s\n" % (
                s, c, m["rps"], "%.0f" % m["xfer"] if m["xfer"] else "", m["p50"] or "", m["p99"] or "",
                m["errors"], m["cpu_pct"], "%.0f" % m["per_core_s"] if m["per_core_s"] else "",
                "%.3f" % e["spread"] if e["spread"] is not None else ""))
    with open(os.path.join(out, "chart.dat"), "w") as f:
        f.write("# server ka612_req_s ka612_req_per_core_s w2_req_s w2_req_per_core_s pipe16_req_s\n")
        for s in servers:
            vals = []
            for c, k in (("ka612", "rps"), ("ka612", "per_core_s"), ("w2", "rps"), ("w2", "per_core_s"), ("pipe16", "rps")):
                m = cells.get((s, c), {}).get("median")
                vals.append("%.0f" % m[k] if m and m.get(k) else "?")
            f.write("%s %s\n" % (s, " ".join(vals)))
    return meta, body


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    docs = None
    if len(argv) >= 4 and argv[2] == "--update-docs":
        docs = argv[3]
    meta, body = build_report(out)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("# riptide benchmark report\n\n" + body)
    if docs:
        text = open(docs).read() if os.path.exists(docs) else ""
        if BEGIN_MARK not in text or END_MARK not in text:
            sys.stderr.write("report.py: %s has no %s ... %s markers; not updated\n" % (docs, BEGIN_MARK, END_MARK))
            return 1
        head, rest = text.split(BEGIN_MARK, 1)
        _, tail = rest.split(END_MARK, 1)
        section = ("\n_Filled by `bench/run.sh --update-docs`; do not edit by hand._\n\n"
                   + body + "\n![ka612 and w2: req/s and req per server core-second](bench-chart.png)\n\n")
        with open(docs, "w") as f:
            f.write(head + BEGIN_MARK + section + END_MARK + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
