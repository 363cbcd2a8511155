# shellcheck shell=bash disable=SC2034 # it sets variables for the tests
# tests/lib.sh - sourced by every end-to-end test (tests/e2e/*.sh).
#
#     #!/usr/bin/env bash
#     source "$(dirname "$0")/../lib.sh"
#     use_module example.c
#     start_nginx
#     run_loads example.TestWebSite.test_something --server-url "$NGINX_URL"
#     expect_status 0
#     expect_out_line "Hits: 1"
#
# Sourcing it creates a temp dir for the test (removed on exit, however the
# test ends) holding TEST_DIR, the test's work dir and current directory, and
# points XDG_CACHE_HOME inside it.  Everything start_* starts is stopped on
# exit.  The expect_* assertions print what was expected and what came, then
# exit 1.  BUILD (default build) is relative to the repository root.

set -euo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$REPO/$BUILD
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}

TMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/loads-e2e.$(basename "$0" .sh).XXXXXX")
TEST_DIR=$TMP_ROOT/work
OUT=$TMP_ROOT/stdout            # the last run_loads's stdout,
ERR=$TMP_ROOT/stderr            # its stderr
STATUS=                         # and its exit status
LAST_RUN=                       # its command line, for failure reports
PIDS=()                         # background processes to stop on exit
RUN_PID=                         # the run_loads going on
RUNNER=                          # a test's supervisor of start_loads, once it knows it
WORKERS=()                       # its workers, as the test last saw them
mkdir -p "$TEST_DIR" "$TMP_ROOT/cache"
: >"$OUT"
: >"$ERR"
cd "$TEST_DIR"

export XDG_CACHE_HOME=$TMP_ROOT/cache
unset LOADS_PATH

# ------------------------------------------------------------- lifecycle

# alive PID: true while PID runs (a zombie is not alive).
alive() {
    local state
    state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
    [[ -n $state && $state != Z ]]
}

# stop_pid PID: TERM, then KILL after 10 s (a sanitizer build on a busy
# machine may take seconds to end); reaps it when it is our child.
stop_pid() {
    local i
    kill -TERM "$1" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        alive "$1" || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# cleanup: runs on every exit: stops what was started, removes the temp dir.
cleanup() {
    local rc=$? pid
    set +e
    [[ -n $RUN_PID ]] && stop_pid "$RUN_PID"
    kill_leftovers
    for pid in "${PIDS[@]}"; do
        stop_pid "$pid"
    done
    cd /
    rm -rf "$TMP_ROOT"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step TEXT...: marks the start of a part of the test in its log.
step() {
    echo "--- $*"
}

# ------------------------------------------------------------- servers

# free_port: prints a TCP port that no socket uses, below the ephemeral
# range (32768+) so that no outgoing connection can take it meanwhile.
free_port() {
    local used port i
    used=$(ss -Htan | awk '{ print $4 }')
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % 12000))
        grep -q ":$port\$" <<<"$used" || { echo "$port"; return 0; }
    done
    echo "free_port: no free port found" >&2
    return 1
}

