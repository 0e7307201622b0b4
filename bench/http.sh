#!/usr/bin/env bash
# HTTP benchmark (issue #3): `overlap serve` against nginx serving the same
# static files, driven by wrk (or, with --load overlap, by `overlap bench http`).
#
# Usage: bench/http.sh [--build-dir DIR] [--reps N] [--duration S] [--quick]
#                      [--servers LIST] [--connections LIST] [--sizes LIST]
#                      [--close-sizes LIST] [--close-connections N]
#                      [--nginx PATH] [--out FILE]
#
#   --build-dir DIR        overlap build tree (default build/release; built with
#                          the release preset if it has no apps/overlap yet)
#   --reps N               repetitions of every case (default 3)
#   --duration S           whole seconds of load per run (default 5)
#   --quick                smoke test: 1 repetition of 2 s, 16 and 1024
#                          connections, Connection: close for 100B and 1K only
#   --servers LIST         comma-separated subset of overlap,nginx (default),
#                          or overlap-epoll: overlap serve on its epoll backend,
#                          overlap-reactor / overlap-threads: overlap serve
#                          with --model reactor / threads (the paper's other
#                          concurrency models, on the same HTTP core),
#                          overlap-admin: overlap serve with --admin-port 0
#                          (operation tracking on: its cost)
#   --connections LIST     keep-alive connection counts (default 16,256,1024)
#   --sizes LIST           file sizes, N with B, K or M (default
#                          100B,1K,16K,256K,1M,16M; K = 1024, M = 1024*1024)
#   --close-sizes LIST     sizes also run with `Connection: close` (default: all
#                          of --sizes; "none" skips the case)
#   --close-connections N  connections of the Connection: close case (default 16)
#   --nginx PATH           nginx binary (default /usr/sbin/nginx)
#   --nginx-deferred       add `deferred` to nginx's listen directive
#                          (TCP_DEFER_ACCEPT, which overlap serve sets by
#                          default); not part of issue #3's nginx set-up, so
#                          a supplementary comparison
#   --load NAME            load generator: wrk (default; issue #3's targets are
#                          judged with it) or overlap (`overlap bench http`,
#                          one request in flight per connection like wrk, on
#                          io_uring): a supplementary run showing what the
#                          servers do when the load generator costs less per
#                          request than wrk
#   --out FILE             also write the Markdown to FILE and the raw runs to
#                          FILE's name with .jsonl (otherwise build/bench/http-*.jsonl)
#
# Environment:
#   OVERLAP_SERVE_CMD  server command (default "$BUILD_DIR/apps/overlap serve
#                      --threads 1 --access-log off"); "DOCROOT --port 0" is appended
#   WRK                wrk binary (default wrk)
#   OVERLAP_BENCH_SERVER_CPU, OVERLAP_BENCH_LOAD_CPU
#                      CPUs to pin the server and the load generator to (0, 1)
#   OVERLAP_BENCH_PERF DIR: also profile the server's CPU in every run (perf
#                      record -g) and print where its time went (user code,
#                      io_uring, TCP/IP, waking the peer, ...); the data and
#                      DIR/splits.txt stay in DIR. Sampling costs CPU: such
#                      runs explain, their figures are not for the tables
#   OVERLAP_BENCH_PERF_LOAD=1  with OVERLAP_BENCH_PERF, profile the load generator too
#
# Every run starts a fresh server pinned to one CPU with wrk (one thread)
# pinned to another; the servers take turns in an order that rotates per
# repetition. Before any load, each server must return every file byte for
# byte. The script exits with status 1 if any run had errors. See
# docs/benchmarks.md for the method.

# shellcheck source-path=SCRIPTDIR
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo
readonly all_servers=(overlap overlap-epoll overlap-reactor overlap-threads overlap-admin nginx)
# shellcheck source=lib/common.sh
source "$repo/bench/lib/common.sh"
wrk_bin=${WRK:-wrk}

