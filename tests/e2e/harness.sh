#!/usr/bin/env bash
# The harness itself: free_port, nginx and its endpoints (tests/nginx.conf.in),
# access_log_lines, loads-echo, and the cleanup after a failure or a kill.
source "$(dirname "$0")/../lib.sh"

# http ARGS...: curl's status code for a request ("000" when none came).
http() {
    curl -s -o "$TMP_ROOT/body" -w '%{http_code}' "$@" || true
}

step "free_port"
port=$(free_port)
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 20000 || port >= 32768)); then
    fail "free_port: got '$port'"
fi
! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail "free_port: $port is in use"
expect_eq "$(http "http://127.0.0.1:$port/")" 000 "curl to a free port"

step "start_nginx"
start_nginx
expect_eq "$(access_log_lines)" 0 "access log lines after start (the probe is no request)"

step "nginx endpoints"
expect_eq "$(http "$NGINX_URL/")" 200 "GET /"
grep -q Search "$TMP_ROOT/body" || fail "GET /: no Search in the body"
expect_eq "$(curl -s -o /dev/null -w '%{content_type}' "$NGINX_URL/")" text/html "GET / type"
expect_eq "$(http -X POST -d 'a=1' "$NGINX_URL/post")" 200 "POST /post"
expect_eq "$(http -X PUT -d 'a=1' "$NGINX_URL/post")" 200 "PUT /post"
expect_eq "$(http "$NGINX_URL/status/404")" 404 "GET /status/404"
expect_eq "$(http "$NGINX_URL/elsewhere")" 404 "GET /elsewhere"
expect_eq "$(http "$NGINX_URL/big")" 200 "GET /big"
expect_eq "$(stat -c %s "$TMP_ROOT/body")" 65536 "size of /big"

step "cookies"
expect_eq "$(http "$NGINX_URL/need-cookie")" 403 "GET /need-cookie without the cookie"
header=$(curl -s -D - -o /dev/null "$NGINX_URL/set-cookie" | tr -d '\r' | grep -i '^set-cookie:')
expect_eq "$header" "Set-Cookie: session=abc123; Path=/" "/set-cookie header"
jar=$TMP_ROOT/cookies
expect_eq "$(http -c "$jar" "$NGINX_URL/set-cookie")" 200 "GET /set-cookie"
expect_eq "$(http -b "$jar" "$NGINX_URL/need-cookie")" 200 "GET /need-cookie with the cookie"
expect_eq "$(<"$TMP_ROOT/body")" "cookie ok" "/need-cookie body"

step "keep-alive: the second request reuses the connection"
expect_eq "$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "$NGINX_URL/" "$NGINX_URL/")" \
    "1 0 " "connections made per request"

step "access_log_lines"
expect_access_log 13

step "start_echo"
start_echo
(exec 3<>"/dev/tcp/127.0.0.1/${ECHO_URL##*:}") 2>/dev/null || fail "$ECHO_URL refuses connections"
expect_eq "$ECHO_WS" "ws://${ECHO_URL#http://}" "ECHO_WS"

# cleaned_up SCRIPT ARGS...: runs a test script that prints its nginx pid,
# temp dir and URL, and checks that, once it ended, all three are gone.
cleaned_up() {
    local script=$1 out=$TMP_ROOT/inner.out pid root url
    shift
    "$@" bash "$script" >"$out" 2>&1 && fail "$script should have failed" "$(<"$out")"
    read -r pid root url < <(grep '^inner ' "$out" | cut -d' ' -f2-) ||
        fail "$script printed nothing" "$(<"$out")"
    ! kill -0 "$pid" 2>/dev/null || fail "nginx (pid $pid) still runs after $script"
    [[ ! -e $root ]] || fail "$root is still there after $script"
    expect_eq "$(http "$url/")" 000 "curl to the stopped nginx"
}

