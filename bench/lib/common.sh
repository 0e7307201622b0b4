# shellcheck shell=bash
# The variables set here for the drivers, and theirs read here, look unused or
# unassigned to shellcheck when it checks this file on its own:
# shellcheck disable=SC2034,SC2154
#
# Shared parts of the benchmark drivers bench/echo.sh and bench/http.sh.
# Sourced, not run: the including script sets `set -euo pipefail` and `repo`
# first. The names below are the drivers' shared state:
#
#   options    build_dir reps duration quick servers_csv connections_csv
#              sizes_csv out_md (defaults set by the script, then
#              common_option), servers (array, for needs_server and run_plan)
#   pinning    server_cpu load_cpu (OVERLAP_BENCH_SERVER_CPU, _LOAD_CPU)
#   processes  tmp live_pids server_pid stop_status clk_tck
#   load run   load_rc server_core_busy load_core_busy (set by run_load)
#   output     jsonl

# The including script, for messages and --help.
bench_script=${BASH_SOURCE[1]}
bench_name=${bench_script##*/}

server_cpu=${OVERLAP_BENCH_SERVER_CPU:-0}
load_cpu=${OVERLAP_BENCH_LOAD_CPU:-1}

# --- messages and argument helpers ---------------------------------------------

die() { echo "$bench_name: $*" >&2; exit 2; }
log() { echo "$*" >&2; }
absolute() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_posint() { is_uint "$1" && (($1 >= 1)); }

# need_value "$@": the option in $1 has a value in $2.
need_value() { (($# >= 2)) || die "$1 needs a value"; }

# The comment block at the top of the script, without the "#! " line.
usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$bench_script"; }

# common_option "$@": handles an option both drivers take and sets consumed to
# the number of arguments it used; fails for any other argument.
common_option() {
    consumed=2
    case $1 in
        --build-dir) need_value "$@"; build_dir=$(absolute "$2") ;;
        --reps) need_value "$@"; reps=$2 ;;
        --duration) need_value "$@"; duration=$2 ;;
        --quick) quick=1; consumed=1 ;;
        --servers) need_value "$@"; servers_csv=$2 ;;
        --connections) need_value "$@"; connections_csv=$2 ;;
        --sizes) need_value "$@"; sizes_csv=$2 ;;
        --out) need_value "$@"; out_md=$(absolute "$2") ;;
        -h|--help) usage; exit 0 ;;
        *) return 1 ;;
    esac
}

# check_servers KNOWN...: every entry of servers is one of KNOWN.
check_servers() {
    local s
    for s in "${servers[@]}"; do
        [[ " $* " == *" $s "* ]] || die "unknown server '$s' (have: $*)"
    done
}

needs_server() { [[ " ${servers[*]} " == *" $1 "* ]]; }

# --- the machine ---------------------------------------------------------------

# warn_shared_cpu LOADGEN_NAME
warn_shared_cpu() {
    [[ $server_cpu != "$load_cpu" ]] || log "warning: server and $1 share CPU $server_cpu"
}

# Many connections need as many fds in the server and in the load generator;
# ask for 65536, or as many as the hard limit allows. Children inherit the limit.
raise_fd_limit() {
    local fd_limit=65536
    if [[ $(ulimit -Hn) != unlimited ]] && (($(ulimit -Hn) < fd_limit)); then
        fd_limit=$(ulimit -Hn)
    fi
    ulimit -n "$fd_limit" 2>/dev/null || log "warning: could not raise the fd limit (now $(ulimit -n))"
}

clk_tck=$(getconf CLK_TCK)

# Other work on a 2-CPU machine (a compile, a test suite) skews every number.
warn_if_loaded() {
    local load_1min _
    read -r load_1min _ </proc/loadavg
    if awk -v l="$load_1min" 'BEGIN { exit !(l > 0.5) }'; then
        log "warning: load average is $load_1min before starting; results will be noisy"
    fi
}

