/*
 * Thresholds (see threshold.h): a hand-written parser that names the
 * column of the first mistake, and the measurement of one threshold on a
 * merged snapshot.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shm/threshold.h"

/* ------------------------------------------------------------------ parse */

struct lex {
    const char *s;   /* the whole input, for columns */
    const char *p;   /* where the parser is */
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail_at(struct lex *x, const char *at,
                                                         const char *fmt, ...)
{
    char why[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(x->err, x->errlen, "column %d: %s", (int)(at - x->s) + 1, why);
    return -EINVAL;
}

static void skip_blanks(struct lex *x)
{
    while (*x->p == ' ' || *x->p == '\t')
        x->p++;
}

/* digits [ "." digits ] into *v; returns the end, or NULL when there is none. */
static const char *number(const char *p, double *v)
{
    const char *q = p;
    char buf[64];

    while (isdigit((unsigned char)*q))
        q++;
    if (q == p)
        return NULL;
    if (*q == '.') {
        const char *f = q + 1;

        while (isdigit((unsigned char)*f))
            f++;
        if (f == q + 1)
            return NULL;
        q = f;
    }
    if ((size_t)(q - p) >= sizeof(buf))
        return NULL;
    memcpy(buf, p, (size_t)(q - p));
    buf[q - p] = '\0';
    *v = strtod(buf, NULL);
    return q;
}

static int is_time(enum threshold_metric m)
{
    return m <= THRESHOLD_MAX;
}

/* The metric: a word of letters, digits, '_' and '.'. */
static int parse_metric(struct lex *x, struct threshold *t)
{
    static const struct {
        const char *name;
        enum threshold_metric metric;
    } words[] = {
        {"mean", THRESHOLD_MEAN},     {"min", THRESHOLD_MIN},   {"max", THRESHOLD_MAX},
        {"errors", THRESHOLD_ERRORS}, {"rps", THRESHOLD_RPS},   {"hits", THRESHOLD_HITS},
        {"dropped", THRESHOLD_DROPPED}, {"runs", THRESHOLD_RUNS}, {"checks", THRESHOLD_CHECKS},
    };
    const char *start = x->p, *name = x->p, *end = x->p;
    size_t n;

    while (isalnum((unsigned char)*end) || *end == '_' || *end == '.')
        end++;
    if (end == start)
        return fail_at(x, start, "expected a metric: p99, mean, min, max, service_p99, "
                                 "errors, rps, hits, dropped, runs or checks");
    if ((size_t)(end - start) > 8 && strncmp(start, "service_", 8) == 0) {
        t->service = 1;
        name += 8;
    }
    n = (size_t)(end - name);
    x->p = end;
    if (name[0] == 'p' && n > 1 && isdigit((unsigned char)name[1])) {
        const char *q = number(name + 1, &t->percentile);

        if (q != end || !(t->percentile > 0 && t->percentile <= 100))
            return fail_at(x, name, "a percentile is p and a number above 0, at most "
                                    "100 (p50, p99.9)");
        t->metric = THRESHOLD_PERCENTILE;
        return 0;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i].name) == n && strncmp(words[i].name, name, n) == 0) {
            t->metric = words[i].metric;
            if (t->service && !is_time(t->metric))
                return fail_at(x, start, "service_ goes with a time: service_p99, "
                                         "service_mean, service_min, service_max");
            return 0;
        }
    return fail_at(x, start, "unknown metric '%.*s': use p99, mean, min, max, service_p99, "
                             "errors, rps, hits, dropped, runs or checks",
                   (int)(end - start > 40 ? 40 : end - start), start);
}

/* Whether a..b is a URL of the table: "/path" or "scheme://...". */
static int is_url(const char *a, const char *b)
{
    if (a < b && *a == '/')
        return 1;
    for (const char *c = a; c + 3 <= b; c++)
        if (c[0] == ':' && c[1] == '/' && c[2] == '/')
            return 1;
    return 0;
}

/*
 * "{" selection "}" after the metric, up to the last '}' (a name may hold
 * braces: {GET /items/{id}}).  A URL ("/path", "scheme://..."), a method
 * and a URL ("GET /path"), else a request's name as loads_send's .name
 * gave it, and after checks a check's name.
 */
