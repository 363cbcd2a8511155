#!/usr/bin/env bash
# scripts/bench stops what it started on every path: its nginx, its nginx
# with TLS and its loads-echo are gone, and its temp dir removed, after it
# ends normally and after a SIGTERM or a SIGINT in the middle.  Its https
# and ws parts (the ones that start the extra servers) run for 1 s each
# with 2 connections.
source "$(dirname "$0")/../lib.sh"
command -v wrk >/dev/null || fail "wrk is not installed (scripts/deps installs it)"

# bench_procs DIR: the processes whose command line or working directory is
# under DIR (bench's servers all are: it runs with TMPDIR=DIR).  One find
# and one grep look at every process: a few programs per process took
# seconds on a busy machine, by which time the processes were gone.  A
# process gone by the end (the grep itself, whose command line holds DIR)
# is left out.
bench_procs() {
    local p
    for p in $({
        find /proc/[0-9]*/cwd -maxdepth 0 -lname "$1/*" 2>/dev/null
        grep -laF -- "$1/" /proc/[0-9]*/cmdline 2>/dev/null
    } | cut -d/ -f3 | sort -un); do
        [[ -d /proc/$p ]] || continue
        echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
    done
}

# expect_bench_gone DIR: nothing of bench's runs any more, its temp dir is
# removed (lib.sh's cleanup: only what it made itself may be left, none).
expect_bench_gone() {
    local left i
    for ((i = 0; i < 100; i++)); do
        left=$(bench_procs "$1")
        [[ -z $left ]] && break
        sleep 0.1
    done
    [[ -z $left ]] || fail "still running after scripts/bench ended:" "$left"
    [[ -z $(ls -A "$1") ]] || fail "scripts/bench left files in its TMPDIR:" "$(ls -la "$1")"
}

step "a normal end: https and ws parts, 1 s, 2 connections"
dir=$TMP_ROOT/bench-end
mkdir -p "$dir"
status=0
TMPDIR=$dir BENCH_PARTS="https ws" timeout 60 "$REPO/scripts/bench" 1 2 \
    >"$TMP_ROOT/bench.out" 2>&1 || status=$?
cat "$TMP_ROOT/bench.out"
expect_eq "$status" 0 "exit status of scripts/bench"
grep -q '^== https' "$TMP_ROOT/bench.out" || fail "no https part in its output"
grep -q '^round trips/s' "$TMP_ROOT/bench.out" || fail "no ws figures in its output"
expect_bench_gone "$dir"

for sig in TERM INT; do
    step "SIG$sig to scripts/bench once its servers run"
    dir=$TMP_ROOT/bench-$sig
    mkdir -p "$dir"
    # The ws part's echo server starts last: wait for it, then stop bench.
    # (setsid: a SIGINT reaches bench's shell as Ctrl-C would reach a
    # script run in the foreground of its own terminal group.)
    TMPDIR=$dir BENCH_PARTS="https ws" setsid "$REPO/scripts/bench" 5 2 \
        >"$TMP_ROOT/bench.$sig.out" 2>&1 </dev/null &
    bench=$!
    PIDS+=("$bench")
    for ((i = 0; i < 300; i++)); do
        grep -q '^== websocket' "$TMP_ROOT/bench.$sig.out" && break
        alive "$bench" || break
        sleep 0.1
    done
    grep -q '^== websocket' "$TMP_ROOT/bench.$sig.out" ||
        fail "scripts/bench did not reach its ws part" "$(cat "$TMP_ROOT/bench.$sig.out")"
    # Its line comes before its echo server starts: wait for a server (on a
    # busy machine the look right after the line found none).
    for ((i = 0; i < 100; i++)); do
        [[ -n $(bench_procs "$dir") ]] && break
        sleep 0.1
    done
    [[ -n $(bench_procs "$dir") ]] || fail "no bench server seen before the signal" \
        "$(alive "$bench" && echo "scripts/bench runs" || echo "scripts/bench has ended")" \
        "$(cat "$TMP_ROOT/bench.$sig.out")"
    kill -"$sig" -- -"$bench" # its process group, as a terminal would
    status=0
    wait "$bench" || status=$?
    echo "  scripts/bench: status $status"
    ((status != 0)) || fail "scripts/bench exited 0 after SIG$sig"
    expect_bench_gone "$dir"
done
