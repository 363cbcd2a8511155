#!/usr/bin/env bash
# A server whose certificate is not trusted (self-signed here) or does not
# name the host is an Error unless --insecure (-k), through the built-in
# client and through curl: each request is then sent, as nginx's log shows.
source "$(dirname "$0")/../lib.sh"

use_module engine_get.c
test=engine_get.TestGet.test_root
start_tls_nginx 'return 200 "ok\n";'
log=$TLS_DIR/access.log
n=0

for client in builtin curl; do
    step "$client client"
    [[ $client == curl ]] && export LOADS_HTTP=curl
    unset SSL_CERT_FILE

    run_loads "$test" --server-url "https://127.0.0.1:$TLS_PORT"
    expect_status 1
    expect_out_line "Errors: 1"
    expect_out_contains "SSL certificate problem: self-signed certificate"

    run_loads "$test" --server-url "https://127.0.0.1:$TLS_PORT" -k -u 2 -c 2
    expect_status 0
    expect_out_line "Success: 4"
    n=$((n + 4))

    # Trusted, but issued for 127.0.0.1, not for localhost.
    export SSL_CERT_FILE=$TLS_CERT
    run_loads "$test" --server-url "https://localhost:$TLS_PORT"
    expect_status 1
    expect_out_line "Errors: 1"
    expect_out_contains "localhost"
    run_loads "$test" --server-url "https://localhost:$TLS_PORT" --insecure
    expect_status 0
    expect_out_line "Success: 1"
    n=$((n + 1))
    unset LOADS_HTTP
done
expect_eq "$(grep -c '"GET / HTTP/1.1" 200' "$log")" "$n" "requests nginx answered"
