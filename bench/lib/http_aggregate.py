#!/usr/bin/env python3
"""Bookkeeping for bench/http.sh: one JSON line per load run, then Markdown medians.

  http_aggregate.py meta   FILE.jsonl key=value ...              append the run's context
  http_aggregate.py record FILE.jsonl --wrk OUT key=value ...    append one load run: OUT is
                                    wrk's report or `overlap bench http --json`'s line
                                    (failure=TEXT: the run could not happen)
  http_aggregate.py report FILE.jsonl                            Markdown on stdout
  http_aggregate.py failures FILE.jsonl                          failed runs, one a line

`record` exits with status 3 when the run is unusable (wrk failed, the server
answered with errors, died, or sent fewer bytes than the responses need), so
that the shell script can shout about it; the run is still written, marked
with its error, and left out of the medians.

The parts shared with bench/echo.sh's aggregate.py are in report_common.py
beside this file; only the standard library is used.
"""

import json
import re
import sys

from report_common import (append, by_server, cmd_meta, conn_word, core_busy_medians,
                           core_busy_note, cpu_us_per, fmt, fmt_busy, fmt_ratio,
                           fmt_spread, load, main, median_and_spread, median_or_none,
                           meta_table, new_run, ordered, ratio, read_result)

SUBJECT = "overlap"
REFERENCE = "nginx"
SERVER_ORDER = ["overlap", "overlap-epoll", "overlap-reactor", "overlap-threads", "overlap-admin", "nginx"]
MIB = 1024 * 1024

# Targets of issue #3, as (test, text) per kind of case; see target_for().
SMALL_LIMIT = 16 * 1024          # "small files": up to 16 KiB
SMALL_REQ_RATIO = 1.3            # req/s at least 1.3x nginx's ...
SMALL_CPU_RATIO = 0.6            # ... with CPU per request at most 0.6x
LARGE_MIB_RATIO = 1.2            # 256 KiB .. 16 MiB: MiB/s at least 1.2x
CLOSE_REQ_RATIO = 1.2            # Connection: close: req/s at least 1.2x

# --- parsing wrk's text report ----------------------------------------------

TIME_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
BINARY_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}


def parse_time_us(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"unreadable wrk time {text!r}")
    return float(m.group(1)) * TIME_UNITS[m.group(2)]


def parse_bytes(text):
    # wrk prints byte counts in binary units: "60.00MB" is 60 MiB.
    m = re.fullmatch(r"([0-9.]+)([KMGTP]?)B", text)
    if not m:
        raise ValueError(f"unreadable wrk byte count {text!r}")
    return float(m.group(1)) * BINARY_UNITS[m.group(2)]


def parse_wrk(text):
    """The numbers of one `wrk --latency` report (one thread or several)."""
    out = {}
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+\w+), ([0-9.]+[KMGTP]?B) read", text, re.M)
    if not m:
        raise ValueError("no 'N requests in T, B read' line in wrk output")
    out["requests"] = int(m.group(1))
    out["duration_s"] = parse_time_us(m.group(2)) / 1e6
    out["bytes_read"] = parse_bytes(m.group(3))

    m = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if not m:
        raise ValueError("no Requests/sec line in wrk output")
    out["req_per_s"] = float(m.group(1))
    m = re.search(r"^Transfer/sec:\s+([0-9.]+[KMGTP]?B)", text, re.M)
    if not m:
        raise ValueError("no Transfer/sec line in wrk output")
    out["mib_per_s"] = parse_bytes(m.group(1)) / MIB

    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s*{pct}%\s+([0-9.]+\w+)\s*$", text, re.M)
        if not m:
            raise ValueError(f"no {pct}% latency line in wrk output (was --latency given?)")
        out[f"p{pct}_us"] = parse_time_us(m.group(1))
    if out["requests"] == 0:
        # wrk prints 0 for the percentiles of an empty histogram.
        for pct in ("50", "75", "90", "99"):
            out[f"p{pct}_us"] = None

    errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 0}
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        for key, value in zip(("connect", "read", "write", "timeout"), m.groups()):
            errors[key] = int(value)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors["status"] = int(m.group(1))
    out["errors"] = errors
    return out


