#!/usr/bin/env bash
# The seed example (examples/example.c) against nginx: one hit, one success,
# the whole summary; by full test name, with the --server_url alias, and by
# suite name.
source "$(dirname "$0")/../lib.sh"

# expect_seed_summary: the summary of one successful hit, line by line.
expect_seed_summary() {
    expect_status 0
    expect_out_sequence \
        'Hits: 1' \
        'Started: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}' \
        'Duration: [0-9]+\.[0-9]{2} seconds' \
        'Approximate Average RPS: [0-9]+' \
        'Average request time: [0-9]+\.[0-9]{2}s' \
        'Opened web sockets: 0' \
        'Bytes received via web sockets : 0' \
        '' \
        'Success: 1' \
        'Errors: 0' \
        'Failures: 0'
}

use_module example.c
start_nginx

step "full test name, --server-url"
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL"
expect_seed_summary
expect_access_log 1

step "--server_url alias"
run_loads example.TestWebSite.test_something --server_url "$NGINX_URL"
expect_seed_summary
expect_access_log 2

step "suite name: every test of TestWebSite (there is one)"
run_loads example.TestWebSite --server-url "$NGINX_URL"
expect_seed_summary
expect_access_log 3
