#!/usr/bin/env bash
# --config FILE: the [loads] section's options, INI comments, and the
# command line winning over the file (README "Running"); the figures are
# checked against nginx's access log.  Bad files: bad_input.sh.
source "$(dirname "$0")/../lib.sh"

use_module example.c
start_nginx
test=example.TestWebSite.test_something

step "a config file with comments: 3 users, 2 hits each"
cat >loads.ini <<INI
# the shop's smoke test
[loads]
server_url = $NGINX_URL   ; nginx of the test
users = 3 ; three users
hits = 2
quiet = yes

[notes]
owner: the web team
INI
run_loads "$test" --config loads.ini
expect_status 0
expect_out_line "Hits: 6"
expect_out_line "Success: 6"
expect_access_log 6

step "the command line wins: -u 2 over the file's 3 users"
: >"$NGINX_LOG"
run_loads "$test" --config loads.ini -u 2
expect_status 0
expect_out_line "Hits: 4"
expect_access_log 4

step "the command line wins: -d 1s over the file's hits = 2"
: >"$NGINX_LOG"
run_loads "$test" --config loads.ini -u 1 -d 1s --json d.json
expect_status 0
expect_eq "$(jq -r .planned_runs d.json)" 0 ".planned_runs (a duration run)"
expect_num "$(jq -r .duration d.json)" ">=" 1 ".duration"
hits=$(jq -r .hits d.json)
expect_num "$hits" ">" 2 "hits in 1 s (more than the file's 2)"
expect_access_log "$hits"

step "--json into a directory that does not exist: refused before the run"
: >"$NGINX_LOG"
run_loads "$test" --config loads.ini --json missing/summary.json
expect_usage_error
sleep 0.5
expect_eq "$(access_log_lines)" 0 "requests sent before the refusal"
