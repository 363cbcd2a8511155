#!/usr/bin/env bash
# loads_json, loads_regex, loads_urlencode, loads_cookie and
# loads_set_cookie: each value read decides a later request, and nginx's
# access log shows those requests as they should be.
source "$(dirname "$0")/../lib.sh"

use_module helpers_cases.c
start_nginx

requests() { awk '{ print $6, $7, $9 }' "$NGINX_LOG" | tr -d '"'; }

step "JSON values choose the next requests"
run_loads helpers_cases.TestHelpers.test_json --server-url "$NGINX_URL"
expect_status 0
expect_access_log 3
expect_eq "$(requests)" "GET /api/items/5 200
GET /api/items/10 200
GET /search?q=item%2010,2.5,%5B%22a%22%2C%22b%22%5D,b,none 200" "nginx's log"

step "a regular expression's group and whole match, URL-encoded"
: >"$NGINX_LOG"
run_loads helpers_cases.TestHelpers.test_regex --server-url "$NGINX_URL"
expect_status 0
expect_access_log 2
expect_eq "$(requests | tail -n 1)" "GET /search?q=Loads%20test%20site&w=Search 200" \
    "the search in nginx's log"

step "cookies read, set and deleted"
: >"$NGINX_LOG"
run_loads helpers_cases.TestHelpers.test_cookie --server-url "$NGINX_URL"
expect_status 0
expect_access_log 5
expect_eq "$(requests)" "GET /need-cookie 403
GET /need-cookie 200
GET /need-cookie 403
GET /set-cookie 200
GET /search?q=abc123 200" "nginx's log"

step "a bad path, a bad pattern, a refused cookie: Errors that say so"
run_loads helpers_cases.TestBad --server-url "$NGINX_URL" --json s.json
expect_status 1
expect_out_line "Errors: 3"
msg() { jq -r --arg t "$1" '.error_messages[] | select(.test == $t) | .message' s.json; }
expect_eq "$(msg TestBad.test_bad_path)" \
    "loads_json: bad path 'items[': at 6: expected an index and ']' (\"[0]\", \"[-1]\")" \
    "the bad path's Error"
[[ $(msg TestBad.test_bad_regex) == "loads_regex: bad pattern 'a(b': "* ]] ||
    fail "the bad pattern's Error: $(msg TestBad.test_bad_regex)"
[[ $(msg TestBad.test_refused_cookie) == "loads_set_cookie: 'tok=1; Secure' refused for "* ]] ||
    fail "the refused cookie's Error: $(msg TestBad.test_refused_cookie)"
