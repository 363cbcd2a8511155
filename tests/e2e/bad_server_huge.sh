#!/usr/bin/env bash
# Huge bodies do not exhaust the worker's memory: --max-body keeps that much
# of a body, the rest is received and counted, not stored.
#   - A body that never ends within --timeout 5 (Content-Length 1 TiB,
#     zeros as fast as the client reads: gigabytes over loopback) is one
#     Error, "Operation timed out", while the worker's resident memory,
#     sampled all along, stays under 64 MiB.
#   - An 8 MiB body with --max-body 1048576 is a Success whose
#     loads_body_len is 1048576, and all its 8 MiB are counted.
source "$(dirname "$0")/../lib.sh"

use_module bad_cases.c
start_bad_http_server huge
MIB=1048576

# sample_workers FILE: in the background, every 0.05 s, appends the VmRSS
# (kB) of each worker of the runs going on (loads-runner children of the
# loads-runner under run_loads's timeout, a child of this shell) to FILE.
# The workers are looked up (pgrep) only until found, and their VmRSS read
# with the shell's own read, so that a loaded machine still gets a sample
# every 0.05 s or so.  Sets SAMPLER_PID.
sample_workers() {
    local file=$1
    : >"$file"
    (
        set +e
        workers=()
        while :; do
            if ((${#workers[@]} == 0)); then
                for t in $(pgrep -P $$ -x timeout); do
                    for r in $(pgrep -P "$t" -x loads-runner); do
                        mapfile -t -O "${#workers[@]}" workers < <(pgrep -P "$r" -x loads-runner)
                    done
                done
            fi
            live=()
            for w in "${workers[@]}"; do
                while read -r key kb _; do
                    if [[ $key == VmRSS: ]]; then
                        echo "$kb"
                        live+=("$w")
                    fi
                done <"/proc/$w/status"
            done 2>/dev/null >>"$file"
            workers=("${live[@]}")
            sleep 0.05
        done
    ) &
    SAMPLER_PID=$!
    PIDS+=("$SAMPLER_PID")
}

step "Content-Length 1 TiB, --max-body $MIB --timeout 5: an Error, memory bounded"
sample_workers rss.kb
run_loads_timed bad_cases.TestBad.test_get --server-url "$BAD_URL" \
    --max-body "$MIB" --timeout 5 --json summary.json
stop_pid "$SAMPLER_PID"
expect_status 1
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Failures: 0"
expect_json_errors summary.json 1 TestBad.test_get \
    "^GET ${BAD_URL//./\\.}/: Operation timed out \\(--timeout 5s\\)\$"
expect_num "$WALL" ">=" 4.9 "wall-clock seconds of the run"
expect_num "$WALL" "<" 12 "wall-clock seconds of the run"

received=$(jq -r .bytes_received summary.json)
echo "  bytes received: $received"
expect_num "$received" ">" $((100 * MIB)) ".bytes_received (body bytes)"
# The server closes when the runner has closed the connection (10 s at most).
for ((i = 0; i < 100; i++)); do
    grep -q ': closed, ' "$BAD_LOG" && break
    sleep 0.1
done
line=$(grep ': closed, ' "$BAD_LOG") || fail "the server saw no end of its connection" "$(cat "$BAD_LOG")"
[[ $line =~ sent\ ([0-9]+)\ body\ bytes$ ]] || fail "server log: '$line'"
sent=${BASH_REMATCH[1]}
echo "  server sent: $sent body bytes"
expect_num "$sent" ">=" "$received" "body bytes sent by the server against bytes received"
# The server's clock: --timeout 5 closed the connection 4.95 to 5.5 s after
# its accept, even while the worker is busy receiving (the deadline is
# checked ten times a second; the rest is slack for a shared machine, and
# the server stamps its accept when it gets to run, a few ms late).
expect_between "seconds from accept to close at the server" 4.95 5.5 "$(bad_lifetimes)"

samples=$(grep -c '' rss.kb || true)
max_kb=$(sort -n rss.kb | tail -n 1)
echo "  worker VmRSS: $samples samples, at most ${max_kb:-?} kB"
# A 5 s run sampled every 0.05 s: dozens of samples, or the sampler missed
# it; on a busy machine the sampler itself runs late (17 seen), and a body
# kept whole would show from the first second on (7 GiB in 5 s): 5 do.
expect_num "$samples" ">=" 5 "samples of the worker's VmRSS"
expect_num "$max_kb" "<" $((64 * 1024)) "the worker's VmRSS in kB (at most)"

step "control: --max-body $((128 * MIB)) --timeout 2: the sampler sees the worker grow"
# The bound above means something only if keeping the body would show.
sample_workers rss.kb
run_loads_timed bad_cases.TestBad.test_get --server-url "$BAD_URL" \
    --max-body $((128 * MIB)) --timeout 2
stop_pid "$SAMPLER_PID"
expect_status 1
expect_out_line "Errors: 1"
max_kb=$(sort -n rss.kb | tail -n 1)
echo "  worker VmRSS: $(grep -c '' rss.kb) samples, at most ${max_kb:-?} kB"
expect_num "${max_kb:-0}" ">" $((96 * 1024)) "the worker's VmRSS in kB (at most), keeping 128 MiB"

step "Content-Length 8 MiB, --max-body $MIB: a Success, 1 MiB kept, 8 MiB counted"
run_loads_timed bad_cases.TestBad.test_8mib_kept_1mib --server-url "$BAD_URL" \
    --max-body "$MIB" --timeout 5 --json summary.json
expect_status 0
expect_no_core
expect_out_line "Success: 1"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_num "$(jq -r .bytes_received summary.json)" ">=" $((8 * MIB)) ".bytes_received"
expect_num "$WALL" "<" 8 "wall-clock seconds of the run"
grep -q ": complete, sent $((8 * MIB)) body bytes\$" "$BAD_LOG" ||
    fail "the server did not send the whole 8 MiB" "$(cat "$BAD_LOG")"
