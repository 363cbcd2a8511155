#!/usr/bin/env bash
# The terminal comes back sane (canonical mode, echo on) after the dashboard,
# whatever ended the run: a worker that crashes (its output is kept off the
# dashboard and shown after it), a SIGTERM to loads-runner.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module tui_sleep.c
use_module tui_crash.c
start_nginx

# run_then_stty ARGS...: runs loads-runner ARGS in the pane, then stty -a
# there; the pane's status is loads-runner's.
run_then_stty() {
    tui_start 100 30 bash -c '"$0" "$@"; rc=$?; echo "stty: $(stty -a | tr "\n" " ")"; exit $rc' \
        "$BUILD/loads-runner" "$@" --server-url "$NGINX_URL"
}

# expect_sane_tty: stty's line in the pane shows canonical mode and echo.
expect_sane_tty() {
    local line
    line=$(tui_history | grep '^stty: ')
    [[ " $line " == *" icanon "* && " $line " == *" echo "* ]] ||
        fail "the terminal was not restored" "$line"
}

step "a worker crashes under the dashboard"
run_then_stty tui_crash.TestTuiCrash.test_crash -u 2 -w 2 -d 3s
tui_wait "Hits"
tui_wait_end
expect_eq "$TUI_STATUS" 1 "exit status after a crash"
expect_sane_tty
history=$(tui_history)
grep -qF "killed by signal 11" <<<"$history" || fail "no crash in the summary" "$history"
grep -qxF "tui_crash: a line on stderr" <<<"$history" || fail "the worker's stderr was lost" "$history"
grep -qxF "tui_crash: a line on stdout" <<<"$history" || fail "the worker's stdout was lost" "$history"
[[ $(grep -n '^tui_crash: a line on stderr' <<<"$history" | head -n 1 | cut -d: -f1) -lt \
    $(grep -n '^Hits: ' <<<"$history" | cut -d: -f1) ]] ||
    fail "the workers' output should come before the summary" "$history"

step "SIGTERM to loads-runner under the dashboard"
run_then_stty tui_sleep.TestTui.test_sleep -u 2 -d 30s
tui_wait "Users 2/2"
# The supervisor: the loads-runner among the pane's descendants whose parent
# is not a loads-runner (its workers are loads-runners too).
runner=$(ps -e -o pid=,ppid=,comm= | awk -v top="$TUI_SHELL" '
    { parent[$1] = $2; comm[$1] = $3 }
    END {
        for (p in comm) {
            if (comm[p] != "loads-runner" || comm[parent[p]] == "loads-runner") continue
            for (a = parent[p]; a != "" && a != 1; a = parent[a])
                if (a == top) { print p; exit }
        }
    }')
[[ -n $runner ]] || fail "no loads-runner under the pane's shell"
kill -TERM $runner
tui_wait_end
tui_expect_summary 143
expect_sane_tty
