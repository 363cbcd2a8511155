#!/usr/bin/env bash
# solo: it times runs against --grace
# Signals to the supervisor (README "Running", --help):
# - one SIGINT, SIGTERM, SIGHUP or SIGQUIT stops the run gracefully: no new
#   run starts, the runs in progress finish within --grace, the summary of
#   what was done is printed with "Stopped by SIGxxx after T s of 30 s" (and
#   "stopped" in the JSON), the segment is removed, and the exit status is
#   128 + the signal (130, 143, 129, 131), never 0;
# - a hits plan that is stopped says how many of its planned runs ended;
# - runs still going after --grace are cut and counted as Errors;
# - a second SIGINT kills the workers at once, still with a summary;
# - a supervisor killed with SIGKILL takes its workers with it (they die
#   with their parent), and the next loads-runner removes the segment it
#   left in /dev/shm.
source "$(dirname "$0")/../lib.sh"

# since T: the seconds since T (a time from now).
since() {
    awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
}

# wait_workers N: waits (30 s at most) until the loads-runner of start_loads
# runs N workers; sets RUNNER and WORKERS.
wait_workers() {
    local i n
    for ((i = 0; i < 300; i++)); do
        RUNNER=$(runner_pid || true)
        if [[ -n $RUNNER ]]; then
            mapfile -t WORKERS < <(pgrep -P "$RUNNER" -x loads-runner || true)
            n=${#WORKERS[@]}
            if ((n == $1)); then
                echo "  loads-runner $RUNNER, workers ${WORKERS[*]}"
                return 0
            fi
        fi
        alive "$LOADS_PID" || break
        sleep 0.1
    done
    fail "loads-runner did not start $1 worker(s): supervisor '$RUNNER', workers '${WORKERS[*]}'"
}

# expect_workers_gone: none of WORKERS runs any more, and the supervisor
# has no child left.
expect_workers_gone() {
    local left
    left=$(live_workers "${WORKERS[@]}")
    [[ -z $left ]] || fail "workers still running after loads-runner $RUNNER ended:" \
        "$(ps -o pid,ppid,stat,etime,args -p "${left//$'\n'/,}" || true)"
    left=$(pgrep -P "$RUNNER" || true)
    [[ -z $left ]] || fail "processes whose parent is loads-runner $RUNNER: $left"
}

use_module sig_tests.c
start_nginx
step "compile the module (so that no run below waits for cc)"
run_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -q
expect_status 0

step "a program that the test starts gets the stop signals' defaults"
run_loads sig_tests.TestSig.test_child_signals -c 2
expect_status 0
expect_out_line "Success: 2"

# The status of a run stopped by each signal (--help, README).
declare -A stopped_status=([INT]=130 [TERM]=143 [HUP]=129 [QUIT]=131)

for sig in INT TERM HUP QUIT; do
    step "SIG$sig 2 s into a 30 s run of 10 VUs: a graceful stop, status ${stopped_status[$sig]}"
    : >"$NGINX_LOG"
    rm -f stop.json
    t_start=$(now)
    start_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 10 -w 2 -d 30s \
        --json stop.json
    wait_workers 2
    sleep 2
    t0=$(now)
    kill -"$sig" "$RUNNER"
    wait_loads
    wall=$(since "$t0")
    total=$(since "$t_start")
    echo "  ended $wall s after SIG$sig, $total s after the start"
    # Every run that ended succeeded, and yet the run was cut: not 0.
    expect_status "${stopped_status[$sig]}"
    expect_no_core
    # A run takes 0.1 s: the stop waits for the runs in progress, not for
    # the whole grace period (5 s).  (A sanitizer build on a busy machine
    # has taken more than 3 s to end.)
    expect_num "$wall" "<" 5 "seconds from SIG$sig to the end (a run takes 0.1 s, the grace is 5 s)"
    # The run's own clock against this one's: it lasted no longer than
    # loads-runner ran, far less than the 30 s planned.
    expect_num "$(out_field Duration)" "<=" "$total" "Duration (stopped 2 s into the run)"
    expect_out_line "Errors: 0"
    expect_out_line "Failures: 0"
    hits=$(out_field Hits)
    expect_num "$hits" ">" 20 "hits in 2 s of 10 VUs"
    expect_out_line "Success: $hits"
    expect_access_log "$hits"
    # Stopped 2 s after the workers were seen running: "after" counts from
    # the run's start, a little earlier (forking, 0.1 s polls), and later
    # than loads-runner was started (which a busy machine makes slow).
    line=$(grep -E "^Stopped by SIG$sig after [0-9.]+ s of 30 s\$" "$OUT") ||
        fail "stdout: no line 'Stopped by SIG$sig after T s of 30 s'"
    after=$(awk '{ print $5 }' <<<"$line")
    expect_num "$after" ">=" 2 "seconds before SIG$sig in '$line'"
    # (The line rounds to 0.1 s: 2.15 s shows as 2.2.)
    expect_num "$after" "<=" "$(awk -v a="$t_start" -v b="$t0" 'BEGIN { printf "%.2f", b - a + 0.06 }')" \
        "seconds before SIG$sig in '$line' (at most the time from the start to the signal)"
    expect_eq "$(jq -r .stopped.by stop.json)" "SIG$sig" ".stopped.by"
    expect_eq "$(jq -r .stopped.signal stop.json)" "$(kill -l "$sig")" ".stopped.signal"
    expect_eq "$(jq -r .stopped.planned_duration stop.json)" 30 ".stopped.planned_duration"
    expect_eq "$(jq -r .stopped.message stop.json)" "$line" ".stopped.message"
    expect_eq "$(jq -r .exit_status stop.json)" "${stopped_status[$sig]}" ".exit_status"
    [[ ! -e /dev/shm/loads-$RUNNER ]] || fail "SIG$sig left the segment /dev/shm/loads-$RUNNER"
    expect_workers_gone
done

step "SIGINT 1 s into a hits plan of 2 x 1000 runs: the runs that ended, of those planned"
: >"$NGINX_LOG"
start_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 2 -w 1 -c 1000 \
    --output json
wait_workers 1
sleep 1
kill -INT "$RUNNER"
wait_loads
expect_status 130
expect_no_core
jq -e . "$OUT" >/dev/null || fail "stdout: not a JSON document"
runs=$(jq -r .runs "$OUT")
expect_num "$runs" ">" 0 "runs ended in 1 s"
expect_num "$runs" "<" 2000 "runs ended before the stop"
expect_eq "$(jq -r .success "$OUT")" "$runs" ".success"
expect_access_log "$runs"
expect_eq "$(jq -r .stopped.planned_duration "$OUT")" null ".stopped.planned_duration"
expect_eq "$(jq -r .stopped.by "$OUT")" SIGINT ".stopped.by"
[[ $(jq -r .stopped.message "$OUT") =~ ^Stopped\ by\ SIGINT\ after\ [0-9.]+\ s:\ $runs\ of\ 2000\ planned\ runs\ ended$ ]] ||
    fail "'.stopped.message': expected 'Stopped by SIGINT after T s: $runs of 2000 planned runs ended'"
expect_eq "$(jq -r .exit_status "$OUT")" 130 ".exit_status"
expect_workers_gone

step "a run that is not stopped says so: stopped is null, no Stopped line"
run_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 2 -c 2 --json plain.json
expect_status 0
! grep -q '^Stopped' "$OUT" || fail "stdout: a Stopped line in a run that was not stopped"
expect_eq "$(jq -r .stopped plain.json)" null '.stopped'

step "a 20 s sleep, --grace 10: one SIGINT cuts the runs at once, as Interrupted"
: >"$NGINX_LOG"
start_loads sig_tests.TestSig.test_long --server-url "$NGINX_URL" -u 2 -w 2 -d 30s --grace 10
wait_workers 2
wait_access_log 2 # both runs are under way: their request came before the sleep
t0=$(now)
kill -INT "$RUNNER"
wait_loads
wall=$(since "$t0")
echo "  ended $wall s after SIGINT"
expect_status 130 # stopped; the 2 runs cut are Interrupted
expect_no_core
# Sleeps that cannot end within the grace period are cut at once: at the
# worker's next tick (0.1 s) after the supervisor's next look (0.1 s), not
# at the end of the grace period (10 s; a grace of 1 s was too short to
# tell the two apart under a sanitizer on a busy machine).
expect_num "$wall" "<" 5 "seconds from SIGINT to the end (no wait for the 10 s grace period)"
expect_out_line "Hits: 2"
expect_out_line "Success: 0"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_out_line "Interrupted: 2 (cut by the end of the run, not errors)"
expect_access_log 2
expect_workers_gone

step "two SIGINTs 0.3 s apart, default grace (5 s): the runs are killed at once"
# Sleeps of 3 s: within the grace period, so the first SIGINT lets them be.
: >"$NGINX_LOG"
start_loads sig_tests.TestSig.test_within_grace --server-url "$NGINX_URL" -u 4 -w 2 -d 30s
wait_workers 2
wait_access_log 4 # the 4 runs are under way: their request came before the sleep
t0=$(now)
kill -INT "$RUNNER"
sleep 0.3
kill -INT "$RUNNER"
wait_loads
wall=$(since "$t0")
echo "  ended $wall s after the first SIGINT"
# Killed, not left to their sleeps (3 s): the Errors below say so; and the
# end did not wait for the grace period (5 s) either.
expect_num "$wall" "<" 5 "seconds from the first SIGINT to the end (the grace is 5 s)"
expect_status 130 # stopped (and the 4 runs in progress were cut: Errors)
expect_no_core
expect_out_line "Hits: 4"
expect_out_line "Success: 0"
expect_out_line "Errors: 4"
expect_access_log 4
expect_workers_gone

step "a signal and its echo are one stop: two SIGTERMs from one process 10 ms apart"
# timeout(1) sends its signal to its child, then to its whole process group:
# the runner gets it twice, microseconds apart (merged when the first is
# still pending, else two).  That is one stop, not a user's second Ctrl-C:
# the runs in progress (a request, 1 s asleep, a request) end within the
# grace.  The signals come once nginx has logged each run's first request.
: >"$NGINX_LOG"
start_loads sig_tests.TestSig.test_second --server-url "$NGINX_URL" -u 4 -w 2 -d 30s
wait_workers 2
wait_access_log 4
kill -TERM "$RUNNER"
sleep 0.01
kill -TERM "$RUNNER"
wait_loads
expect_status 143
expect_no_core
expect_out_line "Success: 4"
expect_out_line "Hits: 8"
expect_out_line "Errors: 0"
expect_access_log 8
expect_workers_gone

step "timeout(1)'s SIGTERM (a CI job's time limit) at 3 s: a graceful stop"
# The runs in progress at the stop end within the grace: every run that
# began ended with its two requests, no Errors, none cut.
: >"$NGINX_LOG"
LOADS_LIMIT=3 start_loads sig_tests.TestSig.test_second --server-url "$NGINX_URL" -u 4 -w 2 -d 30s
wait_loads
expect_status 124 # timeout's own status for a child it stopped
expect_no_core
expect_out_line "Errors: 0"
! grep -q '^Interrupted' "$OUT" || fail "stdout: runs were cut"
success=$(out_field Success)
expect_num "$success" ">=" 4 "successes"
expect_out_line "Hits: $((2 * success))"
expect_access_log "$((2 * success))"
grep -q "^Stopped by SIGTERM" "$OUT" || fail "stdout: no 'Stopped by SIGTERM' line"

step "SIGKILL to the supervisor: its workers die, the next run removes its segment"
start_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -u 4 -w 2 -d 30s
wait_workers 2
sleep 1
seg=/dev/shm/loads-$RUNNER
[[ -e $seg ]] || fail "loads-runner $RUNNER runs without its segment $seg"
kill -KILL "$RUNNER"
t0=$(now)
# Any loads-runner starting now removes the segment (shm_clean_stale), so
# look at once: another test running loads-runner at the same time could
# (seen with two e2e files at a time); then it is not this run's doing.
if [[ ! -e $seg ]]; then
    others=$(pgrep -x loads-runner | grep -vxF -e "$RUNNER" "${WORKERS[@]/#/-e}" || true)
    [[ -n $others ]] || fail "the segment $seg of the killed supervisor is gone already"
    echo "  note: $seg is gone already; other loads-runners run here: $others"
fi
wait_loads # timeout, its parent, ends with it
for ((i = 0; i < 100; i++)); do
    [[ -z $(live_workers "${WORKERS[@]}") ]] && break
    sleep 0.1
done
left=$(live_workers "${WORKERS[@]}")
[[ -z $left ]] || fail "workers of the killed supervisor still running 10 s later:" \
    "$(ps -o pid,ppid,stat,etime,args -p "${left//$'\n'/,}" || true)"
echo "  workers gone $(since "$t0") s after the SIGKILL"
run_loads sig_tests.TestSig.test_browse --server-url "$NGINX_URL" -q
expect_status 0
expect_out_line "Hits: 1"
[[ ! -e $seg ]] || fail "the next run did not remove the stale segment $seg"
