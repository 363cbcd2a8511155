#!/usr/bin/env bash
# solo: 100 users and a kill every 3 s load both cores
# Nothing lost when workers die (the project's issue 6, scaled to the
# suite): 100 VUs (a GET, then 0.01 s of think time) over 2 workers for
# KILL_DURATION seconds (12), one worker killed with SIGKILL every
# KILL_EVERY seconds (3), the two workers in turn.  Each kill is reported
# as a crash by signal 9, the worker is replaced and the run goes on to its
# end; every hit counted was logged by nginx, and what nginx logged beyond
# the hits is at most the runs the kills cut, which are counted as Errors.
#
#     KILL_DURATION=60 KILL_EVERY=10 bash tests/e2e/kill_workers.sh
#
# is the full check of the issue, by hand (a file of the suite has 120 s).
source "$(dirname "$0")/../lib.sh"

DURATION=${KILL_DURATION:-12}
EVERY=${KILL_EVERY:-3}
[[ $DURATION =~ ^[1-9][0-9]*$ && $EVERY =~ ^[1-9][0-9]*$ ]] ||
    fail "KILL_DURATION and KILL_EVERY are whole seconds (got '$DURATION' and '$EVERY')"
KILLS=$(((DURATION - 1) / EVERY)) # none at the very end of the run
((KILLS >= 1)) || fail "KILL_EVERY ($EVERY) must be below KILL_DURATION ($DURATION)"
# shellcheck disable=SC2034 # start_loads reads it
LOADS_LIMIT=$((DURATION + 30)) # start_loads' time limit
USERS=100

KILLED=()  # the workers killed, in order

# workers_now: the supervisor's live workers, by pid.
workers_now() {
    local kids
    mapfile -t kids < <(pgrep -P "$RUNNER" -x loads-runner || true)
    live_workers "${kids[@]}"
}

use_module sig_tests.c
start_nginx
STAMPS=$NGINX_DIR/kill_stamps.log # the time ($msec) of each request to /kill
step "compile the module (so that the run below does not wait for cc)"
run_loads sig_tests.TestSig.test_busy --server-url "$NGINX_URL" -q
expect_status 0
expect_access_log 1
[[ $(wc -l <"$STAMPS") == 1 ]] || fail "no line for /kill in $STAMPS"
: >"$NGINX_LOG"
: >"$STAMPS"

step "$USERS VUs over 2 workers for ${DURATION}s, a worker killed every ${EVERY}s ($KILLS kills)"
start_loads sig_tests.TestSig.test_busy --server-url "$NGINX_URL" -u "$USERS" -w 2 \
    -d "${DURATION}s" --output json
