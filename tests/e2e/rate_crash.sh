#!/usr/bin/env bash
# A worker of an open model that crashes is replaced, and the replacement
# goes on where its stripe of the schedule was: the run that crashed is
# not started again, the runs due while no worker was there are dropped
# (and the summary says so: the pool was not full), and every run of the
# schedule is still started or dropped, exactly.
# test_segv crashes its worker once, on user 1's first run (worker 0's
# pool, ids 0 and 1, hands out user 1 first).
source "$(dirname "$0")/../lib.sh"
use_module crash.c
start_nginx

step "--rate 100 -d 2s -u 4 --max-users 4 -w 2, worker 0 crashes on its first run"
run_loads crash.TestCrash.test_segv --server-url "$NGINX_URL" --rate 100 -d 2s -u 4 \
    --max-users 4 -w 2 --json "$TMP_ROOT/c.json"
expect_status 1
expect_eq "$(jq .crashes "$TMP_ROOT/c.json")" 1 "crashes"
started=$(jq .rate.started "$TMP_ROOT/c.json")
dropped=$(jq .dropped "$TMP_ROOT/c.json")
errors=$(jq .errors "$TMP_ROOT/c.json")
echo "  started $started, dropped $dropped, errors $errors"
expect_eq "$((started + dropped))" 200 "runs started + dropped (the schedule's 200)"
expect_eq "$(jq .runs "$TMP_ROOT/c.json")" "$started" "runs ended"
expect_eq "$(jq '.success + .errors + .failures' "$TMP_ROOT/c.json")" "$started" \
    "success + errors + failures"
# The crashed run, and the runs of that worker's other user then: 1 or 2.
expect_num "$errors" ">=" 1 "errors"
expect_num "$errors" "<=" 2 "errors"
# Every run sent its GET before anything could crash.
expect_access_log "$started"
expect_eq "$(jq .hits "$TMP_ROOT/c.json")" "$started" "hits"

step "--rate 2000 -d 1s -u 4 --max-users 400 -w 2: the runs due while no worker was there"
rm -f crashed.segv # the marker of the crash above
run_loads crash.TestCrash.test_segv --server-url "$NGINX_URL" --rate 2000 -d 1s -u 4 \
    --max-users 400 -w 2 --json "$TMP_ROOT/gap.json"
expect_status 1
expect_eq "$(jq .crashes "$TMP_ROOT/gap.json")" 1 "crashes"
started=$(jq .rate.started "$TMP_ROOT/gap.json")
dropped=$(jq .dropped "$TMP_ROOT/gap.json")
echo "  started $started, dropped $dropped"
expect_eq "$((started + dropped))" 2000 "runs started + dropped (the schedule's 2000)"
# A run every 1 ms on each worker: replacing one takes longer.
expect_num "$dropped" ">" 0 "runs dropped while the crashed worker was replaced"
expect_out_line "Dropped: $dropped (no free user at their start time: the pool is at most 400 users, --max-users; or no worker, while a crashed one was replaced)"
