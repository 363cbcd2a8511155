#!/usr/bin/env bash
# --ramp-up S spreads the starts of a cycle's VUs over S seconds: nginx logs
# the time of each request to /stamp ($msec, in stamps.log).
source "$(dirname "$0")/../lib.sh"

use_module engine_get.c
start_nginx
test=engine_get.TestGet.test_stamp
STAMPS_LOG=$NGINX_DIR/stamps.log

# stamp_spread: seconds from the first request of stamps.log to its last.
stamp_spread() {
    sort -n "$STAMPS_LOG" | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.3f", b - a }'
}

step "-u 10 -c 1 without ramp-up: all start at once"
run_loads "$test" --server-url "$NGINX_URL" -u 10 -c 1
expect_status 0
expect_out_line "Success: 10"
NGINX_LOG=$STAMPS_LOG expect_access_log 10
expect_num "$(out_field Duration)" "<" 1.0 "Duration without ramp-up"
expect_num "$(stamp_spread)" "<" 1.0 "seconds between the first and last request"

step "-u 10 -c 1 --ramp-up 2: starts spread over 2 s"
: >"$STAMPS_LOG"
run_loads "$test" --server-url "$NGINX_URL" -u 10 -c 1 --ramp-up 2
expect_status 0
expect_no_core
expect_out_line "Hits: 10"
expect_out_line "Success: 10"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
NGINX_LOG=$STAMPS_LOG expect_access_log 10
duration=$(out_field Duration)
expect_num "$duration" ">=" 1.5 "Duration with --ramp-up 2"
expect_num "$duration" "<" 4 "Duration with --ramp-up 2"
spread=$(stamp_spread)
expect_num "$spread" ">=" 1.5 "seconds between the first and last request"
expect_num "$spread" "<" 2.5 "seconds between the first and last request"