# git_commit: the short HEAD, with " (dirty)" for a modified tree, or "none".
git_commit() {
    local commit
    commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "none")
    if [[ $commit != none ]] && [[ -n $(git -C "$repo" status --porcelain 2>/dev/null) ]]; then
        commit="$commit (dirty)"
    fi
    echo "$commit"
}

# common_meta: the meta fields both reports start with, in the array
# meta_common. A command that fails leaves its field short, not the script dead.
common_meta() {
    meta_common=(
        date="$(date -u '+%Y-%m-%d %H:%M')"
        commit="$(git_commit)"
        kernel="$(uname -r)"
        cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) CPUs)"
    ) || true
}

# ensure_overlap_bin BIN: builds overlap with the release preset when BIN is
# missing and the build tree is the default one.
ensure_overlap_bin() {
    local bin=$1
    [[ -x $bin ]] && return 0
    [[ $build_dir == "$repo/build/release" ]] ||
        die "$bin not found (build it, or omit --build-dir to use the release preset)"
    log "building overlap with the release preset"
    (cd "$repo" && cmake --preset release >&2 && cmake --build --preset release >&2) ||
        die "building overlap failed"
    [[ -x $bin ]] || die "the release build produced no $bin"
}

# --- processes and cleanup -----------------------------------------------------

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

# setup_tmp NAME: a private temporary directory in tmp, removed at exit with
# every process still in live_pids.
setup_tmp() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/overlap-$1-bench.XXXXXX")
    trap cleanup EXIT
    trap 'log "interrupted"; exit 130' INT
    trap 'log "terminated"; exit 143' TERM
}

# start_pinned OUT ERR COMMAND...: COMMAND in the background on the server CPU;
# sets server_pid. OUT and ERR are emptied first, here rather than in the
# child, so that the previous instance's lines cannot be mistaken for this
# one's.
start_pinned() {
    local out=$1 err=$2
    shift 2
    : >"$out"
    : >"$err"
    taskset -c "$server_cpu" "$@" >"$out" 2>"$err" &
    server_pid=$!
    live_pids+=("$server_pid")
}

# wait_for_line FILE REGEX: up to 10 s for a line matching REGEX in FILE, while
# server_pid lives; sets found_line (empty if none).
wait_for_line() {
    local file=$1 regex=$2 i
    found_line=""
    for ((i = 0; i < 200; i++)); do
        found_line=$(grep -m1 "$regex" "$file" || true)
        [[ -n $found_line ]] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
}

