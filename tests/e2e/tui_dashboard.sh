#!/usr/bin/env bash
# The live dashboard on a terminal (tmux): it shows the run, draws Unicode
# blocks in a UTF-8 locale, and at the end gives the screen back with the
# summary left on it, its Hits what nginx logged.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module tui_sleep.c
start_nginx
test=tui_sleep.TestTui.test_sleep

# 8 s: the keys below must come while it runs, which a sanitizer build on a
# busy machine is slow to start.
step "an 8 s run of 5 users on a 100x30 terminal"
tui_start 100 30 env LANG=C.UTF-8 LC_ALL= "$BUILD/loads-runner" "$test" -u 5 -d 8s \
    --server-url "$NGINX_URL"
tui_wait "$test"
tui_wait "Hits"
tui_wait "Users 5/5"
screen=$(tui_screen)
grep -qF "Cycle 1/1" <<<"$screen" || fail "no 'Cycle 1/1' in the header" "$screen"
grep -qF "$NGINX_URL" <<<"$screen" || fail "no target URL in the header" "$screen"
grep -qE "^GET / +[0-9]+ +100.0%" <<<"$screen" || fail "no row for GET / in the URL table" "$screen"
grep -qF "█" <<<"$screen" || fail "no Unicode block in a UTF-8 locale" "$screen"
grep -qF "q stop" <<<"$screen" || fail "no key line at the bottom" "$screen"
[[ $(tail -n 1 <<<"$screen") == *"q stop"* ]] || fail "the key line is not the last row" "$screen"

step "s sorts the URL table by p99, ? shows the help, any key closes it"
tmux_ send-keys -t "$TUI_PANE" s
tui_wait "URLs by p99"
tmux_ send-keys -t "$TUI_PANE" '?'
tui_wait "this help; any key closes it"
tmux_ send-keys -t "$TUI_PANE" x
for ((i = 0; i < 100; i++)); do
    tui_screen | grep -qF "any key closes it" || break
    sleep 0.1
done
! tui_screen | grep -qF "any key closes it" || fail "the help stayed" "$(tui_screen)"

step "the end: the summary stays on screen"
tui_wait_end
tui_expect_summary
tui_history | grep -qE '^Duration: ([89]|1[0-9])\.[0-9]{2} seconds$' ||
    fail "no 'Duration: 8.xx seconds' line" "$(tui_history)"
tui_history | grep -qxF "Failures: 0" || fail "no 'Failures: 0' line" "$(tui_history)"
