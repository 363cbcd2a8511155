/*
 * A simple path into a JSON document, for loads_json: "user.name",
 * "items[0].id", "items[-1]" (from the end), "[2]" (a top-level array),
 * "a[\"b.c\"]" (a key with dots, brackets or quotes, backslash-escaped in
 * the quotes), "" (the document itself).  The document is parsed by
 * jansson; this only walks it.  Plain work on memory, no I/O, so it can be
 * fuzzed.
 */
#ifndef LOADS_WORKER_JPATH_H
#define LOADS_WORKER_JPATH_H

#include <jansson.h>
#include <stddef.h>

/*
 * Walks root along path.  Returns 0 with *out set (a borrowed reference);
 * -ENOENT when the path leads nowhere (a missing key, an index out of
 * range, a key into an array...); or -EINVAL when path is not a path,
 * with a one-line reason in err ("at 5: expected ']'").
 */
int jpath_find(json_t *root, const char *path, json_t **out, char *err, size_t errlen);

/*
 * The node as text: a string's value; a number, true, false or null as
 * JSON writes them; an object or an array as compact JSON.  Returns a
 * string the caller frees, or NULL when memory ran out.
 */
char *jpath_text(const json_t *node);

#endif
