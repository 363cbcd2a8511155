/* web_parse_request and web_parse_addr: the web view's parsers (web/http.c). */
#include <errno.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"
#include "web/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct web_request r, again;
    struct sockaddr_storage a;
    socklen_t alen;
    char err[256] = "", *s;
    int rc = web_parse_request(buf, size, &r);

    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -E2BIG || rc > 0);
    FUZZ_CHECK(rc != -E2BIG || size >= WEB_MAX_REQUEST);
    if (rc > 0) {
        FUZZ_CHECK((size_t)rc <= size && rc <= WEB_MAX_REQUEST);
        FUZZ_CHECK(buf[rc - 1] == '\n');
        FUZZ_CHECK(r.method >= WEB_GET && r.method <= WEB_OTHER);
        FUZZ_CHECK(r.path[0] == '/' && strlen(r.path) < WEB_PATH_LEN);
        FUZZ_CHECK(!strchr(r.path, '?') && !strchr(r.path, ' '));
        FUZZ_CHECK(strlen(r.query) < WEB_PATH_LEN && !strchr(r.query, ' '));
        /* The head alone is the same request; one byte less of it is not whole. */
        FUZZ_CHECK(web_parse_request(buf, (size_t)rc, &again) == rc);
        FUZZ_CHECK(strcmp(again.path, r.path) == 0 && again.method == r.method);
        FUZZ_CHECK(web_parse_request(buf, (size_t)rc - 1, &again) == 0);
        FUZZ_CHECK(web_query_number(r.query, "from", -1) >= -1);
    } else if (rc == 0) {
        /* More bytes are needed: every prefix needs more too. */
        FUZZ_CHECK(size < WEB_MAX_REQUEST);
        if (size)
            FUZZ_CHECK(web_parse_request(buf, size - 1, &again) == 0);
    }

    s = fuzz_cstr(data, size);
    rc = web_parse_addr(s, &a, &alen, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0)
        FUZZ_CHECK(a.ss_family == AF_INET || a.ss_family == AF_INET6);
    else
        FUZZ_CHECK(err[0] && !strchr(err, '\n'));
    free(s);
    return 0;
}
