#!/usr/bin/env bash
# LOADS_SETUP_ONCE and LOADS_TEARDOWN_ONCE on a cluster run once for the
# whole run, in the runner: setUpOnce before any agent starts, its values
# shipped to the agents for every VU, tearDownOnce once every agent is
# done.  Counted in nginx's log (the module of tests/e2e/scopes.sh).  A
# failing setUpOnce starts no agent and is reported as a local run reports
# it; a run stopped by SIGTERM still runs tearDownOnce; --detach is refused.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

use_module scope_cases.c
start_nginx
start_broker
start_agent a1
start_agent a2
wait_agents 2

count() { grep -c -- "$1" "$NGINX_LOG" || true; }

step "2 agents, 2 VUs each, 3 runs each"
run_loads scope_cases.TestScopes --server-url "$NGINX_URL" -u 2 -c 3 -w 1 --agents 2 \
    --broker "$BROKER" --json s.json -q
expect_status 0
expect_out_line "Success: 12"
# The agents' requests: setUpVU, 2 a run, tearDownVU; setUpOnce's and
# tearDownOnce's are the runner's, not in the agents' figures.
expect_out_line "Hits: $((4 + 12 * 2 + 4))"
expect_access_log $((1 + 4 + 12 * 2 + 4 + 1))
expect_eq "$(count 'GET /api/items/42?scope=setUpOnce ')" 1 "setUpOnce requests"
expect_eq "$(count 'GET /search?q=test&')" 12 "test requests"
expect_eq "$(count 'GET /search?q=test&token=item%2042&id=8&me=vu[0-3] ')" 12 \
    "test requests with setUpOnce's values"
for a in 1 2; do
    expect_eq "$(jq ".agents[$((a - 1))].runs" s.json)" 6 "runs of agent $a"
done
expect_eq "$(count 'GET /search?q=tearDownOnce&token=item%2042 ')" 1 "tearDownOnce requests"
[[ $(head -n 1 "$NGINX_LOG") == *"scope=setUpOnce"* ]] || fail "setUpOnce was not first"
[[ $(tail -n 1 "$NGINX_LOG") == *"q=tearDownOnce"* ]] || fail "tearDownOnce was not last"

step "a failing setUpOnce: reported as a local run reports it, no agent starts"
: >"$NGINX_LOG"
run_loads scope_cases.TestBadOnce --server-url "$NGINX_URL" -u 4 -c 2 --agents 2 \
    --broker "$BROKER" --json s.json
expect_status 1
expect_out_line "Failures: 1"
expect_out_line "Success: 0"
expect_access_log 1
expect_eq "$(count 'q=never')" 0 "requests of tests and of tearDownOnce"
expect_eq "$(jq -r '.failure_messages[0] | .test + ": " + .message' s.json)" \
    "TestBadOnce.setUpOnce: no token: status 404 (scope_cases.c:64)" "the failure"
expect_eq "$(grep -c 'TestBadOnce' "$BROKER_LOG" || true)" 0 "runs of TestBadOnce the broker got"

step "a run stopped by SIGTERM still runs tearDownOnce, once, last"
: >"$NGINX_LOG"
LOADS_LIMIT=60 start_loads scope_cases.TestScopes --server-url "$NGINX_URL" -u 2 -d 30s \
    --agents 2 --broker "$BROKER" -q
# The 4 VUs (2 on each agent) are under way, each past its setUpVU: an
# agent slow to start (a busy machine) would not have run its tearDownVUs.
for ((i = 0; i < 300; i++)); do
    (($(count 'scope=setUpVU') == 4 && $(count 'q=test&') > 10)) && break
    sleep 0.1
done
(($(count 'scope=setUpVU') == 4 && $(count 'q=test&') > 10)) ||
    fail "the 4 VUs did not make 10 test requests within 30 s"
RUNNER=$(runner_pid)
kill -TERM "$RUNNER"
wait_loads
expect_status 143
expect_eq "$(count 'scope=setUpOnce')" 1 "setUpOnce requests"
expect_eq "$(count 'q=tearDownVU')" 4 "tearDownVU requests"
expect_eq "$(count 'q=tearDownOnce')" 1 "tearDownOnce requests"
[[ $(tail -n 1 "$NGINX_LOG") == *"q=tearDownOnce"* ]] || fail "tearDownOnce was not last"

step "--detach: refused"
: >"$NGINX_LOG"
run_loads scope_cases.TestScopes --server-url "$NGINX_URL" -u 2 -c 3 --agents 2 \
    --broker "$BROKER" --detach
expect_status 2
expect_err_contains "cannot run --detach"
expect_access_log 0
