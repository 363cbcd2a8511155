#!/usr/bin/env bash
# --config FILE end to end: the [loads] section's options (both spellings
# of a name, comments, other sections ignored) make the plan, which nginx's
# log counts; an option on the command line wins over the file; a line that
# is not "name = value" is a usage error naming the file and line.
source "$(dirname "$0")/../lib.sh"

use_module engine_get.c
use_module http_cases.c
start_nginx
test=engine_get.TestGet.test_root

cat >loads.ini <<INI
# comments and other sections are ignored
[other]
users = 50

[loads]
server_url = $NGINX_URL
users = 3
hits = 2
; the dashed spelling of a name works too
ramp-up = 0.1
workers = 2
json = from-config.json

[more]
hits = 100
INI

step "the plan from the file: -u 3 -c 2, 6 hits"
run_loads "$test" --config loads.ini
expect_status 0
expect_out_line "Hits: 6"
expect_out_line "Success: 6"
expect_access_log 6
expect_eq "$(jq -r .hits from-config.json)" 6 ".hits of the file's --json"
expect_eq "$(jq -r .server_url from-config.json)" "$NGINX_URL" ".server_url of the file's --json"

step "the command line wins: -u 1 -c 3 over the file's users and hits"
run_loads "$test" --config loads.ini -u 1 -c 3
expect_status 0
expect_out_line "Hits: 3"
expect_access_log 9
expect_eq "$(jq -r .hits from-config.json)" 3 ".hits of the file's --json"

step "--config=FILE, and the command line before it wins too"
run_loads "$test" -c 1 --config=loads.ini
expect_status 0
expect_out_line "Hits: 3"
expect_access_log 12

step "max_body, the underscore spelling of --max-body: GET /big keeps 100 bytes"
printf '[loads]\nmax_body = 100\nserver-url = %s\n' "$NGINX_URL" >body.ini
run_loads http_cases.TestHttp.test_head --config body.ini
expect_status 1
expect_out_line "Failures: 1"
expect_out_contains "body of 100 bytes"
run_loads http_cases.TestHttp.test_head --config body.ini --max-body 65536
expect_status 0
expect_out_line "Success: 1"
expect_access_log 16

step "a line that is not name = value"
printf '[loads]\nusers = 2\nnonsense\n' >bad.ini
run_loads "$test" --config bad.ini --server-url "$NGINX_URL"
expect_usage_error
expect_err_contains "bad.ini:3: expected 'name = value'"
expect_access_log 16
