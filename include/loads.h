/*
 * loads.h - the one header a Loads test includes.
 *
 * A test is a C function registered with LOADS_TEST(Suite, name).  It runs
 * inside a virtual user (VU) and calls a blocking-style API: loads_get()
 * returns when the response has arrived, but underneath only the VU waits;
 * the worker's event loop runs the other VUs meanwhile.  Never call sleep(3)
 * or other blocking calls in a test: use loads_sleep().
 *
 *     #include <loads.h>
 *
 *     LOADS_TEST(TestWebSite, test_something)
 *     {
 *         loads_response *r = loads_get(t, "/");
 *         loads_assert(t, loads_contains(r, "Search"), "no Search in body");
 *     }
 *
 * Outcomes, as in Python's unittest:
 *   - Failure: a loads_assert() whose condition is false.  The test stops
 *     there; its message is counted and shown in the summary.
 *   - Error: a transport error (connection refused, timeout, bad URL...),
 *     or a crash.  Request functions never return NULL: on a transport
 *     error the test stops there as an Error with curl's message.
 *   - Success: the test function returned.
 *
 * Sessions: each VU owns one HTTP session for its whole life, like a
 * Requests Session: connections are kept alive and reused between its
 * requests, and a cookie set by a response is sent with its next requests.
 * VUs never share connections or cookies.
 *
 * Memory: responses belong to the test run and are freed when the test
 * function returns (or stops); do not keep them across runs.
 *
 * Build a test module by hand with
 *     cc -shared -fPIC example.c $(pkg-config --cflags --libs loads) -o example.so
 * or let loads-runner compile example.c for you.
 */
#ifndef LOADS_H
#define LOADS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The running test: its VU, session and outcome.  Passed to every call. */
typedef struct loads_test loads_test;

/* A response: status, headers, body.  Owned by the test run. */
typedef struct loads_response loads_response;

/* ---------------------------------------------------------------- tests */

/*
 * LOADS_TEST(Suite, name) { ... } defines the test Suite.name; inside its
 * body the running test is `t`.  LOADS_SETUP(Suite) and LOADS_TEARDOWN(Suite)
 * optionally run before and after each test of the suite, in the same VU;
 * a failing setUp skips the test, and tearDown runs whenever setUp passed.
 */
#define LOADS_TEST(suite, name) LOADS__DEFINE(suite, name, LOADS__KIND_TEST, 0)
#define LOADS_SETUP(suite)      LOADS__DEFINE(suite, setUp, LOADS__KIND_SETUP, 0)
#define LOADS_TEARDOWN(suite)   LOADS__DEFINE(suite, tearDown, LOADS__KIND_TEARDOWN, 0)

/*
 * Wider scopes, each optional, with the whole API at hand:
 *
 * LOADS_SETUP_VU(Suite) runs in each VU before its first test run, and
 * LOADS_TEARDOWN_VU(Suite) after its last (a login, then a logout: the
 * VU's cookies and loads_set_value values last its whole life).  A VU
 * whose setUpVU fails runs no test; tearDownVU runs whenever it passed.
 *
 * LOADS_SETUP_ONCE(Suite) runs once before any VU starts, and
 * LOADS_TEARDOWN_ONCE(Suite) once after every VU has ended, however many
 * workers there are; each in a VU of its own (loads_user is 0).  On a
 * cluster (loads-runner --agents) the runner runs them, once for all the
 * agents, and ships setUpOnce's values to every agent's VUs.  What
 * setUpOnce stores with loads_set_value (a token, a list of ids as JSON)
 * every VU reads with loads_value.  When setUpOnce fails, no test runs
 * and tearDownOnce does not run.
 *
 * Setups and teardowns that pass are not test runs (their requests are
 * hits); one that fails counts as a run of "Suite.setUpVU" (...), with its
 * Failure or Error and message, as a test's would.
 */
