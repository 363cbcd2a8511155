#!/usr/bin/env bash
# solo: it attaches without a pid, which needs exactly one run on the machine
# loads-runner --attach: a read-only dashboard on a run started elsewhere (a
# -q run in the background here).  It shows the run, then its final state
# with "run finished", and after q the run's summary, the same as the run's
# own.  q before the end only detaches.  Without a terminal it waits for the
# end and prints the summary.  Bad pids are usage errors.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module tui_sleep.c
start_nginx
test=tui_sleep.TestTui.test_sleep
BG_OUT=$TMP_ROOT/bg.out

# start_bg ARGS...: starts a -q run of the test in the background (no
# terminal), as RUN_PID (lib.sh stops it on exit), and waits for its segment.
start_bg() {
    local i
    echo "\$ loads-runner $test -q $* &"
    "$BUILD/loads-runner" "$test" -q --server-url "$NGINX_URL" "$@" \
        </dev/null >"$BG_OUT" 2>"$TMP_ROOT/bg.err" &
    RUN_PID=$!
    for ((i = 0; i < 100; i++)); do
        [[ -e /dev/shm/loads-$RUN_PID ]] && return 0
        alive "$RUN_PID" || break
        sleep 0.1
    done
    fail "the background run made no segment" "$(cat "$TMP_ROOT/bg.err")"
}

# wait_bg: waits for the background run; sets BG_STATUS.
wait_bg() {
    BG_STATUS=0
    wait "$RUN_PID" || BG_STATUS=$?
    RUN_PID=
}

# live_runs: how many runs have a segment and a live supervisor (other
# tests may run at the same time as this one).
live_runs() {
    local f n=0
    for f in /dev/shm/loads-*; do
        [[ -e $f ]] && kill -0 "${f##*/loads-}" 2>/dev/null && n=$((n + 1))
    done
    echo "$n"
}

step "usage errors: a pid with no run, a pid that is no number"
run_loads --attach 2147483646
expect_usage_error
expect_err_contains "no run with pid 2147483646"
run_loads --attach=abc
expect_usage_error
run_loads --attach "$test"
expect_usage_error
expect_err_contains "--attach takes the pid of a run"

step "attach to a 5 s -q run, watch it end, q prints its summary"
base=$(access_log_lines)
start_bg -u 5 -d 5s
if (($(live_runs) == 1)); then
    tui_start 100 30 "$BUILD/loads-runner" --attach
else
    echo "  other runs are going on: attaching by pid"
    tui_start 100 30 "$BUILD/loads-runner" --attach "$RUN_PID"
fi
tui_wait "$test"
tui_wait "attached, read-only"
tui_wait "Hits"
tui_wait "Users 5/5"
tui_wait "run finished"
tui_running || fail "--attach ended before q" "$(tui_history)"
wait_bg
expect_eq "$BG_STATUS" 0 "status of the background run"
bg_hits=$(sed -n 's/^Hits: \([0-9][0-9]*\)$/\1/p' "$BG_OUT")
expect_access_log $((base + bg_hits))
grep -qF "Hits $bg_hits " <<<"$(tui_screen)" ||
    fail "the final state does not show the run's $bg_hits hits" "$(tui_screen)"
tmux_ send-keys -t "$TUI_PANE" q
tui_wait_end
TUI_LOG_BASE=$base
tui_expect_summary
expect_eq "$(tui_hits)" "$bg_hits" "Hits in --attach's summary"
expect_eq "$(tui_history | sed -n '/^Hits:/,/^Failures:/p')" \
    "$(sed -n '/^Hits:/,/^Failures:/p' "$BG_OUT")" "--attach's summary against the run's own"

step "q before the end detaches and leaves the run alone"
# 10 s: the q must come before the end, after --attach has started (a
# sanitizer build on a busy machine has been seen to take seconds).
start_bg -u 2 -d 10s
tui_start 100 30 "$BUILD/loads-runner" --attach "$RUN_PID"
tui_wait "Users 2/2"
tmux_ send-keys -t "$TUI_PANE" q
tui_wait_end
expect_eq "$TUI_STATUS" 0 "status of --attach after a detach"
tui_history | grep -qF "detached from run $RUN_PID" || fail "no detach line" "$(tui_history)"
! tui_history | grep -q '^Hits:' || fail "a summary after a detach" "$(tui_history)"
alive "$RUN_PID" || fail "the run did not go on after the detach"
wait_bg
expect_eq "$BG_STATUS" 0 "status of the background run"
grep -qE '^Duration: 1[0-9]\.[0-9]{2} seconds$' "$BG_OUT" ||
    fail "the detached run did not run its 10 s" "$(cat "$BG_OUT")"

step "without a terminal: waits for the end, prints the summary"
base=$(access_log_lines)
start_bg -u 2 -d 3s
bg=$RUN_PID
RUN_PID=
run_loads --attach "$bg"
RUN_PID=$bg
wait_bg
expect_status 0
expect_eq "$BG_STATUS" 0 "status of the background run"
expect_out_line "Hits: $(sed -n 's/^Hits: \([0-9][0-9]*\)$/\1/p' "$BG_OUT")"
expect_out_line "Errors: 0"
# Against nginx too: one request, and one successful run, per hit.
hits=$(out_field Hits)
expect_access_log $((base + hits))
expect_out_line "Success: $hits"
