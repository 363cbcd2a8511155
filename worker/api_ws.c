/*
 * WebSockets for the test: the loads_ws_* calls on top of the websocket
 * transport (ws/ws.h).  Here a socket's error becomes the run's Error, and
 * each handshake and message waited for is counted on the socket's row
 * of the URL table ("WS ws://host/path").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vu.h"
#include "http/url.h"
#include "worker/internal.h"
#include "ws/ws.h"

struct loads_ws {
    struct loads_ws *next;  /* the run's sockets */
    struct loads_test *t;   /* the run's VU */
    struct ws_conn *c;      /* the transport's socket */
    loads_ws_callback cb;
    void *user;
    uint32_t row;           /* "WS url" in the URL table */
    int closed_by_test;     /* loads_ws_close was called */
    struct ws_msg *held;    /* messages the callback is reading, innermost first */
    char url[];             /* absolute, without its password, for messages */
};

/* The worker's context, made on the first connect.  NULL when it cannot be. */
static struct ws_glue *ws_glue(struct worker *w)
{
    if (!w->ws && !w->ws_failed) {
        w->ws = ws_glue_create(&w->loop, w->plan->timeout, w->plan->ws_max_message,
                               w->plan->insecure);
        w->ws_failed = !w->ws;
    }
    return w->ws;
}

void api_ws_take_counts(struct worker *w)
{
    uint64_t opened, bytes;

    ws_glue_take_counts(w->ws, &opened, &bytes);
    record_ws_counts(w->rec, opened, bytes);
}

void api_ws_close(struct worker *w)
{
    api_ws_take_counts(w);
    ws_glue_destroy(w->ws);
    w->ws = NULL;
}

/* Lets go of the ended run's sockets; those still open are closed. */
void api_ws_end_run(struct loads_test *t)
{
    struct loads_ws *ws = t->ws, *next;

    for (; ws; ws = next) {
        next = ws->next;
        if (ws->c)
            ws_conn_release(ws->c);
        while (ws->held) {
            struct ws_msg *m = ws->held;

            ws->held = m->next;
            ws_msg_free(m);
        }
        free(ws);
    }
    t->ws = NULL;
}

/* The deadline of a call that may take --timeout. */
static int64_t ws_deadline(const struct loads_test *t)
{
    return shm_mono_us() + (int64_t)(t->w->plan->timeout * 1e6);
}

/*
 * Stops the run as an Error of op on ws, counted on its row, or as
 * Interrupted when the run was cut.  rc is the transport's error: a
 * deadline says what did not come in time.
 */
static void ws_error(struct loads_test *t, struct loads_ws *ws, const char *op, int rc,
                     const char *late, double seconds, const char *err)
    __attribute__((noreturn));
static void ws_error(struct loads_test *t, struct loads_ws *ws, const char *op, int rc,
                     const char *late, double seconds, const char *err)
{
    if (rc == -ECANCELED)
        run_stop(t, OUTCOME_INTERRUPTED, "WS %s %s: cut by the end of the run", op, ws->url);
    record_ws_error(t->w->rec, ws->row);
    if (rc == -ETIMEDOUT)
        run_stop(t, OUTCOME_ERROR, "WS %s %s: %s %g s", op, ws->url, late, seconds);
    run_stop(t, OUTCOME_ERROR, "WS %s %s: %s", op, ws->url, err);
}

/* Checks that the test may use ws: its own, and not closed by it. */
static void ws_check(struct loads_test *t, struct loads_ws *ws, const char *op)
{
    if (!ws)
        run_stop(t, OUTCOME_ERROR, "loads_ws_%s: no socket (NULL)", op);
    if (ws->t != t)
        run_stop(t, OUTCOME_ERROR, "loads_ws_%s: the socket is not this run's", op);
    if (ws->closed_by_test)
        run_stop(t, OUTCOME_ERROR, "WS %s %s: the test closed this socket", op,
                        ws->url);
}

/*
 * Fills target from the absolute ws(s) URL full, its strings in a block
 * the caller frees.  Returns NULL with why when the URL cannot be split.
 */
static char *ws_target_of(const char *full, struct ws_target *target, const char **why)
{
    struct url_parts u;
    char *block, *p;

    if (url_parse(full, &u) < 0) {
        *why = "bad host or port in URL";
        return NULL;
    }
    block = malloc(sizeof(u.host) + u.authority_len + u.target_len + 3);
    if (!block) {
        *why = "out of memory";
        return NULL;
    }
    target->tls = u.https;
    target->port = (int)u.port;
    target->host = p = block;
    p += sprintf(p, "%s", u.host) + 1;
    target->authority = p;
    p += sprintf(p, "%.*s", (int)u.authority_len, u.authority) + 1;
    /* The path, "/" when none, with its query but without the fragment. */
    target->path = p;
    sprintf(p, "%s%.*s", u.target_len && u.target[0] == '/' ? "" : "/", (int)u.target_len,
            u.target);
    return block;
}