for ((i = 0; i < 300; i++)); do
    RUNNER=$(runner_pid || true)
    [[ -n $RUNNER ]] && mapfile -t WORKERS < <(workers_now | sort -n)
    ((${#WORKERS[@]} == 2)) && break
    alive "$LOADS_PID" || break
    sleep 0.1
done
((${#WORKERS[@]} == 2)) ||
    fail "loads-runner did not start 2 workers: supervisor '$RUNNER', workers '${WORKERS[*]}'"
t_start=$(now)
echo "  loads-runner $RUNNER, workers ${WORKERS[*]}"
kill_times=()
for ((k = 1; k <= KILLS; k++)); do
    # On a fixed schedule from the start, so that sleeps do not add up.
    sleep "$(awk -v t="$t_start" -v k="$k" -v e="$EVERY" -v n="$(now)" \
        'BEGIN { d = t + k * e - n; printf "%.3f", (d > 0 ? d : 0) }')"
    victim=${WORKERS[0]} other=${WORKERS[1]}
    kill_times+=("$(now)")
    kill -KILL "$victim"
    KILLED+=("$victim")
    # The supervisor forks a replacement at once: wait for it (10 s at most:
    # a sanitizer build on a busy machine is slow to see the death and fork).
    for ((i = 0; i < 100; i++)); do
        sleep 0.1
        new=$(workers_now | grep -vxF -e "$victim" -e "$other" | head -n 1 || true)
        [[ -n $new ]] && break
    done
    [[ -n $new ]] || fail "kill $k: no worker replaced $victim within 10 s" \
        "workers now: $(workers_now | tr '\n' ' ')"
    echo "  kill $k at $(awk -v a="$t_start" -v b="${kill_times[-1]}" 'BEGIN { printf "%.1f", b - a }') s:" \
        "worker $victim, replaced by $new"
    WORKERS=("$other" "$new") # the other one goes next
done
wait_loads

# nginx logs a request once it is done with it: wait until its logs stop
# growing (the last requests of the killed workers may come late).
logged=-1
for ((i = 0; i < 30; i++)); do
    n=$(access_log_lines)
    ((n == logged)) && break
    logged=$n
    sleep 0.2
done

hits=$(jq .hits "$OUT")
errors=$(jq .errors "$OUT")
failures=$(jq .failures "$OUT")
runs=$(jq .runs "$OUT")
success=$(jq .success "$OUT")
duration=$(jq .duration "$OUT")
started=$(date -d "$(jq -r .started "$OUT")" +%s.%N) ||
    fail "cannot read the start time '$(jq -r .started "$OUT")' of the JSON summary"
run_end=$(awk -v s="$started" -v d="$duration" 'BEGIN { printf "%.3f", s + d }')
echo "  hits $hits, logged by nginx $logged, success $success, errors $errors," \
    "failures $failures, runs $runs, duration $duration s"
echo "  requests in each second of the run (nginx's \$msec), kills at" \
    "$(awk -v a="$t_start" 'BEGIN { for (i = 2; i < ARGC; i++) printf "%.1f ", ARGV[i] - a }' \
        x "${kill_times[@]}")s:"
awk -v s="$started" '{ i = int($1 - s); n[i]++; if (i > m) m = i }
    END { for (i = 0; i <= m; i++) printf "%s%d: %d%s", i % 6 ? "" : "   ", i, n[i], i % 6 == 5 || i == m ? "\n" : ",  " }' \
    "$STAMPS"

expect_status 1 # the crashes
expect_eq "$(jq .crashes "$OUT")" "$KILLS" "crashes in the JSON summary"
expect_eq "$failures" 0 "failures"
expect_eq "$((success + errors + failures))" "$runs" "success + errors + failures (runs)"
expect_eq "$(jq '[.crash_messages[] | select(.message | test("killed by signal 9\\b")) | .count] | add // 0' "$OUT")" \
    "$KILLS" "crash messages saying 'killed by signal 9'"
expect_eq "$(jq '[.crash_messages[].count] | add // 0' "$OUT")" "$KILLS" "crash messages"
for victim in "${KILLED[@]}"; do
    jq -e --arg p "worker $victim killed by signal 9" \
        'any(.crash_messages[]; .message | startswith($p))' "$OUT" >/dev/null ||
        fail "no crash message for the killed worker $victim"
done
expect_num "$hits" ">" 0 "hits"
expect_num "$logged" ">=" "$hits" "nginx's access-log lines vs hits (a hit counted was lost)"
expect_num "$((logged - hits))" "<=" "$errors" \
    "requests logged by nginx but not counted ($logged - $hits) vs the errors"
expect_num "$errors" ">=" "$KILLS" "errors (each kill cuts the runs in progress)"
expect_num "$errors" "<=" "$((KILLS * USERS / 2))" "errors (at most the killed workers' VUs)"
expect_num "$duration" ">=" "$((DURATION - 1))" "duration of a ${DURATION}s run"
expect_num "$duration" "<" "$((DURATION + 3))" "duration of a ${DURATION}s run"
expect_eq "$(wc -l <"$STAMPS")" "$logged" "lines in $STAMPS vs the access log"

# The run went on after each kill: requests from 1 s after each kill to the
# next one, and in the last 2 s of the run.
kill_times+=("$run_end")
for ((k = 1; k <= KILLS; k++)); do
    n=$(awk -v a="${kill_times[k - 1]}" -v b="${kill_times[k]}" \
        '$1 >= a + 1 && $1 < b { n++ } END { print n + 0 }' "$STAMPS")
    expect_num "$n" ">" 0 "requests between 1 s after kill $k and the next kill (or the end)"
done
n=$(awk -v e="$run_end" '$1 >= e - 2 && $1 <= e { n++ } END { print n + 0 }' "$STAMPS")
echo "  requests in the last 2 s of the run: $n"
expect_num "$n" ">" 0 "requests in the last 2 s of the run"
