#!/usr/bin/env bash
# The web view's page in a real browser (headless chromium): while the run
# lasts it shows a number of hits, and once the run is done the figures in
# its DOM are those of /stats.json and of the --json file, its URL table
# has nginx's URL, and dygraphs drew its charts (canvases).
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/web_lib.bash"

command -v chromium >/dev/null || fail "no chromium (Debian's package chromium: scripts/deps)"
use_module engine_get.c
start_nginx
test=engine_get.TestGet.test_root

# dom: the page's DOM once its script ran (a few seconds of virtual time).
dom() {
    HOME=$TMP_ROOT timeout 60 chromium --headless --no-sandbox --disable-gpu \
        --user-data-dir="$TMP_ROOT/chromium" --virtual-time-budget=3000 \
        --dump-dom "http://127.0.0.1:$WEB_PORT/" 2>>"$TMP_ROOT/chromium.err" ||
        fail "chromium failed" "$(tail -n 5 "$TMP_ROOT/chromium.err")"
}

# dom_text ID FILE: the text of the element with that id in a dumped DOM.
dom_text() {
    sed -n "s|.*id=\"$1\">\\([^<]*\\)<.*|\\1|p" "$2" | head -n 1
}

step "a 4 s run with --web, its page in chromium"
WEB_PORT=$(free_port)
start_loads "$test" --server-url "$NGINX_URL" -u 2 -d 4s -w 1 --web "$WEB_PORT" \
    --web-linger 30 --json "$TMP_ROOT/final.json"
wait_web "$LOADS_PID"
RUNNER=$(runner_pid)
sleep 1
dom >"$TMP_ROOT/live.html"
live=$(dom_text hits "$TMP_ROOT/live.html")
expect_num "$live" ">" 0 "hits on the page during the run"

step "once the run is done: the page shows /stats.json's figures"
wait_web_done
dom >"$TMP_ROOT/end.html"
web_get /stats.json >"$TMP_ROOT/end.json"
for k in hits runs success failures errors interrupted dropped; do
    expect_eq "$(dom_text "$k" "$TMP_ROOT/end.html")" "$(jq -r ".$k" "$TMP_ROOT/end.json")" \
        "$k on the page"
done
expect_eq "$(jq -r .hits "$TMP_ROOT/final.json")" "$(dom_text hits "$TMP_ROOT/end.html")" \
    "hits of the --json file and on the page"
grep -qF "<td>GET $NGINX_URL/</td>" "$TMP_ROOT/end.html" || fail "no URL row on the page"
expect_num "$(grep -o '<canvas' "$TMP_ROOT/end.html" | wc -l)" ">=" 2 "canvases drawn by dygraphs"
grep -qF 'The run is over' "$TMP_ROOT/end.html" || fail "the page does not say the run is over"
kill -INT "$RUNNER" # ends the linger early
wait_loads
expect_status 0
expect_access_log "$(jq -r .hits "$TMP_ROOT/final.json")"