loads_ws *loads_ws_connect_ex(loads_test *t, const char *url, const char *protocols,
                              const char *const *headers, loads_ws_callback cb,
                              void *user)
{
    struct worker *w = t->w;
    struct ws_target target;
    struct loads_ws *ws;
    char key[SHM_URL_LEN], err[SHM_MSG_LEN], *full, *block;
    const char *why = NULL;
    int64_t start = shm_mono_us();
    int rc;

    if (!url)
        run_stop(t, OUTCOME_ERROR, "loads_ws_connect: no URL (NULL)");
    full = url_join(w->plan->server_url, url, URL_WS, &why);
    block = full ? ws_target_of(full, &target, &why) : NULL;
    if (!block) {
        url_show(err, sizeof(err), full ? full : url);
        free(full);
        run_stop(t, OUTCOME_ERROR, "WS connect %s: %s", err, why);
    }
    ws = calloc(1, sizeof(*ws) + strlen(full) + 1);
    if (!ws) {
        free(full);
        free(block);
        run_stop(t, OUTCOME_ERROR, "WS connect: out of memory");
    }
    url_show(ws->url, strlen(full) + 1, full);
    url_key(key, sizeof(key), "WS", full);
    free(full);
    ws->t = t;
    ws->cb = cb;
    ws->user = user;
    ws->row = record_url(w->rec, key);
    ws->next = t->ws;
    t->ws = ws;
    if (!ws_glue(w)) {
        free(block);
        ws_error(t, ws, "connect", 0, NULL, 0,
                 "cannot create the libwebsockets context "
                 "(is libwebsockets-evlib-uv installed?)");
    }
    err[0] = '\0';
    ws->c = ws_conn_open(w->ws, t->vu, &target, protocols, headers, ws_deadline(t), &rc, err,
                         sizeof(err));
    free(block);
    if (!ws->c)
        ws_error(t, ws, "connect", rc, "no handshake within", w->plan->timeout, err);
    record_ws_sample(w->rec, ws->row, shm_mono_us() - start, t->late_us);
    return ws;
}

loads_ws *loads_ws_connect(loads_test *t, const char *url, loads_ws_callback cb,
                           void *user)
{
    return loads_ws_connect_ex(t, url, NULL, NULL, cb, user);
}

/* Sends one message, or ends the run with why not. */
static void ws_send(struct loads_test *t, struct loads_ws *ws, const void *data, size_t len,
                    int binary)
{
    char err[SHM_MSG_LEN];
    int rc;

    ws_check(t, ws, "send");
    rc = ws_conn_send(ws->c, data, len, binary, ws_deadline(t), err, sizeof(err));
    if (rc < 0)
        ws_error(t, ws, "send", rc, "not sent within", t->w->plan->timeout, err);
}

void loads_ws_send(loads_test *t, loads_ws *ws, const char *text)
{
    if (!text)
        run_stop(t, OUTCOME_ERROR, "loads_ws_send: no text (NULL)");
    ws_send(t, ws, text, strlen(text), 0);
}

void loads_ws_send_binary(loads_test *t, loads_ws *ws, const void *data, size_t len)
{
    ws_send(t, ws, data, len, 1);
}

size_t loads_ws_receive(loads_test *t, loads_ws *ws, double timeout_s)
{
    char err[SHM_MSG_LEN];
    struct ws_msg *m;
    int64_t start;
    size_t len;
    int rc;

    ws_check(t, ws, "receive");
    if (timeout_s <= 0)
        timeout_s = t->w->plan->timeout;
    start = shm_mono_us();
    m = ws_conn_receive(ws->c, start + (int64_t)(timeout_s * 1e6), &rc, err, sizeof(err));
    if (!m)
        ws_error(t, ws, "receive", rc, "no message within", timeout_s, err);
    record_ws_sample(t->w->rec, ws->row, m->arrived_us - start, t->late_us);
    len = m->data.len;
    /* Held by the socket while the callback reads it, so that the run's end
     * frees it if the callback stops the run; a callback may receive again. */
    m->next = ws->held;
    ws->held = m;
    if (ws->cb)
        ws->cb(t, ws, m->data.data ? m->data.data : "", len, m->binary, ws->user);
    ws->held = m->next;
    ws_msg_free(m);
    return len;
}

void loads_ws_close(loads_test *t, loads_ws *ws)
{
    int rc;

    ws_check(t, ws, "close");
    ws->closed_by_test = 1;
    rc = ws_conn_close(ws->c, ws_deadline(t));
    if (rc == -ECANCELED)
        ws_error(t, ws, "close", rc, NULL, 0, NULL);
    /* -ETIMEDOUT: no answer, the socket is dropped; the test has done its part. */
}
