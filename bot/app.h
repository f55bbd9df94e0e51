#ifndef HB_APP_H
#define HB_APP_H

#include <stdint.h>

/*
 * What the channels share: the engine (read through this pointer at every
 * message, so a reload swaps it in one place), the loop and the config.
 */
struct hb_app {
	struct hb_engine *engine;
	struct hb_loop *loop;
	struct hb_config *config;
};

#endif
