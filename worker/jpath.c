/*
 * Paths into JSON documents (see jpath.h).  The path is read once, left
 * to right, each segment taking one step down the tree.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/jpath.h"

#define JPATH_KEY_MAX 1024 /* bytes of one key */

/* A plain key: up to a '.', a '[' or the end. */
static size_t plain_key(const char *p)
{
    return strcspn(p, ".[]");
}

/* A quoted key after '["': into key, unescaped; its end (past '"]'), or NULL. */
static const char *quoted_key(const char *p, char *key, size_t *len)
{
    size_t n = 0;

    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (n + 1 >= JPATH_KEY_MAX)
            return NULL;
        key[n++] = *p;
    }
    if (p[0] != '"' || p[1] != ']')
        return NULL;
    key[n] = '\0';
    *len = n;
    return p + 2;
}

/* An index after '[': -?digits then ']'; its end, or NULL. */
static const char *index_of(const char *p, long long *idx)
{
    const char *start = p;
    int neg = *p == '-';
    long long v = 0;

    if (neg)
        p++;
    if (*p < '0' || *p > '9')
        return NULL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (LLONG_MAX - 9) / 10)
            return NULL;
        v = v * 10 + (*p - '0');
    }
    if (*p != ']' || p - start > 20)
        return NULL;
    *idx = neg ? -v : v;
    return p + 1;
}

int jpath_find(json_t *root, const char *path, json_t **out, char *err, size_t errlen)
{
    const char *p = path;
    json_t *node = root;
    int missing = 0;

    while (*p) {
        char key[JPATH_KEY_MAX];
        size_t klen;
        const char *at = p;

        if (*p == '[' && p[1] == '"') {
            p = quoted_key(p + 2, key, &klen);
            if (!p) {
                snprintf(err, errlen, "at %zu: expected a quoted key and '\"]'",
                         (size_t)(at - path) + 1);
                return -EINVAL;
            }
        } else if (*p == '[') {
            long long idx;
            size_t n;

            p = index_of(p + 1, &idx);
            if (!p) {
                snprintf(err, errlen, "at %zu: expected an index and ']' (\"[0]\", \"[-1]\")",
                         (size_t)(at - path) + 1);
                return -EINVAL;
            }
            if (missing || !json_is_array(node)) {
                missing = 1;
                continue;
            }
            n = json_array_size(node);
            if (idx < 0)
                idx += (long long)n;
            if (idx < 0 || (size_t)idx >= n)
                missing = 1;
            else
                node = json_array_get(node, (size_t)idx);
            continue;
        } else {
            if (*p == '.') {
                if (p == path) {
                    snprintf(err, errlen, "at 1: a path starts with a key or '['");
                    return -EINVAL;
                }
                p++;
            } else if (p != path) {
                snprintf(err, errlen, "at %zu: expected '.' or '['", (size_t)(p - path) + 1);
                return -EINVAL;
            }
            klen = plain_key(p);
            if (klen == 0 || klen >= JPATH_KEY_MAX) {
                snprintf(err, errlen, "at %zu: expected a key", (size_t)(p - path) + 1);
                return -EINVAL;
            }
            memcpy(key, p, klen);
            key[klen] = '\0';
            p += klen;
        }
        if (missing || !json_is_object(node)) {
            missing = 1;
            continue;
        }
        node = json_object_getn(node, key, klen);
        if (!node)
            missing = 1;
    }
    if (missing)
        return -ENOENT;
    *out = node;
    return 0;
}

char *jpath_text(const json_t *node)
{
    if (json_is_string(node))
        return strndup(json_string_value(node), json_string_length(node));
    return json_dumps(node, JSON_COMPACT | JSON_ENCODE_ANY);
}