#define LOADS_SETUP_VU(suite)      LOADS__DEFINE(suite, setUpVU, LOADS__KIND_SETUP_VU, 0)
#define LOADS_TEARDOWN_VU(suite)   LOADS__DEFINE(suite, tearDownVU, LOADS__KIND_TEARDOWN_VU, 0)
#define LOADS_SETUP_ONCE(suite)    LOADS__DEFINE(suite, setUpOnce, LOADS__KIND_SETUP_ONCE, 0)
#define LOADS_TEARDOWN_ONCE(suite) \
    LOADS__DEFINE(suite, tearDownOnce, LOADS__KIND_TEARDOWN_ONCE, 0)

/*
 * LOADS_TEST_WEIGHT(Suite, name, weight) { ... } defines a test with a
 * weight from 1 to 1000.  Running module.Suite, a suite with weights runs
 * ONE of its tests per hit, picked by weight, instead of all of them in
 * name order (its tests without a weight weigh 1):
 *
 *     LOADS_TEST_WEIGHT(Shop, browse, 70) { ... }
 *     LOADS_TEST_WEIGHT(Shop, search, 20) { ... }
 *     LOADS_TEST_WEIGHT(Shop, buy, 10) { ... }
 *
 * `-u 10 -c 100` is then 1000 runs: 700 browse, 200 search, 100 buy.  The
 * picks are spread evenly, not drawn at random: each VU follows one
 * repeating order of the tests (browse, search, browse, buy...) from its
 * own starting point, so that every full round of 100 runs of a VU has
 * the weights exactly.  The summary counts outcomes per test too.
 */
#define LOADS_TEST_WEIGHT(suite, name, weight)                                     \
    _Static_assert((weight) >= 1 && (weight) <= 1000,                              \
                   "LOADS_TEST_WEIGHT: a weight from 1 to 1000");                  \
    LOADS__DEFINE(suite, name, LOADS__KIND_TEST, weight)

/* ------------------------------------------------------------- requests */

/*
 * Sends a request and returns its response.  url is either absolute
 * ("http://127.0.0.1:8080/x") or relative to --server-url ("/x").  headers
 * is NULL or a NULL-terminated array of "Name: value" strings; one named
 * like a header the client sends itself (Host, User-Agent, Accept, Cookie,
 * Content-Type, Content-Length) replaces it, "Name:" alone removes it and
 * "Name;" sends it empty.  body may be NULL; a body goes with its
 * Content-Length and, unless headers name one, a form Content-Type.
 * Redirects are followed (at most 30, each one a hit); the response is the
 * last one.  On a transport error the test stops as an Error.
 */
loads_response *loads_request(loads_test *t, const char *method, const char *url,
                              const char *const *headers, const void *body,
                              size_t body_len);

/*
 * Options of one request for loads_send, every one optional (zero or NULL
 * means the default), best given with designated initializers:
 *
 *     static const int ok[] = {200, 404, 0};
 *     char url[64];
 *
 *     snprintf(url, sizeof(url), "/api/items/%d", id);
 *     r = loads_send(t, "GET", url, &(struct loads_req){
 *             .name = "GET /api/items/{id}", .expect = ok, .timeout = 2});
 */
struct loads_req {
    const char *name;             /* the row of the URL table this request (and
                                     every redirect it follows) is counted on,
                                     instead of "METHOD url": one row for
                                     /api/items/17, /api/items/18... */
    const char *const *headers;   /* as for loads_request */
    const void *body;             /* as for loads_request */
    size_t body_len;
    double timeout;               /* seconds for the whole request, redirects
                                     included; 0: --timeout */
    const int *expect;            /* the statuses expected, ending with 0; 1 to 5
                                     stand for a class (2: any 2xx); NULL: any
                                     status below 400.  Redirects that are
                                     followed are always expected */
    int fail;                     /* nonzero: a last status not expected stops
                                     the test as a Failure */
};

/*
 * Sends a request with options (req may be NULL: the defaults).  A last
 * status that req does not expect counts as not OK in the URL table and,
 * with .fail, stops the test as a Failure ("GET /x: status 404, expected
 * 200 or 2xx").
 */
loads_response *loads_send(loads_test *t, const char *method, const char *url,
                           const struct loads_req *req);

/* GET url. */
loads_response *loads_get(loads_test *t, const char *url);

