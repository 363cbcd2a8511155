#!/usr/bin/env bash
# solo: its closed model's p99 must stay below the stall, which another file's load could push
# A stalled server shows in the open model's p99 and hides in the closed
# model's (coordinated omission).  nginx is stopped (SIGSTOP) for 1 s in
# the middle of a 6 s run, then continued:
#
# - open model, --rate 500 -d 6s: the 500 runs due during the stall start
#   on time on new users of the pool and wait; the first of them wait the
#   whole second, so more than 1% of the 3000 samples take 0.8 s or more:
#   p99 >= 0.8 s;
# - closed model, the same 20 users looping: each waits once for the
#   stall, 20 slow samples among tens of thousands: p99 < 0.8 s (fewer
#   than 1% of the samples show the stall), while its max shows it was
#   there.
#
# nginx's own log ($msec in stamps.log) proves the stall each time: a gap
# of 0.9 s or more between two requests, then the queued ones at once.
source "$(dirname "$0")/../lib.sh"

use_module rate_cases.c
NGINX_CONNECTIONS=4096 start_nginx
test=rate_cases.TestRate.test_stamp
STAMPS=$NGINX_DIR/stamps.log

step "a first run compiles the module"
run_loads "$test" --server-url "$NGINX_URL" -q
expect_status 0

# stalled_run ARGS...: loads-runner ARGS in the background, with nginx
# stopped from 2 s to 3 s after the run's first request (by nginx's log, so
# that a slow start-up cannot move the stall out of the run).
stalled_run() {
    : >"$STAMPS"
    start_loads "$test" --server-url "$NGINX_URL" -d 6s -u 20 --json "$TMP_ROOT/run.json" -q "$@"
    NGINX_LOG=$STAMPS wait_access_log 1
    sleep 2
    kill -STOP "$NGINX_PID"
    sleep 1
    kill -CONT "$NGINX_PID"
    wait_loads
    expect_status 0
    expect_no_core
    NGINX_LOG=$STAMPS expect_access_log "$(jq .hits "$TMP_ROOT/run.json")"
    # The stall by the server's clock: the longest gap between requests,
    # and the requests answered within 0.1 s after it (queued meanwhile).
    sort -n "$STAMPS" | awk 'NR > 1 && $1 - p > g { g = $1 - p; at = $1 } { p = $1; t[NR] = $1 }
        END { for (i in t) if (t[i] >= at && t[i] < at + 0.1) n++; printf "%.3f %d\n", g, n }' \
        >"$TMP_ROOT/gap"
    read -r gap queued <"$TMP_ROOT/gap"
    echo "  nginx: longest gap $gap s, then $queued requests within 0.1 s"
    expect_num "$gap" ">=" 0.9 "longest gap between requests in nginx's log"
}

step "open model: --rate 500 -d 6s, a pool of 20 users that may grow to 1000"
stalled_run --rate 500 --max-users 1000
expect_eq "$(jq .rate.scheduled "$TMP_ROOT/run.json")" 3000 "runs scheduled"
expect_eq "$(jq .rate.dropped "$TMP_ROOT/run.json")" 0 "runs dropped"
expect_eq "$(jq .hits "$TMP_ROOT/run.json")" 3000 "hits"
# The ~500 runs due during the stall were sent and queued.
expect_num "$queued" ">=" 400 "requests nginx answered at once after the stall"
p99=$(jq '.response_time_ms.p99' "$TMP_ROOT/run.json")
expect_num "$p99" ">=" 800 "open model: p99 response time (ms)"
expect_num "$(jq '.latency_ms.p99' "$TMP_ROOT/run.json")" ">=" 800 \
    "open model: p99 service time (ms): sent on time, so it waited too"
expect_out_contains "Response time (from the scheduled start): "

step "closed model: -u 20 -d 6s"
stalled_run
expect_eq "$(jq .rate "$TMP_ROOT/run.json")" null "rate (a closed model)"
hits=$(jq .hits "$TMP_ROOT/run.json")
echo "  $hits samples"
expect_num "$hits" ">=" 2000 "closed model: samples (20 users for 5 s)"
expect_num "$(jq '.response_time_ms.p99' "$TMP_ROOT/run.json")" "<" 800 \
    "closed model: p99 response time (ms): the stall in fewer than 1% of samples"
expect_num "$(jq '.response_time_ms.max' "$TMP_ROOT/run.json")" ">=" 800 \
    "closed model: max response time (ms): the stall was there"
