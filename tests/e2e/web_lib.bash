# shellcheck shell=bash
# tests/e2e/web_lib.bash - sourced by the web view's tests (web_*.sh) after
# lib.sh: fetching from a runner's --web address.

# web_get PATH [CURL ARGS...]: prints the body of GET http://127.0.0.1:$WEB_PORT/PATH
# (10 s at most: a busy machine); fails on an error status.
web_get() {
    local path=$1
    shift
    curl -sSf --max-time 10 "$@" "http://127.0.0.1:$WEB_PORT$path" ||
        fail "GET $path on the web view failed"
}

# web_code PATH [CURL ARGS...]: prints the HTTP status of a request to PATH.
web_code() {
    local path=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "http://127.0.0.1:$WEB_PORT$path" ||
        true
}

# wait_web PID: waits (30 s at most) until the web view of loads-runner PID answers.
wait_web() {
    local i
    for ((i = 0; i < 300; i++)); do
        curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$WEB_PORT/stats.json" && return 0
        alive "$1" || break
        sleep 0.1
    done
    fail "the web view on 127.0.0.1:$WEB_PORT did not answer"
}

# web_hits_above H FILE: fetches /stats.json into FILE until its hits are
# more than H (10 s at most), and prints them: the hits grow while the run
# lasts, at whatever pace a busy machine allows (a fixed 1.2 s between two
# fetches may see the same hits when the machine is slow).  Fails once the
# run is done (/series.json says so) without more hits.
web_hits_above() {
    local i h state
    for ((i = 0; i < 50; i++)); do
        state=$(curl -sf --max-time 10 "http://127.0.0.1:$WEB_PORT/series.json?from=999999" |
            jq -r .state 2>/dev/null) || true
        web_get /stats.json >"$2"
        h=$(jq -er .hits "$2") || fail "live /stats.json: no hits"
        ((h > $1)) && { echo "$h"; return 0; }
        [[ $state == "done" ]] && break
        sleep 0.2
    done
    fail "the hits on /stats.json did not grow past $1 while the run lasted" "$(cat "$2")"
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
