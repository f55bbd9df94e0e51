#ifndef HB_UTIL_H
#define HB_UTIL_H

#include <stdbool.h>
#include <stddef.h>

struct hb_error;
struct cJSON;

/* Reads a whole regular file of at most max bytes, NUL-terminated. */
bool hb_read_file(const char *path, size_t max, char **data, size_t *size,
		struct hb_error *err);

/* Sorted list of the regular files in dir whose names end in suffix. */
bool hb_list_dir(const char *dir, const char *suffix, char ***names,
		size_t *n, struct hb_error *err);
void hb_free_list(char **names, size_t n);

/*
 * realloc() for an array growing one element at a time: returns array
 * with room for element n (n elements of size bytes are in use), or NULL
 * when memory runs out (array untouched). The capacity is not stored: it
 * is n rounded up to a power of two, so the array moves only when n is 0
 * or a power of two and filling it costs amortized O(1) per element
 * whatever the allocator (a realloc per element is quadratic where
 * realloc always copies, as under ASan and valgrind).
 */
void *hb_grow(void *array, size_t n, size_t size);

/* The first len bytes of s as a NUL-terminated string. */
char *hb_memdup(const char *s, size_t len);

/* Parses exactly one JSON value filling data[0..size) (white space
 * around it allowed); NULL with *end at the problem otherwise. */
struct cJSON *hb_parse_json(const char *data, size_t size, const char **end);

#endif
