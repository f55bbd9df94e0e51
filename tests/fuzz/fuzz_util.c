#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fuzz_util.h"

static char scratch[512];

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *ent;
	if (d) {
		while ((ent = readdir(d))) {
			char sub[512];
			if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, ent->d_name);
			remove_tree(sub);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void cleanup(void)
{
	/* only the process that made it removes it (fork() copies scratch) */
	char mine[64];
	snprintf(mine, sizeof(mine), "/hb-fuzz-%ld-", (long)getpid());
	if (scratch[0] && strstr(scratch, mine))
		remove_tree(scratch);
}

const char *hb_fuzz_dir(void)
{
	if (scratch[0])
		return scratch;
	/* TMPDIR: tests/fuzz/run points it into its work directory, which
	 * also collects the directories of processes that crashed */
	const char *tmp = getenv("TMPDIR");
	snprintf(scratch, sizeof(scratch), "%s/hb-fuzz-%ld-XXXXXX",
		tmp && *tmp && strlen(tmp) < 400 ? tmp : "/tmp", (long)getpid());
	if (!mkdtemp(scratch))
		hb_fuzz_fail("cannot make a scratch directory: %s", strerror(errno));
	atexit(cleanup);
	return scratch;
}

char *hb_fuzz_subdir(const char *name)
{
	char *path = malloc(strlen(hb_fuzz_dir()) + strlen(name) + 2);
	if (!path)
		hb_fuzz_fail("out of memory");
	sprintf(path, "%s/%s", hb_fuzz_dir(), name);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		hb_fuzz_fail("cannot make %s: %s", path, strerror(errno));
	return path;
}

void hb_fuzz_write(const char *dir, const char *name, const void *data,
		size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		hb_fuzz_fail("cannot write %s: %s", path, strerror(errno));
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			hb_fuzz_fail("cannot write %s: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

void hb_fuzz_unlink(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

void hb_fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz invariant failed: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

bool hb_fuzz_contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	}
	return false;
}

const char *hb_fuzz_find(const char *data, size_t size, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n <= size && i <= size - n; i++) {
		if (memcmp(data + i, needle, n) == 0)
			return data + i;
	}
	return NULL;
}

void hb_fuzz_check_reply(const struct hb_reply *r, const char *emergency,
		const char *crisis)
{
	char why[256];
	if (!hb_check_reply(r, emergency, crisis, why, sizeof(why)))
		hb_fuzz_fail("%s", why);
}

void hb_fuzz_check_prefilter(const struct hb_engine *e, const char *msg,
		size_t len)
{
	char why[256];
	if (!hb_check_prefilter(e, msg, len, why, sizeof(why)))
		hb_fuzz_fail("%s", why);
}