build_dir="$repo/build/release"
reps=3
duration=5
servers_csv="overlap,nginx"
connections_csv=""
sizes_csv=""
close_sizes_csv=""
close_conns=16
nginx_bin=/usr/sbin/nginx
nginx_listen_extra=""
load=wrk
out_md=""
quick=0

while (($#)); do
    case $1 in
        --close-sizes) need_value "$@"; close_sizes_csv=$2; shift 2 ;;
        --close-connections) need_value "$@"; close_conns=$2; shift 2 ;;
        --nginx) need_value "$@"; nginx_bin=$(absolute "$2"); shift 2 ;;
        --nginx-deferred) nginx_listen_extra=" deferred"; shift ;;
        --load) need_value "$@"; load=$2; shift 2 ;;
        *) common_option "$@" || die "unknown argument: $1 (see --help)"; shift "$consumed" ;;
    esac
done
if ((quick)); then
    reps=1
    duration=2
    : "${connections_csv:=16,1024}"
    : "${close_sizes_csv:=100B,1K}"
fi
: "${connections_csv:=16,256,1024}"
: "${sizes_csv:=100B,1K,16K,256K,1M,16M}"
: "${close_sizes_csv:=$sizes_csv}"

is_posint "$reps" || die "--reps must be a positive integer"
# wrk takes whole seconds only.
is_posint "$duration" || die "--duration must be a whole number of seconds"
is_posint "$close_conns" || die "--close-connections must be a positive integer"
[[ $load == wrk || $load == overlap ]] || die "--load must be wrk or overlap"
load_label=wrk
[[ $load == wrk ]] || load_label="overlap bench http"
IFS=, read -ra servers <<<"$servers_csv"
IFS=, read -ra connection_counts <<<"$connections_csv"
IFS=, read -ra sizes <<<"$sizes_csv"
close_sizes=()
[[ $close_sizes_csv == none ]] || IFS=, read -ra close_sizes <<<"$close_sizes_csv"
((${#servers[@]} >= 1)) || die "--servers is empty"
check_servers "${all_servers[@]}"
for n in "${connection_counts[@]}"; do
    is_posint "$n" || die "connection counts must be positive integers"
done

# size_bytes LABEL: 100B -> 100, 16K -> 16384, 1M -> 1048576.
size_bytes() {
    [[ $1 =~ ^([0-9]+)([BKM])$ ]] || return 1
    local n=${BASH_REMATCH[1]}
    case ${BASH_REMATCH[2]} in
        B) echo "$n" ;;
        K) echo $((n * 1024)) ;;
        M) echo $((n * 1024 * 1024)) ;;
    esac
}
for label in "${sizes[@]}" "${close_sizes[@]}"; do
    size_bytes "$label" >/dev/null || die "bad size '$label' (want N followed by B, K or M, e.g. 16K)"
done

if [[ $load == wrk ]]; then
    command -v "$wrk_bin" >/dev/null || die "wrk not found (set WRK=/path/to/wrk)"
fi
command -v curl >/dev/null || die "curl not found (needed to check the servers' responses)"
if needs_server nginx; then
    [[ -x $nginx_bin ]] || die "nginx not found at $nginx_bin (use --nginx PATH)"
fi
warn_shared_cpu "$load_label"
# 1024 connections need as many fds in the server and in wrk.
raise_fd_limit

# --- state and cleanup -------------------------------------------------------

setup_tmp http
docroot="$tmp/www"

# --- the document root ---------------------------------------------------------

mkdir -p "$docroot"
all_labels=()
for label in "${sizes[@]}" "${close_sizes[@]}"; do
    [[ " ${all_labels[*]} " == *" $label "* ]] || all_labels+=("$label")
done
for label in "${all_labels[@]}"; do
    head -c "$(size_bytes "$label")" /dev/urandom >"$docroot/$label.bin"
done

# --- the servers -----------------------------------------------------------------

overlap_bin="$build_dir/apps/overlap"
if [[ $load == overlap ]] || { needs_server overlap && [[ -z ${OVERLAP_SERVE_CMD:-} ]]; }; then
    ensure_overlap_bin "$overlap_bin"
