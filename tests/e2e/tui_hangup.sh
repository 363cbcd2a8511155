#!/usr/bin/env bash
# A closed terminal (a dropped ssh): the terminal's processes get SIGHUP.
# loads-runner under the dashboard stops as it does for SIGTERM: its
# workers (which ignore SIGHUP) end, its segment is removed, nothing is
# left running; the summary goes nowhere, the terminal being gone.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/tui_lib.bash"

use_module tui_sleep.c
start_nginx

step "a 30 s run under the dashboard, then its terminal closes"
tui_start 100 30 "$BUILD/loads-runner" tui_sleep.TestTui.test_sleep -u 4 -w 2 -d 30s \
    --server-url "$NGINX_URL"
tui_wait "Users 4/4"
# The supervisor: the loads-runner under the pane's shell whose parent is
# not a loads-runner; its workers are its children.
RUNNER=$(ps -e -o pid=,ppid=,comm= | awk -v top="$TUI_SHELL" '
    { parent[$1] = $2; comm[$1] = $3 }
    END {
        for (p in comm) {
            if (comm[p] != "loads-runner" || comm[parent[p]] == "loads-runner") continue
            for (a = parent[p]; a != "" && a != 1; a = parent[a])
                if (a == top) { print p; exit }
        }
    }')
[[ -n $RUNNER ]] || fail "no loads-runner under the pane's shell"
mapfile -t WORKERS < <(pgrep -P "$RUNNER" -x loads-runner || true)
expect_eq "${#WORKERS[@]}" 2 "workers of loads-runner $RUNNER"
[[ -e /dev/shm/loads-$RUNNER ]] || fail "no segment /dev/shm/loads-$RUNNER"
tmux_ kill-server # the terminal goes: SIGHUP to the pane's processes
TUI_SHELL=
for ((i = 0; i < 100; i++)); do
    [[ -z $(live_workers "$RUNNER" "${WORKERS[@]}") ]] && break
    sleep 0.1
done
left=$(live_workers "$RUNNER" "${WORKERS[@]}")
[[ -z $left ]] || fail "still running 10 s after the hangup: $left"
[[ ! -e /dev/shm/loads-$RUNNER ]] || fail "the hangup left the segment /dev/shm/loads-$RUNNER"
echo "  supervisor and workers gone, segment removed"
# The run was under way when its terminal closed.
expect_num "$(access_log_lines)" ">" 0 "requests before the hangup"
