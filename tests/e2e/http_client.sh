#!/usr/bin/env bash
# The HTTP client against nginx: redirects (each hop a hit, as nginx logs
# it; 303 and 307 methods; a cookie set on a hop is sent on the next; a
# loop ends as one Error after 30), user headers replacing or removing the
# client's own, form bodies, HEAD, the Host header, connections the server
# closes; with the built-in client and with curl (LOADS_HTTP=curl).
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

# last_requests N: the request lines (method and target) of the last N
# lines of nginx's access log, one a line.
last_requests() {
    tail -n "$1" "$NGINX_LOG" | awk -F'"' '{ split($2, r, " "); print r[1], r[2] }'
}

# expect_requests LINE...: the last requests nginx logged are these, in order.
expect_requests() {
    expect_eq "$(last_requests $#)" "$(printf '%s\n' "$@")" "the last $# requests in nginx's log"
}

# Everything below against nginx, with the built-in client, then with curl:
# the two must agree.
both() {
    ok test_redirect 2
    ok test_redirect_methods 4
    ok test_cookie_on_redirect 2
    ok test_headers 2
    ok test_post_form 3
    ok test_head 2
    ok test_redirect_post 8
    expect_requests "POST /moved" "GET /method" "POST /found" "GET /method" \
        "POST /permanent" "POST /method" "PUT /moved" "PUT /method"
    ok test_head_see_other 2
    expect_requests "HEAD /see-other" "HEAD /method"
    ok test_replace_headers 3
    ok test_header_case 1
    ok test_odd_urls 2
    expect_requests "GET /auth" "GET /headers"

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

    step "the server closes after 2 requests: -u 5 -c 20, 100 hits on 50 connections"
    : >"$NGINX_DIR/conns.log"
    run_loads http_cases.TestHttp.test_server_closes --server-url "$NGINX_URL" -u 5 -c 20
    expect_status 0
    expect_out_line "Success: 100"
    expect_out_line "Errors: 0"
    expect_eq "$(wc -l <"$NGINX_DIR/conns.log")" 100 "requests in conns.log"
    expect_eq "$(sort -u "$NGINX_DIR/conns.log" | wc -l)" 50 "connections in conns.log"

    # Per VU: A, sleep, B; B again at once, sleep, C.
    step "the server closes idle connections: -u 5 -c 2, 3 connections per VU"
    : >"$NGINX_DIR/conns.log"
    run_loads http_cases.TestHttp.test_idle_closed --server-url "$NGINX_URL" -u 5 -c 2
    expect_status 0
    expect_out_line "Success: 10"
    expect_out_line "Errors: 0"
    expect_eq "$(wc -l <"$NGINX_DIR/conns.log")" 20 "requests in conns.log"
    expect_eq "$(sort -u "$NGINX_DIR/conns.log" | wc -l)" 15 "connections in conns.log"
}

both
step "--- the same with LOADS_HTTP=curl"
export LOADS_HTTP=curl
both
unset LOADS_HTTP

step "through an HTTP proxy (http_proxy: curl), to a port where nothing listens"
target=http://127.0.0.1:$(free_port)
http_proxy=$NGINX_URL TARGET=$target ok test_proxy 1
expect_eq "$(tail -n 1 "$NGINX_LOG" | awk -F'"' '{ print $2 }')" "GET $target/method HTTP/1.1" \
    "the request line nginx got as the proxy"
TARGET=$target run_loads http_cases.TestHttp.test_proxy
expect_status 1
expect_out_contains "Connection refused"

# https, to nginx with TLS: the redirects and the cookie jar are the
# runner's whichever client sends (built-in with OpenSSL, or curl): a cookie
# set on a 302 comes back on the next hop, and on the VU's next runs (2 hits
# in its first run, 1 in each of the others); a 302 from http to https.
start_tls_nginx 'location = /plain { return 200 "tls ok\n"; }
            location = /auth { return 200 "auth=[$http_authorization] keep=[$http_x_keep]\n"; }
            if ($cookie_session = "abc123") { return 200 "cookie ok\n"; }
            add_header Set-Cookie "session=abc123; Path=/; Secure";
            return 302 /again;'

# tls_count CODE: requests the TLS nginx answered with CODE so far.
tls_count() {
    grep -c "\" $1 " "$TLS_DIR/access.log" || true
}

tls_steps() {
    local s302 s200
    step "https: cookies and redirects, -u 2 -c 3"
    s302=$(tls_count 302)
    s200=$(tls_count 200)
    SSL_CERT_FILE=$TLS_CERT run_loads http_cases.TestHttp.test_cookie_on_redirect \
        --server-url "https://127.0.0.1:$TLS_PORT" -u 2 -c 3
    expect_status 0
    expect_out_line "Success: 6"
    expect_out_line "Hits: 8"
    expect_eq "$(($(tls_count 302) - s302))" 2 "302s in nginx's log"
    expect_eq "$(($(tls_count 200) - s200))" 6 "200s in nginx's log"

    step "a redirect to another server leaves out Authorization, not to the same one"
    TLS_PORT=$TLS_PORT SSL_CERT_FILE=$TLS_CERT run_loads http_cases.TestHttp.test_private_headers \
        --server-url "$NGINX_URL"
    expect_status 0
    expect_out_line "Success: 1"
    expect_out_line "Hits: 4"

    step "http to https: a 302 from nginx to the TLS nginx, -u 2 -c 3"
    s200=$(tls_count 200)
    TLS_PORT=$TLS_PORT SSL_CERT_FILE=$TLS_CERT run_loads http_cases.TestHttp.test_to_tls \
        --server-url "$NGINX_URL" -u 2 -c 3
    expect_status 0
    expect_out_line "Success: 6"
    expect_out_line "Hits: 12"
    expect_eq "$(($(tls_count 200) - s200))" 6 "200s in the TLS nginx's log"
    expect_out_contains "GET $NGINX_URL/to-tls"
    expect_num "$(awk -v k="GET $NGINX_URL/to-tls" '$1 " " $2 == k { print $4 + 0 }' "$OUT")" \
        == 100 "success rate of the redirected URL"
}

tls_steps
step "--- the same with LOADS_HTTP=curl"
export LOADS_HTTP=curl
tls_steps
unset LOADS_HTTP
