#!/usr/bin/env bash
# The same failure message from many runs, VUs and workers is shown once with
# its count: 4 VUs x 3 runs fail with "user 0" or "user 1" (loads_user % 2),
# 6 of each.
source "$(dirname "$0")/../lib.sh"

use_module engine_userfail.c
start_nginx
# Messages end with the place of the loads_assert: "(engine_userfail.c:LINE)".
line=$(grep -n 'loads_assert' engine_userfail.c | cut -d: -f1)
at="(engine_userfail.c:$line)"

# expect_message_block: the Failures section is exactly its title and the
# two messages, in either order (their counts are equal).
expect_message_block() {
    local section expected
    section=$(sed -n '/^Failures:$/,$p' "$OUT")
    expected="Failures:
  6 occurrences in TestUserFail.test_fail:
      user 0 $at
  6 occurrences in TestUserFail.test_fail:
      user 1 $at"
    if [[ $section != "$expected" ]]; then
        expected="Failures:
  6 occurrences in TestUserFail.test_fail:
      user 1 $at
  6 occurrences in TestUserFail.test_fail:
      user 0 $at"
        [[ $section == "$expected" ]] ||
            fail "stdout: expected the Failures section to be (either order):" "$expected"
    fi
}

for workers in 1 2; do
    step "-u 4 -c 3 -w $workers"
    run_loads engine_userfail.TestUserFail.test_fail --server-url "$NGINX_URL" \
        -u 4 -c 3 -w "$workers"
    expect_status 1
    expect_no_core
    expect_out_line "Hits: 0"
    expect_out_line "Success: 0"
    expect_out_line "Errors: 0"
    expect_out_line "Failures: 12"
    expect_out_count "occurrence" 2
    expect_message_block
done

step "--output json: the same two messages"
run_loads engine_userfail.TestUserFail.test_fail --server-url "$NGINX_URL" -u 4 -c 3 \
    --output json
expect_status 1
expect_eq "$(jq -c '[.failure_messages[] | [.message, .count, .test]] | sort' "$OUT")" \
    "[[\"user 0 $at\",6,\"TestUserFail.test_fail\"],[\"user 1 $at\",6,\"TestUserFail.test_fail\"]]" \
    ".failure_messages"
expect_eq "$(jq -c '[.failures, .error_messages, .exit_status]' "$OUT")" '[12,[],1]' \
    "[.failures, .error_messages, .exit_status]"

step "-w 1 -c 300, each failure its own message: 64 kept, 236 not"
# A worker keeps 64 distinct messages (shm/shm.h SHM_MSGS) and the rest are
# counted as not kept.  (No event ring, so no "events_dropped": the ring
# that nothing read was removed, with SHM_VERSION 6.)
run_loads engine_userfail.TestUserFail.test_unique -w 1 -c 300 --json summary.json
expect_status 1
expect_out_line "Failures: 300"
expect_out_count "occurrence in TestUserFail.test_unique:" 64
expect_eq "$(grep -cE '^      failure [0-9]+ \(engine_userfail\.c:[0-9]+\)$' "$OUT")" 64 \
    "messages shown"
expect_out_line "236 more messages were counted but not kept (too many distinct messages)."
expect_eq "$(jq -r .messages_not_kept summary.json)" 236 ".messages_not_kept"
expect_eq "$(jq -r '.failure_messages | length' summary.json)" 64 "number of .failure_messages"
expect_eq "$(jq -r '[.failure_messages[].count] | add' summary.json)" 64 "their counts"
expect_eq "$(jq -r 'has("events_dropped")' summary.json)" false "an events_dropped key"
expect_eq "$(jq -r .failures summary.json)" 300 ".failures"
