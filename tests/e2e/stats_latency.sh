#!/usr/bin/env bash
# solo: it compares the client's times with nginx's, within a slack
# The statistics of the summary, text and JSON, against the server's clock:
# nginx answers after known sleeps (echo_sleep) and logs its own time for
# each request ($request_time, 1 ms resolution) in stats.log.  Every figure
# (min, p50, p90, p99, p99.9, max, mean, the average request time, the
# slowest URL, each URL's hits, mean, p50, p99) must agree with the same
# figure computed from nginx's log, sorted, and with the known sleeps.
#
# The client's time of a request is the server's plus the loopback and the
# client's own scheduling: a figure may exceed the server's by SLACK_MS
# (plus 15%), which on this shared 2-core machine (and under ASan) covers a
# worker that waits for a core (a 257 ms request was seen at 285.9 ms under
# ASan with both cores busy, a 0 ms one at 11.4 ms); never by less than
# nginx's 1 ms rounding.
# The levels (0, 20, 80, 250 ms) are far further apart than that, so a
# percentile taken from the wrong rank, a mean off by a factor or the
# fastest URL called the slowest all fail.  The URL table keys a URL
# without its query (nginx's $uri): the fast requests, each with a query of
# its own, are one row.
source "$(dirname "$0")/../lib.sh"

SLACK_MS=15

use_module stats.c
start_nginx
LOG=$NGINX_DIR/stats.log

# ref URI P: the value in ms at percentile P (ceil(P% of N)-th smallest, as
# the histogram ranks) of nginx's times for URI ("" for every request);
# P "mean" gives the mean, P "count" the number of requests.
ref() {
    awk -v uri="$1" '$1 == uri || uri == "" { print $2 * 1000 }' "$LOG" | sort -n |
        awk -v p="$2" '{ v[++n] = $1; sum += $1 }
            END {
                if (p == "count") { print n; exit }
                if (n == 0) exit 1
                if (p == "mean") { printf "%.3f\n", sum / n; exit }
                r = p * n / 100; k = int(r); if (k < r) k++; if (k < 1) k = 1
                print v[k]
            }'
}

# to_ms "12.3 ms" | "1.25 s" | "0.01s": a summary figure in ms.
to_ms() {
    awk -v s="$*" 'BEGIN {
        n = split(s, f, " ")
        if (n == 1) { v = f[1]; sub(/s$/, "", v); u = "s" } else { v = f[1]; u = f[2] }
        if (v !~ /^[0-9]+(\.[0-9]+)?$/) exit 1
        printf "%.3f\n", (u == "s" ? v * 1000 : v)
    }' || fail "not a time: '$*'"
}

# expect_near WHAT GOT_MS REF_MS [ROUND_MS]: GOT is REF give or take nginx's
# 1 ms and the printed rounding ROUND_MS below, SLACK_MS + 15% above.
expect_near() {
    local lo hi
    lo=$(awk -v r="$3" -v d="${4:-0}" 'BEGIN { printf "%.3f", r - 1 - d }')
    hi=$(awk -v r="$3" -v d="${4:-0}" -v s="$SLACK_MS" 'BEGIN { printf "%.3f", r + 1 + d + s + r * 0.15 }')
    echo "  $1: $2 ms, nginx: $3 ms"
    expect_num "$2" ">=" "$lo" "$1 (nginx: $3 ms)"
    expect_num "$2" "<=" "$hi" "$1 (nginx: $3 ms)"
}

step "-w 2 -u 5 -c 4: 201 requests of 0, 20, 80 and 250 ms"
run_loads stats.TestStats.test_mix --server-url "$NGINX_URL" -w 2 -u 5 -c 4 --json summary.json
expect_status 0
expect_out_line "Success: 20"
expect_out_line "Hits: 201"
expect_access_log 201
expect_eq "$(ref "" count)" 201 "requests in stats.log"
sort -k2 -n "$LOG" | awk '{ print "  nginx:", $0 }' | uniq -c | tail -n 8

step "nginx kept the known sleeps (the reference itself)"
# nginx's timers and $request_time read its cached clock (1 ms): a sleep
# may end, and be logged, up to 1 ms early.  Late it may be, on a busy
# machine (a 20 ms sleep logged as 55 ms with both cores busy): what the
# checks below need is that the levels stay apart, each one's slowest
# below the next one's fastest.
prev=/stats/fast
for s in 0.02 0.08 0.25; do
    expect_num "$(ref "/stats/sleep/$s" 0)" ">=" "$(awk -v s="$s" 'BEGIN { print s * 1000 - 1 }')" \
        "nginx's fastest /stats/sleep/$s in ms"
    expect_num "$(ref "$prev" 100)" "<" "$(ref "/stats/sleep/$s" 0)" \
        "nginx's slowest $prev against its fastest /stats/sleep/$s, in ms"
    prev=/stats/sleep/$s
done
expect_eq "$(ref /stats/fast count)" 120 "/stats/fast requests in stats.log"
expect_eq "$(ref /stats/sleep/0.02 count)" 60 "/stats/sleep/0.02 requests in stats.log"
expect_eq "$(ref /stats/sleep/0.08 count)" 20 "/stats/sleep/0.08 requests in stats.log"
expect_eq "$(ref /stats/sleep/0.25 count)" 1 "/stats/sleep/0.25 requests in stats.log"

