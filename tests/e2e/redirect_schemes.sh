#!/usr/bin/env bash
# Only http and https are ever requested: a redirect to file://, gopher:// or
# dict:// is an Error, "unsupported protocol in redirect to ...", with
# nothing read and nothing opened (a listener on the gopher/dict port sees no
# connection), through the built-in client and through curl; a test's own
# file:// URL is refused the same way.
source "$(dirname "$0")/../lib.sh"

use_module redirect_cases.c
start_nginx
start_bad_http_server silent
export PORT=${BAD_URL##*:}
t=TestSchemes
n=0

for client in builtin curl; do
    step "$client client"
    if [[ $client == curl ]]; then export LOADS_HTTP=curl; fi

    run_loads "redirect_cases.$t.test_file" --server-url "$NGINX_URL"
    expect_status 1
    expect_out_line "Hits: 1"
    expect_out_line "Errors: 1"
    expect_out_line "Failures: 0"
    expect_out_line "      GET $NGINX_URL/to-file: unsupported protocol in redirect to file:///etc/shadow"
    for test in gopher dict; do
        run_loads "redirect_cases.$t.test_$test" --server-url "$NGINX_URL"
        expect_status 1
        expect_out_line "Hits: 1"
        expect_out_line "Errors: 1"
        expect_out_contains "/to-$test?port=$PORT: unsupported protocol in redirect to $test://127.0.0.1:$PORT/"
    done
    run_loads "redirect_cases.$t.test_direct" --server-url "$NGINX_URL"
    expect_status 1
    expect_out_line "Hits: 0"
    expect_out_line "      cannot request file:///etc/passwd: unsupported protocol"
    n=$((n + 3))
    expect_access_log "$n"
    unset LOADS_HTTP
done
expect_eq "$(grep -c accepted "$BAD_LOG" || true)" 0 "connections to the gopher/dict port"
