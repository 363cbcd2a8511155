#!/usr/bin/env bash
# 100 VUs x 10 hits of one GET: exactly 1000 runs, hits and requests, however
# the VUs are spread over the workers (default, 2, and 3 that split 100
# unevenly).
source "$(dirname "$0")/../lib.sh"

# expect_1000_runs: the summary of 1000 successful runs of one GET each.
expect_1000_runs() {
    expect_status 0
    expect_no_core
    expect_out_line "Hits: 1000"
    expect_out_line "Success: 1000"
    expect_out_line "Errors: 0"
    expect_out_line "Failures: 0"
}

use_module engine_get.c
start_nginx
test=engine_get.TestGet.test_root

step "-u 100 -c 10, default workers"
run_loads "$test" --server-url "$NGINX_URL" -u 100 -c 10
expect_1000_runs
expect_access_log 1000

step "-u 100 -c 10 -w 2"
run_loads "$test" --server-url "$NGINX_URL" -u 100 -c 10 -w 2
expect_1000_runs
expect_access_log 2000

step "-u 100 -c 10 -w 3: 34 + 33 + 33 VUs"
run_loads "$test" --server-url "$NGINX_URL" -u 100 -c 10 -w 3
expect_1000_runs
expect_access_log 3000