/* POST url with a body of the given Content-Type (NULL: form-encoded). */
loads_response *loads_post(loads_test *t, const char *url, const char *content_type,
                           const void *body, size_t body_len);

/* The server URL given with --server-url ("" when none was given). */
const char *loads_server_url(const loads_test *t);

/* ------------------------------------------------------------ responses */

/* The HTTP status code, for example 200. */
int loads_status(const loads_response *r);

/*
 * The value of the first header called name (case-insensitive), without
 * leading blanks or the line end; NULL when there is none.
 */
const char *loads_header(const loads_response *r, const char *name);

/* The body, always followed by a NUL byte; and its length in bytes. */
const char *loads_body(const loads_response *r);
size_t loads_body_len(const loads_response *r);

/* Seconds from sending the request to the last byte of the response. */
double loads_elapsed(const loads_response *r);

/* 1 when the body contains the string needle, else 0. */
int loads_contains(const loads_response *r, const char *needle);

/* ------------------------------------------------------ reading responses */

/*
 * Helpers on text, a response's body or anything else.  The strings they
 * return belong to the test run, like responses: valid until it ends.
 *
 * loads_json: the value at path in the JSON document json, as text: a
 * string's value, a number, true, false or null as written, an object or
 * an array as compact JSON.  NULL when the document is not JSON or the
 * path leads nowhere.  A path is keys and indexes: "user.name",
 * "items[0].id", "items[-1]" (the last), "[2]", "a[\"b.c\"]" (a key with
 * dots); a path that is not one stops the test as an Error.  Parsed by
 * jansson; the last document a VU parsed stays parsed, so reading several
 * values of one body costs one parse.
 *
 *     const char *id = loads_json(t, loads_body(r), "items[0].id");
 *
 * loads_regex: the first match of the POSIX extended regular expression
 * pattern in text: its first group when it has one, else the whole match;
 * NULL when nothing matches.  A bad pattern stops the test as an Error.
 *
 *     const char *token = loads_regex(t, loads_body(r), "name=\"csrf\" value=\"([^\"]*)\"");
 *
 * loads_urlencode: value percent-encoded for a URL or a form (all but
 * letters, digits and -._~).
 */
const char *loads_json(loads_test *t, const char *json, const char *path);
const char *loads_regex(loads_test *t, const char *text, const char *pattern);
const char *loads_urlencode(loads_test *t, const char *value);

/*
 * The VU's cookie jar.  loads_cookie: the value of the cookie called name
 * that a request to url would send (url relative to --server-url or
 * absolute; NULL means "/"), or NULL.  loads_set_cookie: stores a cookie as
 * if a response from url had sent "Set-Cookie: " set_cookie, such as
 * "session=abc; Path=/"; a cookie the jar must refuse stops the test as an
 * Error.  Expire one with "name=; Max-Age=0".
 */
const char *loads_cookie(loads_test *t, const char *url, const char *name);
void loads_set_cookie(loads_test *t, const char *url, const char *set_cookie);

/* ----------------------------------------------------------- websockets */

/*
 * A WebSocket connection of the running test.  It belongs to the test run:
 * a socket the test leaves open is closed when the run ends, and the
 * handle must not be kept across runs.  One VU may use any number of
 * sockets and mix them with HTTP requests.
 *
 *     static void on_message(loads_test *t, loads_ws *ws, const void *data,
 *                            size_t len, int binary, void *user)
 *     {
 *         ...copy what the test wants to check into *user...
 *     }
 *
 *     loads_ws *ws = loads_ws_connect(t, "/chat", on_message, &seen);
 *     loads_ws_send(t, ws, "hello");
 *     loads_ws_receive(t, ws, 5);       (on_message has seen the reply)
 *     loads_ws_close(t, ws);
 *
 * Counting: each successful handshake adds 1 to "Opened web sockets", each
 * payload byte received adds to "Bytes received via web sockets".  The
 * time of the handshake and the wait of each loads_ws_receive are the
 * response times of the socket's row "WS ws://host/path" in the URL table
 * (they are not mixed into the HTTP response times).
 */
