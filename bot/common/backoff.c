#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"

static uint64_t next_random(uint64_t *state)
{
	/* xorshift64*: jitter needs spread, not secrecy */
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 2685821657736338717ULL;
}

long hb_backoff_ms_r(unsigned attempt, long base_ms, long cap_ms,
		uint64_t *state)
{
	long d = base_ms < 1 ? 1 : base_ms;
	if (cap_ms < d)
		cap_ms = d;
	for (unsigned i = 0; i < attempt && d < cap_ms; i++)
		d = d > LONG_MAX / 2 ? LONG_MAX : 2 * d;
	if (d > cap_ms)
		d = cap_ms;
	long half = d / 2;
	return half + (long)(next_random(state) % ((uint64_t)(d - half) + 1));
}

long hb_backoff_ms(unsigned attempt, long base_ms, long cap_ms)
{
	/* one process-wide sequence, seeded so that two processes started
	 * together (a fleet after a deploy) do not draw the same delays */
	static uint64_t state;
	if (!state) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
			((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ULL;
	}
	return hb_backoff_ms_r(attempt, base_ms, cap_ms, &state);
}