step "cleanup after a failing assertion"
cat >"$TMP_ROOT/fails.sh" <<INNER
source "$REPO/tests/lib.sh"
start_nginx
echo "inner \$NGINX_PID \$TMP_ROOT \$NGINX_URL"
expect_eq 1 2 "a deliberate failure"
INNER
cleaned_up "$TMP_ROOT/fails.sh"
grep -q "FAIL: a deliberate failure: expected '2', got '1'" "$TMP_ROOT/inner.out" ||
    fail "the failure message is missing" "$(<"$TMP_ROOT/inner.out")"

# limit_once_started CMD...: runs CMD under timeout, and once it has printed
# its "inner" line (its nginx runs) and sleeps, makes timeout stop it as its
# time limit would (TERM to the group, then KILL 5 s later): a fixed limit
# of 2 s could come before nginx was up on a busy machine.  (A TERM while
# the script forks its sleep is lost in the child, and the script then
# waits for the sleep past the KILL: hence the wait for the sleep itself.)
limit_once_started() {
    local t i
    timeout -k 5 60 "$@" &
    t=$!
    for ((i = 0; i < 300; i++)); do
        grep -qs '^inner ' "$TMP_ROOT/inner.out" &&
            pgrep -x sleep -P "$(pgrep -P "$t" | head -n 1)" >/dev/null && break
        sleep 0.1
    done
    kill -TERM "$t"
    wait "$t"
}

step "cleanup after a kill by the time limit"
cat >"$TMP_ROOT/hangs.sh" <<INNER
source "$REPO/tests/lib.sh"
start_nginx
echo "inner \$NGINX_PID \$TMP_ROOT \$NGINX_URL"
sleep 30
INNER
cleaned_up "$TMP_ROOT/hangs.sh" limit_once_started

step "tests/run: a filter that matches nothing fails"
out=$TMP_ROOT/run.out
"$REPO/tests/run" no-such-test-anywhere >"$out" 2>&1 && fail "tests/run passed with no test" "$(<"$out")"
grep -qxF "FAIL no unit case or e2e file matches 'no-such-test-anywhere'" "$out" ||
    fail "tests/run: no line saying nothing matched" "$(<"$out")"
expect_eq "$(tail -n 1 "$out")" "0 passed, 1 failed" "tests/run's last line"

step "tests/run: fewer tests than the floor fail; the counts are printed"
printf 'unit 2\ne2e 1\n' >"$TMP_ROOT/floor"
TESTS_FLOOR=$TMP_ROOT/floor "$REPO/tests/run" leak_canary >"$out" 2>&1 &&
    fail "tests/run passed below its floor" "$(<"$out")"
grep -qxF "ran 1 unit cases and 0 e2e files" "$out" || fail "tests/run: no counts" "$(<"$out")"
grep -qxF "FAIL 1 unit tests ran, fewer than the 2 of $TMP_ROOT/floor" "$out" ||
    fail "tests/run: the unit floor was not checked" "$(<"$out")"
grep -qxF "FAIL 0 e2e tests ran, fewer than the 1 of $TMP_ROOT/floor" "$out" ||
    fail "tests/run: the e2e floor was not checked" "$(<"$out")"
printf 'unit 1\ne2e 0\n' >"$TMP_ROOT/floor"
TESTS_FLOOR=$TMP_ROOT/floor "$REPO/tests/run" leak_canary >"$out" 2>&1 ||
    fail "tests/run failed at its floor" "$(<"$out")"
[[ -f $REPO/tests/floor ]] || fail "no tests/floor"

step "unit cases end through exit(): under ASan a leak fails the case"
if ldd "$BUILD/unit-tests" | grep -q libasan; then
    UNIT_LEAK_CANARY=1 "$BUILD/unit-tests" leak_canary >"$out" 2>&1 &&
        fail "a leaking unit case passed under ASan" "$(<"$out")"
    grep -qF "LeakSanitizer: detected memory leaks" "$out" ||
        fail "no LeakSanitizer report for the leaking case" "$(<"$out")"
    grep -qxF "FAIL unit leak_canary" "$out" || fail "the leaking case did not fail" "$(<"$out")"
else
    echo "  (not an ASan build: LeakSanitizer is not there to check)"
fi
"$BUILD/unit-tests" leak_canary >"$out" 2>&1 || fail "leak_canary fails without the leak" "$(<"$out")"
