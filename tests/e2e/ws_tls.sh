#!/usr/bin/env bash
# wss:// through nginx (TLS, proxying the upgrade to loads-echo), with a
# self-signed certificate made here: untrusted, the connect is an Error
# that says so; trusted through SSL_CERT_FILE, the seed's echo works and
# counts as over ws://.
source "$(dirname "$0")/../lib.sh"

use_module ws_example.c
start_echo

step "a certificate for 127.0.0.1 and nginx with TLS on a free port"
dir=$TMP_ROOT/tls
mkdir -p "$dir/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
    -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
port=$(free_port)
cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $dir/cert.pem;
        ssl_certificate_key $dir/key.pem;
        location / {
            proxy_pass $ECHO_URL;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection upgrade;
        }
    }
}
CONF
"$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" </dev/null >"$dir/nginx.out" 2>&1 &
PIDS+=("$!")
wait_port "$port" "$!" "$dir/nginx.pid" || fail "nginx with TLS did not start" "$(cat "$dir/nginx.out" "$dir/error.log")"

step "untrusted certificate: an Error"
run_loads ws_example.TestWebSocket.test_echo --server-url "https://127.0.0.1:$port"
expect_status 1
expect_out_line "Opened web sockets: 0"
expect_out_line "Errors: 1"
expect_out_count "WS connect wss://127.0.0.1:$port/: TLS handshake failed (certificate not trusted" 1

step "trusted through SSL_CERT_FILE: -u 3 -c 2 over wss://"
export SSL_CERT_FILE=$dir/cert.pem
run_loads ws_example.TestWebSocket.test_echo --server-url "https://127.0.0.1:$port" -u 3 -c 2
expect_status 0
expect_out_line "Opened web sockets: 6"
expect_out_line "Bytes received via web sockets : 102"
expect_out_line "Success: 6"
