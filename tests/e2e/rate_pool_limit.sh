#!/usr/bin/env bash
# A pool larger than the system lets a worker make: each user's stack is a
# mapping (two maps), so vm.max_map_count or a memory limit bounds the
# users of a process.  Users the worker cannot make are not a crash: the
# pool stays as large as it could be made, runs that find no free user are
# dropped and counted, and a warning says why.  The worker used to exit
# with status 3 when it could not make the -u users ready at the start,
# and the summary called it a crash with no run started or dropped.  The
# limit here is the address space (ulimit -v), which the runner's workers
# inherit: a few hundred users' stacks above what a worker needs.  A
# --max-users whose arrays (some 700 bytes a user) do not fit under the
# limit made the workers exit at the start, three times, and the run stop.
source "$(dirname "$0")/../lib.sh"

if grep -q __asan_init "$BUILD/loads-runner"; then
    echo "skip: AddressSanitizer reserves more address space than any ulimit -v here"
    exit 0
fi
use_module rate_cases.c
start_nginx
test=rate_cases.TestRate.test_hold

step "the module is built before the limit (the compiler needs more)"
run_loads "$test" --server-url "$NGINX_URL" --rate 1 -d 0.1s -q
expect_status 0

limited() {
    LAST_RUN="(ulimit -v 400000; loads-runner ${*@Q})"
    echo "\$ $LAST_RUN"
    STATUS=0
    (
        ulimit -v 400000
        cd "$TEST_DIR"
        exec timeout 60 "$BUILD/loads-runner" "$@"
    ) </dev/null >"$OUT" 2>"$ERR" || STATUS=$?
    echo "  status $STATUS"
}
warning="the pool of a worker could not grow past"

step "-u 100000 ready at the start, --rate 5 -d 1s"
limited "$test" --server-url "$NGINX_URL" --rate 5 -d 1s -u 100000 -w 1 \
    --json "$TMP_ROOT/ready.json"
expect_status 0
expect_no_core
expect_eq "$(jq .crashes "$TMP_ROOT/ready.json")" 0 "crashes"
expect_eq "$(jq .rate.started "$TMP_ROOT/ready.json")" 5 "runs started"
expect_eq "$(jq .dropped "$TMP_ROOT/ready.json")" 0 "runs dropped"
expect_out_contains "$warning"

step "--rate 3000 -d 1s, each run 1 s: the pool grows to its limit, then drops"
limited "$test" --server-url "$NGINX_URL" --rate 3000 -d 1s -u 1 --max-users 100000 -w 1 \
    --json "$TMP_ROOT/grow.json"
expect_status 0
expect_no_core
expect_eq "$(jq .crashes "$TMP_ROOT/grow.json")" 0 "crashes"
started=$(jq .rate.started "$TMP_ROOT/grow.json")
dropped=$(jq .dropped "$TMP_ROOT/grow.json")
echo "  started $started, dropped $dropped"
expect_eq "$((started + dropped))" 3000 "runs started + dropped"
expect_num "$dropped" ">" 0 "runs dropped"
expect_eq "$(jq .success "$TMP_ROOT/grow.json")" "$started" "successes"
users=$(grep -oE "could not grow past [0-9]+ users" "$OUT" | grep -oE "[0-9]+")
echo "  the pool's limit: $users users"
expect_eq "$started" "$users" "runs started (each held its user to the end)"

step "--max-users 1000000, whose arrays do not fit under the limit, --rate 5 -d 1s"
limited "$test" --server-url "$NGINX_URL" --rate 5 -d 1s --max-users 1000000 -w 1 \
    --json "$TMP_ROOT/arrays.json"
expect_status 0
expect_no_core
expect_eq "$(jq .crashes "$TMP_ROOT/arrays.json")" 0 "crashes"
expect_eq "$(jq .rate.started "$TMP_ROOT/arrays.json")" 5 "runs started"
expect_eq "$(jq .success "$TMP_ROOT/arrays.json")" 5 "successes"
