# shellcheck shell=bash
# tests/e2e/web_lib.bash - sourced by the web view's tests (web_*.sh) after
# lib.sh: fetching from a runner's --web address.

# web_get PATH [CURL ARGS...]: prints the body of GET http://127.0.0.1:$WEB_PORT/PATH
# (2 s at most); fails on an error status.
web_get() {
    local path=$1
    shift
    curl -sSf --max-time 2 "$@" "http://127.0.0.1:$WEB_PORT$path" ||
        fail "GET $path on the web view failed"
}

# web_code PATH [CURL ARGS...]: prints the HTTP status of a request to PATH.
web_code() {
    local path=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "http://127.0.0.1:$WEB_PORT$path" ||
        true
}

# wait_web PID: waits (10 s at most) until the web view of loads-runner PID answers.
wait_web() {
    local i
    for ((i = 0; i < 100; i++)); do
        curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$WEB_PORT/stats.json" && return 0
        alive "$1" || break
        sleep 0.1
    done
    fail "the web view on 127.0.0.1:$WEB_PORT did not answer"
}

# wait_web_done: waits (60 s at most) until /series.json says the run is done.
wait_web_done() {
    local i
    for ((i = 0; i < 600; i++)); do
        [[ $(curl -sf --max-time 1 "http://127.0.0.1:$WEB_PORT/series.json?from=999999" |
            jq -r .state 2>/dev/null) == "done" ]] && return 0
        sleep 0.1
    done
    fail "the web view never said the run was done"
}
