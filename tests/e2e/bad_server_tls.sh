#!/usr/bin/env bash
# The wrong scheme for a port:
#   - https:// to a plain HTTP port (nginx) is a transport error: one Error
#     with OpenSSL's words for it, at once;
#   - http:// to a TLS port (nginx with a self-signed certificate): nginx
#     answers "400 The plain HTTP request was sent to HTTPS port".  That is
#     a response, not a transport error: a test asserting 200 ends in one
#     Failure that shows the 400, and no Error.
source "$(dirname "$0")/../lib.sh"

use_module bad_cases.c
test=TestBad.test_get

step "https:// to nginx's plain HTTP port: an Error"
start_nginx
plain_port=${NGINX_URL##*:}
run_loads_timed "bad_cases.$test" --server-url "https://127.0.0.1:$plain_port" --timeout 2 \
    --json summary.json
expect_status 1
expect_no_core
expect_out_line "Success: 0"
expect_out_line "Failures: 0"
expect_out_line "Hits: 0"
# curl 7.88 + OpenSSL 3.0: "OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong
# version number" (OpenSSL 1.1 puts a function name between the colons).
expect_json_errors summary.json 1 "$test" \
    "^GET https://127\\.0\\.0\\.1:$plain_port/: .*SSL routines:[a-z0-9_]*:wrong version number\$"
expect_num "$WALL" "<" 5 "wall-clock seconds of the run"

step "nginx with TLS on a free port"
start_tls_nginx 'return 200 "ok\n";'
tls_port=$TLS_PORT
dir=$TLS_DIR

step "http:// to the TLS port: nginx's 400, a Failure"
run_loads_timed "bad_cases.$test" --server-url "http://127.0.0.1:$tls_port" --timeout 2 \
    --json summary.json
expect_status 1
expect_no_core
expect_out_line "Hits: 1"
expect_out_line "Success: 0"
expect_out_line "Errors: 0"
expect_out_line "Failures: 1"
expect_out_sequence 'Failures:' '  1 occurrence in TestBad\.test_get:' \
    "      GET /: status 400 \\(400 The plain HTTP request was sent to HTTPS port\\) \\(bad_cases\\.c:[0-9]+\\)"
expect_eq "$(jq -r '.failure_messages | length' summary.json)" 1 "messages in .failure_messages"
expect_eq "$(jq -r '.error_messages | length' summary.json)" 0 "messages in .error_messages"
expect_num "$WALL" "<" 5 "wall-clock seconds of the run"
for ((i = 0; i < 20; i++)); do
    grep -q '"GET / HTTP/1.1" 400 ' "$dir/access.log" && break
    sleep 0.1
done
grep -q '"GET / HTTP/1.1" 400 ' "$dir/access.log" ||
    fail "nginx's access log: expected a GET / answered 400" "$(cat "$dir/access.log")"


step "https:// to the TLS port: untrusted, an Error; trusted through SSL_CERT_FILE, a Success"
run_loads "bad_cases.$test" --server-url "https://127.0.0.1:$tls_port" --timeout 2
expect_status 1
expect_out_line "Errors: 1"
expect_out_contains "SSL certificate problem: self-signed certificate"
SSL_CERT_FILE=$TLS_CERT run_loads "bad_cases.$test" --server-url "https://127.0.0.1:$tls_port" \
    --timeout 2
expect_status 0
expect_out_line "Success: 1"
