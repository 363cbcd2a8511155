#!/usr/bin/env bash
# Each VU has its own keep-alive connection: nginx logs the serial number of
# the connection of each request to /conn ($connection, in conns.log); 20
# VUs x 10 hits use exactly 20 connections, 10 requests on each.
source "$(dirname "$0")/../lib.sh"

use_module engine_conn.c
start_nginx
CONNS_LOG=$NGINX_DIR/conns.log

run_loads engine_conn.TestConn.test_conn --server-url "$NGINX_URL" -u 20 -c 10
expect_status 0
expect_no_core
expect_out_line "Hits: 200"
expect_out_line "Success: 200"
NGINX_LOG=$CONNS_LOG expect_access_log 200
expect_eq "$(sort -u "$CONNS_LOG" | grep -c .)" 20 "distinct connections in conns.log"
expect_eq "$(sort "$CONNS_LOG" | uniq -c | awk '{ print $1 }' | sort -u | tr '\n' ' ')" \
    "10 " "requests per connection"
