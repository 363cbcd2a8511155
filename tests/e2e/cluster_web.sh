#!/usr/bin/env bash
# --web with --agents 2: the port is bound before anything is sent, and
# the JSON paths answer 503 {"state": "waiting"} until the agents start
# (held here by a setUpOnce that waits for a file); then /stats.json is
# the cluster's --json document as the run stands (its hits grow, its
# agents table is there), and once the run is done it is the --json file,
# byte for byte, whose hits are nginx's access-log lines.
# --attach RUN_ID --broker --web serves a detached run the same way.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"
source "$REPO/tests/e2e/web_lib.bash"

start_nginx
# The test's own module: setUpOnce (run by the runner) waits, 30 s at
# most, for the file `go` in the current folder; no request of its own.
cat >"$TEST_DIR/web_wait.c" <<'C'
#include <unistd.h>
#include <loads.h>

LOADS_SETUP_ONCE(TestWait)
{
    for (int i = 0; i < 300 && access("go", F_OK) != 0; i++)
        loads_sleep(t, 0.1);
}

LOADS_TEST(TestWait, test_root)
{
    loads_response *r = loads_get(t, "/");
    loads_assert(t, loads_status(r) == 200, "/: status %d", loads_status(r));
}
C
test=web_wait.TestWait.test_root
start_broker
start_agent a1
start_agent a2
wait_agents 2

step "--web with --detach or a broker command: a usage error"
run_loads "$test" --server-url "$NGINX_URL" --agents 2 --broker "$BROKER" --detach --web 8089
expect_usage_error
expect_err_contains "not with --detach"
run_loads --ping-broker --broker "$BROKER" --web 8089
expect_usage_error
expect_err_contains "--web goes with a run"
run_loads "$test" --server-url "$NGINX_URL" --agents 2 --broker "$BROKER" -c 1 \
    --web "${NGINX_URL#http://}"
expect_usage_error
expect_err_contains "cannot serve the web view on"
expect_access_log 0

step "--agents 2 -u 2 -d 4s --web: 503 waiting before the agents start"
WEB_PORT=$(free_port)
start_loads "$test" --server-url "$NGINX_URL" -u 2 -d 4s --agents 2 --broker "$BROKER" \
    --web "$WEB_PORT" --web-linger 5 --json "$TMP_ROOT/final.json"
for ((i = 0; i < 300; i++)); do
    code=$(web_code /stats.json)
    [[ $code != 000 ]] && break
    alive "$LOADS_PID" || break
    sleep 0.1
done
expect_eq "$code" 503 "status of /stats.json before the agents start"
expect_eq "$(curl -s --max-time 10 "http://127.0.0.1:$WEB_PORT/series.json" | jq -r .state)" \
    waiting "state of /series.json before the agents start"
expect_eq "$(web_code /)" 200 "status of the page meanwhile"
touch "$TEST_DIR/go"

step "while it runs: hits grow, the agents table is there"
wait_web "$LOADS_PID"
web_get /stats.json >"$TMP_ROOT/live1.json"
h1=$(jq -er .hits "$TMP_ROOT/live1.json") || fail "live /stats.json: no hits"
h2=$(web_hits_above "$h1" "$TMP_ROOT/live2.json")
h3=$(web_hits_above "$h2" "$TMP_ROOT/live3.json")
expect_eq "$(jq '.agents | length' "$TMP_ROOT/live2.json")" 2 "agents on the live /stats.json"
expect_eq "$(jq '[.agents[].hits] | add' "$TMP_ROOT/live2.json")" "$h2" \
    "the live agents' hits add up to the live hits"

step "after the end: /stats.json is the --json file, nginx's hits, the agents done"
wait_web_done
# The --json file is written after the end; the view lingers 5 s.
for ((i = 0; i < 50; i++)); do
    [[ -s $TMP_ROOT/final.json ]] && break
    sleep 0.1
done
[[ -s $TMP_ROOT/final.json ]] || fail "no --json file once the run is done"
web_get /stats.json >"$TMP_ROOT/end.json"
diff "$TMP_ROOT/end.json" "$TMP_ROOT/final.json" >&2 ||
    fail "/stats.json after the end differs from the --json file"
hits=$(jq -er .hits "$TMP_ROOT/final.json")
echo "  live hits $h1, $h2, $h3; final $hits"
expect_num "$hits" ">" 0 "hits"
expect_eq "$(jq '[.agents[] | select(.state == "done")] | length' "$TMP_ROOT/end.json")" 2 \
    "agents done on /stats.json"
expect_eq "$(jq '[.agents[].hits] | add' "$TMP_ROOT/end.json")" "$hits" "the agents' hits"
# Every second of the agents' series (cluster/agent.c sends a second once
# its workers have closed it: sent at once, one run in two lost 14%).
web_get /series.json >"$TMP_ROOT/series.json"
expect_eq "$(jq '[.seconds[][1]] | add' "$TMP_ROOT/series.json")" "$hits" "sum of the seconds' hits"
wait_loads
expect_status 0
expect_err_contains "web view on http://127.0.0.1:$WEB_PORT/"
expect_access_log "$hits"
(exec 3<>"/dev/tcp/127.0.0.1/$WEB_PORT") 2>/dev/null && fail "the web view outlived its runner"

step "--detach, then --attach RUN_ID --broker --web"
: >"$NGINX_LOG"
use_module engine_get.c
run_loads engine_get.TestGet.test_root --server-url "$NGINX_URL" -u 2 -d 3s --agents 2 \
    --broker "$BROKER" --detach
expect_status 0
run_id=$(head -n 1 "$OUT")
WEB_PORT=$(free_port)
start_loads --attach "$run_id" --broker "$BROKER" --web "$WEB_PORT" --web-linger 5 \
    --json "$TMP_ROOT/attach.json"
wait_web "$LOADS_PID"
wait_web_done
for ((i = 0; i < 50; i++)); do
    [[ -s $TMP_ROOT/attach.json ]] && break
    sleep 0.1
done
web_get /stats.json >"$TMP_ROOT/attach_end.json"
wait_loads
expect_status 0
diff "$TMP_ROOT/attach_end.json" "$TMP_ROOT/attach.json" >&2 ||
    fail "the attached view's /stats.json differs from its --json file"
expect_eq "$(jq '.agents | length' "$TMP_ROOT/attach.json")" 2 "agents of the attached run"
expect_access_log "$(jq -r .hits "$TMP_ROOT/attach.json")"
