#!/usr/bin/env bash
# Cycles: -u A:B:C runs A, then B, then C VUs; -c X:Y gives each VU X, then
# Y hits; every VU of every cycle does them all.
source "$(dirname "$0")/../lib.sh"

use_module engine_get.c
start_nginx
test=engine_get.TestGet.test_root

step "-u 10:20:30 -c 20: (10+20+30)*20 = 1200 runs"
run_loads "$test" --server-url "$NGINX_URL" -u 10:20:30 -c 20
expect_status 0
expect_no_core
expect_out_line "Hits: 1200"
expect_out_line "Success: 1200"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_access_log 1200

step "-u 2:3 -c 2:3: (2+3)*(2+3) = 25 runs"
run_loads "$test" --server-url "$NGINX_URL" -u 2:3 -c 2:3
expect_status 0
expect_no_core
expect_out_line "Hits: 25"
expect_out_line "Success: 25"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_access_log 1225
