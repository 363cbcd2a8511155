#!/usr/bin/env bash
# A failing loads_assert: a Failure with its formatted message, exit 1.
source "$(dirname "$0")/../lib.sh"

use_module failing.c
start_nginx
run_loads failing.TestFailing.test_not_there --server-url "$NGINX_URL"
expect_status 1
expect_out_line "Hits: 1"
expect_out_line "Success: 0"
expect_out_line "Errors: 0"
expect_out_line "Failures: 1"
expect_out_contains "no NotThere in body (status 200)"
expect_access_log 1
