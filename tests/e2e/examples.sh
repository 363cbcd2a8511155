#!/usr/bin/env bash
# The examples a newcomer copies (examples/login.c, api.c, shop.c) run as
# their comments say, against nginx; every count is checked against
# nginx's access log.
source "$(dirname "$0")/../lib.sh"

start_nginx
count() { grep -c -- "$1" "$NGINX_LOG" || true; }

step "login.c: a login per VU, its cookie on every run, a logout"
use_module login.c
run_loads login.TestLogin -u 5 -c 4 -w 2 --server-url "$NGINX_URL" --json s.json
expect_status 0
expect_out_line "Success: 20"
expect_access_log $((5 * 2 + 20 + 5))
expect_eq "$(count '"POST /login HTTP/1.1" 302')" 5 "logins"
expect_eq "$(count '"GET /need-cookie HTTP/1.1" 200')" 25 "pages with the cookie (login's + runs)"
expect_eq "$(count '"GET /need-cookie HTTP/1.1" 403')" 0 "pages without it"
expect_eq "$(count '"GET /logout HTTP/1.1" 200')" 5 "logouts"
expect_eq "$(jq -c '[.checks[] | [.name, .passes, .fails]]' s.json)" \
    '[["signed in",20,0],["signed out",5,0]]' "checks"
expect_eq "$(jq '.urls[] | select(.url == "account") | .hits' s.json)" 20 "the account row"
expect_out_line "Hits: 35"

step "api.c: a data file, named requests, JSON"
: >"$NGINX_LOG"
use_module api.c
use_module items.csv
run_loads api.TestApi -u 10 -c 10 --data items.csv --server-url "$NGINX_URL" --json s.json
expect_status 0
expect_out_line "Success: 100"
expect_access_log 100
expect_eq "$(awk '{ print $7 }' "$NGINX_LOG" | sort -u | wc -l)" 100 \
    "different items asked for (one row each)"
expect_eq "$(jq -c '[.urls[] | [.url, .hits, .ok]]' s.json)" '[["GET /api/items/{id}",100,100]]' \
    "the request table: one row"
expect_eq "$(jq -c '[.checks[] | [.name, .passes, .fails]]' s.json)" \
    '[["the item asked for",100,0],["tagged",100,0]]' "checks"
expect_eq "$(jq -c '.trends.price | [.count, .min, .max]' s.json)" "[100,2.5,2.5]" \
    "the price trend"

step "shop.c: weighted scenarios"
: >"$NGINX_LOG"
use_module shop.c
run_loads shop.Shop -u 2 -c 100 -w 2 --server-url "$NGINX_URL" --json s.json
expect_status 0
expect_out_line "Success: 200"
expect_access_log 200
browse=$(count '"GET /api/items/[0-9]* HTTP/1.1" 200')
search=$(count '"GET /search?q=red%20shoes HTTP/1.1" 200')
buy=$(count '"POST /post HTTP/1.1" 200')
expect_eq "$browse $search $buy" "140 40 20" "browse, search, buy in nginx's log"
expect_eq "$(jq -c '[.tests[] | [.test, .runs]]' s.json)" \
    "[[\"Shop.browse\",$browse],[\"Shop.buy\",$buy],[\"Shop.search\",$search]]" "runs per test"
expect_eq "$(jq -c '[.counters["pages viewed"], .counters.orders]' s.json)" "[$browse,$buy]" \
    "counters"
expect_eq "$(jq -c '.checks[0] | [.name, .passes]' s.json)" "[\"results\",$search]" "checks"
