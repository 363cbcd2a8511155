#!/usr/bin/env bash
# A cookie set by one response is sent with the VU's next request.
source "$(dirname "$0")/../lib.sh"

use_module cookies.c
start_nginx
run_loads cookies.TestCookies.test_session --server-url "$NGINX_URL"
expect_status 0
expect_out_line "Hits: 2"
expect_out_line "Success: 1"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_access_log 2
