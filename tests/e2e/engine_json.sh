#!/usr/bin/env bash
# --output json prints the summary as one JSON document, with the same
# counts as the text summary of the same plan; --json FILE writes that
# document to FILE as well.
source "$(dirname "$0")/../lib.sh"

use_module engine_counter.c
start_nginx
test=engine_counter.TestCounter.test_login
plan=(--server-url "$NGINX_URL" -u 4 -c 5)

# jq_out FILTER [FILE]: jq -r FILTER on FILE (default: the last stdout).
jq_out() {
    jq -er "$1" "${2:-$OUT}" || fail "jq '$1' on ${2:-stdout}: no such value or not JSON"
}

# expect_json_summary FILE: FILE is the JSON summary of 4 x 5 passing runs.
expect_json_summary() {
    jq -e 'type == "object"' "$1" >/dev/null || fail "$1: not a JSON object" "$(cat "$1")"
    expect_eq "$(jq_out .hits "$1")" 20 ".hits"
    expect_eq "$(jq_out .success "$1")" 20 ".success"
    expect_eq "$(jq_out .failures "$1")" 0 ".failures"
    expect_eq "$(jq_out .errors "$1")" 0 ".errors"
    expect_eq "$(jq_out .runs "$1")" 20 ".runs"
    expect_eq "$(jq_out .planned_runs "$1")" 20 ".planned_runs"
    expect_eq "$(jq_out .counters.logins "$1")" 20 ".counters.logins"
    expect_eq "$(jq_out '.counters | length' "$1")" 1 "number of .counters"
    expect_num "$(jq_out .latency_ms.p50 "$1")" ">" 0 ".latency_ms.p50"
    expect_eq "$(jq_out '.urls | length' "$1")" 1 "number of .urls"
    expect_eq "$(jq_out '.urls[0].hits' "$1")" 20 ".urls[0].hits"
    expect_eq "$(jq_out '.urls[0].url' "$1")" "GET $NGINX_URL/" ".urls[0].url"
    expect_eq "$(jq_out .test "$1")" "$test" ".test"
    expect_eq "$(jq_out .exit_status "$1")" 0 ".exit_status"
}

step "text summary"
run_loads "$test" "${plan[@]}"
expect_status 0
expect_out_line "Custom counters:"
expect_out_line "  logins: 20"
declare -A text
for field in Hits Success Failures Errors; do
    text[$field]=$(out_field "$field")
done
expect_access_log 20

step "--output json: the same counts, as JSON only"
run_loads "$test" "${plan[@]}" --output json
expect_status 0
expect_no_core
[[ ! -s $ERR ]] || fail "stderr: expected nothing"
cp "$OUT" stdout.json
expect_json_summary stdout.json
expect_eq "$(jq_out .hits)" "${text[Hits]}" ".hits against the text summary's Hits"
expect_eq "$(jq_out .success)" "${text[Success]}" ".success against the text summary's Success"
expect_eq "$(jq_out .failures)" "${text[Failures]}" ".failures against the text summary's Failures"
expect_eq "$(jq_out .errors)" "${text[Errors]}" ".errors against the text summary's Errors"
expect_access_log 40

step "--json FILE: the text summary on stdout, the JSON in FILE"
run_loads "$test" "${plan[@]}" --json summary.json
expect_status 0
[[ -f summary.json ]] || fail "--json summary.json: no file written"
expect_out_line "Hits: 20"
expect_out_line "Success: 20"
expect_out_line "  logins: 20"
jq -e . "$OUT" >/dev/null 2>&1 && fail "stdout: expected the text summary, got JSON"
expect_json_summary summary.json
expect_eq "$(jq_out .duration summary.json | awk '{ printf "%.2f", $1 }')" \
    "$(out_field Duration)" ".duration against the same run's text Duration"
expect_access_log 60

step "--output json --json FILE: the same document twice"
rm -f summary.json
run_loads "$test" "${plan[@]}" --output json --json summary.json
expect_status 0
expect_json_summary summary.json
cmp -s "$OUT" summary.json || fail "--json FILE differs from the --output json stdout" \
    "$(diff "$OUT" summary.json || true)"
expect_access_log 80

step "--output json with test code that prints: stdout is the JSON alone, the prints on stderr"
use_module engine_print.c
run_loads engine_print.TestPrint.test_chatty --server-url "$NGINX_URL" -u 3 -c 2 -w 2 \
    --output json
expect_status 0
expect_no_core
jq -e 'type == "object"' "$OUT" >/dev/null || fail "stdout: not one JSON document"
expect_eq "$(jq_out .success)" 6 ".success"
! grep -q "engine_print: " "$OUT" || fail "stdout: test code's output mixed into the JSON"
# Each of the 6 runs printed four lines; all of them went to stderr.
for what in "printf, user" "puts {" "write(1)" "stderr"; do
    n=$(grep -c "^engine_print: $what" "$ERR" || true)
    expect_eq "$n" 6 "lines 'engine_print: $what' on stderr"
done
expect_access_log 86
