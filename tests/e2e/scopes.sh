#!/usr/bin/env bash
# setUpOnce and tearDownOnce run once for the whole run, whatever the
# workers, and what setUpOnce stores every VU reads; setUpVU and
# tearDownVU run once per VU, around its runs, and its cookies and values
# last its life.  Counted in nginx's log.  A failing setUpOnce runs no
# test; a failing setUpVU runs none of that VU's.
source "$(dirname "$0")/../lib.sh"

use_module scope_cases.c
start_nginx

count() { grep -c -- "$1" "$NGINX_LOG" || true; }

step "6 VUs on 3 workers, 4 runs each"
run_loads scope_cases.TestScopes --server-url "$NGINX_URL" -u 6 -c 4 -w 3 --json s.json
expect_status 0
expect_out_line "Success: 24"
expect_eq "$(jq .runs s.json)" 24 "runs (setups and teardowns that pass are none)"
expect_access_log $((1 + 6 + 24 * 2 + 6 + 1))
expect_out_line "Hits: 62"
expect_eq "$(count 'GET /api/items/42?scope=setUpOnce ')" 1 "setUpOnce requests"
expect_eq "$(count 'GET /set-cookie?scope=setUpVU ')" 6 "setUpVU requests"
expect_eq "$(count 'GET /need-cookie HTTP/1.1" 200')" 24 "test requests with the VU's cookie"
expect_eq "$(count 'GET /search?q=test&token=item%2042&id=8&me=vu[0-5] ')" 24 \
    "test requests with setUpOnce's values and the VU's own"
for vu in 0 1 2 3 4 5; do
    expect_eq "$(count "&id=8&me=vu$vu ")" 4 "test requests of VU $vu"
    expect_eq "$(count "GET /search?q=tearDownVU&me=vu$vu ")" 1 "tearDownVU of VU $vu"
done
expect_eq "$(count 'GET /search?q=tearDownOnce&token=item%2042 ')" 1 "tearDownOnce requests"
# Order: setUpOnce first, tearDownOnce last.
[[ $(head -n 1 "$NGINX_LOG") == *"scope=setUpOnce"* ]] || fail "setUpOnce was not first"
[[ $(tail -n 1 "$NGINX_LOG") == *"q=tearDownOnce"* ]] || fail "tearDownOnce was not last"

step "a duration run: the scopes once, all the same"
: >"$NGINX_LOG"
run_loads scope_cases.TestScopes --server-url "$NGINX_URL" -u 4 -d 1s -w 2
expect_status 0
expect_eq "$(count 'scope=setUpOnce')" 1 "setUpOnce requests"
expect_eq "$(count 'scope=setUpVU')" 4 "setUpVU requests"
expect_eq "$(count 'q=tearDownVU')" 4 "tearDownVU requests"
expect_eq "$(count 'q=tearDownOnce')" 1 "tearDownOnce requests"

step "a failing setUpOnce: a Failure, no test, no tearDownOnce"
: >"$NGINX_LOG"
run_loads scope_cases.TestBadOnce --server-url "$NGINX_URL" -u 4 -c 2 --json s.json
expect_status 1
expect_out_line "Failures: 1"
expect_out_line "Success: 0"
expect_access_log 1
expect_eq "$(count 'q=never')" 0 "requests of tests and of tearDownOnce"
expect_eq "$(jq -r '.failure_messages[0] | .test + ": " + .message' s.json)" \
    "TestBadOnce.setUpOnce: no token: status 404 (scope_cases.c:64)" "the failure"

step "a failing setUpVU: that VU runs nothing, the others run"
: >"$NGINX_LOG"
run_loads scope_cases.TestBadVU --server-url "$NGINX_URL" -u 4 -c 3 -w 2 --json s.json
expect_status 1
expect_out_line "Success: 6"
expect_out_line "Failures: 2"
expect_eq "$(count 'q=test ')" 6 "test requests (2 even VUs x 3)"
expect_eq "$(count 'q=tearDownVU ')" 2 "tearDownVU requests (the even VUs)"
expect_eq "$(jq -c '[.tests[] | [.test, .runs, .failures]]' s.json)" \
    '[["TestBadVU.setUpVU",2,2],["TestBadVU.test_even",6,0]]' "runs per test"

step "a run stopped by SIGTERM still runs tearDownVU and tearDownOnce"
: >"$NGINX_LOG"
start_loads scope_cases.TestScopes --server-url "$NGINX_URL" -u 2 -d 30s -w 2
# Both VUs are under way, each past its setUpVU (30 s at most: a busy
# machine may be slow to start the second worker).
for ((i = 0; i < 300; i++)); do
    (($(count 'scope=setUpVU') == 2 && $(count 'q=test&') > 10)) && break
    sleep 0.1
done
(($(count 'scope=setUpVU') == 2 && $(count 'q=test&') > 10)) ||
    fail "the 2 VUs did not make 10 test requests within 30 s"
RUNNER=$(runner_pid)
kill -TERM "$RUNNER"
wait_loads
expect_status 143
expect_eq "$(count 'q=tearDownVU')" 2 "tearDownVU requests"
expect_eq "$(count 'q=tearDownOnce')" 1 "tearDownOnce requests"
[[ $(tail -n 1 "$NGINX_LOG") == *"q=tearDownOnce"* ]] || fail "tearDownOnce was not last"

step "a stop during setUpOnce: it gets the grace period, then nothing else runs"
: >"$NGINX_LOG"
start_loads scope_cases.TestSlowOnce --server-url "$NGINX_URL" -u 2 -d 10s --grace 0.5
for ((i = 0; i < 300; i++)); do
    (($(count 'q=slow') > 0)) && break
    sleep 0.1
done
(($(count 'q=slow') > 0)) || fail "setUpOnce made no request within 30 s"
RUNNER=$(runner_pid)
t0=$(now)
kill -INT "$RUNNER"
wait_loads
expect_status 130
# Ended after the grace period, not when the setup would have (10 s; with
# a setup of 3 s and a bound of 2.5 s, a slow machine could not tell).
expect_num "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')" "<" 5 \
    "seconds from SIGINT to the end (grace 0.5 s; the setup sleeps 10 s)"
expect_out_contains "Stopped by SIGINT"
expect_eq "$(count 'q=never')" 0 "requests of tests and tearDownOnce"
