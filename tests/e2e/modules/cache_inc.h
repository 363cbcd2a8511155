/* The path cache_inc.c requests; compile_cache.sh edits it. */
#define CACHE_PATH "/"
