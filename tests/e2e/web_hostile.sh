#!/usr/bin/env bash
# Hostile clients of the web view cost only their own connections: a
# request that never ends is closed by the view (its time is up), a 1 MB
# header is cut off, many idle connections do not keep others out for
# long; meanwhile /stats.json answers, and the run ends by its own count
# with every planned run made and its hits equal to nginx's log.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/web_lib.bash"

use_module engine_get.c
start_nginx
test=engine_get.TestGet.test_root

# hostile: connects as the cases below say, prints what the view did.
cat >"$TMP_ROOT/hostile.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])

def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=20)

def closed(s):
    """Waits for the view to close s: 'closed' (EOF or reset) or 'open'."""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return "closed"
    except ConnectionResetError:
        return "closed"
    except socket.timeout:
        return "open"

slow = conn()
slow.sendall(b"GET /stats.json HTTP/1.1\r\nHost: x\r\n")   # and never the end
idle = [conn() for _ in range(80)]                          # more than it takes at once
big = conn()
try:
    big.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    print("big: sent")
except (BrokenPipeError, ConnectionResetError):
    print("big: cut off")
print("big:", closed(big))
t = time.monotonic()
print("slow:", closed(slow))
print("slow closed after at least 1 s:", time.monotonic() - t >= 1)
for s in idle:
    s.close()
PY

step "a hits run with --web and hostile clients"
WEB_PORT=$(free_port)
base=$(access_log_lines)
# A long linger, ended by a SIGINT once the checks are done: the hostile
# clients may outlast a short one on a busy machine.
start_loads "$test" --server-url "$NGINX_URL" -u 4 -c 3000 -w 2 --web "$WEB_PORT" \
    --web-linger 60 --json "$TMP_ROOT/final.json"
wait_web "$LOADS_PID"
RUNNER=$(runner_pid)
python3 "$TMP_ROOT/hostile.py" "$WEB_PORT" >"$TMP_ROOT/hostile.out" &
hostile=$!
PIDS+=("$hostile")
sleep 0.5
# Meanwhile, once the idle ones are gone, a good client is answered.
for ((i = 0; i < 80; i++)); do
    curl -sf --max-time 1 -o "$TMP_ROOT/during.json" "http://127.0.0.1:$WEB_PORT/stats.json" &&
        break
    sleep 0.1
done
jq -e .hits "$TMP_ROOT/during.json" >/dev/null || fail "no /stats.json among hostile clients"
wait "$hostile" || fail "the hostile client failed" "$(cat "$TMP_ROOT/hostile.out")"
cat "$TMP_ROOT/hostile.out"
grep -qx "big: closed" "$TMP_ROOT/hostile.out" || fail "the 1 MB header was not cut off"
grep -qx "slow: closed" "$TMP_ROOT/hostile.out" || fail "the endless request was never closed"
grep -qx "slow closed after at least 1 s: True" "$TMP_ROOT/hostile.out" ||
    fail "the endless request was closed before its time"

step "the run made its plan: 12000 runs, hits equal nginx's log"
wait_web_done
expect_eq "$(jq -r .runs "$TMP_ROOT/final.json")" 12000 "runs"
expect_eq "$(jq -r .hits "$TMP_ROOT/final.json")" 12000 "hits"
expect_eq "$(web_get /stats.json | jq -r .hits)" 12000 "hits on /stats.json"
expect_access_log $((base + 12000))
kill -INT "$RUNNER" # ends the linger early
wait_loads
expect_status 0
[[ ! -e /dev/shm/loads-$RUNNER ]] || fail "segment left behind"
