#ifndef HB_GROW_H
#define HB_GROW_H

#include <stddef.h>

/*
 * realloc() for an array growing one element at a time: returns array
 * with room for element n (n elements of size bytes are in use), or NULL
 * when memory runs out (array untouched). The capacity is not stored: it
 * is n rounded up to a power of two, so the array moves only when n is 0
 * or a power of two and filling it costs amortized O(1) per element
 * whatever the allocator (a realloc per element is quadratic where
 * realloc always copies, as under ASan and valgrind).
 *
 * Only for arrays that grow by one and never shrink: an array whose
 * count drops must be freed or regrown from a power of two.
 */
void *hb_grow(void *array, size_t n, size_t size);

#endif
