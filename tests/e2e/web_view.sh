#!/usr/bin/env bash
# --web: a live web view of the run.  /stats.json is the --json document as
# the run stands (its hits grow), and once the run is done it is the --json
# file, byte for byte, whose hits are nginx's access-log lines; /series.json
# holds the seconds, whose hits add up to the same; / is the page and
# /dygraph.min.js its chart library; anything else is 404, a POST 405.  Bad
# --web values are usage errors.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/web_lib.bash"

use_module engine_get.c
start_nginx
test=engine_get.TestGet.test_root

step "bad --web values: one line, status 2"
for bad in 0 65536 abc 127.0.0.1 127.0.0.1: host.example:80 '[::1]' 8089x ''; do
    run_loads "$test" --server-url "$NGINX_URL" --web "$bad"
    expect_usage_error
    expect_err_contains "invalid --web"
done
run_loads "$test" --server-url "$NGINX_URL" --web-linger 2
expect_usage_error
expect_err_contains "--web-linger goes with --web"
run_loads "$test" --server-url "$NGINX_URL" --web 8089 --agents 1 --detach
expect_usage_error
expect_err_contains "not with --detach"
expect_access_log 0

step "a port in use (nginx's): one line, status 2, no run"
run_loads "$test" --server-url "$NGINX_URL" -c 3 --web "${NGINX_URL#http://}"
expect_usage_error
expect_err_contains "cannot serve the web view on"
expect_access_log 0

step "a 4 s run with --web: /stats.json while it runs"
run_loads "$test" --server-url "$NGINX_URL" -c 1 --output json
expect_status 0
cp "$OUT" "$TMP_ROOT/schema.json"
WEB_PORT=$(free_port)
# A long linger, ended by a SIGINT once the checks are done: a fixed 5 s
# could pass before them on a busy machine.
start_loads "$test" --server-url "$NGINX_URL" -u 2 -d 4s -w 2 --web "$WEB_PORT" \
    --web-linger 60 --json "$TMP_ROOT/final.json"
wait_web "$LOADS_PID"
RUNNER=$(runner_pid)
web_get /stats.json >"$TMP_ROOT/live1.json"
h1=$(jq -er .hits "$TMP_ROOT/live1.json") || fail "live /stats.json: no hits"
h2=$(web_hits_above "$h1" "$TMP_ROOT/live2.json")
echo "  live hits $h1, then $h2"
expect_eq "$(jq -r .test "$TMP_ROOT/live2.json")" "$test" "live .test"
# The same schema as the --json document: the same keys, in the same order.
expect_eq "$(jq -c keys_unsorted "$TMP_ROOT/live2.json")" \
    "$(jq -c keys_unsorted "$TMP_ROOT/schema.json")" "keys of /stats.json and of --output json"

step "the page, its chart library, 404, 405, HEAD"
web_get / >"$TMP_ROOT/page.html"
grep -q 'id="hits"' "$TMP_ROOT/page.html" || fail "the page has no hits figure"
grep -q 'src="/dygraph.min.js"' "$TMP_ROOT/page.html" || fail "the page loads no dygraphs"
web_get /dygraph.min.js >"$TMP_ROOT/dygraph.js"
cmp -s "$TMP_ROOT/dygraph.js" /usr/share/javascript/dygraphs/dygraph.min.js ||
    fail "/dygraph.min.js is not Debian's libjs-dygraphs file"
expect_eq "$(web_code /nope)" 404 "status of /nope"
expect_eq "$(web_code /stats.json/x)" 404 "status of /stats.json/x"
expect_eq "$(web_code /stats.json -X POST -d x=1)" 405 "status of a POST"
expect_eq "$(web_code /stats.json -X DELETE)" 405 "status of a DELETE"
expect_eq "$(web_code /stats.json -I)" 200 "status of a HEAD"
[[ -z $(curl -s --max-time 2 -I "http://127.0.0.1:$WEB_PORT/" | sed -n '/^\r$/,$p' | tail -n +2) ]] ||
    fail "HEAD / sent a body"
expect_eq "$(printf 'GET / HTTP/9.9\r\n\r\n' | curl -s --max-time 2 telnet://127.0.0.1:"$WEB_PORT" |
    head -n 1 | tr -d '\r')" "HTTP/1.1 400 Bad Request" "answer to HTTP/9.9"

step "after the end: /stats.json is the --json file; the series adds up to it"
wait_web_done
[[ -s $TMP_ROOT/final.json ]] || fail "no --json file once the run is done"
web_get /stats.json >"$TMP_ROOT/end.json"
diff "$TMP_ROOT/end.json" "$TMP_ROOT/final.json" >&2 ||
    fail "/stats.json after the end differs from the --json file"
hits=$(jq -er .hits "$TMP_ROOT/final.json")
expect_num "$hits" ">" 0 "hits"
web_get /series.json >"$TMP_ROOT/series.json"
expect_eq "$(jq -r .state "$TMP_ROOT/series.json")" "done" "series state"
expect_eq "$(jq '[.seconds[][1]] | add' "$TMP_ROOT/series.json")" "$hits" "sum of the seconds' hits"
expect_eq "$(jq '[.seconds[][0]] | first' "$TMP_ROOT/series.json")" 0 "first second"
expect_eq "$(jq "[.seconds[] | select(.[0] >= 2)] | length" "$TMP_ROOT/series.json")" \
    "$(web_get '/series.json?from=2' | jq '.seconds | length')" "seconds from 2"
kill -INT "$RUNNER" # ends the linger early
wait_loads
expect_status 0
expect_err_contains "web view on http://127.0.0.1:$WEB_PORT/"
expect_access_log "$((hits + 1))" # and the -c 1 run's hit
(exec 3<>"/dev/tcp/127.0.0.1/$WEB_PORT") 2>/dev/null && fail "the web view outlived its runner"
[[ ! -e /dev/shm/loads-$RUNNER ]] || fail "segment left behind"
