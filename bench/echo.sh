#!/usr/bin/env bash
# Echo benchmark (issue #2): overlap's echo server against Boost.Asio's, on
# epoll and on io_uring, driven by overlap's own load generator.
#
# Usage: bench/echo.sh [--build-dir DIR] [--reps N] [--duration S] [--quick]
#                      [--open-rate MSGS_PER_S] [--open-duration S] [--servers LIST]
#                      [--connections LIST] [--sizes LIST] [--out FILE]
#
#   --build-dir DIR   overlap build tree (default build/release; built with the
#                     release preset if it has no apps/overlap yet)
#   --reps N          repetitions of every case (default 3)
#   --duration S      seconds of load per run (default 5)
#   --quick           smoke test: 1 repetition of 2 s
#   --open-rate R     total offered rate of the open-loop case, 16 conns x 64 B
#                     (default 20000; 0 skips the case)
#   --open-duration S seconds of load per open-loop run (default 20, or
#                     --duration if longer; --quick: --duration). At 20,000
#                     msgs/s a server is busy for a few per cent of the run,
#                     and /proc/PID/stat counts CPU time in 10 ms ticks: a
#                     5 s run is about 35 ticks, so one tick moves its CPU
#                     per message by 3 %; 20 s brings that under 1 %
#   --servers LIST    comma-separated subset of overlap,asio-epoll,asio-uring
#                     (default), or overlap-epoll: overlap on its epoll backend,
#                     overlap-reactor / overlap-threads: overlap echo --model
#                     reactor / threads (the paper's other concurrency models)
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
#   OVERLAP_BENCH_PERF DIR: also profile the server's CPU in every run (perf
#                      record -g) and print where its time went (user code,
#                      io_uring, TCP/IP, waking the peer, ...); the data and
#                      DIR/splits.txt stay in DIR. Sampling costs CPU: such
#                      runs explain, their figures are not for the tables
#   OVERLAP_BENCH_PERF_LOAD=1  with OVERLAP_BENCH_PERF, profile the load generator too
#
# Every run starts a fresh server pinned to one CPU with the load generator
# pinned to another; servers take turns in an order that rotates per repetition.
# See docs/benchmarks.md for the method.

# shellcheck source-path=SCRIPTDIR
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo
readonly all_servers=(overlap overlap-epoll overlap-reactor overlap-threads asio-epoll asio-uring)
# shellcheck source=lib/common.sh
source "$repo/bench/lib/common.sh"

build_dir="$repo/build/release"
reps=3
duration=5
open_rate=20000
open_duration=""
servers_csv="overlap,asio-epoll,asio-uring"
connections_csv="1,16,256,1000"
sizes_csv="64,4096"
out_md=""
quick=0

while (($#)); do
    case $1 in
        --open-rate) need_value "$@"; open_rate=$2; shift 2 ;;
        --open-duration) need_value "$@"; open_duration=$2; shift 2 ;;
        *) common_option "$@" || die "unknown argument: $1 (see --help)"; shift "$consumed" ;;
    esac
done
if ((quick)); then
    reps=1
    duration=2
fi

is_posint "$reps" || die "--reps must be a positive integer"
[[ $duration =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--duration must be a number of seconds"
if [[ -z $open_duration ]]; then
    if ((quick)); then
        open_duration=$duration
    else
        open_duration=$(awk -v d="$duration" 'BEGIN { print (d > 20 ? d : 20) }')
    fi
fi
[[ $open_duration =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--open-duration must be a number of seconds"
is_uint "$open_rate" || die "--open-rate must be a non-negative integer"
IFS=, read -ra servers <<<"$servers_csv"
IFS=, read -ra connection_counts <<<"$connections_csv"
IFS=, read -ra sizes <<<"$sizes_csv"
check_servers "${all_servers[@]}"
for n in "${connection_counts[@]}" "${sizes[@]}"; do
    is_posint "$n" || die "connection counts and sizes must be positive integers"
done

warn_shared_cpu "load generator"
# 1000 connections need 1000 fds in the server and in the load generator.
raise_fd_limit

# --- state and cleanup -------------------------------------------------------

setup_tmp echo

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

overlap_bin="$build_dir/apps/overlap"
if { needs_server overlap && [[ -z ${OVERLAP_ECHO_CMD:-} ]]; } || [[ -z ${OVERLAP_BENCH_CMD:-} ]]; then
    ensure_overlap_bin "$overlap_bin"
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
        overlap-epoll) server_cmd=("${overlap_echo_cmd[@]}" --backend epoll) ;;
        overlap-reactor) server_cmd=("${overlap_echo_cmd[@]}" --model reactor) ;;
        overlap-threads) server_cmd=("${overlap_echo_cmd[@]}" --model threads) ;;
        asio-epoll) server_cmd=("$asio_dir/asio_echo_epoll") ;;
        asio-uring) server_cmd=("$asio_dir/asio_echo_uring") ;;
    esac
}