fi
read -ra overlap_cmd <<<"${OVERLAP_SERVE_CMD:-$overlap_bin serve --threads 1 --access-log off}"

nginx_dir="$tmp/nginx"
mkdir -p "$nginx_dir"
nginx_conf="$nginx_dir/nginx.conf"
nginx_err="$nginx_dir/error.log"

# nginx_config PORT: the configuration on stdout. One worker that is also the
# process started (no master), so the PID we sample is the one that serves.
# keepalive_requests is raised from nginx's default of 1000 so that nginx, like
# overlap, keeps a busy connection open for the whole run; backlog matches
# overlap's listen backlog (4096) instead of nginx's default of 511.
nginx_config() {
    cat <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $nginx_dir/nginx.pid;
error_log $nginx_err warn;

events {
    worker_connections 4096;
}

http {
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path $nginx_dir/client_body;
    proxy_temp_path $nginx_dir/proxy;
    fastcgi_temp_path $nginx_dir/fastcgi;
    uwsgi_temp_path $nginx_dir/uwsgi;
    scgi_temp_path $nginx_dir/scgi;

    server {
        listen 127.0.0.1:$1 backlog=4096$nginx_listen_extra;
        root $docroot;
    }
}
EOF
}

nginx_args=(-c "$nginx_conf" -p "$nginx_dir/" -e "$nginx_err")
if needs_server nginx; then
    nginx_config 8080 >"$nginx_conf"
    "$nginx_bin" -t "${nginx_args[@]}" >"$tmp/nginx-t.out" 2>&1 || {
        sed 's/^/    /' "$tmp/nginx-t.out" >&2
        die "nginx rejects the generated configuration"
    }
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http PID PORT: until the server at 127.0.0.1:PORT answers, for up to
# 10 s; fails if PID exits first.
wait_http() {
    local pid=$1 port=$2 i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/${all_labels[0]}.bin" && return 0
        sleep 0.05
    done
    return 1
}

# check_process NAME PID BINARY: the PID is BINARY itself (taskset exec'd it)
# and has no child processes, so its /proc/PID/stat covers all the serving.
check_process() {
    local name=$1 pid=$2 binary exe children
    binary=$(readlink -f "$(command -v "$3")") || binary=$3
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    if [[ $exe != "$binary" ]]; then
        log "$name: pid $pid runs $exe, not $binary"
        return 1
    fi
    children=$(ps -o pid= --ppid "$pid" | tr -d ' \n' || true)
    if [[ -n $children ]]; then
        log "$name: pid $pid has child processes; its CPU time would miss theirs"
        return 1
    fi
}

# start_server NAME: a fresh server pinned to the server CPU; sets server_pid
# and server_port once it accepts connections.
start_server() {
    local name=$1 err="$tmp/$1.err" attempt
    case $name in
        overlap | overlap-epoll | overlap-reactor | overlap-threads | overlap-admin)
            local backend=()
            case $name in
                overlap-epoll) backend=(--backend epoll) ;;
                overlap-reactor) backend=(--model reactor) ;;
                overlap-threads) backend=(--model threads) ;;
                overlap-admin) backend=(--admin-port 0) ;;
            esac
            start_pinned /dev/null "$err" "${overlap_cmd[@]}" "$docroot" --port 0 "${backend[@]}"
            wait_for_line "$err" 'listening on '
            if [[ $found_line =~ listening\ on\ ([^ ,]+):([0-9]+) ]]; then
                server_port=${BASH_REMATCH[2]}
            else
                server_failed "$name" "did not report a listening address" "$err"
                return 1
            fi
            check_process "$name" "$server_pid" "${overlap_cmd[0]}" || { stop_pid "$server_pid"; return 1; }
            ;;
        nginx)
            # The free port may be taken between the probe and nginx's bind;
            # then try another.
            for ((attempt = 0; attempt < 5; attempt++)); do
                server_port=$(free_port)
                nginx_config "$server_port" >"$nginx_conf"
                : >"$nginx_err"
                start_pinned /dev/null "$err" "$nginx_bin" "${nginx_args[@]}"
                wait_http "$server_pid" "$server_port" && break
                stop_pid "$server_pid"
                grep -q 'Address already in use' "$nginx_err" "$err" 2>/dev/null || attempt=5
            done
            if ((attempt >= 5)); then
                log "nginx did not start; its error log:"
                sed 's/^/    /' "$nginx_err" "$err" >&2
                return 1
            fi
            check_process nginx "$server_pid" "$nginx_bin" || { stop_pid "$server_pid"; return 1; }
            ;;
    esac
}

