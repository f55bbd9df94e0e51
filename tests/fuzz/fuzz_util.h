#ifndef HB_FUZZ_UTIL_H
#define HB_FUZZ_UTIL_H

/*
 * Helpers shared by the libFuzzer targets in this directory. The engine
 * reads its data from files only, so the loader targets write each input
 * to a scratch directory of their own process (libFuzzer's -fork/-jobs run
 * several at once) under $TMPDIR or /tmp; it is removed at exit.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process's scratch directory, made on first use; NULL on failure
 * (then the target aborts: a fuzzer that cannot write tests nothing). */
const char *hb_fuzz_dir(void);
/* Makes dir/name (a directory) and returns its path (static storage, one
 * per call site: copy it if it must survive another call). */
char *hb_fuzz_subdir(const char *name);
/* Writes len bytes to dir/name, replacing it. Aborts on failure. */
void hb_fuzz_write(const char *dir, const char *name, const void *data,
		size_t len);
void hb_fuzz_unlink(const char *dir, const char *name);

/* Aborts with a message: libFuzzer records the input as a crash. */
void hb_fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
		noreturn));

/* The first occurrence of needle in data[0..size), or NULL (memmem is
 * not POSIX). */
const char *hb_fuzz_find(const char *data, size_t size, const char *needle);

/* The invariants of tests/common/check.c, failing the run when broken. */
struct hb_reply;
struct hb_engine;
void hb_fuzz_check_reply(const struct hb_reply *r, const char *emergency,
		const char *crisis);
void hb_fuzz_check_prefilter(const struct hb_engine *e, const char *msg,
		size_t len);

/* ASCII case-insensitive search in a NUL-terminated string. */
bool hb_fuzz_contains_nocase(const char *hay, const char *needle);

#endif
