#!/usr/bin/env bash
# The dashboard survives resizes: shrunk to 80x24 (the smallest size it is
# laid out for), to a tiny 30x8, and back, it redraws for the new size each
# time, and the run ends normally.  In the C locale it draws ASCII only.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module tui_sleep.c
start_nginx
test=tui_sleep.TestTui.test_sleep

# expect_layout WIDTH HEIGHT: the screen is WIDTHxHEIGHT, with the header on
# top and the key line at the bottom, nothing wider than the screen.
expect_layout() {
    local screen i
    for ((i = 0; i < 50; i++)); do
        screen=$(tui_screen)
        [[ $(wc -l <<<"$screen") == "$2" && $(head -n 1 <<<"$screen") == *"Loads"* &&
            $(tail -n 1 <<<"$screen") == *"q stop"* ]] && break
        sleep 0.1
    done
    [[ $(head -n 1 <<<"$screen") == *" Loads  $test"* ]] ||
        fail "${1}x$2: no header on the first row" "$screen"
    [[ $(tail -n 1 <<<"$screen") == *"q stop"* ]] ||
        fail "${1}x$2: no key line on the last row" "$screen"
    grep -qF "Hits" <<<"$screen" || fail "${1}x$2: no Hits" "$screen"
    (($(wc -L <<<"$screen") <= $1)) || fail "${1}x$2: lines wider than the screen" "$screen"
    LC_ALL=C grep -q '[^ -~]' <<<"$screen" && fail "${1}x$2: not ASCII in the C locale" "$screen"
    return 0
}

step "a 6 s run on a 100x30 terminal, C locale"
tui_start 100 30 env LANG=C LC_ALL=C "$BUILD/loads-runner" "$test" -u 5 -d 6s \
    --server-url "$NGINX_URL"
tui_wait "Users 5/5"
expect_layout 100 30

step "resized to 80x24"
tmux_ resize-window -t loads -x 80 -y 24
expect_layout 80 24
grep -qE "^GET / +[0-9]+ " <<<"$(tui_screen)" || fail "80x24: no URL row" "$(tui_screen)"
grep -qF "Workers: 2" <<<"$(tui_screen)" || fail "80x24: no worker panel" "$(tui_screen)"

step "resized to 30x8, then to 120x40"
tmux_ resize-window -t loads -x 30 -y 8
sleep 0.5
tui_running || fail "loads-runner ended at 30x8" "$(tui_history)"
tmux_ resize-window -t loads -x 120 -y 40
expect_layout 120 40

step "the run ends normally"
tui_wait_end 15
tui_expect_summary
