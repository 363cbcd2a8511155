#!/usr/bin/env bash
# --attach PID --web: the attached runner serves the run it watches (the
# same segment, read-only): its hits grow while the run lasts, and at the
# end its /stats.json has the hits of the run's own --json file.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/web_lib.bash"

use_module engine_get.c
start_nginx
test=engine_get.TestGet.test_root

step "a 4 s -q run in the background"
"$BUILD/loads-runner" "$test" -q --server-url "$NGINX_URL" -u 2 -d 4s -w 1 \
    --json "$TMP_ROOT/run.json" </dev/null >"$TMP_ROOT/bg.out" 2>"$TMP_ROOT/bg.err" &
bg=$!
PIDS+=("$bg")
RUNNER=$bg
for ((i = 0; i < 100; i++)); do
    [[ -e /dev/shm/loads-$bg ]] && break
    sleep 0.1
done
[[ -e /dev/shm/loads-$bg ]] || fail "the background run made no segment"

step "attach to it with --web"
WEB_PORT=$(free_port)
start_loads --attach "$bg" --web "$WEB_PORT" --web-linger 5 --json "$TMP_ROOT/attach.json"
wait_web "$LOADS_PID"
h1=$(web_get /stats.json | jq -er .hits) || fail "no hits on /stats.json"
h2=$(web_hits_above "$h1" "$TMP_ROOT/live2.json")
echo "  live hits $h1, then $h2"
wait_web_done
wait "$bg" || fail "the background run failed"
[[ ! -e /dev/shm/loads-$RUNNER ]] || fail "the run left its segment"
web_get /stats.json >"$TMP_ROOT/end.json"
expect_eq "$(jq -r .hits "$TMP_ROOT/end.json")" "$(jq -r .hits "$TMP_ROOT/run.json")" \
    "hits of the attached view and of the run's --json"
wait_loads
expect_status 0
diff "$TMP_ROOT/end.json" "$TMP_ROOT/attach.json" >&2 ||
    fail "the attached view's /stats.json differs from the attached runner's --json"
expect_access_log "$(jq -r .hits "$TMP_ROOT/run.json")"
