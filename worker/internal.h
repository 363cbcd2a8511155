/*
 * Internals shared by the files of worker/: the worker, its VUs and their
 * responses.  Nothing outside worker/ includes this.
 */
#ifndef LOADS_WORKER_INTERNAL_H
#define LOADS_WORKER_INTERNAL_H

#include <curl/curl.h>
#include <setjmp.h>
#include <uv.h>

#include "loads.h"
#include "shm/recent.h"
#include "shm/shm.h"
#include "worker/coro.h"
#include "worker/worker.h"

struct lws_context; /* libwebsockets, seen only by ws.c */
struct h1_conn;     /* the built-in HTTP/1.1 client's connections (conn.c) */
struct cookie_jar;  /* cookie.c */
struct dns_entry;   /* conn.c */
struct url_parts;   /* url.h */

enum vu_state {
    VU_NEW = 0,     /* created, waiting for its start (ramp-up) */
    VU_RUNNING,     /* running test code */
    VU_WAIT_HTTP,   /* suspended until its request completes */
    VU_WAIT_SLEEP,  /* suspended in loads_sleep */
    VU_WAIT_WS,     /* suspended on a web socket: connect, send, receive, close */
    VU_FINISHED,    /* its coroutine has returned */
};

enum vu_outcome { VU_SUCCESS = 0, VU_FAILURE = SHM_FAILURE, VU_ERROR = SHM_ERROR };

struct loads_response {
    struct loads_response *next;  /* the run's list of responses, freed together */
    char *url;                    /* the absolute URL requested */
    int status;                   /* HTTP status */
    double elapsed;               /* seconds, request to last byte */
    char *body;                   /* NUL-terminated, at most max_body bytes */
    size_t body_len;              /* bytes kept in body */
    size_t body_cap;              /* allocated for body, without the NUL */
    char *headers;                /* the last response's header lines */
    size_t headers_len;
    size_t headers_cap;
    char *hop_url;                /* the URL a redirect led to */
    const char **hop_headers;     /* the user's headers for another server */
    int set_cookie;               /* the last response sets cookies */
};

/* One exchange of a request (each redirect is another), for an engine. */
struct hop {
    const char *method;
    const char *url;              /* absolute */
    const struct url_parts *u;    /* its parts */
    const char *const *headers;   /* the user's, NULL-terminated; may be NULL */
    int has_body;
    const void *body;
    size_t body_len;
    const char *cookie;           /* the Cookie header's value, or NULL */
    int64_t deadline_us;          /* monotonic end of the whole request */
    int status;                   /* out: the response's status */
    char *err;                    /* out: why it failed */
    size_t errlen;
};

/* A virtual user; the public API calls it loads_test. */
struct loads_test {
    struct worker *w;             /* owning worker */
    struct coro *co;              /* its coroutine */
    uint32_t id;                  /* VU number, unique in the run */
    enum vu_state state;          /* see vu_set_state */
    int aborted;                  /* stopped from outside: the run is an Error */
    struct h1_conn *conns;        /* its connections of the built-in client */
    int64_t h1_deadline_us;       /* a built-in request's end, 0 when none */
    int h1_timed_out;             /* that request ran past it */
    struct cookie_jar *jar;       /* its cookies, NULL until the first */
    CURL *easy;                   /* its curl handle, reused; NULL until needed */
    CURLSH *share;                /* its curl connections */
    CURLcode result;              /* result of the last transfer */
    char errbuf[CURL_ERROR_SIZE]; /* curl's message for the last transfer */
    uv_timer_t timer;             /* ramp-up start and loads_sleep */
    const struct worker_test *test; /* running test */
    jmp_buf jmp;                  /* where a failure or error lands */
    enum vu_outcome outcome;      /* of the running test */
    char msg[SHM_MSG_LEN];        /* its message, when not a success */
    struct loads_response *responses; /* this run's responses */
    struct loads_response *filling;   /* response being received */
    struct loads_ws *ws;          /* this run's web sockets (ws.c) */
    struct loads_ws *ws_waiting;  /* the socket it waits on in VU_WAIT_WS */
    struct loads_test *ws_next;   /* next in the worker's ws_ready queue */
    int ws_queued;                /* in that queue */
    int ws_timed_out;             /* its web socket wait timed out */
};