step "text: the Response time line"
line=$(grep '^Response time: ' "$OUT") || fail "no 'Response time:' line"
echo "  $line"
re='^Response time: min ([0-9.]+ m?s), p50 ([0-9.]+ m?s), p90 ([0-9.]+ m?s), p99 ([0-9.]+ m?s), p99\.9 ([0-9.]+ m?s), max ([0-9.]+ m?s)$'
[[ $line =~ $re ]] || fail "'Response time:' line: unexpected format"
names=(min p50 p90 p99 p99.9 max)
pcts=(0 50 90 99 99.9 100)
for i in "${!names[@]}"; do
    # %.2f ms below 10 ms, %.1f ms below 1 s: half a unit of the last digit.
    expect_near "${names[i]}" "$(to_ms "${BASH_REMATCH[i + 1]}")" "$(ref "" "${pcts[i]}")" 0.05
done
# The levels themselves, as the plan makes them: fast, fast, 80, 80, 250, 250
# (a sleep may end 1 ms early, see above); each upper bound is the next
# level's (nginx may be late on a busy machine, see above).
expect_num "$(to_ms "${BASH_REMATCH[2]}")" "<" 19 "p50 (a fast request, not a 20 ms one) in ms"
expect_num "$(to_ms "${BASH_REMATCH[3]}")" ">=" 79 "p90 (an 80 ms request) in ms"
expect_num "$(to_ms "${BASH_REMATCH[4]}")" "<" "$(ref /stats/sleep/0.25 0)" \
    "p99 (an 80 ms request, not the 250 ms one) in ms"
expect_num "$(to_ms "${BASH_REMATCH[5]}")" ">=" 249 "p99.9 (the 250 ms request) in ms"

step "text: the average request time"
avg=$(out_field "Average request time")
# Two decimals of a second: the mean to 5 ms.
expect_near "Average request time" "$(to_ms "$avg")" "$(ref "" mean)" 5

step "text: the slowest URL"
line=$(grep '^Slowest URL: ' "$OUT") || fail "no 'Slowest URL:' line"
echo "  $line"
[[ $line =~ ^Slowest\ URL:\ GET\ (http://[^ ]+)\ \(mean\ ([0-9.]+\ m?s)\)$ ]] ||
    fail "'Slowest URL:' line: unexpected format"
expect_eq "${BASH_REMATCH[1]}" "$NGINX_URL/stats/sleep/0.25" "the slowest URL"
expect_near "slowest URL's mean" "$(to_ms "${BASH_REMATCH[2]}")" "$(ref /stats/sleep/0.25 mean)" 0.05

step "text: the URL table"
for uri in /stats/fast /stats/sleep/0.02 /stats/sleep/0.08 /stats/sleep/0.25; do
    row=$(awk -v k="$NGINX_URL$uri" '$1 == "GET" && $2 == k' "$OUT")
    [[ -n $row ]] || fail "no row for GET $NGINX_URL$uri in the URL table"
    echo "  $row"
    read -r _ _ hits success mean mean_u p50 p50_u p99 p99_u <<<"$row"
    expect_eq "$hits" "$(ref "$uri" count)" "hits of $uri against nginx's log"
    expect_eq "$success" "100.0%" "success of $uri"
    expect_near "$uri mean" "$(to_ms "$mean $mean_u")" "$(ref "$uri" mean)" 0.05
    expect_near "$uri p50" "$(to_ms "$p50 $p50_u")" "$(ref "$uri" 50)" 0.05
    expect_near "$uri p99" "$(to_ms "$p99 $p99_u")" "$(ref "$uri" 99)" 0.05
done
expect_eq "$(grep -c "^GET $NGINX_URL/" "$OUT")" 4 "rows in the URL table"

step "JSON: latency_ms and each URL's, against nginx's log"
jqs() {
    jq -er "$1" summary.json || fail "jq '$1': no such value in summary.json"
}
expect_eq "$(jqs .latency_ms.count)" 201 ".latency_ms.count"
expect_eq "$(jqs .hits)" 201 ".hits"
for i in "${!names[@]}"; do
    expect_near ".latency_ms.${names[i]}" "$(jqs ".latency_ms[\"${names[i]}\"]")" "$(ref "" "${pcts[i]}")"
done
expect_near ".latency_ms.mean" "$(jqs .latency_ms.mean)" "$(ref "" mean)"
expect_near ".average_request_time" \
    "$(jqs '.average_request_time * 1000')" "$(ref "" mean)"
expect_eq "$(jqs '.urls | length')" 4 "number of .urls"
for uri in /stats/fast /stats/sleep/0.02 /stats/sleep/0.08 /stats/sleep/0.25; do
    u=".urls[] | select(.url == \"GET $NGINX_URL$uri\")"
    expect_eq "$(jqs "$u | .hits")" "$(ref "$uri" count)" "$uri .hits"
    expect_eq "$(jqs "$u | .ok")" "$(ref "$uri" count)" "$uri .ok"
    expect_eq "$(jqs "$u | .latency_ms.count")" "$(ref "$uri" count)" "$uri .latency_ms.count"
    expect_near "$uri .latency_ms.mean" "$(jqs "$u | .latency_ms.mean")" "$(ref "$uri" mean)"
    for i in "${!names[@]}"; do
        expect_near "$uri .latency_ms.${names[i]}" "$(jqs "$u | .latency_ms[\"${names[i]}\"]")" \
            "$(ref "$uri" "${pcts[i]}")"
    done
done
# Sorted by hits, most first.
expect_eq "$(jqs '[.urls[].hits] | . == (sort | reverse)')" true ".urls sorted by hits"