# verify_file PORT LABEL [close]: the server returns the file byte for byte
# with status 200; with "close", also answers Connection: close in kind.
verify_file() {
    local port=$1 label=$2 mode=${3:-} got="$tmp/got.bin" head="$tmp/got.head"
    local -a extra=()
    [[ $mode == close ]] && extra=(-H 'Connection: close')
    rm -f "$got" "$head"
    if ! curl -fsS --max-time 30 "${extra[@]}" -D "$head" -o "$got" "http://127.0.0.1:$port/$label.bin"; then
        log "    GET /$label.bin failed"
        return 1
    fi
    if ! cmp -s "$got" "$docroot/$label.bin"; then
        log "    GET /$label.bin: body differs from the file ($(stat -c %s "$got") bytes received)"
        return 1
    fi
    if [[ $mode == close ]] && ! grep -qi '^connection:[[:space:]]*close' "$head"; then
        log "    GET /$label.bin with Connection: close: no 'Connection: close' in the response"
        return 1
    fi
}

# --- verification ------------------------------------------------------------

# One fresh instance of each server must serve every file exactly, with and
# without Connection: close, before anything is measured.
for name in "${servers[@]}"; do
    log "verifying $name"
    start_server "$name" || die "$name did not start"
    for label in "${all_labels[@]}"; do
        verify_file "$server_port" "$label" || die "$name does not serve $label.bin correctly"
        verify_file "$server_port" "$label" close || die "$name does not serve $label.bin correctly"
    done
    stop_pid "$server_pid"
    log "    $name: ${#all_labels[@]} files served exactly (pid $server_pid, port $server_port)"
done

# --- one run -------------------------------------------------------------------

setup_jsonl http

aggregate() { python3 "$repo/bench/lib/http_aggregate.py" "$@"; }

# wrk counts a response slower than --timeout (2 s by default) as an error and
# drops it from the latency histogram. Its one thread drains each readable
# socket before turning to the next, so with 1024 connections to 16 MiB files
# one pass over the connections can take seconds and the run overruns -d; a
# minute past the nominal length is room enough, and a response that still
# takes longer is a real stall. (wrk's histogram has one counter per
# microsecond up to the timeout, but only the pages it touches are used.)
wrk_timeout=$((duration + 60))
wrk_limit=$((3 * duration + 120))
failed_runs=0