typedef struct loads_ws loads_ws;

/*
 * Called with each message, inside the VU, just before the
 * loads_ws_receive that waited for it returns; so it may call the API,
 * assertions included.  data holds the whole message (fragments are
 * reassembled), followed by a NUL byte so that a text message can be used
 * as a string; it is valid until the callback returns.  binary is 1 for a
 * binary message, 0 for text.  user is the pointer given to connect.
 */
typedef void (*loads_ws_callback)(loads_test *t, loads_ws *ws, const void *data,
                                  size_t len, int binary, void *user);

/*
 * Opens a WebSocket and returns when the handshake has completed.  url is
 * absolute ("ws://127.0.0.1:9200/chat", "wss://...", or http:// and
 * https://, which mean ws:// and wss://) or relative to --server-url
 * ("/chat"), whose http becomes ws and https wss.  cb may be NULL (messages
 * are then only counted).  On a failure (connection refused, handshake
 * refused, timeout) the test stops as an Error.
 */
loads_ws *loads_ws_connect(loads_test *t, const char *url, loads_ws_callback cb,
                           void *user);

/*
 * The same, offering the subprotocols of protocols ("chat, superchat"; NULL
 * for none) and adding headers, NULL or a NULL-terminated array of
 * "Name: value" strings, to the handshake request.
 */
loads_ws *loads_ws_connect_ex(loads_test *t, const char *url, const char *protocols,
                              const char *const *headers, loads_ws_callback cb,
                              void *user);

/*
 * Sends a text message (a NUL-terminated string) or a binary one.  It
 * returns at once unless the connection is backed up, then it waits until
 * the message has been handed to the system.  Sending on a closed socket
 * stops the test as an Error.
 */
void loads_ws_send(loads_test *t, loads_ws *ws, const char *text);
void loads_ws_send_binary(loads_test *t, loads_ws *ws, const void *data, size_t len);

/*
 * Waits for the next message (messages are queued per socket in their order
 * of arrival), runs the callback on it, and returns its length.  timeout_s
 * of 0 or less means --timeout.  When no message comes within the timeout,
 * or the socket is closed before one comes (by the server: "closed by
 * server (1000)"), the test stops as an Error.
 */
size_t loads_ws_receive(loads_test *t, loads_ws *ws, double timeout_s);

/*
 * Closes the socket with status 1000 and waits for the server's answer (at
 * most --timeout).  Messages not yet received are dropped.  Any later call
 * on ws stops the test as an Error.
 */
void loads_ws_close(loads_test *t, loads_ws *ws);

/* ------------------------------------------------------------- outcomes */

/*
 * When cond is false, stops the test as a Failure with a printf-style
 * message.  cond is evaluated once.
 */
#define loads_assert(t, cond, ...)                                                 \
    do {                                                                           \
        if (!(cond))                                                               \
            loads__fail((t), __FILE__, __LINE__, __VA_ARGS__);                     \
    } while (0)

/* Stops the test as a Failure (unconditionally). */
#define loads_fail(t, ...) loads__fail((t), __FILE__, __LINE__, __VA_ARGS__)

/* ---------------------------------------------------------------- misc */

/*
 * Records a check called name: a pass when cond is true, a fail when it is
 * false; unlike loads_assert, the test goes on either way.  The summary,
 * the JSON and the dashboard show each check's passes, fails and rate.
 * Returns 1 when cond is true, else 0, so that a test may act on it:
 *
 *     if (!loads_check(t, loads_status(r) == 200, "item found"))
 *         return;
 */
int loads_check(loads_test *t, int cond, const char *name);

/* ------------------------------------------------------------- metrics */

/* Adds 1 (or n) to the custom counter called name, shown in the summary. */
void loads_incr_counter(loads_test *t, const char *name);
void loads_add_counter(loads_test *t, const char *name, long n);

/*
 * Records a value of the trend called name (a time, a size, a count...),
 * shown like the response times: count, mean, min, p50, p90, p99, max.
 * Values from 0.001 to 3,600,000 are kept with 3 significant digits;
 * smaller ones (and negative ones) count as 0, larger ones as 3,600,000.
 */
