#!/usr/bin/env bash
# A test module that does not build on the agents: the run fails before
# anything is sent to the server, with exit status 2 and the compiler's
# first error on one line; the agents are idle again afterwards.  A test
# name with no source to send is a clear error too.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

cat >broken.c <<'C'
#include <loads.h>

LOADS_TEST(Broken, test_it)
{
    loads_get(t, "/")
    no_such_function(t);
}
C
start_nginx
start_broker
start_agent a1
start_agent a2
wait_agents 2

step "a module that does not compile"
run_loads broken.Broken.test_it --server-url "$NGINX_URL" --agents 2 --broker "$BROKER"
expect_usage_error
expect_err_contains "cannot compile broken.c: broken.c:5:22: error: expected"
echo "  stderr: $(cat "$ERR")"
expect_access_log 0
wait_agents 2

step "no source to send"
run_loads nothing.Here.test --agents 1 --broker "$BROKER"
expect_usage_error
expect_err_contains "no nothing.c in the current folder"
