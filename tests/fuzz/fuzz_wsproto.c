/* Fuzz target: bytes from a server into the WebSocket client's protocol:
 * the handshake response check, and the frame decoder fed in chunks
 * whose sizes come from the input. Whatever the decoder hands up must
 * obey the protocol (text is UTF-8, control payloads are short), and a
 * message must survive encoding and decoding again. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "net/wsproto.h"
#include "fuzz.h"

#define MAX_MESSAGE 4096

static int check_message(void *ctx, int binary, const char *data, size_t len);

static int roundtrip_message(void *ctx, int binary, const char *data, size_t len)
{
	const char *want = ctx;

	assert(len == strlen(want) && memcmp(data, want, len) == 0);
	(void)binary;
	return 0;
}

static int control(void *ctx, const uint8_t *data, size_t len)
{
	assert(len <= WSP_MAX_CONTROL);
	return 0;
}

static int closed(void *ctx, unsigned code, const char *reason, size_t len)
{
	assert(code >= 1000 && code <= 4999 && len <= WSP_MAX_CONTROL - 2);
	assert(wsp_utf8_valid((const uint8_t *)reason, len));
	return 0;
}

static const struct wsp_decoder_ops ops = { check_message, control, control, closed };
static const struct wsp_decoder_ops rt_ops = { roundtrip_message, control, control, closed };

/* Encodes a message as a client would, unmasks it (a mask of zeros, the
 * mask bit cleared) and decodes it as a server's frame. */
static void roundtrip(const char *data, size_t len)
{
	static uint8_t frame[MAX_MESSAGE + WSP_MAX_HEADER];
	static const uint8_t zero[4];
	struct wsp_decoder d;
	size_t n = wsp_encode(frame, WSP_OP_TEXT, data, len, zero), hdr = n - len;

	frame[1] &= 0x7f;
	memmove(frame + hdr - 4, frame + hdr, len);
	wsp_decoder_init(&d, MAX_MESSAGE, &rt_ops, (void *)data);
	assert(wsp_decode(&d, frame, n - 4) == 0);
	wsp_decoder_clear(&d);
}

static int check_message(void *ctx, int binary, const char *data, size_t len)
{
	assert(len <= MAX_MESSAGE && data[len] == '\0');
	if (!binary) {
		assert(wsp_utf8_valid((const uint8_t *)data, len));
		if (strlen(data) == len)
			roundtrip(data, len);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wsp_decoder d;
	char err[160];
	size_t used, step;
	int status, rc;

	/* The same bytes as a handshake response, for a fixed key. */
	rc = wsp_check_response((const char *)data, size, "dGhlIHNhbXBsZSBub25jZQ==", "ocpp1.6",
				&used, &status, err, sizeof err);
	assert(rc == 0 || rc == -EAGAIN || rc == -EPROTO);
	if (rc == 0)
		assert(used <= size);

	if (!size)
		return 0;
	step = data[0] % 16 + 1;
	wsp_decoder_init(&d, MAX_MESSAGE, &ops, NULL);
	for (size_t i = 1; i < size; i += step) {
		size_t n = size - i < step ? size - i : step;
		rc = wsp_decode(&d, data + i, n);
		assert(rc == 0 || rc == WSP_CLOSE_PROTOCOL || rc == WSP_CLOSE_INVALID_DATA ||
		       rc == WSP_CLOSE_TOO_BIG);
		if (rc)
			break;
	}
	wsp_decoder_clear(&d);
	return 0;
}
