#ifndef HB_MATRIX_H
#define HB_MATRIX_H

#include "channel.h"

/* Answers patients and staff in Matrix rooms (docs/matrix.md). */
extern const struct hb_channel hb_channel_matrix;

#endif
