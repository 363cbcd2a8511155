#!/usr/bin/env bash
# Bad values of the engine's options: each is refused before anything runs
# (exit 2, one "loads-runner: " line on stderr naming the option, nothing on
# stdout, no request sent).
source "$(dirname "$0")/../lib.sh"

use_module engine_get.c
start_nginx
test=engine_get.TestGet.test_root

# refused WHAT ARGS...: the run with ARGS is a usage error whose line
# contains WHAT.
refused() {
    local what=$1
    shift
    step "$*"
    run_loads "$test" --server-url "$NGINX_URL" "$@"
    expect_usage_error
    expect_err_contains "$what"
}

refused --users -u 0
refused --users -u 10:x
refused --users -u 10::20
refused --hits -c 0
refused --duration -c 5 -d 5s
refused --duration -d "5 minutes"
refused --duration -d 0s
refused --workers -w 0
refused --workers -w two
refused --ramp-up --ramp-up -1
refused --grace --grace -1
refused --output --output xml
refused --timeout --timeout 0
refused --timeout --timeout -5
# More users a worker than vm.max_map_count has maps for (two a stack):
# refused before any worker starts, not a worker that cannot start.
maps=$(cat /proc/sys/vm/max_map_count)
refused "vm.max_map_count ($maps) allows $(((maps - 1000) / 2))" -u "$((maps + 20))" -w 2 -c 1
expect_access_log 0
