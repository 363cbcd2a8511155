#!/usr/bin/env bash
# Security: key pairs made by loads-broker --keygen (mode 0600); a broker
# with keys lets in the agents and runners of its allow list only: an
# agent with a key it does not know, a runner with such a key, and a
# runner without keys are refused with a clear message, and the broker
# logs the refusal.  Without keys, a broker will not listen on anything
# but loopback or ipc.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

K=$TMP_ROOT/keys
mkdir -p "$K/allow"

step "keys"
for n in broker agent1 agent2 runner stranger; do
    "$BUILD/loads-broker" --keygen "$K/$n" >/dev/null || fail "--keygen $n"
done
expect_eq "$(stat -c %a "$K/agent1_secret")" 600 "mode of a secret key"
expect_eq "$(stat -c %a "$K/agent1")" 600 "mode of a public key"
"$BUILD/loads-broker" --keygen "$K/agent1" >/dev/null 2>"$TMP_ROOT/err" &&
    fail "--keygen overwrote a key"
grep -q "exists already" "$TMP_ROOT/err" || fail "--keygen over a key: $(cat "$TMP_ROOT/err")"
cp "$K/agent1" "$K/agent2" "$K/runner" "$K/allow/"

step "no keys, not loopback: refused"
"$BUILD/loads-broker" --endpoint tcp://0.0.0.0:7 >"$TMP_ROOT/out" 2>"$TMP_ROOT/err" &&
    fail "a broker without keys listened on 0.0.0.0"
grep -q "refusing to listen on tcp://0.0.0.0:7 without keys" "$TMP_ROOT/err" ||
    fail "stderr: $(cat "$TMP_ROOT/err")"

use_module example.c
start_nginx
start_broker --key "$K/broker" --allow "$K/allow"
start_agent a1 --key "$K/agent1" --broker-key "$K/broker"
A1=$AGENT_PID
start_agent bad --key "$K/stranger" --broker-key "$K/broker"
BAD=$AGENT_PID
RUNNER_KEYS=(--key "$K/runner" --broker-key "$K/broker")
wait_agents 1 "${RUNNER_KEYS[@]}"

step "the allowed runner runs on the allowed agent only"
run_loads example.TestWebSite.test_something --server-url "$NGINX_URL" -c 5 --agents 1 \
    --broker "$BROKER" "${RUNNER_KEYS[@]}"
expect_status 0
expect_out_line "Hits: 5"
expect_access_log 5
expect_out_contains "a1:"
cluster_check "${RUNNER_KEYS[@]}"
grep -q '^  bad ' <<<"$CHECK_OUT" && fail "the stranger agent registered" "$CHECK_OUT"

step "shipped code runs in a process that never held the agent's secret key"
# The agent's child is this program again (fork and exec), not a copy of
# the agent: the agent's secret key, as text (Z85) or as its 32 bytes, is
# in no readable page of the child or of its workers (which run the
# shipped code); it is in the agent's, which proves the search would see
# it.  (Shipped code still runs as the agent's user: README says what
# that means for its key files.)  The run lasts until the search is done
# and is then stopped: a 3 s run ended during a slow search (a busy
# machine, ASan's large mappings) and took a process away from it.
start_loads example.TestWebSite.test_something --server-url "$NGINX_URL" -d 60s -u 1 \
    --agents 1 --broker "$BROKER" "${RUNNER_KEYS[@]}"
for ((i = 0; i < 300; i++)); do
    mapfile -t loads_pids < <(load_pids_of_agent "$A1")
    ((${#loads_pids[@]} >= 2)) && break
    sleep 0.1
done
((${#loads_pids[@]} >= 2)) || fail "no child and worker of a1 ($A1) during the run"
secret=$(sed -n 's/^ *secret-key = "\(.*\)"$/\1/p' "$K/agent1_secret")
((${#secret} == 40)) || fail "no Z85 secret key in $K/agent1_secret"
key_in_memory() {
    python3 - "$1" "$secret" <<'PY'
import re, sys
pid, z = sys.argv[1], sys.argv[2]
alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
raw = bytearray()
for i in range(0, 40, 5):
    v = 0
    for c in z[i:i + 5]:
        v = v * 85 + alphabet.index(c)
    raw += v.to_bytes(4, "big")
# Read in pieces (with an overlap for a key across two), skipping
# mappings of 1 GiB or more: ASan's shadow is terabytes of untouched
# pages, and no key lives there.
needles, step, found = (z.encode(), bytes(raw)), 1 << 20, 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
        if not m or "[vvar]" in line or "[vsyscall]" in line:
            continue
        a, b = int(m.group(1), 16), int(m.group(2), 16)
        if b - a >= 1 << 30:
            continue
        tail = b""
        for at in range(a, b, step):
            try:
                mem.seek(at)
                data = tail + mem.read(min(step, b - at))
            except OSError:
                tail = b""
                continue
            if any(n in data for n in needles):
                found = 1
            tail = data[-64:]
print(found)
PY
}
expect_eq "$(key_in_memory "$A1")" 1 "the agent's own memory holds its secret key (the search works)"
for p in "${loads_pids[@]}"; do
    [[ -d /proc/$p ]] || continue
    expect_eq "$(key_in_memory "$p")" 0 "the secret key in process $p ($(tr '\0' ' ' </proc/"$p"/cmdline))"
done
kill -TERM "$(runner_pid)"
wait_loads
expect_status 143 # stopped by the SIGTERM above

step "the stranger agent: refused, told, logged"
for ((i = 0; i < 80; i++)); do
    grep -q "refused this side's key" "$TMP_ROOT/agent-bad.log" && break
    sleep 0.1
done
grep -q "refused this side's key" "$TMP_ROOT/agent-bad.log" ||
    fail "the stranger agent was not told" "$(cat "$TMP_ROOT/agent-bad.log")"
alive "$BAD" || fail "the stranger agent died instead of waiting"
grep -q "refused a client from 127.0.0.1: public key .* is not in the allow list" \
    "$BROKER_LOG" || fail "the broker did not log the refusal"

step "a runner with a key the broker does not know"
run_loads --ping-broker --broker "$BROKER" --key "$K/stranger" --broker-key "$K/broker"
expect_usage_error
expect_err_contains "the broker refused this side's key"
echo "  stderr: $(cat "$ERR")"

step "a runner without keys"
run_loads --ping-broker --broker "$BROKER"
expect_usage_error
expect_err_contains "$BROKER: "
# The broker notices on its next round (within a heartbeat period).
for ((i = 0; i < 30; i++)); do
    grep -q "failed the CURVE handshake (no keys, or not this broker's public key)" \
        "$BROKER_LOG" && break
    sleep 0.1
done
grep -q "failed the CURVE handshake (no keys, or not this broker's public key)" "$BROKER_LOG" ||
    fail "the broker did not log the keyless runner"
echo "  stderr: $(cat "$ERR")"