def parse_overlap_bench(text):
    """The numbers of one `overlap bench http --json` line (bodies only in bytes)."""
    d = json.loads(text.splitlines()[0])
    out = {
        "requests": d["responses"],
        "duration_s": d["duration_s"],
        "bytes_read": d["body_bytes"],
        "req_per_s": d["requests_per_s"],
        "mib_per_s": d["body_mib_per_s"],
        "p50_us": d["p50_us"] if d["responses"] else None,
        "p75_us": None,
        "p90_us": None,
        "p99_us": d["p99_us"] if d["responses"] else None,
    }
    out["errors"] = {"connect": 0, "read": 0, "write": 0, "timeout": 0,
                     "status": d["non_2xx"], "other": d["errors"]}
    return out


def parse_load(text):
    """wrk's report, or the JSON line of `overlap bench http`."""
    return parse_overlap_bench(text) if text.lstrip().startswith("{") else parse_wrk(text)


# --- recording ----------------------------------------------------------------

def describe_errors(errors):
    parts = [f"{n} {'HTTP status >= 400' if k == 'status' else k + ' errors'}"
             for k, n in errors.items() if n]
    return ", ".join(parts)


def cmd_record(path, args):
    wrk_path, fields, record = new_run(args, "--wrk",
                                       "http_aggregate.py record FILE --wrk OUT key=value ...")
    record["wrk_output"] = read_result(record, wrk_path, parse_load)

    result = record["result"]
    problems = []
    if fields.get("wrk_rc", 0) != 0:
        problems.append(f"the load generator exited with {fields['wrk_rc']}")
    if fields.get("server_alive", 1) == 0:
        problems.append("server exited during the run")
    if result is not None:
        if describe_errors(result["errors"]):
            problems.append(describe_errors(result["errors"]))
        size = fields.get("size_bytes", 0)
        # Every completed response carries the whole file. wrk rounds the byte
        # count to three digits, hence the 1% slack.
        if result["requests"] and result["bytes_read"] < 0.99 * result["requests"] * size:
            problems.append(f"{result['bytes_read']:.0f} bytes read for {result['requests']} "
                            f"responses of a {size}-byte file")
        cpu_s = fields["cpu_ticks"] / fields["clk_tck"]
        record["server_cpu_s"] = round(cpu_s, 4)
        record["cpu_us_per_req"] = cpu_us_per(cpu_s, result["requests"])
        record["cpu_us_per_mib"] = cpu_us_per(cpu_s, result["bytes_read"] / MIB)
        # A server busy for seconds must show CPU time; if it does not, the
        # PID being sampled is not the one doing the work.
        if result["requests"] >= 1000 and fields["cpu_ticks"] == 0:
            problems.append("no CPU time charged to the server PID")
    if problems and record["error"] is None:
        record["error"] = "; ".join(problems)
    append(path, record)

    label = fields.get("server")
    if result is None or record["error"]:
        print(f"    {label}: FAILED ({record['error']})", file=sys.stderr)
        sys.exit(3)
    cpu = record["cpu_us_per_req"]
    print(f"    {label}: {result['req_per_s']:,.0f} req/s, {result['mib_per_s']:,.1f} MiB/s, "
          f"p99 {fmt_latency(result['p99_us'])}, "
          f"cpu {'n/a' if cpu is None else f'{cpu:.2f}'} us/req", file=sys.stderr)


# --- reporting ----------------------------------------------------------------

def fmt_latency(us):
    if us is None:
        return "–"
    if us < 1000:
        return f"{us:.0f} µs"
    if us < 1e6:
        return f"{us / 1e3:.2f} ms"
    return f"{us / 1e6:.2f} s"


def fmt_size(size):
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MiB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} B"


def summarise(runs):
    """Medians per server over the successful runs of one case."""
    summary = {}
    for server, rs in by_server(runs).items():
        ok = [r for r in rs if r["result"] is not None and not r["error"]]
        med_rate, spread = median_and_spread([r["result"]["req_per_s"] for r in ok])
        summary[server] = {
            "ok": len(ok),
            "runs": len(rs),
            "req_per_s": med_rate,
            "spread_pct": spread,
            "mib_per_s": median_or_none([r["result"]["mib_per_s"] for r in ok]),
            "p50_us": median_or_none([r["result"]["p50_us"] for r in ok]),
            "p99_us": median_or_none([r["result"]["p99_us"] for r in ok]),
            "cpu_us_per_req": median_or_none([r.get("cpu_us_per_req") for r in ok]),
            "cpu_us_per_mib": median_or_none([r.get("cpu_us_per_mib") for r in ok]),
            "peak_rss_mib": median_or_none([r["server_peak_rss_kib"] / 1024 for r in ok
                                            if "server_peak_rss_kib" in r]),
            "errors": sum(sum(r["result"]["errors"].values()) for r in rs
                          if r["result"] is not None),
            **core_busy_medians(ok),
        }
    return summary


