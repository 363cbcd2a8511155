#!/usr/bin/env bash
# wss:// through nginx (TLS, proxying the upgrade to loads-echo), with a
# self-signed certificate made here: untrusted, the connect is an Error
# that says so, unless --insecure; trusted through SSL_CERT_FILE, the
# seed's echo works and counts as over ws://.
source "$(dirname "$0")/../lib.sh"

use_module ws_example.c
start_echo

step "nginx with TLS on a free port, proxying to loads-echo"
start_tls_nginx "proxy_pass $ECHO_URL;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection upgrade;"
port=$TLS_PORT
dir=$TLS_DIR

step "untrusted certificate: an Error"
run_loads ws_example.TestWebSocket.test_echo --server-url "https://127.0.0.1:$port"
expect_status 1
expect_out_line "Opened web sockets: 0"
expect_out_line "Errors: 1"
expect_out_count "WS connect wss://127.0.0.1:$port/: TLS handshake failed (certificate not trusted" 1

step "untrusted, with --insecure: the echo works"
run_loads ws_example.TestWebSocket.test_echo --server-url "https://127.0.0.1:$port" -k
expect_status 0
expect_out_line "Opened web sockets: 1"
expect_out_line "Success: 1"

step "trusted through SSL_CERT_FILE: -u 3 -c 2 over wss://"
export SSL_CERT_FILE=$dir/cert.pem
echo_mark
run_loads ws_example.TestWebSocket.test_echo --server-url "https://127.0.0.1:$port" -u 3 -c 2
expect_status 0
expect_echo_counts
expect_out_line "Opened web sockets: 6"
expect_out_line "Bytes received via web sockets : 102"
expect_out_line "Success: 6"