static int parse_url(struct lex *x, struct threshold *t)
{
    const char *open = x->p, *close, *a, *b, *blank, *u;

    close = strrchr(open, '}');
    if (!close)
        return fail_at(x, open, "'{' without its '}'");
    if (t->metric == THRESHOLD_DROPPED || t->metric == THRESHOLD_RUNS)
        return fail_at(x, open, "%s counts the whole run's runs: no {url}",
                       t->metric == THRESHOLD_DROPPED ? "dropped" : "runs");
    for (a = open + 1; a < close && (*a == ' ' || *a == '\t'); a++)
        ;
    for (b = close; b > a && (b[-1] == ' ' || b[-1] == '\t'); b--)
        ;
    for (const char *c = a; c < b; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return fail_at(x, c, "a control character");
    if (a == b)
        return fail_at(x, open + 1, t->metric == THRESHOLD_CHECKS
                                        ? "expected a check's name in {}: checks{status ok}"
                                        : "expected a URL or a request's name in {}: "
                                          "{/login}, {GET /login} or {login}");
    x->p = close + 1;
    if (t->metric != THRESHOLD_CHECKS) {
        /* METHOD url: letters, one blank, a URL without blanks. */
        blank = memchr(a, ' ', (size_t)(b - a));
        u = a;
        if (blank) {
            for (u = blank; u < b && (*u == ' ' || *u == '\t'); u++)
                ;
            for (const char *c = a; c < blank; c++)
                if (!isalpha((unsigned char)*c))
                    u = NULL;
            if (u && (memchr(u, ' ', (size_t)(b - u)) || memchr(u, '\t', (size_t)(b - u))))
                u = NULL;
        } else if (memchr(a, '\t', (size_t)(b - a))) {
            u = NULL;
        }
        if (u && is_url(u, b) && !memchr(u, '{', (size_t)(b - u)) &&
            !memchr(u, '}', (size_t)(b - u))) {
            if (memchr(u, '?', (size_t)(b - u)))
                return fail_at(x, (const char *)memchr(u, '?', (size_t)(b - u)),
                               "URL rows have no query string: leave out from '?' on");
            if (u != a) {
                if ((size_t)(blank - a) >= THRESHOLD_METHOD)
                    return fail_at(x, a, "a method of at most %d letters",
                                   THRESHOLD_METHOD - 1);
                for (size_t i = 0; i < (size_t)(blank - a); i++)
                    t->method[i] = (char)toupper((unsigned char)a[i]);
                t->method[blank - a] = '\0';
            }
            a = u;
        } else {
            t->named = 1;
        }
    }
    if ((size_t)(b - a) >= (t->metric == THRESHOLD_CHECKS ? SHM_COUNTER_LEN : SHM_URL_LEN))
        return fail_at(x, a, "a %s has at most %d characters",
                       t->metric == THRESHOLD_CHECKS ? "check's name" : t->named ? "request's name" : "URL",
                       (t->metric == THRESHOLD_CHECKS ? SHM_COUNTER_LEN : SHM_URL_LEN) - 1);
    /* Shorter than the whole text, which fits THRESHOLD_LEN. */
    memcpy(t->url, a, (size_t)(b - a));
    t->url[b - a] = '\0';
    return 0;
}

static int parse_op(struct lex *x, struct threshold *t)
{
    const char *p = x->p;

    if (p[0] == '<')
        t->op = p[1] == '=' ? THRESHOLD_LE : THRESHOLD_LT;
    else if (p[0] == '>')
        t->op = p[1] == '=' ? THRESHOLD_GE : THRESHOLD_GT;
    else if (p[0] == '=' && p[1] == '=')
        t->op = THRESHOLD_EQ;
    else if (p[0] == '!' && p[1] == '=')
        t->op = THRESHOLD_NE;
    else if (p[0] == '=')
        return fail_at(x, p, "use == to compare (a single = is not a comparison)");
    else
        return fail_at(x, p, "expected a comparison: <, <=, >, >=, == or !=");
    x->p += (t->op == THRESHOLD_LT || t->op == THRESHOLD_GT) ? 1 : 2;
    if (*x->p == '=' || *x->p == '<' || *x->p == '>')
        return fail_at(x, x->p, "one comparison: <, <=, >, >=, == or !=");
    return 0;
}

/* The unit after the number, and the value in the metric's unit. */
static int parse_unit(struct lex *x, struct threshold *t)
{
    const char *p = x->p, *end = p;

    while (isalpha((unsigned char)*end) || *end == '%' || *end == '/')
        end++;
    x->p = end;
    if (is_time(t->metric)) {
        static const struct {
            const char *name;
            double us;
        } units[] = {{"us", 1}, {"ms", 1e3}, {"s", 1e6}};

        if (end == p)
            return fail_at(x, p, "add a unit to the time: us, ms or s (200ms)");
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strlen(units[i].name) == (size_t)(end - p) &&
                strncmp(units[i].name, p, (size_t)(end - p)) == 0) {
                t->value *= units[i].us;
                return 0;
            }
        return fail_at(x, p, "unknown unit '%.*s': a time is in us, ms or s",
                       (int)(end - p > 20 ? 20 : end - p), p);
    }
    if (t->metric == THRESHOLD_CHECKS) {
        if (end - p != 1 || *p != '%')
            return fail_at(x, p, "checks is the share that passed: a %% (checks>=99%%)");
        t->share = 1;
        return 0;
    }
    if (end == p)
        return 0;
    if ((t->metric == THRESHOLD_ERRORS || t->metric == THRESHOLD_DROPPED) &&
        end - p == 1 && *p == '%') {
        t->share = 1;
        return 0;
    }
    if (t->metric == THRESHOLD_RPS && end - p == 2 && strncmp(p, "/s", 2) == 0)
        return 0;
    if (t->metric == THRESHOLD_ERRORS || t->metric == THRESHOLD_DROPPED)
        return fail_at(x, p, "a count, or a share with %% (errors<1%%)");
    if (t->metric == THRESHOLD_RPS)
        return fail_at(x, p, "rps is responses per second: a number, or with /s");
    return fail_at(x, p, "a count has no unit");
}

