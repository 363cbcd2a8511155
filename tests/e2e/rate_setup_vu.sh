#!/usr/bin/env bash
# A pool whose users all fail their setUpVU: each failure counts as a run
# (as in a closed model), and a user that failed runs no test.  The worker
# goes on with its schedule when its last user has ended: each run due
# starts a new user (whose setUpVU fails) while the pool may grow, and is
# dropped once it may not.  The worker used to end with its last user,
# and the rest of the schedule was neither started nor dropped.
# A pool whose users log in and out: each user that logged in logs out at
# the end, as in a closed model; the users idle at the end were cut and
# never ran their tearDownVU.
source "$(dirname "$0")/../lib.sh"

use_module rate_cases.c
start_nginx
NGINX_LOG=$NGINX_DIR/stamps.log # GET /stamp is logged there only

step "--rate 20 -d 1s -u 1 --max-users 3 -w 1, every setUpVU fails"
run_loads rate_cases.TestRateLogin.test_stamp --server-url "$NGINX_URL" --rate 20 -d 1s \
    -u 1 --max-users 3 -w 1 --json "$TMP_ROOT/run.json"
expect_status 1
expect_no_core
# The ready user fails at the start, before the first run is due; runs 0
# and 1 each start a new user, which fails; runs 2 to 19 find none free
# and no room to grow.
expect_eq "$(jq .failures "$TMP_ROOT/run.json")" 3 "failures (setUpVU of 3 users)"
expect_eq "$(jq .rate.started "$TMP_ROOT/run.json")" 3 "runs started"
expect_eq "$(jq .dropped "$TMP_ROOT/run.json")" 18 "runs dropped"
expect_out_line "Runs started: 3 (3.0/s)"
expect_out_line "Dropped: 18 (no free user at their start time: the pool is at most 3 users, --max-users)"
expect_out_contains "3 occurrences in TestRateLogin.setUpVU:"
expect_access_log 0

step "--rate 20 -d 1s -u 2 -w 1, a login per user and a logout at the end"
: >"$NGINX_LOG"
run_loads rate_cases.TestRateSession.test_stamp --server-url "$NGINX_URL" --rate 20 -d 1s \
    -u 2 -w 1 --json "$TMP_ROOT/session.json"
expect_status 0
expect_eq "$(jq .rate.started "$TMP_ROOT/session.json")" 20 "runs started"
logins=$(grep -c " /at/login$" "$NGINX_DIR/at.log" || true)
logouts=$(grep -c " /at/logout$" "$NGINX_DIR/at.log" || true)
echo "  $logins logins, $logouts logouts"
expect_num "$logins" ">=" 2 "logins (the users ready at the start, and any the pool added)"
expect_eq "$logouts" "$logins" "logouts"
expect_eq "$(jq .hits "$TMP_ROOT/session.json")" "$((20 + logins + logouts))" "hits"
expect_access_log 20
