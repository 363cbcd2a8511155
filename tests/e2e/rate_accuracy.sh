#!/usr/bin/env bash
# solo: it measures what this machine serves, then rates by nginx's clock
# --rate R -d 10s starts R x 10 runs, each a GET /stamp that nginx logs with
# its time ($msec, in stamps.log): at 1, 700 and 20,000 runs/s the server
# saw exactly the runs the summary counts, every scheduled run was started
# or dropped, the runs started are within 1% (or 1 run) of rate x duration
# (the issue's claim), and the server's clock saw them spread over the 10 s.
#
# An open model needs headroom: a run costs the client about three times
# a closed model's request (each is a wake-up of its own), and when client
# and server fall behind, the pool grows and runs are dropped, as they
# should be.  On a 2-core machine shared with other work (or under the
# sanitizers) 20,000/s may be more than it has: the top rate is 20,000 or
# a sixth of what this machine serves in a closed model (measured first,
# 2 s), whichever is less; the log says which.  (A quarter was too much
# when the load of the machine rose after the measure: 1% of the runs of
# 11,700/s were dropped with 4,000 users in flight, a stall of 0.34 s.)
source "$(dirname "$0")/../lib.sh"

use_module rate_cases.c
NGINX_CONNECTIONS=8192 start_nginx
test=rate_cases.TestRate.test_stamp
STAMPS=$NGINX_DIR/stamps.log

step "a closed model for 2 s: what this machine serves"
run_loads "$test" --server-url "$NGINX_URL" -u 20 -d 2s -q
expect_status 0
closed=$(out_field "Approximate Average RPS")
top=$(awk -v c="$closed" 'BEGIN { t = int(c / 6 / 100) * 100; print (t > 20000 ? 20000 : t < 1000 ? 1000 : t) }')
echo "  closed model: $closed requests/s; top rate: $top/s"

# rate_run RATE: one 10 s run at RATE runs/s, checked against stamps.log.
rate_run() {
    local rate=$1 want=$(($1 * 10)) started dropped spread half
    step "--rate $rate -d 10s: $want runs"
    : >"$STAMPS"
    # A pool large enough that a run never waits for a user on a busy machine.
    run_loads "$test" --server-url "$NGINX_URL" --rate "$rate" -d 10s -u 50 \
        --max-users 4000 --json "$TMP_ROOT/rate.json" -q
    expect_status 0
    expect_no_core
    started=$(jq .rate.started "$TMP_ROOT/rate.json")
    dropped=$(jq .rate.dropped "$TMP_ROOT/rate.json")
    expect_eq "$(jq .rate.scheduled "$TMP_ROOT/rate.json")" "$want" "runs scheduled"
    expect_eq "$((started + dropped))" "$want" "runs started + dropped"
    expect_eq "$(jq .hits "$TMP_ROOT/rate.json")" "$started" "hits (one per run)"
    expect_out_line "Runs started: $started ($(awk -v s="$started" 'BEGIN { printf "%.1f", s / 10 }')/s)"
    NGINX_LOG=$STAMPS expect_access_log "$started"
    # The claim: within 1% of rate x duration, or 1 run.
    awk -v s="$started" -v w="$want" 'BEGIN { d = w - s; exit !(d <= 1 || d <= w / 100) }' ||
        fail "runs started: $started of $want, more than 1% (or 1 run) short"
    # The server's clock: from the first request to the last, 10 s less
    # one interval (runs at 0 .. 10 - 1/rate s), give or take 0.3 s for a
    # late start or end on a busy machine; half of them in each half.
    spread=$(sort -n "$STAMPS" | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.3f", b - a }')
    expect_num "$spread" ">=" "$(awk -v r="$rate" 'BEGIN { printf "%.3f", 10 - 1 / r - 0.3 }')" \
        "seconds from the first request to the last (nginx)"
    expect_num "$spread" "<=" 10.3 "seconds from the first request to the last (nginx)"
    if ((rate >= 100)); then
        half=$(sort -n "$STAMPS" | awk 'NR == 1 { a = $1 } $1 < a + 5 { n++ } END { print n }')
        # Give or take 0.3 s of runs (3%), as for the spread: on a busy
        # machine nginx or the client may stall for a few hundred ms (a
        # 700/s run once had 3426 of 3500 in its first 5 s, with a service
        # time of 309 ms at most).  A schedule that bunches runs up is
        # further off than that.
        expect_num "$half" ">=" "$((want / 2 - want * 3 / 100))" "requests in the first 5 s (nginx)"
        expect_num "$half" "<=" "$((want / 2 + want * 3 / 100))" "requests in the first 5 s (nginx)"
    fi
}

rate_run 1
rate_run 700
rate_run "$top"
