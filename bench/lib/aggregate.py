#!/usr/bin/env python3
"""Bookkeeping for bench/echo.sh: one JSON line per run, then Markdown medians.

  aggregate.py meta   FILE.jsonl key=value ...             append the run's context
  aggregate.py record FILE.jsonl --raw OUT key=value ...   append one load run
                                    (failure=TEXT: the run could not happen)
  aggregate.py report FILE.jsonl                           Markdown on stdout

The parts shared with bench/http.sh's http_aggregate.py are in report_common.py
beside this file; only the standard library is used so the script runs on any
python3.
"""

import json
import sys

from report_common import (append, by_server, cmd_meta, conn_word, core_busy_medians,
                           core_busy_note, cpu_us_per, fmt, fmt_busy, fmt_ratio,
                           fmt_spread, load, main, median_and_spread, median_or_none,
                           meta_table, new_run, ordered, ratio, read_result)

# The server whose numbers are divided by the reference's in the ratio rows.
SUBJECT = "overlap"
REFERENCE = "asio-uring"
SERVER_ORDER = ["overlap", "overlap-epoll", "overlap-reactor", "overlap-threads", "asio-epoll",
                "asio-uring"]


def last_json_line(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in load generator output")


def cmd_record(path, args):
    raw_path, fields, record = new_run(args, "--raw",
                                       "aggregate.py record FILE --raw OUT key=value ...")
    read_result(record, raw_path, last_json_line)

    result = record["result"]
    if fields.get("loadgen_rc", 0) != 0 and record["error"] is None:
        record["error"] = f"load generator exited with {fields['loadgen_rc']}"
    if fields.get("server_alive", 1) == 0 and record["error"] is None:
        record["error"] = "server exited during the run"
    if result is not None:
        cpu_s = fields["cpu_ticks"] / fields["clk_tck"]
        messages = result.get("messages", 0)
        record["server_cpu_s"] = round(cpu_s, 4)
        record["cpu_us_per_msg"] = cpu_us_per(cpu_s, messages)
    append(path, record)

    # One progress line per run for whoever is watching the terminal.
    if result is None:
        print(f"    {fields.get('server')}: FAILED ({record['error']})", file=sys.stderr)
    else:
        cpu = record["cpu_us_per_msg"]
        print(f"    {fields.get('server')}: {result.get('msgs_per_s', 0):,.0f} msg/s, "
              f"p99 {result.get('p99_us', 0):.1f} us, "
              f"cpu {'n/a' if cpu is None else f'{cpu:.2f}'} us/msg"
              + (f"  [{record['error']}]" if record["error"] else ""),
              file=sys.stderr)


def summarise(runs):
    """Medians per server over the successful runs of one case."""
    summary = {}
    for server, rs in by_server(runs).items():
        ok = [r for r in rs if r["result"] is not None and r["error"] is None]
        med_rate, spread = median_and_spread([r["result"]["msgs_per_s"] for r in ok])
        summary[server] = {
            "runs": f"{len(ok)}/{len(rs)}",
            "msgs_per_s": med_rate,
            "spread_pct": spread,
            "p50_us": median_or_none([r["result"].get("p50_us") for r in ok]),
            "p99_us": median_or_none([r["result"].get("p99_us") for r in ok]),
            "cpu_us_per_msg": median_or_none([r.get("cpu_us_per_msg") for r in ok]),
            "errors": sum(r["result"].get("errors", 0) for r in ok),
            **core_busy_medians(ok),
        }
    return summary


def case_table(title, summary, open_loop):
    lines = [f"#### {title}", ""]
    head = ("| server | msgs/s | spread | p50 µs | p99 µs | server CPU µs/msg "
            "| server core busy | load core busy | errors | runs ok |")
    lines += [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for server in ordered(summary, SERVER_ORDER):
        s = summary[server]
        lines.append(f"| {server} | {fmt(s['msgs_per_s'])} | {fmt_spread(s['spread_pct'])} "
                     f"| {fmt(s['p50_us'])} | {fmt(s['p99_us'])} | {fmt(s['cpu_us_per_msg'], 2)} "
                     f"| {fmt_busy(s)} | {s['errors']} | {s['runs']} |")
    ratios = None
    if SUBJECT in summary and REFERENCE in summary:
        a, b = summary[SUBJECT], summary[REFERENCE]
        ratios = (ratio(a["msgs_per_s"], b["msgs_per_s"]),
                  ratio(a["p99_us"], b["p99_us"]),
                  ratio(a["cpu_us_per_msg"], b["cpu_us_per_msg"]))
        lines.append(f"| **{SUBJECT} / {REFERENCE}** | **{fmt_ratio(ratios[0])}** | "
                     f"| | **{fmt_ratio(ratios[1])}** | **{fmt_ratio(ratios[2])}** | | | | |")
    if open_loop:
        lines += ["", "In the open-loop case msgs/s is the offered rate being met; "
                  "compare server CPU per message and p99."]
    lines.append("")
    return lines, ratios


# Issue #2's targets, overlap / asio-uring.
CLOSED_RATE_RATIO = 1.15  # msgs/s, every closed-loop case, with p99 no worse
OPEN_CPU_RATIO = 0.75     # server CPU per message at the fixed rate
# The load generator's core at least this busy in the subject's runs: it may
# have set the rate as much as the server did.
LOAD_BOUND_PCT = 95


def target_verdict(mode, summary, ratios):
    """(target text, result text) of a case."""
    rate, p99, cpu = ratios
    if mode == "closed":
        text = f"msgs/s ≥ {CLOSED_RATE_RATIO}× and p99 ≤ 1×"
        passed = None if rate is None or p99 is None else (
            rate >= CLOSED_RATE_RATIO and p99 <= 1.0)
    else:
        text = f"CPU/msg ≤ {OPEN_CPU_RATIO}×"
        passed = None if cpu is None else cpu <= OPEN_CPU_RATIO
    if passed is None:
        return text, "–"
    if passed:
        return text, "met"
    result = "**not met**"
    load = summary[SUBJECT]["load_core_busy_pct"]
    if mode == "closed" and load is not None and load >= LOAD_BOUND_PCT:
        result += f" (load generator's core {load:.0f}% busy in {SUBJECT}'s runs)"
    return text, result


def cmd_report(path):
    meta, runs = load(path)
    cases = {}
    for run in runs:
        key = (run.get("mode"), run.get("connections"), run.get("size"), run.get("rate", 0))
        cases.setdefault(key, []).append(run)

    def sort_key(key):
        mode, conns, size, rate = key
        return (mode != "closed", size, conns, rate)

    out = ["### Echo results", ""]
    out += meta_table(meta, (("date (UTC)", "date"), ("commit", "commit"),
                             ("kernel", "kernel"), ("CPU", "cpu"),
                             ("boost", "boost"), ("compiler", "compiler"),
                             ("command", "command"), ("repetitions", "reps"),
                             ("duration per run", "duration_s"),
                             ("duration per open-loop run", "open_duration_s"),
                             ("pinning", "pinning"),
                             ("overlap server", "overlap_echo_cmd"),
                             ("load generator", "bench_cmd")),
                      ("command", "overlap_echo_cmd", "bench_cmd"))
    out += ["Medians over repetitions; *spread* is (max − min) / median of msgs/s; "
            "server CPU µs/msg = server utime+stime during the load run / messages "
            "completed. " + core_busy_note("the load generator"), ""]

    summary_rows, body, met, judged = [], [], 0, 0
    for key in sorted(cases, key=sort_key):
        mode, conns, size, rate = key
        if mode == "closed":
            title = f"{conns} {conn_word(conns)} × {size} B, closed loop"
        else:
            title = f"{conns} {conn_word(conns)} × {size} B, open loop at {rate:,} msgs/s"
        summary = summarise(cases[key])
        lines, ratios = case_table(title, summary, mode != "closed")
        body += lines
        if ratios is not None:
            text, result = target_verdict(mode, summary, ratios)
            judged += result != "–"
            met += result == "met"
            summary_rows.append(f"| {title} | {fmt_ratio(ratios[0])} | "
                                f"{fmt_ratio(ratios[1])} | {fmt_ratio(ratios[2])} "
                                f"| {text} | {result} |")

    if summary_rows:
        out += [f"#### Summary: {SUBJECT} / {REFERENCE} (medians)", "",
                "| case | msgs/s | p99 | server CPU/msg | target | result |",
                "|---|---:|---:|---:|---|---|"] + summary_rows
        out += ["", f"{met} of {judged} targets met.", ""]
    out += body
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv, __doc__, {"meta": cmd_meta, "record": cmd_record,
                             "report": lambda path, _: cmd_report(path)})