# server_failed NAME WHAT ERR: logs WHAT and the server's stderr, stops it.
server_failed() {
    log "$1 $2; its stderr:"
    sed 's/^/    /' "$3" >&2
    stop_pid "$server_pid"
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

# core_ticks: "BUSY TOTAL BUSY TOTAL", the clock ticks since boot of the
# server CPU and then of the load CPU, from their lines of /proc/stat
# ("cpuN user nice system idle iowait irq softirq steal guest guest_nice").
# BUSY is user+nice+system+irq+softirq; TOTAL adds idle, iowait and steal
# (guest time is already counted in user). Fails if either line is missing.
core_ticks() {
    local stat line busy server="" load=""
    local -a f
    stat=$(</proc/stat) || return 1
    while read -r line; do
        read -ra f <<<"$line"
        ((${#f[@]} >= 9)) || continue
        case ${f[0]} in
            "cpu$server_cpu" | "cpu$load_cpu") ;;
            *) continue ;;
        esac
        busy=$((f[1] + f[2] + f[3] + f[6] + f[7]))
        line="$busy $((busy + f[4] + f[5] + f[8]))"
        [[ ${f[0]} == "cpu$server_cpu" ]] && server=$line
        [[ ${f[0]} == "cpu$load_cpu" ]] && load=$line
    done <<<"$stat"
    [[ -n $server && -n $load ]] || return 1
    echo "$server $load"
}

# busy_pct BUSY0 TOTAL0 BUSY1 TOTAL1: 100 x the busy share of the ticks between
# the two samples, with one decimal; empty if no tick passed.
busy_pct() {
    awk -v b="$(($3 - $1))" -v t="$(($4 - $2))" 'BEGIN { if (t > 0) printf "%.1f\n", 100 * b / t }'
}

# run_load LIMIT OUT ERR COMMAND...: COMMAND on the load CPU, killed after
# LIMIT seconds; sets load_rc, and server_core_busy and load_core_busy to how
# busy the server's and the load generator's CPUs were meanwhile, in % with
# one decimal (both empty if /proc/stat cannot be read). In the background so
# that a signal to the script is handled at once.
run_load() {
    local limit=$1 out=$2 err=$3 pid before="" after="" perf_pid=""
    local -a ticks
    shift 3
    load_rc=0
    server_core_busy=""
    load_core_busy=""
    [[ -z $perf_dir ]] || perf_start
    before=$(core_ticks 2>/dev/null) || before=""
    timeout --kill-after=5 "$limit" taskset -c "$load_cpu" "$@" >"$out" 2>"$err" &
    pid=$!
    live_pids+=("$pid")
    load_gen_pid=""
    if [[ -n $perf_dir ]] && ((perf_load)); then
        sleep 0.1  # timeout's child: the load generator (taskset execs it)
        load_gen_pid=$(pgrep -P "$pid" | head -n 1) || load_gen_pid=""
    fi
    wait "$pid" || load_rc=$?
    [[ -z $before ]] || after=$(core_ticks 2>/dev/null) || after=""
    forget_pid "$pid"
    [[ -z $perf_pid ]] || perf_finish
    if [[ -n $after ]]; then
        read -ra ticks <<<"$before $after"
        server_core_busy=$(busy_pct "${ticks[0]}" "${ticks[1]}" "${ticks[4]}" "${ticks[5]}")
        load_core_busy=$(busy_pct "${ticks[2]}" "${ticks[3]}" "${ticks[6]}" "${ticks[7]}")
    fi
}

# --- profiling (OVERLAP_BENCH_PERF=DIR) -----------------------------------------
#
# Diagnostic mode, not for the result tables (sampling adds to the server's
# CPU time): every load run also records the server's CPU with
# `perf record -g`, into DIR/run-N.data, and bench/lib/perf_split.py splits the
# server process's samples by where they went (its own code, io_uring,
# TCP/IP, waking the peer, ...). The splits go to the log and to
# DIR/splits.txt, one block per run, under the run's label.
# OVERLAP_BENCH_PERF_LOAD=1 records the load generator's CPU as well and
# splits its samples the same way (its "waking the peer" is waking the
# server; its "copies" are reading what the server sent).

perf_dir=${OVERLAP_BENCH_PERF:-}
perf_load=${OVERLAP_BENCH_PERF_LOAD:-0}
[[ $perf_load == [01] ]] || die "OVERLAP_BENCH_PERF_LOAD must be 0 or 1"
load_gen_pid=""
perf_runs=0
perf_label=""   # set by run_plan for each run
if [[ -n $perf_dir ]]; then
    command -v perf >/dev/null || die "OVERLAP_BENCH_PERF needs perf (apt-get install -y linux-perf)"
    mkdir -p "$perf_dir" || die "cannot create $perf_dir"
    perf_dir=$(absolute "$perf_dir")
    : >"$perf_dir/splits.txt"  # run numbers restart with every invocation
fi

perf_start() {
    perf_runs=$((perf_runs + 1))
    local cpus=$server_cpu
    ((perf_load)) && cpus="$server_cpu,$load_cpu"
    perf record -q -e cpu-clock -F 4999 -g -C "$cpus" -o "$perf_dir/run-$perf_runs.data" \
        >/dev/null 2>&1 &
    perf_pid=$!
    live_pids+=("$perf_pid")
    sleep 0.2  # let it open its events before the load starts
}

perf_finish() {
    local split line
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    forget_pid "$perf_pid"
    if split=$(python3 "$repo/bench/lib/perf_split.py" "$perf_dir/run-$perf_runs.data" \
        --pid "$server_pid" 2>&1); then
        printf '== run-%d: %s\n%s\n\n' "$perf_runs" "$perf_label" "$split" >>"$perf_dir/splits.txt"
        while IFS= read -r line; do log "      $line"; done <<<"$split"
    else
        log "      perf_split failed: $split"
    fi
    [[ -n $load_gen_pid ]] || return 0
    if split=$(python3 "$repo/bench/lib/perf_split.py" "$perf_dir/run-$perf_runs.data" \
        --pid "$load_gen_pid" 2>&1); then
        printf '== run-%d: %s (load generator)\n%s\n\n' "$perf_runs" "$perf_label" "$split" \
            >>"$perf_dir/splits.txt"
        log "      load generator:"
        while IFS= read -r line; do log "      $line"; done <<<"$split"
    else
        log "      perf_split (load generator) failed: $split"
    fi
}

# finish_server BEFORE: samples the server's peak RSS into peak_kib and its CPU ticks into after (BEFORE if
# the server is gone, then alive=0, else 1) and stops it (sets stop_status).
finish_server() {
    alive=1
    # Peak resident memory of the whole process (all threads), in KiB.
    peak_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null) || peak_kib=""
    if after=$(cpu_ticks "$server_pid") && kill -0 "$server_pid" 2>/dev/null; then
        :
    else
        alive=0
        after=$1
    fi
    stop_pid "$server_pid"
}

# report_load_failure NAME ERR: after a load generator exited with load_rc != 0.
report_load_failure() {
    if ((load_rc != 0)); then
        log "    $1 exited with $load_rc; its stderr:"
        tail -n 5 "$2" | sed 's/^/      /' >&2
    fi
}

# --- output and the plan -----------------------------------------------------------

# setup_jsonl NAME: sets jsonl to FILE's name with .jsonl for --out FILE, else
# build/bench/NAME-DATE.jsonl, and empties it.
setup_jsonl() {
    if [[ -n $out_md ]]; then
        mkdir -p "$(dirname "$out_md")"
        case $(basename "$out_md") in
            *.*) jsonl="${out_md%.*}.jsonl" ;;
            *) jsonl="$out_md.jsonl" ;;
        esac
    else
        mkdir -p "$repo/build/bench"
        jsonl="$repo/build/bench/$1-$(date -u +%Y%m%d-%H%M%S).jsonl"
    fi
    : >"$jsonl"
}

