#!/usr/bin/env python3
"""Plots a bench/http.sh record: for each file size run with keep-alive, one
PNG with the servers' median req/s, server CPU µs per request and peak
resident memory against the number of connections.

Usage: http_plot.py FILE.jsonl OUTDIR [PREFIX]
Writes OUTDIR/PREFIX-SIZE.png (PREFIX defaults to the record's file name) with
gnuplot, and prints the paths written.
"""

import os
import subprocess
import sys

from http_aggregate import SERVER_ORDER, fmt_size, summarise
from report_common import load, ordered

METRICS = (("req_per_s", "requests/s (median)"),
           ("cpu_us_per_req", "server CPU µs per request (median)"),
           ("peak_rss_mib", "server peak RSS, MiB (median)"))


def series(runs, size):
    """{server: {connections: summary}} for the keep-alive runs of one size."""
    by_conns = {}
    for r in runs:
        if r.get("mode") == "keepalive" and r.get("size_bytes") == size:
            by_conns.setdefault(r["connections"], []).append(r)
    out = {}
    for conns, rs in sorted(by_conns.items()):
        for server, s in summarise(rs).items():
            out.setdefault(server, {})[conns] = s
    return out


def gnuplot_script(png, title, data_path, servers, conns, metrics):
    lines = [
        f'set terminal pngcairo size {500 * len(metrics)},430 font "DejaVu Sans,10"',
        f'set output "{png}"',
        f"set multiplot layout 1,{len(metrics)} title " + f'"{title}"',
        "set logscale x 2",
        f"set xtics ({', '.join(str(c) for c in conns)})",
        "set xlabel 'connections'",
        "set key top left",
        "set grid ytics",
        "set yrange [0:*]",
    ]
    for column, (_, label) in enumerate(metrics):
        plots = []
        for i, server in enumerate(servers):
            col = 2 + i * len(metrics) + column
            plots.append(f"'{data_path}' using 1:{col} with linespoints lw 2 title '{server}'")
        lines += [f"set ylabel '{label}'", "plot " + ", ".join(plots)]
    lines.append("unset multiplot")
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, outdir = argv[1], argv[2]
    prefix = argv[3] if len(argv) > 3 else os.path.splitext(os.path.basename(path))[0]
    _, runs = load(path)
    os.makedirs(outdir, exist_ok=True)
    sizes = sorted({r["size_bytes"] for r in runs if r.get("mode") == "keepalive"})
    for size in sizes:
        data = series(runs, size)
        servers = ordered(data, SERVER_ORDER)
        conns = sorted({c for s in data.values() for c in s})
        # Records from before a metric existed (peak RSS) lack it: leave it out.
        metrics = [(m, label) for m, label in METRICS
                   if any(s.get(m) is not None for per in data.values() for s in per.values())]
        if not servers or not conns or not metrics:
            continue
        label = fmt_size(size).replace(" ", "")
        data_path = os.path.join(outdir, f"{prefix}-{label}.dat")
        with open(data_path, "w", encoding="utf-8") as f:
            f.write("# connections, then per server: " + " ".join(
                f"{s}:{m}" for s in servers for m, _ in metrics) + "\n")
            for c in conns:
                row = [str(c)]
                for s in servers:
                    summary = data[s].get(c, {})
                    row += ["NaN" if summary.get(m) is None else f"{summary[m]:.3f}"
                            for m, _ in metrics]
                f.write(" ".join(row) + "\n")
        png = os.path.join(outdir, f"{prefix}-{label}.png")
        script = gnuplot_script(png, f"{fmt_size(size)} files, keep-alive, one server core",
                                data_path, servers, conns, metrics)
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
        os.remove(data_path)
        print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
