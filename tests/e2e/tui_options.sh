#!/usr/bin/env bash
# On a terminal (tmux): --no-tui gives no dashboard but the progress bar on
# stderr, ending at 100%, then the summary; -q gives the summary alone (no
# dashboard, no bar, no progress line); neither moves the counts, which
# match nginx's log.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module tui_sleep.c
start_nginx
test=tui_sleep.TestTui.test_sleep
bar="[$(printf '=%.0s' {1..70})]  100%"

# printed: what the pane printed but tmux's "Pane is dead" line and ASan's
# warning about swapcontext (the sanitizer build's, not the program's).
printed() {
    tui_history | grep -v -e '^Pane is dead' -e '^==[0-9]*==WARNING: ASan' || true
}

step "--no-tui on a terminal: the progress bar, then the summary"
tui_start 100 40 "$BUILD/loads-runner" "$test" -u 2 -c 5 --no-tui --server-url "$NGINX_URL"
tui_wait_end 20
tui_expect_summary
expect_eq "$(tui_hits)" 10 "Hits on the screen"
! tui_history | grep -qF "q stop" || fail "a dashboard with --no-tui" "$(tui_history)"
tui_history | grep -qxF "$bar" || fail "no progress bar at 100%" "$(tui_history)"
! tui_history | grep -q '^loads: ' || fail "progress lines with --no-tui on a terminal" "$(tui_history)"
[[ $(tui_history | grep -nxF "$bar" | cut -d: -f1) -lt $(tui_history | grep -n '^Hits: ' | cut -d: -f1) ]] ||
    fail "the bar is not before the summary" "$(tui_history)"

step "-q on a terminal: the summary alone"
tui_start 100 40 "$BUILD/loads-runner" "$test" -u 2 -c 5 -q --server-url "$NGINX_URL"
tui_wait_end 20
tui_expect_summary
expect_eq "$(tui_hits)" 10 "Hits on the screen"
! tui_history | grep -qF "q stop" || fail "a dashboard with -q" "$(tui_history)"
! tui_history | grep -qF "[====" || fail "a progress bar with -q" "$(tui_history)"
! tui_history | grep -q '^loads: ' || fail "progress lines with -q" "$(tui_history)"
expect_eq "$(printed | grep -v '^$' | head -n 1)" "Hits: 10" "the first line printed"

step "-q with stdout to a file, stderr on the terminal: no progress line either"
out=$TMP_ROOT/summary.out
tui_start 100 40 bash -c '"$0" "$@" >"'"$out"'"' "$BUILD/loads-runner" "$test" -u 2 -c 5 -q \
    --server-url "$NGINX_URL"
tui_wait_end 20
expect_eq "$TUI_STATUS" 0 "exit status"
! printed | grep -q '[^[:space:]]' ||
    fail "-q printed on the terminal" "$(tui_history)"
grep -qxF "Hits: 10" "$out" || fail "no summary in the file" "$(cat "$out")"
expect_access_log 30
