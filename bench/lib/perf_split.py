#!/usr/bin/env python3
"""Split one process's CPU samples from `perf record -g` into where they went.

Usage: perf_split.py PERF_DATA (--pid PID | --comm NAME) [--perf PERF]

Each sample is put in the first class its call stack matches:

  user            the sampled instruction is in user space (the server's own
                  code and its libraries)
  waking the peer the stack passes through sock_def_readable: on loopback a
                  send runs the receiver's TCP input in the sender's system
                  call, including the wake-up of a receiver that sleeps
  TCP/IP          any other frame of the network stack (send, receive, copies
                  to and from sockets, loopback transmit, softirq)
  sched/idle      switching tasks, going to sleep and waking up (also when
                  io_uring's wait calls the scheduler)
  io_uring        io_uring's own submission, completion and task-work code
  other kernel    the rest (system-call entry, timers, memory, ...)

The classes say how much of a server's CPU time its design can still change:
"user", "io_uring" and "sched/idle" depend on how the server drives the
kernel; "waking the peer" and "TCP/IP" are the same work for any server that
moves the same bytes over the same connections.

A last line, "copies", counts the samples (of any class) whose innermost frame
is the kernel copying data between user memory and socket buffers. For a load
generator that copies what the server sent it, that share depends on where the
server's bytes came from: pages the server wrote just before, on another core,
cost more to read than page-cache pages a `sendfile` passed along.
"""
import argparse
import re
import subprocess
import sys
from collections import Counter

NETWORK = re.compile(r"^_*(tcp|ip|inet|sock|skb|sk|net|netif|napi|dev|loopback|bbr|"
                     r"validate_xmit|kfree_skb|consume_skb)_|^process_backlog$|^net_rx_action$")
IO_URING = re.compile(r"^(__)?(io_|io_uring|do_sys_io_uring|tctx_)|^__do_sys_io_uring_enter$")
SCHED = re.compile(r"schedule|switch|idle|_nohz_|hrtimer|tick_|try_to_wake|ttwu|enqueue|dequeue|"
                   r"pick_next|update_curr|set_next_entity|put_prev")

CLASSES = ["user", "waking the peer", "TCP/IP", "sched/idle", "io_uring", "other kernel"]
COPY = re.compile(r"^_?_?copy_(to|from)_(iter|user)|^copy_user_|^rep_movs_alternative$")


def is_copy(frames):
    return bool(frames) and "kernel" in frames[0][1] and bool(COPY.match(frames[0][0]))


def classify(frames):
    """frames: [(symbol, dso)], innermost first."""
    if not frames:
        return "other kernel"
    leaf_sym, leaf_dso = frames[0]
    if "kernel" not in leaf_dso:
        return "user"
    syms = [s for s, d in frames if "kernel" in d]
    if any(s == "sock_def_readable" for s in syms):
        return "waking the peer"
    if any(NETWORK.match(s) for s in syms):
        return "TCP/IP"
    if any(SCHED.search(s) for s in syms):
        return "sched/idle"
    if any(IO_URING.match(s) for s in syms):
        return "io_uring"
    return "other kernel"


FRAME = re.compile(r"^\s+[0-9a-f]+\s+(.+?)\s+\((.*)\)\s*$")


def samples(perf, data, pid, comm):
    cmd = [perf, "script", "-i", data, "-F", "comm,pid,ip,sym,dso"]
    if pid is not None:
        cmd += ["--pid", str(pid)]
    if comm is not None:
        cmd += ["--comm", comm]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    frames = None
    for line in out.splitlines():
        if not line.strip():
            if frames is not None:
                yield frames
            frames = None
            continue
        m = FRAME.match(line)
        if m and frames is not None:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
            frames.append((sym, m.group(2)))
        elif not line.startswith((" ", "\t")):
            frames = []  # a sample's header line: comm and pid
    if frames is not None:
        yield frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--pid", type=int)
    who.add_argument("--comm")
    ap.add_argument("--perf", default="perf")
    args = ap.parse_args()
    counts = Counter()
    copies = 0
    for f in samples(args.perf, args.data, args.pid, args.comm):
        counts[classify(f)] += 1
        copies += is_copy(f)
    total = sum(counts.values())
    if total == 0:
        sys.exit("perf_split: no samples for that process in " + args.data)
    print(f"{'class':<16} {'samples':>8} {'share':>7}")
    for c in CLASSES:
        print(f"{c:<16} {counts[c]:>8} {100.0 * counts[c] / total:>6.1f}%")
    print(f"{'total':<16} {total:>8}")
    print(f"{'copies':<16} {copies:>8} {100.0 * copies / total:>6.1f}%")


if __name__ == "__main__":
    main()
