/*
 * The public API's helpers on text: a value from a JSON document by a
 * simple path (jansson parses, jpath.c walks), a regular expression's
 * capture (POSIX regex), URL-encoding.  What they return is kept with the
 * test run and freed when it ends.
 *
 * The last document a VU parsed stays parsed, with a copy of its text:
 * several loads_json calls on one body parse it once.  Compiled patterns
 * are kept per worker, the REGEX_CACHE last ones.
 */
#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/url.h"
#include "worker/internal.h"
#include "worker/jpath.h"

#define REGEX_CACHE 16 /* compiled patterns kept per worker */

/* The VU's last parsed document. */
struct api_text {
    char *src;       /* a copy of its text */
    size_t len;
    json_t *doc;     /* NULL when it is not JSON */
};

struct compiled {
    char *pattern;   /* NULL: a free entry */
    regex_t re;
    uint64_t used;   /* when last used, for replacement */
};

static struct compiled regexes[REGEX_CACHE];
static uint64_t regex_clock;

/* The parsed document of text, parsing it unless it is the last one. */
static json_t *parsed(struct loads_test *t, const char *text)
{
    struct api_text *c = t->text;
    size_t len = strlen(text);

    if (!c) {
        c = t->text = calloc(1, sizeof(*c));
        if (!c)
            run_stop(t, OUTCOME_ERROR, "out of memory");
    }
    if (c->src && c->len == len && memcmp(c->src, text, len) == 0)
        return c->doc;
    api_text_end_run(t);
    c->src = malloc(len + 1);
    if (!c->src)
        run_stop(t, OUTCOME_ERROR, "out of memory");
    memcpy(c->src, text, len + 1);
    c->len = len;
    c->doc = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    return c->doc;
}

const char *loads_json(loads_test *t, const char *json, const char *path)
{
    char err[256];
    json_t *doc, *node;
    int rc;

    if (!json || !path)
        run_stop(t, OUTCOME_ERROR, "loads_json: no %s (NULL)", json ? "path" : "text");
    doc = parsed(t, json);
    if (!doc)
        return NULL;
    rc = jpath_find(doc, path, &node, err, sizeof(err));
    if (rc == -EINVAL)
        run_stop(t, OUTCOME_ERROR, "loads_json: bad path '%.100s': %s", path, err);
    if (rc < 0)
        return NULL;
    return api_keep(t, jpath_text(node));
}

/* The compiled pattern, from the cache or compiled now. */
static regex_t *compiled(struct loads_test *t, const char *pattern)
{
    struct compiled *c = &regexes[0];
    int rc;

    for (int i = 0; i < REGEX_CACHE; i++) {
        if (regexes[i].pattern && strcmp(regexes[i].pattern, pattern) == 0) {
            regexes[i].used = ++regex_clock;
            return &regexes[i].re;
        }
        if (regexes[i].used < c->used)
            c = &regexes[i];
    }
    if (c->pattern) {
        regfree(&c->re);
        free(c->pattern);
        c->pattern = NULL;
    }
    rc = regcomp(&c->re, pattern, REG_EXTENDED);
    if (rc) {
        char why[128];

        regerror(rc, &c->re, why, sizeof(why));
        run_stop(t, OUTCOME_ERROR, "loads_regex: bad pattern '%.100s': %s", pattern, why);
    }
    c->pattern = strdup(pattern);
    if (!c->pattern) {
        regfree(&c->re);
        run_stop(t, OUTCOME_ERROR, "out of memory");
    }
    c->used = ++regex_clock;
    return &c->re;
}

const char *loads_regex(loads_test *t, const char *text, const char *pattern)
{
    regmatch_t m[2];
    regex_t *re;
    int group;

    if (!text || !pattern)
        run_stop(t, OUTCOME_ERROR, "loads_regex: no %s (NULL)", text ? "pattern" : "text");
    re = compiled(t, pattern);
    if (regexec(re, text, 2, m, 0) != 0)
        return NULL;
    group = re->re_nsub > 0 && m[1].rm_so >= 0;
    return api_keep(t, strndup(text + m[group].rm_so,
                               (size_t)(m[group].rm_eo - m[group].rm_so)));
}

const char *loads_urlencode(loads_test *t, const char *value)
{
    size_t len;
    char *out;

    if (!value)
        run_stop(t, OUTCOME_ERROR, "loads_urlencode: no value (NULL)");
    len = url_encode(NULL, 0, value);
    out = malloc(len + 1);
    if (out)
        url_encode(out, len + 1, value);
    return api_keep(t, out);
}

void api_text_end_run(struct loads_test *t)
{
    struct api_text *c = t->text;

    if (!c)
        return;
    json_decref(c->doc);
    free(c->src);
    c->doc = NULL;
    c->src = NULL;
    c->len = 0;
}

void api_text_vu_close(struct loads_test *t)
{
    api_text_end_run(t);
    free(t->text);
    t->text = NULL;
}

void api_text_close(void)
{
    for (int i = 0; i < REGEX_CACHE; i++)
        if (regexes[i].pattern) {
            regfree(&regexes[i].re);
            free(regexes[i].pattern);
            regexes[i].pattern = NULL;
        }
}
