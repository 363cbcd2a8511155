/*
 * cl_decode on any bytes: it either refuses them with a one-line reason
 * or yields a message that encodes again and decodes to the same type
 * (and the same spec values), whose delta (for stats) can be added into a slot without touching
 * memory outside it.
 */
#include <stdlib.h>

#include "cluster/proto.h"
#include "tests/fuzz/fuzz.h"

static struct shm_slot *slot;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    slot = calloc(1, sizeof(*slot));
    FUZZ_CHECK(slot != NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1), *buf = NULL;
    struct cl_msg m, again;
    char err[256];
    size_t len;
    int rc;

    FUZZ_CHECK(copy != NULL);
    if (size)
        memcpy(copy, data, size);
    rc = cl_decode(&m, copy, size, err, sizeof(err));
    free(copy);
    if (rc < 0) {
        fuzz_check_err(err, sizeof(err), 1);
        cl_msg_free(&m);
        return 0;
    }
    FUZZ_CHECK(m.type > CL_NONE && m.type < CL_NTYPES);
    FUZZ_CHECK(cl_encode(&m, &buf, &len) == 0);
    FUZZ_CHECK(cl_decode(&again, buf, len, err, sizeof(err)) == 0);
    FUZZ_CHECK(again.type == m.type);
    FUZZ_CHECK(again.nfiles == m.nfiles && again.nlist == m.nlist);
    /* setUpOnce's values come back as they went, byte for byte. */
    FUZZ_CHECK(again.spec.once == m.spec.once && again.spec.values_len == m.spec.values_len &&
               memcmp(again.spec.values, m.spec.values, m.spec.values_len) == 0);
    if (m.type == CL_STATS) {
        FUZZ_CHECK(again.d.latency.n == m.d.latency.n && again.d.nurls == m.d.nurls);
        shm_delta_apply(slot, &m.d);
        if (__atomic_load_n(&slot->nurls, __ATOMIC_RELAXED) >= SHM_URLS)
            memset(slot, 0, sizeof(*slot));
    }
    free(buf);
    cl_msg_free(&again);
    cl_msg_free(&m);
    return 0;
}
