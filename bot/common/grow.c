#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

void *hb_grow(void *array, size_t n, size_t size)
{
	if (n & (n - 1))
		return array; /* not a power of two: below capacity */
	size_t cap = n ? 2 * n : 1;
	if (cap < n || cap > SIZE_MAX / size)
		return NULL;
	return realloc(array, cap * size);
}
