#!/usr/bin/env bash
# A module that takes longer to build on the agent than the broker waits
# for a silent peer (5 s): the runner waiting for the start keeps sending
# its heartbeats (docs/protocol.md: both ways), so the broker keeps it as
# the run's watcher and the run starts and ends as planned.  (It once sent
# none until the start: the broker dropped it after 5 s and failed the run,
# "its runner went away before the start", and the runner said "no answer
# from the broker".)  The agent's compiler is a script that waits 7 s.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

cat >"$TMP_ROOT/slow-cc" <<'SH'
#!/bin/sh
sleep 7
exec cc "$@"
SH
chmod +x "$TMP_ROOT/slow-cc"

use_module example.c
start_nginx
start_broker
CC=$TMP_ROOT/slow-cc start_agent slow
wait_agents 1

step "a 7 s build: the run starts, its 4 hits reach nginx"
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL" -u 2 -c 2 \
    --agents 1 --broker "$BROKER"
expect_status 0
expect_out_line "Hits: 4"
expect_access_log 4
grep -q "runner is gone" "$BROKER_LOG" && fail "the broker dropped the runner" "$(cat "$BROKER_LOG")"
wait_agents 1
