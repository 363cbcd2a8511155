/*
 * url_parse: the parts of a request's absolute URL that the
 * built-in client sends (host, port, Host header, target) and whether it
 * may send it at all; and of a web socket's URL.
 */
#include <ctype.h>
#include <strings.h>

#include "tests/fuzz/fuzz.h"
#include "http/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    size_t len = strlen(s);
    struct url_parts u;

    if (url_parse(s, &u) == 0) {
        FUZZ_CHECK(strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0 ||
                   strncasecmp(s, "ws://", 5) == 0 || strncasecmp(s, "wss://", 6) == 0);
        FUZZ_CHECK(u.https ==
                   (strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "wss://", 6) == 0));
        FUZZ_CHECK(u.port >= 1 && u.port <= 65535);
        FUZZ_CHECK(u.host[0] != '\0' && strlen(u.host) < sizeof(u.host));
        for (const char *h = u.host; *h; h++)
            FUZZ_CHECK(!isupper((unsigned char)*h));
        /* Pointers into the URL, in order, inside it. */
        FUZZ_CHECK(u.authority >= s && u.authority + u.authority_len <= s + len);
        FUZZ_CHECK(u.target_len == 0 ||
                   (u.target >= u.authority + u.authority_len &&
                    u.target + u.target_len <= s + len));
        FUZZ_CHECK(u.path_len <= u.target_len);
        FUZZ_CHECK(memchr(u.target, '#', u.target_len) == NULL);
        FUZZ_CHECK(memchr(u.target, '?', u.path_len) == NULL);
        if (u.simple) {
            /* Nothing the request line or Host header could be broken by. */
            FUZZ_CHECK(strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0);
            for (size_t i = 0; i < u.target_len; i++)
                FUZZ_CHECK(u.target[i] > ' ' && u.target[i] < 0x7f);
            FUZZ_CHECK(memchr(u.authority, '@', u.authority_len) == NULL);
            for (size_t i = 0; i < u.authority_len; i++)
                FUZZ_CHECK(u.authority[i] > ' ' && u.authority[i] < 0x7f);
        }
    }
    free(s);
    return 0;
}