def case_title(mode, conns, size):
    how = "keep-alive" if mode == "keepalive" else "`Connection: close`"
    return f"{fmt_size(size)}, {conns} {conn_word(conns)}, {how}"


def case_ratios(summary):
    if SUBJECT not in summary or REFERENCE not in summary:
        return None
    a, b = summary[SUBJECT], summary[REFERENCE]
    return {key: ratio(a[key], b[key])
            for key in ("req_per_s", "mib_per_s", "p99_us", "cpu_us_per_req")}


def at_least(value, bound):
    return None if value is None else value >= bound


def at_most(value, bound):
    return None if value is None else value <= bound


def target_for(mode, size):
    """(description, test) for a case; the test maps the ratios to True,
    False, or None when a ratio it needs is missing."""
    if mode == "close":
        return (f"req/s ≥ {CLOSE_REQ_RATIO}×",
                lambda r: at_least(r["req_per_s"], CLOSE_REQ_RATIO))
    if size <= SMALL_LIMIT:
        def small(r):
            fast = at_least(r["req_per_s"], SMALL_REQ_RATIO)
            cheap = at_most(r["cpu_us_per_req"], SMALL_CPU_RATIO)
            if fast is None or cheap is None:
                return None
            return fast and cheap
        return (f"req/s ≥ {SMALL_REQ_RATIO}× and CPU/req ≤ {SMALL_CPU_RATIO}×", small)
    # Large files at many connections may complete few or no responses in a
    # run, so only the byte rate is judged.
    return (f"MiB/s ≥ {LARGE_MIB_RATIO}×",
            lambda r: at_least(r["mib_per_s"], LARGE_MIB_RATIO))


def verdict(summary, ratios, test):
    subject, reference = summary.get(SUBJECT), summary.get(REFERENCE)
    if subject is None or reference is None:
        return "–"
    if subject["ok"] < subject["runs"]:
        return f"**not met** ({SUBJECT}: {subject['runs'] - subject['ok']} failed runs)"
    if reference["ok"] == 0:
        return f"no verdict ({REFERENCE} failed)"
    passed = test(ratios)
    if passed is None:
        return "–"
    return "met" if passed else "**not met**"


# A run whose load generator's core was at least this busy while the server's
# core was at most SERVER_SLACK_PCT busy was driven as fast as wrk could go:
# the server's rate there says more about wrk than about the server.
LOAD_BOUND_PCT = 95
SERVER_SLACK_PCT = 90


def load_bound_note(summary, load_name):
    """A note for a target row whose subject runs were bound by the load generator's core."""
    s = summary.get(SUBJECT)
    if s is None or s["load_core_busy_pct"] is None or s["server_core_busy_pct"] is None:
        return ""
    if s["load_core_busy_pct"] < LOAD_BOUND_PCT or s["server_core_busy_pct"] > SERVER_SLACK_PCT:
        return ""
    return (f" ({load_name} set the rate: its core {s['load_core_busy_pct']:.0f}% busy, "
            f"{SUBJECT}'s {s['server_core_busy_pct']:.0f}%)")