# run_plan NAME: every case of the array cases (space-separated fields), reps
# times, with every server in turn. Calls the script's describe_case FIELDS...
# for the progress line and run_one SERVER FIELDS... REP ORDER for each run.
run_plan() {
    local case_spec rep k name
    local -a fields
    log "$1 benchmark: ${#cases[@]} cases x $reps reps x ${#servers[@]} servers = $((${#cases[@]} * reps * ${#servers[@]})) runs of ${duration} s"
    log "raw results: $jsonl"
    for case_spec in "${cases[@]}"; do
        read -ra fields <<<"$case_spec"
        for ((rep = 0; rep < reps; rep++)); do
            log "[$(describe_case "${fields[@]}")] rep $((rep + 1))/$reps"
            # Rotate the starting server each repetition so that no server
            # always runs first (cold caches) or last (warm machine, drifting
            # clocks).
            for ((k = 0; k < ${#servers[@]}; k++)); do
                name=${servers[(rep + k) % ${#servers[@]}]}
                perf_label="$name, $(describe_case "${fields[@]}"), rep $((rep + 1))"
                run_one "$name" "${fields[@]}" "$rep" "$k"
            done
        done
    done
}

# emit_report MARKDOWN: on stdout, and into out_md when --out was given.
emit_report() {
    printf '%s\n' "$1"
    if [[ -n $out_md ]]; then
        printf '%s\n' "$1" >"$out_md"
        log "wrote $out_md and $jsonl"
    fi
}
