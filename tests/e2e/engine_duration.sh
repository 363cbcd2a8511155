#!/usr/bin/env bash
# --duration: VUs run the test over and over until the deadline; a run going
# on at the deadline is allowed to finish (within the grace period).
source "$(dirname "$0")/../lib.sh"

use_module engine_get.c
use_module engine_slow.c
start_nginx

step "-u 5 -d 3s: runs for 3 s, every run one GET"
run_loads engine_get.TestGet.test_root --server-url "$NGINX_URL" -u 5 -d 3s
expect_status 0
expect_no_core
duration=$(out_field Duration)
hits=$(out_field Hits)
expect_num "$duration" ">=" 3.0 "Duration"
expect_num "$duration" "<=" 9.0 "Duration (3 s + 5 s of grace + 1 s)"
expect_num "$hits" ">=" 5 "Hits"
expect_out_line "Success: $hits"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_access_log "$hits"
before=$hits

step "-u 3 -d 2s, runs of GET, 1.5 s, GET: the second runs end after 2 s"
# Each VU starts a run at 0 s and at 1.5 s (before the deadline): 6 runs
# of 2 GETs, the last ones ending at 3 s.
run_loads engine_slow.TestSlow.test_get_sleep_get --server-url "$NGINX_URL" -u 3 -d 2s
expect_status 0
expect_no_core
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_out_line "Success: 6"
expect_out_line "Hits: 12"
expect_access_log $((before + 2 * 6))
duration=$(out_field Duration)
expect_num "$duration" ">=" 2.9 "Duration (the runs started at 1.5 s end at 3 s)"
expect_num "$duration" "<" 7.0 "Duration (2 s + 5 s of grace)"
