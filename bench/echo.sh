#!/usr/bin/env bash
# Echo benchmark (issue #2): overlap's echo server against Boost.Asio's, on
# epoll and on io_uring, driven by overlap's own load generator.
#
# Usage: bench/echo.sh [--build-dir DIR] [--reps N] [--duration S] [--quick]
#                      [--open-rate MSGS_PER_S] [--servers LIST]
#                      [--connections LIST] [--sizes LIST] [--out FILE]
#
#   --build-dir DIR   overlap build tree (default build/release; built with the
#                     release preset if it has no apps/overlap yet)
#   --reps N          repetitions of every case (default 3)
#   --duration S      seconds of load per run (default 5)
#   --quick           smoke test: 1 repetition of 2 s
#   --open-rate R     total offered rate of the open-loop case, 16 conns x 64 B
#                     (default 20000; 0 skips the case)
#   --servers LIST    comma-separated subset of overlap,asio-epoll,asio-uring
#   --connections L   comma-separated connection counts (default 1,16,256,1000)
#   --sizes LIST      comma-separated message sizes in bytes (default 64,4096)
#   --out FILE        also write the Markdown to FILE and the raw runs to
#                     FILE's name with .jsonl (otherwise build/bench/echo-*.jsonl)
#
# Environment:
#   OVERLAP_ECHO_CMD   server command (default "$BUILD_DIR/apps/overlap echo --threads 1");
#                      "--port 0" is appended
#   OVERLAP_BENCH_CMD  load generator (default "$BUILD_DIR/apps/overlap bench echo")
#   OVERLAP_BENCH_SERVER_CPU, OVERLAP_BENCH_LOAD_CPU
#                      CPUs to pin the server and the load generator to (0, 1)
#
# Every run starts a fresh server pinned to one CPU with the load generator
# pinned to another; servers take turns in an order that rotates per repetition.
# See docs/benchmarks.md for the method.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo
readonly all_servers=(overlap asio-epoll asio-uring)
server_cpu=${OVERLAP_BENCH_SERVER_CPU:-0}
load_cpu=${OVERLAP_BENCH_LOAD_CPU:-1}

build_dir="$repo/build/release"
reps=3
duration=5
open_rate=20000
servers_csv="overlap,asio-epoll,asio-uring"
connections_csv="1,16,256,1000"
sizes_csv="64,4096"
out_md=""
quick=0

die() { echo "echo.sh: $*" >&2; exit 2; }
log() { echo "$*" >&2; }
absolute() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

