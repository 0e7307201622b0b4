#!/usr/bin/env bash
# A/B comparison of overlap builds or settings, for changes too small for the
# full benchmarks (bench/echo.sh, bench/http.sh) to tell apart from the drift
# between their runs: the variants take turns under the same load, round
# after round, and each one's medians are printed with its ratio to the first.
#
# Usage: bench/ab.sh [--load http|echo] [--connections N] [--size BYTES]
#                    [--close] [--rate R] [--duration S] [--rounds N]
#                    [--generator BIN] VARIANT VARIANT...
#
#   VARIANT          NAME=BINARY[@VAR=VALUE...]: an `overlap` binary and the
#                    environment it runs with, e.g.
#                    old=/tmp/overlap.old new=build/release/apps/overlap
#                    or spin=build/release/apps/overlap@OVERLAP_BACKEND=epoll
#   --load http      `BINARY serve --threads 1 --access-log off` serving one
#                    file of --size bytes, driven by `wrk -t1` (default)
#   --load echo      `BINARY echo --threads 1`, driven by `overlap bench echo`
#   --generator BIN  the `overlap` binary whose `bench echo` drives every
#                    variant (default: the first variant's)
#   --connections N  connections (default 16)
#   --size BYTES     file or message size (default 1024 for http, 64 for echo)
#   --close          http only: Connection: close on every request
#   --rate R         echo only: open loop at R messages/s in total (default:
#                    closed loop)
#   --duration S     whole seconds of load per run (default 4)
#   --rounds N       rounds; each runs every variant once, starting with a
#                    different one each round (default 4)
#
# The server runs on CPU 0 and the load on CPU 1 (OVERLAP_BENCH_SERVER_CPU,
# OVERLAP_BENCH_LOAD_CPU). Server CPU is utime + stime from /proc/PID/stat
# over the load run, divided by the requests (messages) the load generator
# completed. Every run starts a fresh server.

set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib/common.sh
source "$repo/bench/lib/common.sh"

load=http
connections=16
size=""
close=0
rate=0
duration=4
rounds=4
generator=""
variants=()
while (($#)); do
    case $1 in
        --load) need_value "$@"; load=$2; shift 2 ;;
        --connections) need_value "$@"; connections=$2; shift 2 ;;
        --size) need_value "$@"; size=$2; shift 2 ;;
        --close) close=1; shift ;;
        --rate) need_value "$@"; rate=$2; shift 2 ;;
        --duration) need_value "$@"; duration=$2; shift 2 ;;
        --rounds) need_value "$@"; rounds=$2; shift 2 ;;
        --generator) need_value "$@"; generator=$(absolute "$2"); shift 2 ;;
        -h | --help) usage; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) variants+=("$1"); shift ;;
    esac
done

[[ $load == http || $load == echo ]] || die "--load must be http or echo, not '$load'"
[[ -n $size ]] || { [[ $load == http ]] && size=1024 || size=64; }
for v in connections size duration rounds; do
    is_posint "${!v}" || die "--$v must be a whole number of at least 1, not '${!v}'"
