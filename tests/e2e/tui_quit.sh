#!/usr/bin/env bash
# Stopping a run from the dashboard: q, and Ctrl-C (a SIGINT to the whole
# foreground group, which the workers ignore), each stop a 30 s run within
# a few seconds, the way SIGINT does: running tests end, the summary stays
# on screen and says what stopped the run, and the status is 130 (a
# stopped run never exits 0, README).
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module tui_sleep.c
start_nginx
test=tui_sleep.TestTui.test_sleep

# stop_with KEY BY: starts a 30 s run, presses KEY once the dashboard shows
# hits, and checks that the run stopped well before its end (its Duration
# under 15 s), "Stopped by BY".
stop_with() {
    local started duration
    tui_start 100 30 "$BUILD/loads-runner" "$test" -u 5 -d 30s --server-url "$NGINX_URL"
    tui_wait "Users 5/5"
    tui_wait "Req/s now"
    started=$SECONDS
    tmux_ send-keys -t "$TUI_PANE" "$1"
    tui_wait_end 15
    echo "  stopped in about $((SECONDS - started)) s"
    tui_expect_summary 130
    tui_history | grep -qE "^Stopped by $2 after [0-9.]+ s of 30 s\$" ||
        fail "no line 'Stopped by $2 after T s of 30 s'" "$(tui_history)"
    duration=$(tui_history | sed -n 's/^Duration: \([0-9]*\)\.[0-9]* seconds$/\1/p')
    [[ -n $duration ]] && ((duration < 15)) ||
        fail "expected a Duration under 15 s after $1, got '$duration'" "$(tui_history)"
    tui_history | grep -qxF "Errors: 0" || fail "running tests did not end cleanly" "$(tui_history)"
}

step "q"
stop_with q "q in the dashboard"

step "Ctrl-C"
stop_with C-c SIGINT
