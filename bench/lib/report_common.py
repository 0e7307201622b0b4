"""Shared bookkeeping of the benchmark reports (aggregate.py for bench/echo.sh,
http_aggregate.py for bench/http.sh): the JSON-lines file of runs, medians,
and the Markdown pieces both reports use.

Not a script of its own; only the standard library is used.
"""

import json
import os
import statistics
import sys

# --- the JSON-lines file --------------------------------------------------------


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
            sys.exit(f"{os.path.basename(sys.argv[0])}: expected key=value, got {arg!r}")
        fields[key] = parse_value(value) if convert else value
    return fields


def append(path, record):
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(record, separators=(",", ":")) + "\n")


def cmd_meta(path, args):
    append(path, {"type": "meta", **parse_pairs(args, convert=False)})


def new_run(args, option, usage):
    """The start of `record FILE OPTION OUT key=value ...`: (OUT, fields, record)
    with the record's result unset and its error the failure=TEXT field, if any;
    OUT is None when there is such a failure (the run could not happen)."""
    if len(args) < 2 or args[0] != option:
        sys.exit(usage)
    raw_path, fields = args[1], parse_pairs(args[2:])
    failure = fields.pop("failure", None)
    record = {"type": "run", **fields, "result": None, "error": failure}
    return (raw_path if failure is None else None), fields, record


def read_result(record, raw_path, parse):
    """Sets record["result"] to parse(text of raw_path), or record["error"] if
    the file cannot be read or parsed. Returns the text ("" without one)."""
    text = ""
    if raw_path is None:
        return text
    try:
        with open(raw_path, encoding="utf-8", errors="replace") as raw:
            text = raw.read()
        record["result"] = parse(text)
    except (OSError, ValueError) as e:
        record["error"] = str(e)
    return text


def cpu_us_per(cpu_s, count):
    """Server CPU microseconds per unit of work, or None for no work."""
    return round(cpu_s * 1e6 / count, 4) if count else None


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


# --- statistics -----------------------------------------------------------------


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def by_server(runs):
    """The runs of one case grouped per server, in the order first seen."""
    groups = {}
    for run in runs:
        groups.setdefault(run["server"], []).append(run)
    return groups


def median_and_spread(rates):
    """(median, spread in % of the median) of the rates; None for either that
    cannot be had."""
    med_rate = median_or_none(rates)
    spread = (None if not rates or not med_rate
              else 100.0 * (max(rates) - min(rates)) / med_rate)
    return med_rate, spread


# How busy the server's and the load generator's CPUs were during a run, in %
# (bench/lib/common.sh's run_load); runs recorded before these fields existed,
# or where /proc/stat could not be read, lack them.
CORE_BUSY_KEYS = ("server_core_busy_pct", "load_core_busy_pct")


def core_busy_medians(runs):
    """{key: median} for CORE_BUSY_KEYS over the runs; None where no run has
    the field."""
    return {key: median_or_none([r.get(key) for r in runs]) for key in CORE_BUSY_KEYS}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def ordered(servers, server_order):
    """The servers in server_order first, then any others sorted."""
    known = [s for s in server_order if s in servers]
    return known + sorted(s for s in servers if s not in server_order)


# --- Markdown -------------------------------------------------------------------


def fmt(value, digits=1):
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def fmt_ratio(value):
    return "–" if value is None else f"{value:.2f}×"


def fmt_spread(spread_pct):
    return "–" if spread_pct is None else f"{spread_pct:.0f}%"


def fmt_busy(summary):
    """The table cells "server core busy | load core busy" of a server's
    summary, which holds core_busy_medians()."""
    return " | ".join("–" if summary[key] is None else f"{summary[key]:.0f}%"
                      for key in CORE_BUSY_KEYS)


def core_busy_note(load_name):
    """The sentence of the report's explanatory paragraph on the core columns."""
    return ("*server core busy* and *load core busy* are the medians of the share "
            f"of time the server's CPU and {load_name}'s CPU were not idle during the "
            "run (from `/proc/stat`, whoever ran there); a load core near 100% with "
            f"a server core well below it means {load_name}, not the server, set the "
            "rate.")


def conn_word(count):
    return "connection" if count == 1 else "connections"


def meta_table(meta, rows, code_keys):
    """The table of the run's context: rows are (label, key) in order, shown
    when meta has the key; the values of code_keys are set as code."""
    if not meta:
        return []
    out = ["| | |", "|---|---|"]
    for label, key in rows:
        if key in meta:
            value = meta[key]
            if key in ("duration_s", "open_duration_s"):
                value = f"{value} s"
            if key in code_keys:
                value = f"`{value}`"
            out.append(f"| {label} | {value} |")
    out.append("")
    return out


# --- the command line -----------------------------------------------------------


def main(argv, doc, commands):
    """Runs `PROGRAM COMMAND FILE ARGS...`: commands maps each COMMAND to a
    function of (FILE, ARGS); anything else exits with doc."""
    if len(argv) < 3:
        sys.exit(doc)
    command, path, rest = argv[1], argv[2], argv[3:]
    if command not in commands:
        sys.exit(doc)
    commands[command](path, rest)