/* A socket curl opened, watched by one uv_poll for its whole life. */
struct worker_sock {
    uv_poll_t poll;
    struct worker *w;
    int fd;
    int wanted;                   /* UV_READABLE|UV_WRITABLE curl asked for; 0 = none */
    int armed;                    /* events the poll handle is started with */
    int ours;                     /* opened by our opensocket callback */
};

struct worker {
    const struct worker_plan *plan;
    struct shm_header *hdr;       /* the run's header (read) */
    struct shm_slot *slot;        /* this worker's slot (written) */
    uv_loop_t loop;
    uv_timer_t curl_timer;        /* curl's single timeout */
    uv_timer_t tick;              /* stop flag, deadline, per-second series */
    CURLM *multi;
    struct worker_sock **socks;   /* by file descriptor */
    int nsocks;
    struct loads_test *vus;
    uint32_t nvus;
    uint32_t vus_left;            /* VUs whose coroutine has not returned */
    int stopping;                 /* no new runs */
    int64_t hard_stop_us;         /* monotonic: abort runs still going after it */
    struct hist *second;          /* response times of the current second */
    uint64_t cur_second;          /* the second being collected */
    uint64_t sec_hits;            /* its hits */
    uint64_t sec_errors;          /* its failed and errored runs */
    struct shm_recent recent;     /* the last seconds, for the slot's recent */
    struct lws_context *lws;      /* web sockets, created on the first connect */
    int lws_failed;               /* creating it failed: do not retry */
    uv_idle_t ws_idle;            /* resumes the VUs of ws_ready, off lws' stack */
    struct loads_test *ws_ready;  /* VUs whose socket has news, oldest first */
    struct loads_test *ws_ready_tail;
    char *ws_buf;                 /* LWS_PRE + outgoing payload, for lws_write */
    size_t ws_buf_cap;
    int proxy;                    /* a proxy is set in the environment */
    int curl_only;                /* so every request goes through curl (or
                                     LOADS_HTTP=curl says so) */
    char *rbuf;                   /* receive buffer of the built-in client */
    char *wbuf;                   /* request heads, built here and sent at once */
    size_t wbuf_cap;
    char *cbuf;                   /* a request's Cookie value */
    size_t cbuf_cap;
    struct dns_entry *dns;        /* host names looked up */
    int ndns;
    struct ssl_ctx_st *ssl_ctx;   /* OpenSSL's SSL_CTX for https, made when needed */
};

/* worker.c */
void vu_set_state(struct loads_test *vu, enum vu_state state);
void vu_resume(struct loads_test *vu);
void vu_stop_run(struct loads_test *vu, enum vu_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
void vu_yield(struct loads_test *vu, enum vu_state state);

/* http.c */
int worker_http_init(struct worker *w);
void worker_http_close(struct worker *w);
void worker_http_vu_close(struct loads_test *vu);
void worker_http_abort(struct loads_test *vu);
void worker_http_free_responses(struct loads_test *vu);
int worker_http_keep_header(struct loads_test *vu, const char *line, size_t len);
int worker_http_keep_body(struct loads_test *vu, const char *data, size_t len);

/* conn.c */
int worker_h1_hop(struct loads_test *vu, struct hop *h);
void worker_h1_check_timeouts(struct worker *w, int64_t now);
void worker_h1_vu_close(struct loads_test *vu);
void worker_h1_close(struct worker *w);

/* ws.c */
void worker_ws_end_run(struct loads_test *vu);
void worker_ws_abort(struct loads_test *vu);
void worker_ws_close(struct worker *w);

#endif
