#!/usr/bin/env bash
# Cycles: -u A:B:C runs A, then B, then C VUs; -c X:Y gives each VU X, then
# Y hits; every VU of every cycle does them all.
source "$(dirname "$0")/../lib.sh"

use_module engine_get.c
start_nginx
test=engine_get.TestGet.test_root

step "-u 10:20:30 -c 20: (10+20+30)*20 = 1200 runs"
run_loads "$test" --server-url "$NGINX_URL" -u 10:20:30 -c 20
expect_status 0
expect_no_core
expect_out_line "Hits: 1200"
expect_out_line "Success: 1200"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_access_log 1200

step "-u 2:3 -c 2:3: (2+3)*(2+3) = 25 runs"
run_loads "$test" --server-url "$NGINX_URL" -u 2:3 -c 2:3
expect_status 0
expect_no_core
expect_out_line "Hits: 25"
expect_out_line "Success: 25"
expect_out_line "Errors: 0"
expect_out_line "Failures: 0"
expect_access_log 1225

# cycles_apart N1 N2: in at.log (time, connection, URI), sorted by time, the
# first N1 requests and the N2 after them come from two disjoint sets of
# connections (a cycle's VUs keep theirs; the next cycle's workers are new),
# the second set starting after the first ended; prints the seconds from the
# first request of the first cycle to the first of the second.
cycles_apart() {
    local log=$NGINX_DIR/at.log
    expect_eq "$(grep -c '' "$log")" $(($1 + $2)) "requests in at.log"
    sort -n "$log" | awk -v n1="$1" '
        NR <= n1 { one[$2] = 1; if (NR == 1) t1 = $1; end1 = $1; next }
        $2 in one { print "FAIL a connection of cycle 1 in cycle 2: " $0; exit }
        NR == n1 + 1 { t2 = $1 }
        END { if (t2) printf "%.3f\n", t2 - t1 }'
}

step "-u 2:3 -c 2: the cycles run one after the other, not at once"
: >"$NGINX_DIR/at.log"
run_loads engine_get.TestGet.test_at_twice --server-url "$NGINX_URL" -u 2:3 -c 2
expect_status 0
expect_out_line "Success: 10"
apart=$(cycles_apart 8 12)
[[ $apart != FAIL* ]] || fail "$apart" "$(sort -n "$NGINX_DIR/at.log")"
expect_eq "$(sort -n "$NGINX_DIR/at.log" | head -n 8 | awk '{ print $2 }' | sort -u | wc -l)" 2 \
    "connections of cycle 1 (2 VUs)"
expect_eq "$(sort -n "$NGINX_DIR/at.log" | tail -n 12 | awk '{ print $2 }' | sort -u | wc -l)" 3 \
    "connections of cycle 2 (3 VUs)"
# Cycle 1 is 2 runs of 0.3 s at least.
expect_num "$apart" ">=" 0.6 "seconds from cycle 1's first request to cycle 2's"

step "-u 1:2 -d 1s: two cycles of a second each, one after the other"
: >"$NGINX_DIR/at.log"
run_loads engine_get.TestGet.test_at_twice --server-url "$NGINX_URL" -u 1:2 -d 1s
expect_status 0
n=$(grep -c '' "$NGINX_DIR/at.log")
first=$(sort -n "$NGINX_DIR/at.log" | head -n 1 | awk '{ print $2 }')
n1=$(awk -v c="$first" '$2 == c' "$NGINX_DIR/at.log" | grep -c '')
# 1 VU for 1 s, runs of 0.3 s: 4 runs (the last started before the end),
# or 3 when the worker started late (ASan, a loaded machine).
((n1 == 8 || n1 == 6)) || fail "requests of cycle 1: expected 8 (or 6), got $n1" \
    "$(sort -n "$NGINX_DIR/at.log")"
apart=$(cycles_apart "$n1" $((n - n1)))
[[ $apart != FAIL* ]] || fail "$apart" "$(sort -n "$NGINX_DIR/at.log")"
expect_eq "$(sort -n "$NGINX_DIR/at.log" | tail -n $((n - n1)) | awk '{ print $2 }' | sort -u | wc -l)" 2 \
    "connections of cycle 2 (2 VUs)"
((n - n1 == 16 || n - n1 == 14 || n - n1 == 12)) ||
    fail "requests of cycle 2: expected 16 (2 VUs, 4 runs of 2 each; 12 or 14 when late), got $((n - n1))" \
        "$(sort -n "$NGINX_DIR/at.log")"
# The second cycle starts when the first has ended: after its second, and
# its last run (started before the end, 0.3 s long); 0.9 to 1.6 s from the
# first request of cycle 1, which comes a little after the cycle's start
# (up to 0.1 s under ASan), with slack for a shared machine.
expect_between "seconds from cycle 1's first request to cycle 2's" 0.9 1.6 "$apart"
