#!/usr/bin/env bash
# A cookie set by one response is sent with the VU's next request.
source "$(dirname "$0")/../lib.sh"

use_module cookies.c
start_nginx
run_loads cookies.TestCookies.test_session --server-url "$NGINX_URL"
expect_status 0
expect_out_line "Hits: 2"
expect_out_line "Success: 1"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_access_log 2

# vu_steps: 20 VUs in one worker, each with its own cookie or none, checked
# by nginx (vu_cookies.log: the VU a request names, and the cookie it sent).
vu_steps() {
    local log=$NGINX_DIR/vu_cookies.log before
    step "-w 1 -u 20 -c 2: each VU sends its own cookie, odd VUs none${LOADS_HTTP:+ (LOADS_HTTP=$LOADS_HTTP)}"
    : >"$log"
    before=$(access_log_lines)
    run_loads cookies.TestCookies.test_per_vu --server-url "$NGINX_URL" -w 1 -u 20 -c 2
    expect_status 0
    expect_out_line "Success: 40"
    expect_out_line "Hits: 60"
    expect_access_log $((before + 60))
    expect_eq "$(grep -c '' "$log")" 40 "checks in vu_cookies.log"
    for ((vu = 0; vu < 20; vu++)); do
        if ((vu % 2 == 0)); then want="$vu [$vu]"; else want="$vu [-]"; fi
        expect_eq "$(grep -cxF "$want" "$log")" 2 "lines '$want' in vu_cookies.log"
    done
}
vu_steps
LOADS_HTTP=curl vu_steps
