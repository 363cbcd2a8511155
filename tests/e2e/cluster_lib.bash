# shellcheck shell=bash disable=SC2034 # sourced by tests/e2e/cluster_*.sh after lib.sh
# Helpers of the cluster tests: a broker and agents on loopback, each
# logging into TMP_ROOT, each stopped on exit by lib.sh's cleanup (they are
# in PIDS; an agent stops its run on SIGTERM).

AGENT_PIDS=()

# start_broker ARGS...: loads-broker on a free loopback port with ARGS (30 s
# at most for it to listen); sets BROKER (its endpoint), BROKER_PID and
# BROKER_LOG.
start_broker() {
    local port i
    port=$(free_port)
    BROKER=tcp://127.0.0.1:$port
    BROKER_LOG=$TMP_ROOT/broker.log
    "$BUILD/loads-broker" --endpoint "$BROKER" "$@" </dev/null >>"$BROKER_LOG" 2>&1 &
    BROKER_PID=$!
    PIDS+=("$BROKER_PID")
    for ((i = 0; i < 300; i++)); do
        grep -qs "listening on $BROKER" "$BROKER_LOG" && {
            echo "loads-broker: $BROKER (pid $BROKER_PID)"
            return 0
        }
        alive "$BROKER_PID" || break
        sleep 0.1
    done
    fail "loads-broker did not start" "$(cat "$BROKER_LOG")"
}

# start_agent NAME ARGS...: a loads-agent registered as NAME, its log in
# TMP_ROOT/agent-NAME.log; sets AGENT_PID and adds it to AGENT_PIDS.
start_agent() {
    local name=$1
    shift
    mkdir -p "$TMP_ROOT/agent-$name"
    "$BUILD/loads-agent" --broker "$BROKER" --name "$name" \
        --work-dir "$TMP_ROOT/agent-$name" "$@" </dev/null >"$TMP_ROOT/agent-$name.log" 2>&1 &
    AGENT_PID=$!
    AGENT_PIDS+=("$AGENT_PID")
    PIDS+=("$AGENT_PID")
    echo "loads-agent $name: pid $AGENT_PID"
}

# cluster_check ARGS...: loads-runner --check-cluster --broker BROKER ARGS; its
# output in CHECK_OUT.
cluster_check() {
    CHECK_OUT=$("$BUILD/loads-runner" --check-cluster --broker "$BROKER" "$@" 2>&1) || true
}

# wait_agents N ARGS...: waits (30 s at most: agents under a sanitizer on a
# busy machine are slow to start) until N agents are idle.
wait_agents() {
    local n=$1 i idle
    shift
    for ((i = 0; i < 300; i++)); do
        cluster_check "$@"
        idle=$(grep -c ' idle ' <<<"$CHECK_OUT" || true)
        ((idle >= n)) && { echo "  $idle idle agents"; return 0; }
        sleep 0.1
    done
    fail "expected $n idle agents" "$CHECK_OUT" "broker log:" "$(cat "$BROKER_LOG")"
}

# agent_logs: every agent's log and the broker's, for a failure report.
agent_logs() {
    local f
    for f in "${BROKER_LOG:-}" "$TMP_ROOT"/agent-*.log; do
        [[ -f $f ]] && { echo "== $f"; cat "$f"; }
    done
    return 0
}

# load_pids_of_agent PID: the agent's child supervisor and its workers.
load_pids_of_agent() {
    local kids k
    mapfile -t kids < <(pgrep -P "$1" || true)
    for k in "${kids[@]}"; do
        echo "$k"
        pgrep -P "$k" || true
    done
}

# agent_sport PID: the local port of agent PID's connection to the
# broker ($BROKER's port).
agent_sport() {
    ss -Htnp state established "dport = :${BROKER##*:}" | grep "pid=$1," |
        awk '{ n = split($3, a, ":"); print a[n] }' | head -n 1
}

# cut_or_skip PID: destroys agent PID's connection to the broker once (ss
# -K), or ends the test with SKIP where ss cannot destroy sockets (a
# kernel without INET_DIAG_DESTROY); then waits for the agents to be back.
cut_or_skip() {
    local sport
    sport=$(agent_sport "$1")
    [[ -n $sport ]] || fail "no connection of agent $1 to the broker ($BROKER)" "$(ss -Htnp)"
    if ! ss -K "sport = :$sport" "dport = :${BROKER##*:}" >/dev/null 2>&1 ||
        [[ $(agent_sport "$1") == "$sport" ]]; then
        echo "SKIP: ss cannot destroy sockets here (kernel without INET_DIAG_DESTROY)"
        exit 0
    fi
}

# On a failure, the broker's and agents' logs go into the test's log.
cluster_fail_logs() {
    local rc=$?
    set +e
    ((rc == 0)) || agent_logs
    (exit "$rc") # cleanup exits with the status it finds
    cleanup
}
trap cluster_fail_logs EXIT
