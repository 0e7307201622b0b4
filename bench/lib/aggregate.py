#!/usr/bin/env python3
"""Bookkeeping for bench/echo.sh: one JSON line per run, then Markdown medians.

  aggregate.py meta   FILE.jsonl key=value ...             append the run's context
  aggregate.py record FILE.jsonl --raw OUT key=value ...   append one load run
                                    (failure=TEXT: the run could not happen)
  aggregate.py report FILE.jsonl                           Markdown on stdout

Only the standard library is used so the script runs on any python3.
"""

import json
import statistics
import sys

# The server whose numbers are divided by the reference's in the ratio rows.
SUBJECT = "overlap"
REFERENCE = "asio-uring"
SERVER_ORDER = ["overlap", "asio-epoll", "asio-uring"]


def parse_value(text):
    for to_number in (int, float):
        try:
            return to_number(text)
        except ValueError:
            pass
    return text


def parse_pairs(args, convert=True):
    fields = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            sys.exit(f"aggregate.py: expected key=value, got {arg!r}")
        fields[key] = parse_value(value) if convert else value
    return fields


def append(path, record):
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(record, separators=(",", ":")) + "\n")


def last_json_line(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in load generator output")


def cmd_meta(path, args):
    append(path, {"type": "meta", **parse_pairs(args, convert=False)})


def cmd_record(path, args):
    if len(args) < 2 or args[0] != "--raw":
        sys.exit("aggregate.py record FILE --raw OUT key=value ...")
    raw_path, fields = args[1], parse_pairs(args[2:])
    failure = fields.pop("failure", None)
    record = {"type": "run", **fields, "result": None, "error": failure}
    if failure is not None:
        raw_path = None
    try:
        if raw_path is not None:
            with open(raw_path, encoding="utf-8", errors="replace") as raw:
                record["result"] = last_json_line(raw.read())
    except (OSError, ValueError) as e:
        record["error"] = str(e)

    result = record["result"]
    if fields.get("loadgen_rc", 0) != 0 and record["error"] is None:
        record["error"] = f"load generator exited with {fields['loadgen_rc']}"
    if fields.get("server_alive", 1) == 0 and record["error"] is None:
        record["error"] = "server exited during the run"
    if result is not None:
        cpu_s = fields["cpu_ticks"] / fields["clk_tck"]
        messages = result.get("messages", 0)
        record["server_cpu_s"] = round(cpu_s, 4)
        record["cpu_us_per_msg"] = (round(cpu_s * 1e6 / messages, 4)
                                    if messages else None)
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


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(value):
    return "–" if value is None else f"{value:.2f}×"


def conn_word(count):
    return "connection" if count == 1 else "connections"


def load(path):
    meta, runs = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec.get("type") == "meta":
                meta.update(rec)
            elif rec.get("type") == "run":
                runs.append(rec)
    return meta, runs


def summarise(runs):
    """Medians per server over the successful runs of one case."""
    by_server = {}
    for run in runs:
        by_server.setdefault(run["server"], []).append(run)
    summary = {}
    for server, rs in by_server.items():
        ok = [r for r in rs if r["result"] is not None and r["error"] is None]
        rates = [r["result"]["msgs_per_s"] for r in ok]
        med_rate = median_or_none(rates)
        spread = (None if not rates or not med_rate
                  else 100.0 * (max(rates) - min(rates)) / med_rate)
        summary[server] = {
            "runs": f"{len(ok)}/{len(rs)}",
            "msgs_per_s": med_rate,
            "spread_pct": spread,
            "p50_us": median_or_none([r["result"].get("p50_us") for r in ok]),
            "p99_us": median_or_none([r["result"].get("p99_us") for r in ok]),
            "cpu_us_per_msg": median_or_none([r.get("cpu_us_per_msg") for r in ok]),
            "errors": sum(r["result"].get("errors", 0) for r in ok),
        }
    return summary


def ordered(servers):
    known = [s for s in SERVER_ORDER if s in servers]
    return known + sorted(s for s in servers if s not in SERVER_ORDER)


def case_table(title, summary, open_loop):
    lines = [f"#### {title}", ""]
    head = "| server | msgs/s | spread | p50 µs | p99 µs | server CPU µs/msg | errors | runs ok |"
    lines += [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for server in ordered(summary):
        s = summary[server]
        spread = "–" if s["spread_pct"] is None else f"{s['spread_pct']:.0f}%"
        lines.append(f"| {server} | {fmt(s['msgs_per_s'])} | {spread} | {fmt(s['p50_us'])} "
                     f"| {fmt(s['p99_us'])} | {fmt(s['cpu_us_per_msg'], 2)} "
                     f"| {s['errors']} | {s['runs']} |")
    ratios = None
    if SUBJECT in summary and REFERENCE in summary:
        a, b = summary[SUBJECT], summary[REFERENCE]
        ratios = (ratio(a["msgs_per_s"], b["msgs_per_s"]),
                  ratio(a["p99_us"], b["p99_us"]),
                  ratio(a["cpu_us_per_msg"], b["cpu_us_per_msg"]))
        lines.append(f"| **{SUBJECT} / {REFERENCE}** | **{fmt_ratio(ratios[0])}** | "
                     f"| | **{fmt_ratio(ratios[1])}** | **{fmt_ratio(ratios[2])}** | | |")
    if open_loop:
        lines += ["", "In the open-loop case msgs/s is the offered rate being met; "
                  "compare server CPU per message and p99."]
    lines.append("")
    return lines, ratios


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
    if meta:
        out += ["| | |", "|---|---|"]
        for label, key in (("date (UTC)", "date"), ("commit", "commit"),
                           ("kernel", "kernel"), ("CPU", "cpu"),
                           ("boost", "boost"), ("compiler", "compiler"),
                           ("command", "command"), ("repetitions", "reps"),
                           ("duration per run", "duration_s"),
                           ("pinning", "pinning"),
                           ("overlap server", "overlap_echo_cmd"),
                           ("load generator", "bench_cmd")):
            if key in meta:
                value = meta[key]
                if key == "duration_s":
                    value = f"{value} s"
                if key in ("command", "overlap_echo_cmd", "bench_cmd"):
                    value = f"`{value}`"
                out.append(f"| {label} | {value} |")
        out.append("")
    out += ["Medians over repetitions; *spread* is (max − min) / median of msgs/s; "
            "server CPU µs/msg = server utime+stime during the load run / messages "
            "completed.", ""]

    summary_rows, body = [], []
    for key in sorted(cases, key=sort_key):
        mode, conns, size, rate = key
        if mode == "closed":
            title = f"{conns} {conn_word(conns)} × {size} B, closed loop"
        else:
            title = f"{conns} {conn_word(conns)} × {size} B, open loop at {rate:,} msgs/s"
        lines, ratios = case_table(title, summarise(cases[key]), mode != "closed")
        body += lines
        if ratios is not None:
            summary_rows.append(f"| {title} | {fmt_ratio(ratios[0])} | "
                                f"{fmt_ratio(ratios[1])} | {fmt_ratio(ratios[2])} |")

    if summary_rows:
        out += [f"#### Summary: {SUBJECT} / {REFERENCE} (medians)", "",
                "| case | msgs/s | p99 | server CPU/msg |",
                "|---|---:|---:|---:|"] + summary_rows + [""]
    out += body
    sys.stdout.write("\n".join(out))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    command, path, rest = argv[1], argv[2], argv[3:]
    if command == "meta":
        cmd_meta(path, rest)
    elif command == "record":
        cmd_record(path, rest)
    elif command == "report":
        cmd_report(path)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