while (($#)); do
    case $1 in
        --build-dir) (($# >= 2)) || die "$1 needs a value"; build_dir=$(absolute "$2"); shift 2 ;;
        --reps) (($# >= 2)) || die "$1 needs a value"; reps=$2; shift 2 ;;
        --duration) (($# >= 2)) || die "$1 needs a value"; duration=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --open-rate) (($# >= 2)) || die "$1 needs a value"; open_rate=$2; shift 2 ;;
        --servers) (($# >= 2)) || die "$1 needs a value"; servers_csv=$2; shift 2 ;;
        --connections) (($# >= 2)) || die "$1 needs a value"; connections_csv=$2; shift 2 ;;
        --sizes) (($# >= 2)) || die "$1 needs a value"; sizes_csv=$2; shift 2 ;;
        --out) (($# >= 2)) || die "$1 needs a value"; out_md=$(absolute "$2"); shift 2 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
if ((quick)); then
    reps=1
    duration=2
fi

{ is_uint "$reps" && ((reps >= 1)); } || die "--reps must be a positive integer"
[[ $duration =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--duration must be a number of seconds"
is_uint "$open_rate" || die "--open-rate must be a non-negative integer"
IFS=, read -ra servers <<<"$servers_csv"
IFS=, read -ra connection_counts <<<"$connections_csv"
IFS=, read -ra sizes <<<"$sizes_csv"
for s in "${servers[@]}"; do
    [[ " ${all_servers[*]} " == *" $s "* ]] || die "unknown server '$s' (have: ${all_servers[*]})"
done
for n in "${connection_counts[@]}" "${sizes[@]}"; do
    { is_uint "$n" && ((n >= 1)); } || die "connection counts and sizes must be positive integers"
done

[[ $server_cpu != "$load_cpu" ]] || log "warning: server and load generator share CPU $server_cpu"

# 1000 connections need 1000 fds in the server and in the load generator;
# ask for 65536, or as many as the hard limit allows.
fd_limit=65536
if [[ $(ulimit -Hn) != unlimited ]] && (($(ulimit -Hn) < fd_limit)); then
    fd_limit=$(ulimit -Hn)
fi
ulimit -n "$fd_limit" 2>/dev/null || log "warning: could not raise the fd limit (now $(ulimit -n))"

clk_tck=$(getconf CLK_TCK)

# --- state and cleanup -------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/overlap-echo-bench.XXXXXX")
live_pids=()   # servers and load generators this script started and not yet reaped

forget_pid() {
    local pid=$1 i
    for i in "${!live_pids[@]}"; do
        [[ ${live_pids[i]} == "$pid" ]] && unset 'live_pids[i]'
    done
    return 0
}

# SIGTERM, up to 5 s for a clean exit, then SIGKILL. Sets stop_status.
stop_pid() {
    local pid=$1 i
    stop_status=0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "warning: pid $pid ignored SIGTERM for 5 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || stop_status=$?
    forget_pid "$pid"
}

cleanup() {
    local pid
    for pid in "${live_pids[@]}"; do
        stop_pid "$pid"
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# --- the three servers -------------------------------------------------------

asio_dir="$repo/build/bench"
asio_src="$repo/bench/asio_echo/asio_echo.cpp"
asio_flags=(-O2 -std=c++20)
uring_flags=(-DBOOST_ASIO_HAS_IO_URING -DBOOST_ASIO_DISABLE_EPOLL)

# build_asio NAME [FLAGS...] -- [LIBS...]; skipped while the binary is newer
# than the source.
build_asio() {
    local bin="$asio_dir/asio_echo_$1" flags=() libs=()
    shift
    while (($#)) && [[ $1 != -- ]]; do flags+=("$1"); shift; done
    (($#)) && shift
    libs=("$@")
    if [[ -x $bin && $bin -nt $asio_src ]]; then
        return 0
    fi
    log "building $bin"
    g++ "${asio_flags[@]}" "${flags[@]}" -o "$bin.tmp" "$asio_src" "${libs[@]}" && mv "$bin.tmp" "$bin"
}

needs_server() { [[ " ${servers[*]} " == *" $1 "* ]]; }

overlap_bin="$build_dir/apps/overlap"
if { needs_server overlap && [[ -z ${OVERLAP_ECHO_CMD:-} ]]; } || [[ -z ${OVERLAP_BENCH_CMD:-} ]]; then
    if [[ ! -x $overlap_bin ]]; then
        [[ $build_dir == "$repo/build/release" ]] ||
            die "$overlap_bin not found (build it, or omit --build-dir to use the release preset)"
        log "building overlap with the release preset"
        (cd "$repo" && cmake --preset release >&2 && cmake --build --preset release >&2) ||
            die "building overlap failed"
        [[ -x $overlap_bin ]] || die "the release build produced no $overlap_bin"
    fi
fi
read -ra overlap_echo_cmd <<<"${OVERLAP_ECHO_CMD:-$overlap_bin echo --threads 1}"
read -ra bench_cmd <<<"${OVERLAP_BENCH_CMD:-$overlap_bin bench echo}"

mkdir -p "$asio_dir"
build_pids=()
if needs_server asio-epoll; then build_asio epoll & build_pids+=($!); fi
if needs_server asio-uring; then build_asio uring "${uring_flags[@]}" -- -luring & build_pids+=($!); fi
for pid in "${build_pids[@]}"; do
    wait "$pid" || die "building the Asio echo servers failed"
done

server_command() {
    case $1 in
        overlap) server_cmd=("${overlap_echo_cmd[@]}") ;;
        asio-epoll) server_cmd=("$asio_dir/asio_echo_epoll") ;;
        asio-uring) server_cmd=("$asio_dir/asio_echo_uring") ;;
    esac
}

# Starts server $1 pinned to the server CPU; sets server_pid, server_host,
# server_port once the server has printed "listening on ADDR:PORT".
start_server() {
    local name=$1 out="$tmp/$1.out" err="$tmp/$1.err" line="" addr i
    server_command "$name"
    : >"$out"
    taskset -c "$server_cpu" "${server_cmd[@]}" --port 0 >"$out" 2>"$err" &
    server_pid=$!
    live_pids+=("$server_pid")
    for ((i = 0; i < 200; i++)); do
        line=$(grep -m1 '^listening on ' "$out" || true)
        [[ -n $line ]] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -z $line ]]; then
        log "$name did not report a listening address; its stderr:"
        sed 's/^/    /' "$err" >&2
        stop_pid "$server_pid"
        return 1
    fi
    addr=${line#listening on }
    server_port=${addr##*:}
    server_host=${addr%:*}
    server_host=${server_host#[}
    server_host=${server_host%]}
    # A wildcard listener is reached over loopback.
    case $server_host in 0.0.0.0 | :: | "") server_host=127.0.0.1 ;; esac
}

# utime + stime (fields 14 and 15 of /proc/PID/stat) in clock ticks, summed
# over all of the process's threads, io_uring's io-wq workers included.
cpu_ticks() {
    local stat fields
    stat=$(<"/proc/$1/stat") || return 1
    # Field 2 is "(comm)" and may hold spaces: count fields after the last ')'.
    read -ra fields <<<"${stat##*) }"
    echo $((fields[11] + fields[12]))
}

# --- one run -------------------------------------------------------------------

jsonl=""
if [[ -n $out_md ]]; then
    mkdir -p "$(dirname "$out_md")"
    case $(basename "$out_md") in
        *.*) jsonl="${out_md%.*}.jsonl" ;;
        *) jsonl="$out_md.jsonl" ;;
    esac
else
    jsonl="$asio_dir/echo-$(date -u +%Y%m%d-%H%M%S).jsonl"
fi
: >"$jsonl"

loadgen_limit=$(awk -v d="$duration" 'BEGIN { print int(d) + 60 }')

# run_one SERVER MODE CONNECTIONS SIZE RATE REP ORDER
run_one() {
    local name=$1 mode=$2 conns=$3 size=$4 rate=$5 rep=$6 order=$7
    local raw="$tmp/loadgen.out" before after loadgen_pid loadgen_rc=0 alive=1
    local -a extra=()
    ((rate > 0)) && extra=(--rate "$rate")

    if ! start_server "$name"; then
        python3 "$repo/bench/lib/aggregate.py" record "$jsonl" --raw /dev/null \
            server="$name" mode="$mode" connections="$conns" size="$size" rate="$rate" \
            rep="$rep" order="$order" cpu_ticks=0 clk_tck="$clk_tck" \
            failure="server did not start"
        return 0
    fi
    before=$(cpu_ticks "$server_pid") || before=0

    # In the background so that a signal to this script is handled at once.
    timeout --kill-after=5 "$loadgen_limit" \
        taskset -c "$load_cpu" "${bench_cmd[@]}" --host "$server_host" --port "$server_port" \
        --connections "$conns" --size "$size" --duration "$duration" --json "${extra[@]}" \
        >"$raw" 2>"$tmp/loadgen.err" &
    loadgen_pid=$!
    live_pids+=("$loadgen_pid")
    wait "$loadgen_pid" || loadgen_rc=$?
    forget_pid "$loadgen_pid"

    if after=$(cpu_ticks "$server_pid") && kill -0 "$server_pid" 2>/dev/null; then
        :
    else
        alive=0
        after=$before
    fi
    stop_pid "$server_pid"
    if ((loadgen_rc != 0)); then
        log "    load generator exited with $loadgen_rc; its stderr:"
        tail -n 5 "$tmp/loadgen.err" | sed 's/^/      /' >&2
    fi
    python3 "$repo/bench/lib/aggregate.py" record "$jsonl" --raw "$raw" \
        server="$name" mode="$mode" connections="$conns" size="$size" rate="$rate" \
        rep="$rep" order="$order" cpu_ticks=$((after - before)) clk_tck="$clk_tck" \
        loadgen_rc="$loadgen_rc" server_alive="$alive" server_exit="$stop_status"
}

# --- the plan ------------------------------------------------------------------

cases=()   # "mode conns size rate"
for size in "${sizes[@]}"; do
    for conns in "${connection_counts[@]}"; do
        cases+=("closed $conns $size 0")
    done
done
((open_rate > 0)) && cases+=("open 16 64 $open_rate")

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "none")
if [[ $commit != none ]] && [[ -n $(git -C "$repo" status --porcelain 2>/dev/null) ]]; then
    commit="$commit (dirty)"
fi
python3 "$repo/bench/lib/aggregate.py" meta "$jsonl" \
    date="$(date -u '+%Y-%m-%d %H:%M')" \
    commit="$commit" \
    kernel="$(uname -r)" \
    cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) CPUs)" \
    boost="$(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp)" \
    compiler="$(g++ --version | head -n1); Asio servers: ${asio_flags[*]}, asio-uring adds ${uring_flags[*]} -luring" \
    command="bench/echo.sh --reps $reps --duration $duration --open-rate $open_rate --servers $servers_csv --connections $connections_csv --sizes $sizes_csv" \
    reps="$reps" duration_s="$duration" \
    pinning="server on CPU $server_cpu, load generator on CPU $load_cpu" \
    overlap_echo_cmd="${overlap_echo_cmd[*]} --port 0" \
    bench_cmd="${bench_cmd[*]}"

# Other work on a 2-CPU machine (a compile, a test suite) skews every number.
read -r load_1min _ </proc/loadavg
if awk -v l="$load_1min" 'BEGIN { exit !(l > 0.5) }'; then
    log "warning: load average is $load_1min before starting; results will be noisy"
fi

total=$((${#cases[@]} * reps * ${#servers[@]}))
log "echo benchmark: ${#cases[@]} cases x $reps reps x ${#servers[@]} servers = $total runs of ${duration} s"
log "raw results: $jsonl"

for case_spec in "${cases[@]}"; do
    read -r mode conns size rate <<<"$case_spec"
    for ((rep = 0; rep < reps; rep++)); do
        if [[ $mode == open ]]; then
            log "[open  c=$conns size=$size rate=$rate] rep $((rep + 1))/$reps"
        else
            log "[closed c=$conns size=$size] rep $((rep + 1))/$reps"
        fi
        # Rotate the starting server each repetition so that no server always
        # runs first (cold caches) or last (warm machine, drifting clocks).
        for ((k = 0; k < ${#servers[@]}; k++)); do
            name=${servers[(rep + k) % ${#servers[@]}]}
            run_one "$name" "$mode" "$conns" "$size" "$rate" "$rep" "$k"
        done
    done
done

report=$(python3 "$repo/bench/lib/aggregate.py" report "$jsonl")
printf '%s\n' "$report"
if [[ -n $out_md ]]; then
    printf '%s\n' "$report" >"$out_md"
    log "wrote $out_md and $jsonl"
fi
