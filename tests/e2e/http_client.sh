#!/usr/bin/env bash
# The HTTP client against nginx: redirects (each hop a hit, as nginx logs
# it; 303 and 307 methods; a cookie set on a hop is sent on the next; a
# loop ends as one Error after 30), user headers replacing or removing the
# client's own, form bodies, HEAD, the Host header.
source "$(dirname "$0")/../lib.sh"

use_module http_cases.c
start_nginx

# ok TEST HITS: TEST runs once, succeeds, and is HITS requests in nginx's log.
ok() {
    local before
    before=$(access_log_lines)
    step "$1"
    run_loads "http_cases.TestHttp.$1" --server-url "$NGINX_URL"
    expect_status 0
    expect_out_line "Success: 1"
    expect_out_line "Errors: 0"
    expect_out_line "Failures: 0"
    expect_out_line "Hits: $2"
    expect_access_log $((before + $2))
}

ok test_redirect 2
ok test_redirect_methods 4
ok test_cookie_on_redirect 2
ok test_headers 2
ok test_post_form 3
ok test_head 2

step "test_loop: 31 hits, one Error"
before=$(access_log_lines)
run_loads http_cases.TestHttp.test_loop --server-url "$NGINX_URL" --json summary.json
expect_status 1
expect_out_line "Hits: 31"
expect_json_errors summary.json 1 TestHttp.test_loop \
    "^GET ${NGINX_URL//./\\.}/loop: Maximum \\(30\\) redirects followed\$"
expect_access_log $((before + 31))

step "100 VUs x 5 redirected GETs: 1000 hits, all logged"
before=$(access_log_lines)
run_loads http_cases.TestHttp.test_redirect --server-url "$NGINX_URL" -u 100 -c 5
expect_status 0
expect_out_line "Success: 500"
expect_out_line "Hits: 1000"
expect_access_log $((before + 1000))
