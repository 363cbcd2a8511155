#!/usr/bin/env bash
# A cluster over a network: the broker, two agents, nginx and the runner,
# each in a network namespace of its own, joined by veth pairs to a bridge
# (in a namespace of the test's too), on addresses of the test's own
# subnet.  The broker listens on its namespace's address, so it must have
# keys; the agents reach nginx only by its namespace address.  2 agents x
# 10 hits = nginx's 20 lines, every one from an agent's address.  Skipped,
# with a message, where namespaces cannot be made (not root, no ip).
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

NET=10.250.13
TAG=lt$$                                  # names of namespaces and links
NSS=(sw b a1 a2 w r)                      # bridge, broker, agents, web, runner
declare -A ADDR=([b]=$NET.1 [a1]=$NET.2 [a2]=$NET.3 [w]=$NET.4 [r]=$NET.5)

netns_exit() {
    local rc=$? p ns
    set +e
    ((rc == 0)) || agent_logs
    for p in "${PIDS[@]}"; do
        stop_pid "$p"
    done
    PIDS=()
    for ns in "${NSS[@]}"; do
        ip netns del "$TAG-$ns" 2>/dev/null
    done
    (exit "$rc")
    cleanup
}
trap netns_exit EXIT

# nsx NS CMD...: runs CMD in namespace NS.
# exec: started in the background, the process is the command itself (its
# pid in PIDS), not a shell above it.
nsx() {
    local ns=$1
    shift
    exec ip netns exec "$TAG-$ns" "$@"
}

step "namespaces"
if [[ $(id -u) != 0 ]] || ! command -v ip >/dev/null || ! ip netns add "$TAG-sw" 2>/dev/null; then
    echo "SKIP: cannot make network namespaces here (needs root and iproute2)"
    exit 0
fi
(nsx sw ip link add br0 type bridge) || fail "cannot make a bridge"
(nsx sw ip link set br0 up)
for ns in b a1 a2 w r; do
    ip netns add "$TAG-$ns" || fail "cannot make namespace $TAG-$ns"
    ip link add "$TAG$ns" type veth peer name "$TAG${ns}s" || fail "cannot make a veth pair"
    ip link set "$TAG$ns" netns "$TAG-$ns"
    ip link set "$TAG${ns}s" netns "$TAG-sw"
    (nsx sw ip link set "$TAG${ns}s" master br0 up)
    (nsx "$ns" ip addr add "${ADDR[$ns]}/24" dev "$TAG$ns")
    (nsx "$ns" ip link set "$TAG$ns" up)
    (nsx "$ns" ip link set lo up)
done
echo "  namespaces $TAG-{${NSS[*]}}, subnet $NET.0/24"

step "nginx in its namespace, on ${ADDR[w]}"
dir=$TMP_ROOT/nginx
mkdir -p "$dir/www" "$dir/tmp"
sed -e "s|listen 127.0.0.1:@PORT@|listen ${ADDR[w]}:8080|" -e "s|@DIR@|$dir|g" \
    -e "s|@CONNECTIONS@|256|g" -e "s|@NOFILE@|600|g" "$REPO/tests/nginx.conf.in" >"$dir/nginx.conf"
nsx w "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null \
    >"$dir/nginx.out" 2>&1 &
PIDS+=("$!")
NGINX_LOG=$dir/access.log
for ((i = 0; i < 50; i++)); do
    [[ -e $dir/nginx.pid ]] && break
    sleep 0.1
done
[[ -e $dir/nginx.pid ]] || fail "nginx did not start" "$(cat "$dir/nginx.out" "$dir/error.log")"
URL=http://${ADDR[w]}:8080

step "keys, broker on ${ADDR[b]}, agents"
K=$TMP_ROOT/keys
mkdir -p "$K/allow"
for n in broker agent1 agent2 runner; do
    "$BUILD/loads-broker" --keygen "$K/$n" >/dev/null || fail "--keygen $n"
done
cp "$K/agent1" "$K/agent2" "$K/runner" "$K/allow/"
BROKER=tcp://${ADDR[b]}:7780
BROKER_LOG=$TMP_ROOT/broker.log
nsx b "$BUILD/loads-broker" --endpoint "$BROKER" --key "$K/broker" --allow "$K/allow" \
    </dev/null >"$BROKER_LOG" 2>&1 &
PIDS+=("$!")
for n in 1 2; do
    mkdir -p "$TMP_ROOT/agent-a$n"
    nsx "a$n" "$BUILD/loads-agent" --broker "$BROKER" --name "a$n" --work-dir "$TMP_ROOT/agent-a$n" \
        --key "$K/agent$n" --broker-key "$K/broker" </dev/null >"$TMP_ROOT/agent-a$n.log" 2>&1 &
    PIDS+=("$!")
done
RK=(--key "$K/runner" --broker-key "$K/broker")
for ((i = 0; i < 100; i++)); do
    CHECK_OUT=$(nsx r "$BUILD/loads-runner" --check-cluster --broker "$BROKER" "${RK[@]}" 2>&1) || true
    (($(grep -c ' idle ' <<<"$CHECK_OUT" || true) == 2)) && break
    sleep 0.1
done
(($(grep -c ' idle ' <<<"$CHECK_OUT" || true) == 2)) || fail "2 agents did not register" "$CHECK_OUT"
echo "$CHECK_OUT"

step "the run, from the runner's namespace"
use_module example.c
# shellcheck disable=SC2034 # read by the expect_* of lib.sh
LAST_RUN="loads-runner (in $TAG-r) example.TestWebSite.test_something -u 2 -c 5 --agents 2"
STATUS=0
# shellcheck disable=SC2034 # STATUS is read by expect_status
(nsx r "$BUILD/loads-runner" example.TestWebSite.test_something --server-url "$URL" -u 2 -c 5 \
    --agents 2 --broker "$BROKER" "${RK[@]}") </dev/null >"$OUT" 2>"$ERR" || STATUS=$?
expect_status 0
expect_out_line "Hits: 20"
expect_out_contains "Agents: 2 (0 lost)"
expect_access_log 20
froms=$(awk '{ print $1 }' "$NGINX_LOG" | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
echo "  nginx's clients: $froms"
expect_eq "$froms" "${ADDR[a1]}=10 ${ADDR[a2]}=10 " "requests by client address"
