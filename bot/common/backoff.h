#ifndef HB_BACKOFF_H
#define HB_BACKOFF_H

#include <stdint.h>

/*
 * How long to wait before retry number attempt (0 for the first retry):
 * base_ms doubled attempt times, at most cap_ms, then drawn at random
 * from [d/2, d] so that clients that failed together (a server restart)
 * do not all come back at the same moment. Never negative; base_ms and
 * cap_ms below 1 are taken as 1, a cap below base as base.
 */
long hb_backoff_ms(unsigned attempt, long base_ms, long cap_ms);

/* The same with the caller's random state (xorshift64*; any nonzero
 * seed), for tests that want to repeat a sequence. */
long hb_backoff_ms_r(unsigned attempt, long base_ms, long cap_ms,
		uint64_t *state);

#endif
