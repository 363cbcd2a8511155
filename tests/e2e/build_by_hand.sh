#!/usr/bin/env bash
# A module built by hand as a shared object, with no .c beside it.
source "$(dirname "$0")/../lib.sh"

use_module example.c
cc -shared -fPIC example.c -I"$REPO/include" -o example.so
rm example.c
start_nginx
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL"
expect_status 0
expect_out_line "Hits: 1"
expect_out_line "Success: 1"
expect_access_log 1
