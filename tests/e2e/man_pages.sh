#!/usr/bin/env bash
# The man pages are true to the programs: every option --help names
# appears in the program's page, every call and macro of loads.h in
# loads.h(3); groff formats each without a warning; `make install` puts
# them where man finds them.
source "$(dirname "$0")/../lib.sh"

# page_text FILE: the page's text as a reader sees the options, without
# roff's escapes and font changes.
page_text() {
    sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' -e 's/\\(em/--/g' "$1"
}

# help_options PROGRAM: every --long option its --help names, and every -x
# at the start of an option line.
help_options() {
    local help
    help=$("$BUILD/$1" --help) || fail "$1 --help failed"
    grep -oE -- '--[a-z][a-z_-]*[a-z]' <<<"$help" | sort -u
    grep -oE -- '^ +-[a-zA-Z],' <<<"$help" | tr -d ' ,' | sort -u
}

for program in loads-runner loads-broker loads-agent; do
    page=$REPO/man/$program.1
    step "$program: every option of --help is in $page"
    [[ -f $page ]] || fail "no man page $page"
    text=$(page_text "$page")
    n=0
    while read -r option; do
        grep -qF -- "$option" <<<"$text" || fail "$program --help names $option; man/$program.1 does not"
        n=$((n + 1))
    done < <(help_options "$program")
    echo "  $n options"
    ((n >= 5)) || fail "only $n options found in $program --help"
done

step "loads.h(3): every call and macro of loads.h"
text=$(page_text "$REPO/man/loads.h.3")
n=0
while read -r name; do
    grep -qE "(^|[^a-z_])$name([^a-z_]|\$)" <<<"$text" || fail "loads.h has $name; man/loads.h.3 does not"
    n=$((n + 1))
done < <({
    grep -oE '\bloads_[a-z_]+ *\(' "$REPO/include/loads.h" | tr -d '( '
    grep -oE '#define (LOADS_[A-Z_]+|loads_[a-z_]+)\b' "$REPO/include/loads.h" | awk '{ print $2 }'
} | grep -v -e '__' -e '^LOADS_H$' | sort -u)
echo "  $n names"
((n >= 40)) || fail "only $n names found in loads.h"
grep -qF "struct loads_req" <<<"$text" || fail "loads.h.3 does not show struct loads_req"

step "groff formats every page without a warning"
for page in "$REPO"/man/*.[13]; do
    warnings=$(groff -man -ww -z "$page" 2>&1) || fail "groff failed on $page" "$warnings"
    [[ -z $warnings ]] || fail "groff warns about $page" "$warnings"
done

step "make install: where man finds them"
prefix=$TMP_ROOT/prefix
make -s -C "$REPO" install PREFIX="$prefix" BUILD="$BUILD" >"$TMP_ROOT/install.log" 2>&1 ||
    fail "make install failed" "$(cat "$TMP_ROOT/install.log")"
for page in man1/loads-runner.1 man1/loads-broker.1 man1/loads-agent.1 man3/loads.h.3; do
    [[ -f $prefix/share/man/$page ]] || fail "not installed: share/man/$page"
done
out=$(MANWIDTH=100 man -M "$prefix/share/man" 3 loads.h 2>&1 | col -b) ||
    fail "man -M $prefix/share/man 3 loads.h failed" "$out"
grep -qF "loads_send" <<<"$out" || fail "man 3 loads.h does not show loads_send" "$out"
out=$(MANWIDTH=100 man -M "$prefix/share/man" loads-runner 2>&1 | col -b) ||
    fail "man loads-runner failed" "$out"
grep -qF -- "--data-per" <<<"$out" || fail "man loads-runner does not show --data-per" "$out"
make -s -C "$REPO" uninstall PREFIX="$prefix" BUILD="$BUILD" >/dev/null 2>&1 ||
    fail "make uninstall failed"
[[ -z $(find "$prefix" -type f) ]] || fail "left after uninstall:" "$(find "$prefix" -type f)"