# run_one SERVER MODE CONNECTIONS LABEL REP ORDER
run_one() {
    local name=$1 mode=$2 conns=$3 label=$4 rep=$5 order=$6
    local raw="$tmp/wrk.out" before after load_rc alive size server_core_busy load_core_busy
    local -a extra=() fields
    size=$(size_bytes "$label")
    [[ $mode == close ]] && extra=(-H 'Connection: close')
    fields=(server="$name" mode="$mode" connections="$conns" file="$label.bin"
            size_bytes="$size" rep="$rep" order="$order" clk_tck="$clk_tck")

    if ! start_server "$name"; then
        aggregate record "$jsonl" --wrk /dev/null "${fields[@]}" cpu_ticks=0 \
            failure="server did not start" || failed_runs=$((failed_runs + 1))
        return 0
    fi
    # Also warms the server's caches for this file, for both servers alike.
    if ! verify_file "$server_port" "$label" "$mode"; then
        stop_pid "$server_pid"
        aggregate record "$jsonl" --wrk /dev/null "${fields[@]}" cpu_ticks=0 \
            failure="wrong response before the run" || failed_runs=$((failed_runs + 1))
        return 0
    fi
    before=$(cpu_ticks "$server_pid") || before=0

    if [[ $load == wrk ]]; then
        run_load "$wrk_limit" "$raw" "$tmp/wrk.err" \
            "$wrk_bin" -t1 -c"$conns" -d"${duration}s" --timeout "${wrk_timeout}s" \
            --latency "${extra[@]}" "http://127.0.0.1:$server_port/$label.bin"
    else
        [[ $mode == close ]] && extra=(--close)
        run_load "$wrk_limit" "$raw" "$tmp/wrk.err" \
            "$overlap_bin" bench http --port "$server_port" --path "/$label.bin" \
            --connections "$conns" --duration "$duration" --json --no-progress "${extra[@]}"
    fi
    finish_server "$before"
    report_load_failure "$load_label" "$tmp/wrk.err"
    cat "$tmp/wrk.err" >>"$raw"
    if ! aggregate record "$jsonl" --wrk "$raw" "${fields[@]}" cpu_ticks=$((after - before)) \
        wrk_rc="$load_rc" server_alive="$alive" server_exit="$stop_status" \
        ${server_core_busy:+"server_core_busy_pct=$server_core_busy"} \
        ${load_core_busy:+"load_core_busy_pct=$load_core_busy"} \
        ${peak_kib:+"server_peak_rss_kib=$peak_kib"}; then
        failed_runs=$((failed_runs + 1))
        log "    ERROR: this $name run is excluded from the medians; see $jsonl"
    fi
}

# --- the plan ------------------------------------------------------------------

cases=()   # "mode conns label"
for label in "${sizes[@]}"; do
    for conns in "${connection_counts[@]}"; do
        cases+=("keepalive $conns $label")
    done
done
for label in "${close_sizes[@]}"; do
    cases+=("close $close_conns $label")
done

nginx_version=""
if needs_server nginx; then
    nginx_version=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')
fi
common_meta
load_flag=""
[[ $load == wrk ]] || load_flag=" --load $load"
if [[ $load == wrk ]]; then
    load_meta=(load_name=wrk
        wrk_version="$({ "$wrk_bin" -v 2>&1 || true; } | head -n1 | sed 's/ Copyright.*//')"
        wrk_cmd="$wrk_bin -t1 -cN -d${duration}s --timeout ${wrk_timeout}s --latency [-H 'Connection: close'] URL")
else
    load_meta=(load_name="$load_label"
        wrk_cmd="$overlap_bin bench http --port P --path /FILE --connections N --duration $duration --json --no-progress [--close]")
fi
aggregate meta "$jsonl" "${meta_common[@]}" "${load_meta[@]}" \
    nginx_version="$nginx_version" \
    command="bench/http.sh --reps $reps --duration $duration --servers $servers_csv --connections $connections_csv --sizes $sizes_csv --close-sizes ${close_sizes_csv} --close-connections $close_conns${nginx_listen_extra:+ --nginx-deferred}${load_flag}" \
    reps="$reps" duration_s="$duration" \
    pinning="server on CPU $server_cpu, $load_label on CPU $load_cpu; fd limit $(ulimit -n)" \
    overlap_cmd="${overlap_cmd[*]} DOCROOT --port 0" \
    nginx_cmd="$nginx_bin ${nginx_args[*]//$tmp/TMP}" \
    nginx_conf="$(nginx_config PORT | sed "s|$tmp|TMP|g")"

warn_if_loaded

describe_case() { echo "$3 c=$2 $1"; }
run_plan http

report=$(aggregate report "$jsonl")
emit_report "$report"
if ((failed_runs > 0)); then
    log ""
    log "ERROR: $failed_runs run(s) failed or saw errors; they are left out of the medians:"
    aggregate failures "$jsonl" | sed 's/^/    /' >&2
    exit 1
fi
