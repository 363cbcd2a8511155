#!/usr/bin/env bash
# stdout to a file, stderr on a terminal: no dashboard, no escape sequences,
# a plain progress line on stderr every 5 s and one at the end, the summary
# in the file.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module tui_sleep.c
start_nginx
test=tui_sleep.TestTui.test_sleep
out=$TMP_ROOT/summary.out

step "a 6 s run with stdout to a file"
tui_start 100 30 bash -c '"$0" "$@" >"'"$out"'"' "$BUILD/loads-runner" "$test" -u 2 -d 6s \
    --server-url "$NGINX_URL"
tui_wait "loads: 0:0"
! tui_screen | grep -qF "q stop" || fail "a dashboard with stdout to a file" "$(tui_screen)"
tui_wait_end
expect_eq "$TUI_STATUS" 0 "exit status"
lines=$(tui_history | grep -c '^loads: ')
expect_eq "$lines" 2 "progress lines (one at 5 s, one at the end)"
tui_history | grep -qE '^loads: 0:0[6-9] / 0:06  100%  cycle 1/1  users 0  hits [0-9]+ ' ||
    fail "no final progress line" "$(tui_history)"
hits=$(sed -n 's/^Hits: \([0-9][0-9]*\)$/\1/p' "$out")
[[ -n $hits ]] || fail "no summary in the file" "$(cat "$out")"
expect_access_log "$hits"
! grep -q $'\e' "$out" || fail "escape sequences in the file" "$(cat -v "$out")"
