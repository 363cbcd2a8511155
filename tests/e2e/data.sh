#!/usr/bin/env bash
# --data FILE.csv: each run (or, with --data-per vu, each VU) takes the
# next row, no row twice until the file wraps, over several workers; the
# rows each request carried, in nginx's log, are checked against the file.
# Bad CSV is exit 2 with its line and column.  --env values reach the test.
source "$(dirname "$0")/../lib.sh"

use_module data_cases.c
start_nginx

{
    echo "id,name"
    for i in $(seq 1 29); do echo "$i,name $i"; done
    echo '30,"Smith, ""Bob"""'
} >items.csv

# rows: "id name vu" of each item request in nginx's log, URL-decoded.
rows() {
    awk '{ print $7 }' "$NGINX_LOG" | grep '^/api/items/' |
        sed -E 's|^/api/items/([0-9]+)\?name=([^&]*)&vu=([0-9]+)$|\1 \2 \3|' |
        python3 -c 'import sys, urllib.parse; [print(urllib.parse.unquote(l), end="") for l in sys.stdin]'
}
# expect_names_match: every row's name is the one the file has for its id.
expect_names_match() {
    local bad
    bad=$(rows | python3 -c '
import csv, sys
names = {r["id"]: r["name"] for r in csv.DictReader(open("items.csv"))}
for line in sys.stdin:
    id, rest = line.rstrip("\n").split(" ", 1)
    name, vu = rest.rsplit(" ", 1)
    if names.get(id) != name: print(line, end="")')
    [[ -z $bad ]] || fail "rows whose name is not the file's for their id:" "$bad"
}

step "a row per run: 20 runs on 2 workers take 20 different rows"
run_loads data_cases.TestData.test_row --server-url "$NGINX_URL" --data items.csv \
    -u 4 -c 5 -w 2
expect_status 0
expect_access_log 20
expect_eq "$(rows | awk '{ print $1 }' | sort -u | wc -l)" 20 "distinct rows taken"
expect_eq "$(rows | awk '$1 < 1 || $1 > 30' | wc -l)" 0 "rows outside the file"
expect_names_match

step "40 runs over 30 rows: the file wraps, each row once or twice"
: >"$NGINX_LOG"
run_loads data_cases.TestData.test_row --server-url "$NGINX_URL" --data items.csv \
    -u 4 -c 10 -w 2
expect_status 0
expect_access_log 40
expect_eq "$(rows | awk '{ print $1 }' | sort | uniq -c | awk '{ print $1 }' | sort | uniq -c |
    awk '{ print $1 "x" $2 }' | sort | tr '\n' ' ')" "10x2 20x1 " "rows taken once / twice"
expect_names_match
grep -qF 'name=Smith%2C%20%22Bob%22&' "$NGINX_LOG" ||
    fail "the quoted row did not come through as Smith, \"Bob\""

step "a row per VU (--data-per vu): 3 VUs keep theirs for 4 runs"
: >"$NGINX_LOG"
run_loads data_cases.TestData.test_row --server-url "$NGINX_URL" --data items.csv \
    --data-per vu -u 3 -c 4 -w 2
expect_status 0
expect_access_log 12
expect_eq "$(rows | awk '{ print $NF, $1 }' | sort -u | wc -l)" 3 "distinct (VU, row) pairs"
expect_eq "$(rows | awk '{ print $1 }' | sort -u | wc -l)" 3 "distinct rows"
expect_eq "$(rows | awk '{ n[$1]++ } END { for (r in n) print n[r] }' | sort -u)" 4 \
    "runs per row"
expect_names_match

step "bad CSV: exit 2 with line and column"
printf 'id,name\n1,a\n2,b"c\n' >bad.csv
run_loads data_cases.TestData.test_row --server-url "$NGINX_URL" --data bad.csv
expect_usage_error
expect_err_contains "loads-runner: bad.csv:3:4: a quote inside an unquoted field"
printf 'id,name\n1,a,x\n' >bad.csv
run_loads data_cases.TestData.test_row --data bad.csv
expect_usage_error
expect_err_contains "loads-runner: bad.csv:2:5: more fields than the header's 2 columns"
run_loads data_cases.TestData.test_row --data missing.csv
expect_usage_error
expect_err_contains "loads-runner: cannot read --data missing.csv: No such file or directory"
run_loads data_cases.TestData.test_row --data-per vu
expect_usage_error
expect_err_contains "--data-per goes with --data FILE.csv"

step "a column the file does not have, and no --data: Errors that say so"
run_loads data_cases.TestData.test_no_column --data items.csv --json s.json
expect_status 1
expect_json_errors s.json 1 TestData.test_no_column \
    "^loads_data: no column 'email' in items.csv \\(columns: id, name\\)$"
run_loads data_cases.TestData.test_row --server-url "$NGINX_URL" --json s.json
expect_status 1
expect_json_errors s.json 1 TestData.test_row '^loads_data\("(id|name)"\): no --data file given$'

step "--env values, from the command line and the config file"
: >"$NGINX_LOG"
run_loads data_cases.TestData.test_env --server-url "$NGINX_URL" --env 'GREETING=hello world'
expect_status 0
expect_access_log 1
grep -qF 'GET /search?q=hello%20world&home=none ' "$NGINX_LOG" ||
    fail "the --env value did not reach the test" "$(cat "$NGINX_LOG")"
printf '[loads]\nenv = GREETING=from file\nenv = OTHER=1\n' >loads.ini
: >"$NGINX_LOG"
run_loads data_cases.TestData.test_env --server-url "$NGINX_URL" --config loads.ini
expect_status 0
grep -qF 'GET /search?q=from%20file&home=none ' "$NGINX_LOG" ||
    fail "the config file's env did not reach the test" "$(cat "$NGINX_LOG")"
: >"$NGINX_LOG"
run_loads data_cases.TestData.test_env --server-url "$NGINX_URL" --config loads.ini \
    --env GREETING=cli
expect_status 0
grep -qF 'GET /search?q=cli&home=none ' "$NGINX_LOG" ||
    fail "the command line's --env did not win" "$(cat "$NGINX_LOG")"
run_loads data_cases.TestData.test_env --env '1X=2'
expect_usage_error
expect_err_contains "invalid --env '1X=2': use NAME=VALUE"