# Starts server $1 pinned to the server CPU; sets server_pid, server_host,
# server_port once the server has printed "listening on ADDR:PORT".
start_server() {
    local name=$1 out="$tmp/$1.out" err="$tmp/$1.err" addr
    server_command "$name"
    start_pinned "$out" "$err" "${server_cmd[@]}" --port 0
    wait_for_line "$out" '^listening on '
    if [[ -z $found_line ]]; then
        server_failed "$name" "did not report a listening address" "$err"
        return 1
    fi
    addr=${found_line#listening on }
    server_port=${addr##*:}
    server_host=${addr%:*}
    server_host=${server_host#[}
    server_host=${server_host%]}
    # A wildcard listener is reached over loopback.
    case $server_host in 0.0.0.0 | :: | "") server_host=127.0.0.1 ;; esac
}

# --- one run -------------------------------------------------------------------

setup_jsonl echo

loadgen_limit=$(awk -v d="$duration" -v o="$open_duration" 'BEGIN { print int(d > o ? d : o) + 60 }')

# run_one SERVER MODE CONNECTIONS SIZE RATE REP ORDER
run_one() {
    local name=$1 mode=$2 conns=$3 size=$4 rate=$5 rep=$6 order=$7
    local raw="$tmp/loadgen.out" before after load_rc alive server_core_busy load_core_busy
    local -a extra=()
    local run_duration=$duration
    if ((rate > 0)); then
        extra=(--rate "$rate")
        run_duration=$open_duration
    fi

    if ! start_server "$name"; then
        python3 "$repo/bench/lib/aggregate.py" record "$jsonl" --raw /dev/null \
            server="$name" mode="$mode" connections="$conns" size="$size" rate="$rate" \
            rep="$rep" order="$order" cpu_ticks=0 clk_tck="$clk_tck" \
            failure="server did not start"
        return 0
    fi
    before=$(cpu_ticks "$server_pid") || before=0

    run_load "$loadgen_limit" "$raw" "$tmp/loadgen.err" \
        "${bench_cmd[@]}" --host "$server_host" --port "$server_port" \
        --connections "$conns" --size "$size" --duration "$run_duration" --json "${extra[@]}"
    finish_server "$before"
    report_load_failure "load generator" "$tmp/loadgen.err"
    python3 "$repo/bench/lib/aggregate.py" record "$jsonl" --raw "$raw" \
        server="$name" mode="$mode" connections="$conns" size="$size" rate="$rate" \
        rep="$rep" order="$order" cpu_ticks=$((after - before)) clk_tck="$clk_tck" \
        loadgen_rc="$load_rc" server_alive="$alive" server_exit="$stop_status" \
        ${server_core_busy:+"server_core_busy_pct=$server_core_busy"} \
        ${load_core_busy:+"load_core_busy_pct=$load_core_busy"}
}

# --- the plan ------------------------------------------------------------------

cases=()   # "mode conns size rate"
for size in "${sizes[@]}"; do
    for conns in "${connection_counts[@]}"; do
        cases+=("closed $conns $size 0")
    done
done
((open_rate > 0)) && cases+=("open 16 64 $open_rate")

common_meta
python3 "$repo/bench/lib/aggregate.py" meta "$jsonl" "${meta_common[@]}" \
    boost="$(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp)" \
    compiler="$(g++ --version | head -n1); Asio servers: ${asio_flags[*]}, asio-uring adds ${uring_flags[*]} -luring" \
    command="bench/echo.sh --reps $reps --duration $duration --open-rate $open_rate --open-duration $open_duration --servers $servers_csv --connections $connections_csv --sizes $sizes_csv" \
    reps="$reps" duration_s="$duration" open_duration_s="$open_duration" \
    pinning="server on CPU $server_cpu, load generator on CPU $load_cpu" \
    overlap_echo_cmd="${overlap_echo_cmd[*]} --port 0" \
    bench_cmd="${bench_cmd[*]}"

warn_if_loaded

describe_case() {
    if [[ $1 == open ]]; then
        echo "open  c=$2 size=$3 rate=$4"
    else
        echo "closed c=$2 size=$3"
    fi
}
run_plan echo

report=$(python3 "$repo/bench/lib/aggregate.py" report "$jsonl")
emit_report "$report"