def size_table(size, cases):
    lines = [f"#### {fmt_size(size)}", "",
             "| case | server | req/s | spread | MiB/s | p50 | p99 | CPU µs/req "
             "| CPU µs/MiB | peak RSS MiB | server core busy | load core busy | errors | runs ok |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (mode, conns), summary in cases:
        label = f"{conns} conns" + (", close" if mode == "close" else "")
        for server in ordered(summary, SERVER_ORDER):
            s = summary[server]
            lines.append(f"| {label} | {server} | {fmt(s['req_per_s'])} "
                         f"| {fmt_spread(s['spread_pct'])} "
                         f"| {fmt(s['mib_per_s'])} | {fmt_latency(s['p50_us'])} "
                         f"| {fmt_latency(s['p99_us'])} | {fmt(s['cpu_us_per_req'], 2)} "
                         f"| {fmt(s['cpu_us_per_mib'])} | {fmt(s['peak_rss_mib'])} "
                         f"| {fmt_busy(s)} | {s['errors']} "
                         f"| {s['ok']}/{s['runs']} |")
        r = case_ratios(summary)
        if r is not None:
            lines.append(f"| {label} | **{SUBJECT} / {REFERENCE}** "
                         f"| **{fmt_ratio(r['req_per_s'])}** | "
                         f"| **{fmt_ratio(r['mib_per_s'])}** | "
                         f"| **{fmt_ratio(r['p99_us'])}** "
                         f"| **{fmt_ratio(r['cpu_us_per_req'])}** | | | | | | |")
    lines.append("")
    return lines


def cmd_report(path):
    meta, runs = load(path)
    cases = {}
    for run in runs:
        key = (run.get("size_bytes"), run.get("mode"), run.get("connections"))
        cases.setdefault(key, []).append(run)

    def sort_key(key):
        size, mode, conns = key
        return (size, mode != "keepalive", conns)

    load_name = meta.get("load_name", "wrk")
    if load_name == "wrk":
        bytes_note = ("MiB/s counts every body and header byte wrk read, including responses "
                      "still in flight when the run ended. ")
    else:
        bytes_note = (f"The load generator is {load_name}, not wrk: a supplementary run; "
                      "issue #3's targets are judged with wrk. MiB/s counts response body "
                      "bytes as they arrived, including responses still in flight when the "
                      "run ended. ")
    out = ["### HTTP results", ""]
    out += meta_table(meta, (("date (UTC)", "date"), ("commit", "commit"),
                             ("kernel", "kernel"), ("CPU", "cpu"),
                             ("nginx", "nginx_version"), ("wrk", "wrk_version"),
                             ("command", "command"), ("repetitions", "reps"),
                             ("duration per run", "duration_s"),
                             ("pinning", "pinning"),
                             ("overlap server", "overlap_cmd"),
                             ("nginx server", "nginx_cmd"),
                             ("load generator", "wrk_cmd")),
                      ("command", "overlap_cmd", "nginx_cmd", "wrk_cmd"))
    out += ["Medians over repetitions. *spread* is (max − min) / median of req/s. "
            + bytes_note + "Server CPU = utime + stime of the "
            "server process during the load run; per request it is divided by the "
            "responses completed, per MiB by the bytes read. Ratios are "
            f"{SUBJECT} / {REFERENCE} of the medians: above 1 favours {SUBJECT} for "
            "req/s and MiB/s, below 1 for p99 and CPU. " + core_busy_note(load_name), ""]

    summaries = {key: summarise(rs) for key, rs in cases.items()}
    target_rows, met, judged = [], 0, 0
    for key in sorted(summaries, key=sort_key):
        size, mode, conns = key
        summary = summaries[key]
        ratios = case_ratios(summary)
        if ratios is None:
            continue
        text, test = target_for(mode, size)
        result = verdict(summary, ratios, test)
        if result == "met" or result.startswith("**not met**"):
            judged += 1
            met += result == "met"
        if result.startswith("**not met**"):
            result += load_bound_note(summary, load_name)
        target_rows.append(f"| {case_title(mode, conns, size)} | {fmt_ratio(ratios['req_per_s'])} "
                           f"| {fmt_ratio(ratios['mib_per_s'])} "
                           f"| {fmt_ratio(ratios['cpu_us_per_req'])} | {text} | {result} |")
    if target_rows:
        out += [f"#### Targets: {SUBJECT} / {REFERENCE} (medians)", "",
                "| case | req/s | MiB/s | CPU/req | target | result |",
                "|---|---:|---:|---:|---|---|"] + target_rows
        out += ["", f"{met} of {judged} targets met.", ""]

    by_size = {}
    for key in sorted(summaries, key=sort_key):
        size, mode, conns = key
        by_size.setdefault(size, []).append(((mode, conns), summaries[key]))
    for size, size_cases in by_size.items():
        out += size_table(size, size_cases)

    if "nginx_conf" in meta:
        out += ["<details><summary>nginx configuration (TMP is the script's temporary "
                "directory; PORT changes per run)</summary>", "", "```nginx",
                meta["nginx_conf"].rstrip("\n"), "```", "", "</details>", ""]
    sys.stdout.write("\n".join(out))


def cmd_failures(path):
    _, runs = load(path)
    for run in runs:
        if run.get("error"):
            mode = run.get("mode")
            print(f"{run.get('server')}: {case_title(mode, run.get('connections'), run.get('size_bytes'))}"
                  f", rep {run.get('rep', 0) + 1}: {run['error']}")


if __name__ == "__main__":
    main(sys.argv, __doc__, {"meta": cmd_meta, "record": cmd_record,
                             "report": lambda path, _: cmd_report(path),
                             "failures": lambda path, _: cmd_failures(path)})