# wait_port PORT PID [FILE]: waits (30 s at most: a busy machine may be slow
# to start a server) until 127.0.0.1:PORT accepts a connection, and FILE
# exists when given; fails early when PID has died.
wait_port() {
    local i
    for ((i = 0; i < 300; i++)); do
        [[ -z ${3:-} || -e $3 ]] && (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        alive "$2" || return 1
        sleep 0.1
    done
    return 1
}

# start_nginx: starts nginx with tests/nginx.conf.in on a free port; sets
# NGINX_URL, NGINX_LOG (its access log), NGINX_DIR and NGINX_PID.
start_nginx() {
    local dir=$TMP_ROOT/nginx port attempt
    mkdir -p "$dir/www" "$dir/tmp"
    head -c 65536 /dev/zero | tr '\0' x >"$dir/www/big"
    for attempt in 1 2 3; do
        port=$(free_port)
        sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" \
            -e "s|@CONNECTIONS@|${NGINX_CONNECTIONS:-4096}|g" \
            -e "s|@NOFILE@|$((${NGINX_CONNECTIONS:-4096} * 2 + 64))|g" \
            "$REPO/tests/nginx.conf.in" >"$dir/nginx.conf"
        : >"$dir/error.log"
        rm -f "$dir/nginx.pid"
        "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
            </dev/null >>"$dir/nginx.out" 2>&1 &
        NGINX_PID=$!
        PIDS+=("$NGINX_PID")
        # Its pid file is written once it listens: until then the port may
        # be someone else's.
        if wait_port "$port" "$NGINX_PID" "$dir/nginx.pid"; then
            NGINX_DIR=$dir
            NGINX_URL=http://127.0.0.1:$port
            NGINX_LOG=$dir/access.log
            echo "nginx: $NGINX_URL (pid $NGINX_PID)"
            return 0
        fi
        stop_pid "$NGINX_PID"
        # Someone took the port between free_port and the bind: try another.
        grep -q 'Address already in use' "$dir/error.log" || break
    done
    fail "nginx did not start on 127.0.0.1:$port (attempt $attempt)" \
        "$(cat "$dir/nginx.out" "$dir/error.log")"
}

# start_echo: starts loads-echo on a port of its choosing (30 s at most for
# its first line); sets ECHO_URL, ECHO_WS, ECHO_PID and ECHO_LOG (its stdout:
# the address first, then with --log a line for each websocket that closed).
start_echo() {
    local out=$TMP_ROOT/echo.out line i
    ECHO_LOG=$out
    : >"$out" # read below may run before the redirection
    "$BUILD/loads-echo" --port 0 --quiet --log </dev/null >"$out" 2>"$TMP_ROOT/echo.err" &
    ECHO_PID=$!
    PIDS+=("$ECHO_PID")
    for ((i = 0; i < 300; i++)); do
        # read fails until the line is complete (has its newline).
        if read -r line <"$out" &&
            [[ $line =~ ^loads-echo:\ listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]]; then
            ECHO_URL=http://127.0.0.1:${BASH_REMATCH[1]}
            ECHO_WS=ws://127.0.0.1:${BASH_REMATCH[1]}
            echo "loads-echo: $ECHO_URL (pid $ECHO_PID)"
            return 0
        fi
        alive "$ECHO_PID" || break
        sleep 0.1
    done
    fail "loads-echo did not print 'loads-echo: listening on http://127.0.0.1:PORT'" \
        "stdout: $(cat "$out")" "stderr: $(cat "$TMP_ROOT/echo.err")"
}

# echo_stat NAME: loads-echo's own count NAME (ws_opened, ws_bytes_out...;
# see GET /stats in examples/echo_server.c).
echo_stat() {
    local v
    v=$(curl -s --max-time 20 "$ECHO_URL/stats" | awk -v k="$1" '$1 == k { print $2 }')
    [[ $v =~ ^[0-9]+$ ]] || fail "loads-echo's /stats has no count $1"
    echo "$v"
}

# echo_mark: remembers loads-echo's counts, for expect_echo_counts.
echo_mark() {
    ECHO_MARK_OPENED=$(echo_stat ws_opened)
    ECHO_MARK_BYTES=$(echo_stat ws_bytes_out)
    ECHO_MARK_HTTP=$(echo_stat http_requests)
    ECHO_MARK_LINES=$(grep -c '' "$ECHO_LOG" || true)
}

# echo_lifetimes: the seconds each websocket closed since echo_mark was
# open at loads-echo (its --log lines), one a line.  Call it after
# expect_echo_counts, which waits for the sockets to close.
echo_lifetimes() {
    tail -n +$((ECHO_MARK_LINES + 1)) "$ECHO_LOG" |
        awk '$1 == "loads-echo:" && $2 == "ws" && $4 == "closed" { print $8 }'
}

# echo_closed_since T: for each websocket closed since echo_mark, the
# seconds from T (the time of day, date +%s.%N) to its close at loads-echo.
echo_closed_since() {
    tail -n +$((ECHO_MARK_LINES + 1)) "$ECHO_LOG" |
        awk -v t="$1" '$1 == "loads-echo:" && $2 == "ws" && $4 == "closed" { printf "%.3f\n", $6 - t }'
}

# expect_echo_counts: once every socket has closed at the server (10 s at
# most), the last run's "Opened web sockets" and "Bytes received via web
# sockets" are what loads-echo counted since echo_mark: handshakes it
# completed and payload bytes it sent.
expect_echo_counts() {
    local i opened bytes
    for ((i = 0; i < 100; i++)); do
        (($(echo_stat ws_closed) == $(echo_stat ws_opened))) && break
        sleep 0.1
    done
    opened=$(($(echo_stat ws_opened) - ECHO_MARK_OPENED))
    bytes=$(($(echo_stat ws_bytes_out) - ECHO_MARK_BYTES))
    echo "  loads-echo: $opened websockets opened, $bytes bytes sent"
    expect_out_line "Opened web sockets: $opened"
    expect_out_line "Bytes received via web sockets : $bytes"
}

# access_log_lines: the number of requests in nginx's access log so far.
access_log_lines() {
    local n
    n=$(wc -l <"$NGINX_LOG")
    echo $((n))
}

# ------------------------------------------------------------- loads-runner

# use_module FILE: copies examples/FILE, or else tests/e2e/modules/FILE, into
# TEST_DIR.
use_module() {
    local f
    for f in "$REPO/examples/$1" "$REPO/tests/e2e/modules/$1"; do
        if [[ -f $f ]]; then
            cp "$f" "$TEST_DIR/"
            return 0
        fi
    done
    fail "use_module: no $1 in examples/ or tests/e2e/modules/"
}

# run_loads ARGS...: runs loads-runner ARGS in TEST_DIR (60 s at most, no
# stdin, core dumps allowed); sets OUT, ERR (files) and STATUS.  Whatever
# happens, the test goes on.  It runs in the background so that a TERM to
# the test runs the cleanup at once, which stops it.
run_loads() {
    LAST_RUN="loads-runner ${*@Q}"
    echo "\$ $LAST_RUN"
    STATUS=0
    (
        ulimit -c unlimited 2>/dev/null || true
        cd "$TEST_DIR"
        exec timeout 60 "$BUILD/loads-runner" "$@"
    ) </dev/null >"$OUT" 2>"$ERR" &
    RUN_PID=$!
    wait "$RUN_PID" || STATUS=$?
    RUN_PID=
    # ASan warns once per process that it does not fully understand
    # swapcontext (the sanitizer build's coroutine switch): not our output.
    sed -i '/WARNING: ASan doesn.t fully support makecontext\/swapcontext/d' "$ERR"
    echo "  status $STATUS, $(grep -c '' "$OUT") lines on stdout, $(grep -c '' "$ERR") on stderr"
}

# ------------------------------------------------------------- assertions

# fail LINE...: prints the lines and the last run's output, then exits 1.
fail() {
    {
        echo "FAIL: $1"
        shift
        (($#)) && printf '%s\n' "$@" | sed 's/^/    /'
        if [[ -n $LAST_RUN ]]; then
            echo "last run: $LAST_RUN -> status $STATUS"
            echo "stdout:"
            sed 's/^/    | /' "$OUT"
            echo "stderr:"
            sed 's/^/    | /' "$ERR"
        fi
    } >&2
    exit 1
}

# expect_eq A B WHAT: A and B are the same string.
expect_eq() {
    [[ $1 == "$2" ]] || fail "$3: expected '$2', got '$1'"
}

# expect_status N: the last run exited with status N.
expect_status() {
    local why=
    ((STATUS == 124)) && why=" (killed by timeout 60)"
    ((STATUS > 128)) && why=" (killed by signal $((STATUS - 128)), or stopped by it)"
    [[ $STATUS == "$1" ]] || fail "exit status: expected $1, got $STATUS$why"
}

# expect_out_line LINE: stdout has exactly this line (the whole line).
expect_out_line() {
    grep -qxF -- "$1" "$OUT" || fail "stdout: expected the line '$1'"
}

# expect_out_contains TEXT: TEXT appears in stdout.
expect_out_contains() {
    grep -qF -- "$1" "$OUT" || fail "stdout: expected to contain '$1'"
}

# expect_err_contains TEXT: TEXT appears in stderr.
expect_err_contains() {
    grep -qF -- "$1" "$ERR" || fail "stderr: expected to contain '$1'"
}

# expect_out_count TEXT N: exactly N lines of stdout contain TEXT.
expect_out_count() {
    local n
    n=$(grep -cF -- "$1" "$OUT" || true)
    ((n == $2)) || fail "stdout: expected '$1' on $2 line(s), found on $n"
}

# expect_out_empty: nothing on stdout.
expect_out_empty() {
    [[ ! -s $OUT ]] || fail "stdout: expected nothing"
}

# expect_err_one_line: stderr is exactly one line.
expect_err_one_line() {
    local n
    n=$(grep -c '' "$ERR" || true)
    ((n == 1)) || fail "stderr: expected exactly one line, got $n"
}

# expect_out_sequence RE...: stdout has lines matching each extended regular
# expression RE (as the whole line), in this order; other lines may come
# between them.
expect_out_sequence() {
    local -a lines
    local re i=0
    mapfile -t lines <"$OUT"
    for re; do
        while ((i < ${#lines[@]})) && ! [[ ${lines[i]} =~ ^($re)$ ]]; do
            i=$((i + 1))
        done
        ((i < ${#lines[@]})) ||
            fail "stdout: expected a line matching /^$re\$/ (after the lines before it)" \
                "expected, in order:" "$(printf '/^%s$/\n' "$@")"
        i=$((i + 1))
    done
}

# expect_no_core: the last run was not killed by a signal and dumped no core.
# A run stopped by a signal exits 128 + the signal by itself (README): that
# one printed its summary with the stop in it, which a killed one cannot.
expect_no_core() {
    local cores
    if ((STATUS >= 128)) && ! grep -qE '^Stopped by |"stopped": \{' "$OUT"; then
        fail "killed by signal $((STATUS - 128)) (no 'Stopped by' summary)"
    fi
    cores=$(find "$TEST_DIR" -maxdepth 1 -name 'core*' -type f)
    [[ -z $cores ]] || fail "core file(s) left:" "$cores"
}

# expect_usage_error: the last run was refused as bad usage or setup: status
# 2, one line on stderr starting with "loads-runner: ", nothing on stdout.
expect_usage_error() {
    expect_status 2
    expect_no_core
    expect_err_one_line
    [[ $(<"$ERR") == "loads-runner: "* ]] ||
        fail "stderr: expected to start with 'loads-runner: '"
    expect_out_empty
}

# expect_access_log N: nginx's access log has N lines.  It is written after
# the response is sent, so this waits up to 10 s for late lines (nginx may
# be slow to run on a busy machine).
expect_access_log() {
    local i
    for ((i = 0; i < 100; i++)); do
        (($(access_log_lines) >= $1)) && break
        sleep 0.1
    done
    expect_eq "$(access_log_lines)" "$1" "lines in nginx's access log"
}

# wait_access_log N: waits (30 s at most) until nginx's access log has N
# lines or more: a step that must come after N requests waits for them, not
# for a time that a busy machine may outlast.
wait_access_log() {
    local i
    for ((i = 0; i < 300; i++)); do
        (($(access_log_lines) >= $1)) && return 0
        sleep 0.1
    done
    fail "expected $1 lines in nginx's access log within 30 s, got $(access_log_lines)"
}

# ------------------------------------------------------------- numbers

# out_field NAME: prints the first word of the value of stdout's first line
# "NAME: VALUE..." ("Duration: 3.01 seconds" gives 3.01); fails without one.
out_field() {
    local v
    v=$(awk -v k="$1: " 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$OUT")
    [[ -n $v ]] || fail "stdout: expected a line '$1: ...'"
    echo "${v%% *}"
}

# expect_num A OP B WHAT: the numbers A and B (decimals allowed) compare as
# OP (<, <=, ==, !=, >=, >) says.
expect_num() {
    awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
        if (a !~ /^-?[0-9]+(\.[0-9]+)?$/ || b !~ /^-?[0-9]+(\.[0-9]+)?$/) exit 1
        a += 0; b += 0
        if (op == "<") ok = a < b; else if (op == "<=") ok = a <= b
        else if (op == "==") ok = a == b; else if (op == "!=") ok = a != b
        else if (op == ">=") ok = a >= b; else if (op == ">") ok = a > b
        exit !ok
    }' || fail "$4: expected $1 $2 $3"
}

# ------------------------------------------------------------- bad servers

# start_bad_http_server MODE: builds tests/e2e/modules/bad_http_server.c into
# TEST_DIR (once) and starts it in MODE (silent, trickle, reset, garbage,
# huge, chunked, close, interim, full) on a loopback port of its choosing
# (30 s at most for its first line);
# sets BAD_URL, BAD_PID and BAD_LOG (its stdout: "T conn N: accepted",
# "T conn N: closed, sent B body bytes"..., T its monotonic time).
start_bad_http_server() {
    local line i
    [[ -x $TEST_DIR/bad_http_server ]] ||
        cc -O1 -o "$TEST_DIR/bad_http_server" "$REPO/tests/e2e/modules/bad_http_server.c" ||
        fail "cannot build tests/e2e/modules/bad_http_server.c"
    BAD_LOG=$TMP_ROOT/bad_http_server.$1.log
    : >"$BAD_LOG" # read below may run before the redirection
    "$TEST_DIR/bad_http_server" "$1" </dev/null >"$BAD_LOG" 2>&1 &
    BAD_PID=$!
    PIDS+=("$BAD_PID")
    for ((i = 0; i < 300; i++)); do
        if read -r line <"$BAD_LOG" &&
            [[ $line =~ ^bad_http_server:\ listening\ on\ ([0-9]+)$ ]]; then
            BAD_URL=http://127.0.0.1:${BASH_REMATCH[1]}
            echo "bad_http_server $1: $BAD_URL (pid $BAD_PID)"
            return 0
        fi
        alive "$BAD_PID" || break
        sleep 0.1
    done
    fail "bad_http_server $1 did not print 'bad_http_server: listening on PORT'" \
        "$(cat "$BAD_LOG")"
}

# bad_times EVENT: the times (seconds, sub-second) of BAD_LOG's lines "T conn
# N: EVENT...", one a line, in order.
bad_times() {
    awk -v e="$1" '$4 == e || $4 == e "," { print $1 }' "$BAD_LOG"
}

# bad_lifetimes: for each connection that closed at the bad server, the
# seconds from its accept to its close, one a line.
bad_lifetimes() {
    awk '$4 == "accepted" { a[$3] = $1 }
         ($4 == "closed," || $4 == "reset,") && ($3 in a) { printf "%.3f\n", $1 - a[$3] }' "$BAD_LOG"
}

# expect_between WHAT LO HI V...: every value V is in [LO, HI].
expect_between() {
    local what=$1 lo=$2 hi=$3 v
    shift 3
    (($#)) || fail "$what: no value to check"
    echo "  $what: $*"
    for v; do
        expect_num "$v" ">=" "$lo" "$what (window $lo..$hi s)"
        expect_num "$v" "<=" "$hi" "$what (window $lo..$hi s)"
    done
}

# expect_json_errors FILE N TEST RE: the JSON summary FILE counts N Errors,
# every one of them in TEST with a message matching the regular expression RE
# (jq's test()), and the text summary on stdout says "Errors: N".
expect_json_errors() {
    local n
    expect_out_line "Errors: $2"
    expect_eq "$(jq -r .errors "$1")" "$2" ".errors in $1"
    n=$(jq --arg t "$3" --arg re "$4" \
        '[.error_messages[] | select(.test == $t and (.message | test($re))) | .count] | add // 0' "$1")
    expect_eq "$n" "$2" "Errors of $3 matching /$4/ in $1"
}

# run_loads_timed ARGS...: run_loads ARGS, and sets WALL to its wall-clock
# time in seconds (decimals).
run_loads_timed() {
    local t0
    t0=$(date +%s.%N)
    run_loads "$@"
    WALL=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    echo "  wall-clock: $WALL s"
}

# start_tls_nginx LOCATION: nginx with TLS on a free port, a self-signed
# certificate for 127.0.0.1 made here, and LOCATION (nginx directives) as
# the body of its "location /"; sets TLS_PORT, TLS_DIR and TLS_CERT.
start_tls_nginx() {
    local dir=$TMP_ROOT/tls
    mkdir -p "$dir/tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
        -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null ||
        fail "openssl could not make a certificate"
    TLS_PORT=$(free_port)
    TLS_DIR=$dir
    TLS_CERT=$dir/cert.pem
    cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
    access_log $dir/access.log combined;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$TLS_PORT ssl;
        ssl_certificate $dir/cert.pem;
        ssl_certificate_key $dir/key.pem;
        location / {
            $1
        }
    }
}
CONF
    "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" </dev/null >"$dir/nginx.out" 2>&1 &
    PIDS+=("$!")
    wait_port "$TLS_PORT" "$!" "$dir/nginx.pid" ||
        fail "nginx with TLS did not start" "$(cat "$dir/nginx.out" "$dir/error.log")"
}

# start_loads ARGS...: starts loads-runner ARGS in the background, as
# run_loads does (LOADS_LIMIT seconds at most, 60 by default); sets
# LOADS_PID.  wait_loads then sets STATUS.
start_loads() {
    LAST_RUN="loads-runner ${*@Q}"
    echo "\$ $LAST_RUN &"
    # Emptied now, not by the background redirections below: a test that
    # polls them at once must not read the last run's output.
    : >"$OUT"
    : >"$ERR"
    (
        cd "$TEST_DIR"
        exec timeout "${LOADS_LIMIT:-60}" "$BUILD/loads-runner" "$@"
    ) </dev/null >"$OUT" 2>"$ERR" &
    LOADS_PID=$!
    PIDS+=("$LOADS_PID")
}

wait_loads() {
    STATUS=0
    wait "$LOADS_PID" || STATUS=$?
    sed -i '/WARNING: ASan doesn.t fully support makecontext\/swapcontext/d' "$ERR"
    echo "  status $STATUS"
}

# runner_pid: the pid of loads-runner itself (start_loads runs it under timeout).
runner_pid() {
    pgrep -P "$LOADS_PID" -x loads-runner | head -n 1
}

# now: the time in seconds (decimals).
now() {
    date +%s.%N
}

# live_workers PID...: prints those of the PIDs that still run loads-runner
# (a zombie, or a pid taken since by another program, does not count).
live_workers() {
    local p
    for p; do
        if alive "$p" && [[ $(cat "/proc/$p/comm" 2>/dev/null) == loads-runner ]]; then
            echo "$p"
        fi
    done
}

# kill_leftovers: called by cleanup.  When a test set RUNNER, nothing of
# that run stays: a supervisor or worker still going is killed, and the
# segment of a supervisor that died is removed (a test may kill it on
# purpose).
kill_leftovers() {
    local p i kids
    [[ -n $RUNNER ]] || return 0
    mapfile -t kids < <(pgrep -P "$RUNNER" -x loads-runner || true)
    # The supervisor first: it would replace the workers killed.
    for p in $(live_workers "$RUNNER" "${kids[@]}" "${WORKERS[@]}"); do
        kill -KILL "$p" 2>/dev/null
    done
    for ((i = 0; i < 100; i++)); do
        alive "$RUNNER" || break
        sleep 0.1
    done
    alive "$RUNNER" || rm -f "/dev/shm/loads-$RUNNER"
}
