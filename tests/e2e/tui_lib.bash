# shellcheck shell=bash disable=SC2034 # it sets variables for the tests
# tests/e2e/tui_lib.bash - sourced by the dashboard's tests (tests/e2e/tui_*.sh)
# after tests/lib.sh: loads-runner on a real terminal, a private tmux server's.
# (Named .bash so that tests/run, which runs tests/e2e/*.sh, leaves it alone.)
#
#     tui_start 100 30 env LANG=C.UTF-8 "$BUILD/loads-runner" TEST -d 4s ...
#     tui_wait "Hits"                 # polls the screen, 30 s at most
#     tmux_ send-keys -t "$TUI_PANE" q
#     tui_wait_end                    # sets TUI_STATUS
#     tui_expect_summary              # status 0, Hits on screen = nginx's log
#
# The server has its own socket (loads-test-PID) and config, keeps a pane
# whose program ended (remain-on-exit, so that its last screen can be read),
# and is killed on exit, however the test ends; the program in the pane is
# stopped first, so that it removes its segment.

TUI_SOCKET=loads-test-$$
TUI_PANE=loads:0.0          # the one pane of the one session
TUI_SHELL=                  # the pane's shell, which runs the program
TUI_STATUS=                 # the program's exit status, once tui_wait_end saw it
TUI_LOG_BASE=0              # nginx's access log lines before the program ran
unset TMUX

# tmux_ ARGS...: tmux on the test's own server.
tmux_() {
    tmux -L "$TUI_SOCKET" "$@"
}

# tui_stop: stops the pane's program if it still runs (so that it removes
# its segment), and its shell.
tui_stop() {
    local pid
    [[ -n $TUI_SHELL ]] || return 0
    for pid in $(ps -o pid= --ppid "$TUI_SHELL"); do
        stop_pid "$pid"
    done
    stop_pid "$TUI_SHELL"
    TUI_SHELL=
}

# tui_cleanup: stops the pane's program and the server, then lib.sh's cleanup
# with the test's exit status.
tui_cleanup() {
    local rc=$? socket
    set +e
    tui_stop
    socket=$(tmux_ display-message -p '#{socket_path}' 2>/dev/null)
    tmux_ kill-server >/dev/null 2>&1
    # tmux leaves its socket file behind.
    [[ -n $socket && $socket == */$TUI_SOCKET ]] && rm -f "$socket"
    (exit "$rc")
    cleanup
}
trap tui_cleanup EXIT

# tui_start WIDTH HEIGHT CMD...: runs CMD in TEST_DIR in a new WIDTHxHEIGHT
# window, replacing the last one.  A shell in the pane runs it and writes its
# exit status to a file, read by tui_wait_end: tmux's own record of a pane's
# exit status is not reliable enough to test with (tmux 3.3a may leave the
# pane's process unreaped).
tui_start() {
    local width=$1 height=$2 conf=$TMP_ROOT/tmux.conf
    shift 2
    if [[ ! -e $conf ]]; then
        printf '%s\n' 'set-option -g remain-on-exit on' 'set-option -g exit-empty off' \
            'set-option -g history-limit 10000' 'set-option -g status off' >"$conf"
        printf '%s\n' 'status=$1' 'shift' '"$@"' 'echo $? >"$status.new"' \
            'mv "$status.new" "$status"' >"$TMP_ROOT/tui_run"
    fi
    tui_stop
    tmux_ kill-session -t loads >/dev/null 2>&1 || true
    rm -f "$TMP_ROOT/tui_status"
    [[ -n ${NGINX_LOG:-} ]] && TUI_LOG_BASE=$(access_log_lines)
    echo "\$ (tmux ${width}x$height) ${*@Q}"
    tmux_ -f "$conf" new-session -d -s loads -x "$width" -y "$height" -c "$TEST_DIR" \
        "exec bash $TMP_ROOT/tui_run $TMP_ROOT/tui_status ${*@Q}"
    TUI_SHELL=$(tmux_ display-message -p -t "$TUI_PANE" '#{pane_pid}')
    TUI_STATUS=
}

# tui_running: true while the pane's program runs.
tui_running() {
    [[ ! -e $TMP_ROOT/tui_status ]]
}

# tui_screen: what the window shows now.
tui_screen() {
    tmux_ capture-pane -p -t "$TUI_PANE"
}

# tui_history: everything the pane printed, scrollback included, with
# wrapped lines joined.
tui_history() {
    tmux_ capture-pane -p -J -S - -t "$TUI_PANE"
}

# tui_wait TEXT [SECONDS]: waits until the screen shows TEXT (30 s at most:
# a sanitizer build on a busy machine is slow to start and to draw).
tui_wait() {
    local i limit=$((${2:-30} * 10))
    for ((i = 0; i < limit; i++)); do
        tui_screen | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    fail "screen: expected '$1' within ${2:-30} s" "$(tui_screen)"
}

# tui_wait_end [SECONDS]: waits until the pane's program ended (30 s at most);
# sets TUI_STATUS.
tui_wait_end() {
    local i limit=$((${1:-30} * 10))
    for ((i = 0; i < limit; i++)); do
        if ! tui_running; then
            TUI_STATUS=$(<"$TMP_ROOT/tui_status")
            echo "  ended with status $TUI_STATUS"
            return 0
        fi
        sleep 0.1
    done
    fail "the program in the pane did not end within ${1:-30} s" "$(tui_screen)"
}

# tui_hits: the number on the summary's "Hits: N" line in the pane.
tui_hits() {
    tui_history | sed -n 's/^Hits: \([0-9][0-9]*\)$/\1/p' | tail -n 1
}

# tui_expect_summary [STATUS]: the pane's program ended with STATUS (0 by
# default), the dashboard is gone and the summary stayed on screen, its Hits
# what nginx logged since tui_start.
tui_expect_summary() {
    local hits
    expect_eq "$TUI_STATUS" "${1:-0}" "exit status of the run in the pane"
    hits=$(tui_hits)
    [[ -n $hits ]] || fail "no 'Hits: N' line left on screen" "$(tui_history)"
    expect_access_log $((TUI_LOG_BASE + hits))
    ! tui_screen | grep -qF "s sort" || fail "the dashboard is still on screen" "$(tui_screen)"
}