void loads_trend(loads_test *t, const char *name, double value);

/* Sets the gauge called name to value: the summary shows the last value set. */
void loads_gauge(loads_test *t, const char *name, double value);

/* Waits this many seconds (think time) without blocking the other VUs. */
void loads_sleep(loads_test *t, double seconds);

/* This VU's number: 0-based, unique within a cycle of the run. */
int loads_user(const loads_test *t);

/* ---------------------------------------------------------- data, values */

/*
 * Named values, strings of any length (names up to 63 bytes).  Stored in
 * LOADS_SETUP_ONCE, a value is the whole run's: every VU of every worker
 * reads it.  Stored anywhere else, it is the VU's own for its life, and
 * comes before a run-wide value of the same name.  loads_value returns
 * NULL for a name never stored.  A run-wide value's string lasts the whole
 * run; a VU's own lasts until that VU next stores a value (or ends).
 *
 *     LOADS_SETUP_ONCE(Api)
 *     {
 *         loads_response *r = loads_post(t, "/token", NULL, "user=admin", 10);
 *         loads_set_value(t, "token", loads_json(t, loads_body(r), "token"));
 *     }
 *
 *     LOADS_TEST(Api, test_list)
 *     {
 *         char auth[256];
 *         snprintf(auth, sizeof(auth), "Authorization: Bearer %s", loads_value(t, "token"));
 *         ...
 *     }
 */
void loads_set_value(loads_test *t, const char *name, const char *value);
const char *loads_value(loads_test *t, const char *name);

/*
 * The value in column of the row of `--data FILE.csv` this test run took
 * (the file's header names the columns).  A run's first call takes the
 * next row; with `--data-per vu` a VU's first call takes one for the VU's
 * whole life.  Rows are shared out over every VU and worker so that no two
 * take the same row until the file wraps around.  Without --data, or for a
 * column the file does not have, the test stops as an Error.  The value
 * lives as long as the run of loads-runner.
 *
 *     char body[256];
 *     int n = snprintf(body, sizeof(body), "user=%s&password=%s",
 *                      loads_urlencode(t, loads_data(t, "user")),
 *                      loads_urlencode(t, loads_data(t, "password")));
 *     loads_post(t, "/login", NULL, body, (size_t)n);
 */
const char *loads_data(loads_test *t, const char *column);

/*
 * The value of `--env NAME=VALUE` for name, or NULL when it was not given
 * (the process's own environment is not read: --env values are the same
 * wherever the test runs).  The value lives as long as the run.
 */
const char *loads_env(loads_test *t, const char *name);

/* ------------------------------------------------------------ internals */
/* Used by the macros above; not part of the API. */

enum {
    LOADS__KIND_TEST,
    LOADS__KIND_SETUP,
    LOADS__KIND_TEARDOWN,
    LOADS__KIND_SETUP_VU,
    LOADS__KIND_TEARDOWN_VU,
    LOADS__KIND_SETUP_ONCE,
    LOADS__KIND_TEARDOWN_ONCE,
};

struct loads__def {
    const char *suite;             /* suite name */
    const char *name;              /* test name, or setUp / tearDown */
    int kind;                      /* LOADS__KIND_* */
    void (*fn)(loads_test *t);     /* the body */
    struct loads__def *next;       /* registration list, for the runner */
    int weight;                    /* LOADS_TEST_WEIGHT's, 0 for LOADS_TEST */
};

void loads__register(struct loads__def *def);
void loads__fail(loads_test *t, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

#define LOADS__DEFINE(suite, name, kind, weight)                                   \
    static void loads__fn_##suite##_##name(loads_test *t);                         \
    __attribute__((constructor)) static void loads__reg_##suite##_##name(void)     \
    {                                                                              \
        static struct loads__def def = {#suite, #name, kind,                       \
                                        loads__fn_##suite##_##name, NULL, weight}; \
        loads__register(&def);                                                     \
    }                                                                              \
    static void loads__fn_##suite##_##name(loads_test *t)

#ifdef __cplusplus
}
#endif

#endif /* LOADS_H */
