#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "library.h"
#include "utf8.h"
#include "util.h"

void hb_error_set(struct hb_error *err, const char *file, const char *entry,
		int line, int column, const char *fmt, ...)
{
	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	snprintf(err->entry, sizeof(err->entry), "%s", entry ? entry : "");
	err->line = line;
	err->column = column;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

bool hb_read_file(const char *path, size_t max, char **data, size_t *size,
		struct hb_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hb_error_set(err, path, "", 0, 0, "cannot open: %s", strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		hb_error_set(err, path, "", 0, 0, "not a regular file");
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		hb_error_set(err, path, "", 0, 0, "file too large (%lld bytes, limit %zu)",
			(long long)st.st_size, max);
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		hb_error_set(err, path, "", 0, 0, "out of memory");
		goto fail;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hb_error_set(err, path, "", 0, 0, "read failed: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	*data = buf;
	*size = len;
	return true;
fail:
	free(buf);
	close(fd);
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool hb_list_dir(const char *dir, const char *suffix, char ***names,
		size_t *n, struct hb_error *err)
{
	DIR *d = opendir(dir);
	char **list = NULL;
	size_t count = 0;
	size_t slen = strlen(suffix);
	struct dirent *ent;
	if (!d) {
		hb_error_set(err, dir, "", 0, 0, "cannot open directory: %s",
			strerror(errno));
		return false;
	}
	while ((ent = readdir(d))) {
		size_t len = strlen(ent->d_name);
		if (ent->d_name[0] == '.' || len <= slen ||
				strcmp(ent->d_name + len - slen, suffix) != 0)
			continue;
		char **l = hb_grow(list, count, sizeof(*l));
		if (!l)
			goto oom;
		list = l;
		if (!(list[count] = strdup(ent->d_name)))
			goto oom;
		count++;
	}
	closedir(d);
	qsort(list, count, sizeof(*list), cmp_str);
	*names = list;
	*n = count;
	return true;
oom:
	closedir(d);
	hb_free_list(list, count);
	hb_error_set(err, dir, "", 0, 0, "out of memory");
	return false;
}

void hb_free_list(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

cJSON *hb_read_json(const char *path, size_t max, struct hb_error *err)
{
	char *data = NULL;
	size_t size;
	struct hb_json_error jerr;
	cJSON *root = NULL;
	if (!hb_read_file(path, max, &data, &size, err))
		return NULL;
	if (!hb_utf8_valid(data, size) || strlen(data) != size)
		hb_error_set(err, path, "", 0, 0,
			"not UTF-8 text (invalid byte sequence or NUL)");
	else if (!(root = hb_json_parse(data, size, &jerr)))
		hb_error_set(err, path, "", jerr.line, jerr.column, "invalid JSON");
	free(data);
	return root;
}

char *hb_memdup(const char *s, size_t len)
{
	/* strndup() may read past len looking for a NUL; the bytes here are
	 * often a slice of a larger buffer or an unterminated scratch */
	char *d = malloc(len + 1);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}