int threshold_parse(const char *s, struct threshold *t, char *err, size_t errlen)
{
    struct lex x = {s, s, err, errlen};
    const char *end = s + strlen(s), *at;

    memset(t, 0, sizeof(*t));
    skip_blanks(&x);
    while (end > x.p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if ((size_t)(end - x.p) >= THRESHOLD_LEN)
        return fail_at(&x, x.p + THRESHOLD_LEN - 1, "a threshold of at most %d characters",
                       THRESHOLD_LEN - 1);
    if (x.p == end)
        return fail_at(&x, x.p, "empty: write a threshold such as p99<200ms or errors<1%%");
    for (const char *c = x.p; c < end; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return fail_at(&x, c, "a control character");
    memcpy(t->text, x.p, (size_t)(end - x.p));
    t->text[end - x.p] = '\0';
    if (parse_metric(&x, t) < 0)
        return -EINVAL;
    skip_blanks(&x);
    if (*x.p == '{' && parse_url(&x, t) < 0)
        return -EINVAL;
    skip_blanks(&x);
    if (parse_op(&x, t) < 0)
        return -EINVAL;
    skip_blanks(&x);
    at = x.p;
    if (!(x.p = number(x.p, &t->value)))
        return fail_at(&x, at, "expected a number (such as 200 or 0.5)");
    skip_blanks(&x);
    if (parse_unit(&x, t) < 0)
        return -EINVAL;
    skip_blanks(&x);
    if (*x.p)
        return fail_at(&x, x.p, "unexpected '%.*s' after the threshold",
                       (int)(end - x.p > 40 ? 40 : end - x.p), x.p);
    return 0;
}

/* --------------------------------------------------------------- measure */

/*
 * Whether the URL row key ("METHOD url") is one t selects: the same
 * method when t names one, and the same URL, or the same path when t's
 * URL is a path.
 */
static int url_matches(const struct threshold *t, const char *key)
{
    const char *url = strchr(key, ' ');

    if (t->named)
        return strcmp(key, t->url) == 0; /* a request's name is its row's key */
    if (!url)
        return 0; /* the "other" row, or a named row */
    if (t->method[0] &&
        ((size_t)(url - key) != strlen(t->method) || strncmp(key, t->method, (size_t)(url - key)) != 0))
        return 0;
    url++;
    if (t->url[0] == '/') {
        const char *scheme = strstr(url, "://"), *path;

        if (!scheme)
            return 0;
        path = strchr(scheme + 3, '/');
        return strcmp(path ? path : "/", t->url) == 0;
    }
    return strcasecmp(url, t->url) == 0;
}

/* The time metric of h (us), or 0 with *measured 0 when h is empty. */
static double time_of(const struct threshold *t, const struct hist *h, int *measured)
{
    *measured = h->count > 0;
    switch (t->metric) {
    case THRESHOLD_PERCENTILE:
        return (double)hist_percentile(h, t->percentile);
    case THRESHOLD_MEAN:
        return hist_mean(h);
    case THRESHOLD_MIN:
        return (double)hist_min(h);
    default:
        return (double)hist_max(h);
    }
}

static int compare(double a, enum threshold_op op, double b)
{
    switch (op) {
    case THRESHOLD_LT:
        return a < b;
    case THRESHOLD_LE:
        return a <= b;
    case THRESHOLD_GT:
        return a > b;
    case THRESHOLD_GE:
        return a >= b;
    case THRESHOLD_EQ:
        return a == b;
    default:
        return a != b;
    }
}

/* bad of all as the threshold asks: a count, or a share in % (none of 0). */
static double count_or_share(const struct threshold *t, double bad, double all,
                             int *measured)
{
    if (!t->share)
        return bad;
    *measured = all > 0;
    return all > 0 ? 100.0 * bad / all : 0;
}

void threshold_eval(const struct threshold *t, const struct shm_stats *st,
                    struct threshold_result *r)
{
    const struct shm_counters *c = &st->c;
    uint64_t hits = 0, ok = 0, errors = 0;
    uint32_t rows = 0;
    struct hist *merged = NULL;

    memset(r, 0, sizeof(*r));
    r->measured = 1;
    if (t->metric == THRESHOLD_CHECKS) {
        uint64_t passes = 0, fails = 0;

        for (uint32_t i = 0; i < st->nchecks; i++) {
            if (t->url[0] && strcmp(st->checks[i].name, t->url) != 0)
                continue;
            passes += st->checks[i].passes;
            fails += st->checks[i].fails;
        }
        r->value = count_or_share(t, (double)passes, (double)(passes + fails), &r->measured);
        r->pass = r->measured && compare(r->value, t->op, t->value);
        return;
    }
    if (t->url[0]) {
        if (is_time(t->metric) && !(merged = calloc(1, sizeof(*merged)))) {
            r->measured = 0;
            return;
        }
        for (uint32_t i = 0; i < st->nurls; i++) {
            const struct shm_stats_url *u = &st->urls[i];

            if (!url_matches(t, u->key))
                continue;
            rows++;
            hits += u->hits;
            ok += u->ok;
            errors += u->errors;
            if (merged)
                hist_merge(merged, t->service ? &u->latency : &u->response);
        }
        r->measured = rows > 0;
    }
    switch (t->metric) {
    case THRESHOLD_ERRORS:
        if (t->url[0])
            r->value = count_or_share(t, (double)(errors + hits - ok), (double)(hits + errors),
                                      &r->measured);
        else
            r->value = count_or_share(t, (double)(c->failures + c->errors),
                                      (double)(c->successes + c->failures + c->errors),
                                      &r->measured);
        break;
    case THRESHOLD_RPS:
        r->value = st->elapsed > 0 ? (double)(t->url[0] ? hits : c->hits) / st->elapsed : 0;
        r->measured &= st->elapsed > 0;
        break;
    case THRESHOLD_HITS:
        r->value = (double)(t->url[0] ? hits : c->hits);
        break;
    case THRESHOLD_DROPPED:
        r->value = count_or_share(t, (double)c->dropped, (double)(c->runs_started + c->dropped),
                                  &r->measured);
        break;
    case THRESHOLD_RUNS:
        r->value = (double)c->runs;
        break;
    default: {
        int measured;

        r->value = time_of(t, merged ? merged : t->service ? &st->latency : &st->response,
                           &measured);
        r->measured &= measured;
    }
    }
    free(merged);
    r->pass = r->measured && compare(r->value, t->op, t->value);
}

void threshold_format(char *out, size_t len, const struct threshold *t,
                      const struct threshold_result *r)
{
    if (!r->measured)
        snprintf(out, len, "no data");
    else if (is_time(t->metric) && r->value < 10000)
        snprintf(out, len, "%.2f ms", r->value / 1000);
    else if (is_time(t->metric) && r->value < 1000000)
        snprintf(out, len, "%.1f ms", r->value / 1000);
    else if (is_time(t->metric))
        snprintf(out, len, "%.2f s", r->value / 1e6);
    else if (t->share)
        snprintf(out, len, "%.2f%%", r->value);
    else if (t->metric == THRESHOLD_RPS)
        snprintf(out, len, "%.1f/s", r->value);
    else
        snprintf(out, len, "%.0f", r->value);
}
