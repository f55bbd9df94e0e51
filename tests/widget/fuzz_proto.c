/* libFuzzer target for the chat protocol parser, which reads untrusted
 * bytes from browsers and relays (meson -Dfuzz=true, clang):
 *   build/tests/widget/fuzz_proto -max_total_time=60 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat/proto.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hb_proto_msg m;
	if (size == 0)
		return 0;
	/* the first byte picks widget or relay framing */
	enum hb_proto_status st = hb_proto_parse((const char *)data + 1, size - 1,
		data[0] & 1, &m);
	if (st == HB_PROTO_OK && m.type == HB_PROTO_MESSAGE) {
		/* what reaches the engine is valid UTF-8 of the stated length */
		if (!hb_utf8_valid(m.text, m.text_len) ||
				strlen(m.text) != m.text_len)
			abort();
	}
	char *e = hb_proto_error(st, NULL, m.id, m.conversation[0] ?
		m.conversation : NULL);
	free(e);
	hb_proto_msg_finish(&m);
	return 0;
}
