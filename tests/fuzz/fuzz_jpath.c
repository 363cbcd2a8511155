/*
 * worker/jpath.c: the input's first line is a path, the rest a JSON
 * document (jansson parses it, as loads_json does).  The walk returns 0,
 * -ENOENT or -EINVAL with a one-line reason; a node found has a text; a
 * path refused is refused whatever the document.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "worker/jpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size), *nl = strchr(in, '\n'), err[256] = "";
    const char *path = in, *text = nl ? nl + 1 : "";
    json_t *doc, *node = NULL, *empty = json_object();
    int rc, rc_empty;

    if (nl)
        *nl = '\0';
    doc = json_loadb(text, strlen(text), JSON_DECODE_ANY, NULL);
    FUZZ_CHECK(empty != NULL);
    rc_empty = jpath_find(empty, path, &node, err, sizeof(err));
    if (doc) {
        rc = jpath_find(doc, path, &node, err, sizeof(err));
        FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL);
        FUZZ_CHECK((rc == -EINVAL) == (rc_empty == -EINVAL));
        if (rc == -EINVAL)
            fuzz_check_err(err, sizeof(err), 0);
        if (rc == 0) {
            char *s = jpath_text(node);

            FUZZ_CHECK(s != NULL);
            free(s);
        }
        json_decref(doc);
    }
    json_decref(empty);
    free(in);
    return 0;
}