done
is_uint "$rate" || die "--rate must be a whole number, not '$rate'"
[[ $close == 0 || $load == http ]] || die "--close applies to --load http only"
[[ $rate == 0 || $load == echo ]] || die "--rate applies to --load echo only"
((${#variants[@]} >= 1)) || die "name at least one VARIANT (see --help)"

names=()
bins=()
envs=()  # per variant: its VAR=VALUE words, space-separated
for spec in "${variants[@]}"; do
    [[ $spec == ?*=?* ]] || die "a VARIANT is NAME=BINARY[@VAR=VALUE...], not '$spec'"
    IFS=@ read -ra parts <<<"${spec#*=}"
    bin=$(absolute "${parts[0]}")
    [[ -x $bin ]] || die "$bin (variant ${spec%%=*}) is not an executable"
    for e in "${parts[@]:1}"; do
        [[ $e == ?*=* && $e != *' '* ]] || die "'$e' in variant ${spec%%=*} is not VAR=VALUE"
    done
    names+=("${spec%%=*}")
    bins+=("$bin")
    envs+=("${parts[*]:1}")
done
[[ -n $generator ]] || generator=${bins[0]}
if [[ $load == http ]]; then
    command -v wrk >/dev/null || die "wrk is missing (apt-get install -y wrk)"
fi
command -v python3 >/dev/null || die "python3 is missing"

setup_tmp ab
raise_fd_limit
warn_shared_cpu "the load generator"
warn_if_loaded
mkdir -p "$tmp/www"
head -c "$size" /dev/urandom >"$tmp/www/file.bin"
results="$tmp/results"
: >"$results"

# wrk's latency ("117.00us", "1.41ms", "2.00s") in microseconds.
to_us() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
        else if (v ~ /s$/) print n * 1000000; else print ""
    }'
}

# run_variant I ROUND: one run of variant I; appends "NAME RATE CPU_US P99_US"
# to the results and prints it.
run_variant() {
    local i=$1 round=$2 port before after count rate_out p99
    local -a env_words cmd
    read -ra env_words <<<"${envs[i]}"
    if [[ $load == http ]]; then
        cmd=("${bins[i]}" serve "$tmp/www" --threads 1 --access-log off --port 0)
        start_pinned "$tmp/srv.out" "$tmp/srv.err" env "${env_words[@]}" "${cmd[@]}"
        wait_for_line "$tmp/srv.err" 'listening on '
        port=$(sed -nE 's/.*listening on [^ ]*:([0-9]+),.*/\1/p' <<<"$found_line")
    else
        cmd=("${bins[i]}" echo --threads 1 --port 0)
        start_pinned "$tmp/srv.out" "$tmp/srv.err" env "${env_words[@]}" "${cmd[@]}"
        wait_for_line "$tmp/srv.out" '^listening on '
        port=${found_line##*:}
    fi
    if [[ -z $port ]]; then
        server_failed "${names[i]}" "did not report its port" "$tmp/srv.err"
        die "variant ${names[i]} did not start"
    fi
    before=$(cpu_ticks "$server_pid")
    if [[ $load == http ]]; then
        local -a header=()
        ((close == 0)) || header=(-H 'Connection: close')
        run_load $((duration + 60)) "$tmp/load.out" "$tmp/load.err" wrk -t1 "-c$connections" \
            "-d${duration}s" --timeout 64s --latency "${header[@]}" "http://127.0.0.1:$port/file.bin"
    else
        local -a open=()
        ((rate == 0)) || open=(--rate "$rate")
        run_load $((duration + 60)) "$tmp/load.out" "$tmp/load.err" "$generator" bench echo \
            --port "$port" --connections "$connections" --size "$size" --duration "$duration" \
            "${open[@]}" --json --no-progress
    fi
    after=$(cpu_ticks "$server_pid")
    stop_pid "$server_pid"
    if ((load_rc != 0)); then
        log "round $round, ${names[i]}: the load generator failed ($load_rc):"
        sed 's/^/    /' "$tmp/load.err" >&2
        die "stopping"
    fi
    if [[ $load == http ]]; then
        count=$(awk '/requests in/ { print $1; exit }' "$tmp/load.out")
        rate_out=$(awk '/^Requests\/sec:/ { print $2; exit }' "$tmp/load.out")
        p99=$(to_us "$(awk '$1 == "99%" { print $2; exit }' "$tmp/load.out")")
    else
        read -r count rate_out p99 < <(python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
print(j["messages"], j["msgs_per_s"], j["p99_us"])' <"$tmp/load.out")
    fi
    [[ -n $count && $count != 0 ]] || die "round $round, ${names[i]}: no request completed"
    local cpu_us
    cpu_us=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v n="$count" \
        'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
    echo "${names[i]} $rate_out $cpu_us $p99" >>"$results"
    log "round $round/$rounds  ${names[i]}: $rate_out/s, server CPU $cpu_us µs each, p99 $p99 µs"
}

n=${#variants[@]}
log "A/B: $load, $connections connections, $size B$( ((close)) && echo ', Connection: close')$( ((rate)) && echo ", $rate msgs/s"), $rounds rounds of ${duration} s"
for ((round = 1; round <= rounds; round++)); do
    for ((k = 0; k < n; k++)); do
        run_variant $(((k + round - 1) % n)) "$round"
    done
done

unit=$([[ $load == http ]] && echo req || echo msg)
python3 - "$results" "$unit" "${names[@]}" <<'EOF'
import statistics, sys
path, unit, names = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = {n: [] for n in names}
for line in open(path):
    name, rate, cpu, p99 = line.split()
    runs[name].append((float(rate), float(cpu), float(p99 or "nan")))
med = {n: [statistics.median(r[k] for r in runs[n]) for k in range(3)] for n in names}
first = med[names[0]]
print(f"| variant | {unit}/s | server CPU µs/{unit} | p99 µs | {unit}/s ratio | CPU ratio |")
print("|---|---:|---:|---:|---:|---:|")
for n in names:
    r, c, p = med[n]
    print(f"| {n} | {r:,.0f} | {c:.2f} | {p:.0f} | {r / first[0]:.3f} | {c / first[1]:.3f} |")
print(f"\nmedians of {len(runs[names[0]])} runs each")
EOF
