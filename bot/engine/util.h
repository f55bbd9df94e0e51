#ifndef HB_UTIL_H
#define HB_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "grow.h" /* most loaders grow arrays */

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
 * Reads a data file of at most max bytes as one strict JSON value
 * (json.h): NULL with err naming the file, and for a JSON error the line
 * and column of the problem. Data files are UTF-8 text without NULs.
 */
struct cJSON *hb_read_json(const char *path, size_t max, struct hb_error *err);

/* The first len bytes of s as a NUL-terminated string. */
char *hb_memdup(const char *s, size_t len);

#endif
