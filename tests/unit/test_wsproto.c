/* Unit tests: the WebSocket client protocol (net/wsproto.h): SHA-1,
 * base64 and the accept key (RFC 6455 1.3), the request and the checks on
 * the server's answer, the frame decoder on RFC 6455 5.7's examples, fed
 * whole and byte by byte, fragmentation with control frames between the
 * fragments, every protocol error and its close code, the encoder. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/wsproto.h"

/* ---------------------------------------------------------------- helpers */

/* What the decoder handed up, as one line per event. */
struct log {
	char text[8192];
	size_t len;
	int stop_after;            /* >0: the nth event stops the decoder */
	int events;
};

static int event(struct log *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	l->len += (size_t)vsnprintf(l->text + l->len, sizeof l->text - l->len, fmt, ap);
	va_end(ap);
	return ++l->events == l->stop_after;
}

static int on_message(void *ctx, int binary, const char *data, size_t len)
{
	assert_int_equal(data[len], '\0');
	if (len > 64)
		return event(ctx, "%s(%zu)\n", binary ? "binary" : "text", len);
	return event(ctx, "%s:%.*s\n", binary ? "binary" : "text", (int)len, data);
}

static int on_ping(void *ctx, const uint8_t *data, size_t len)
{
	return event(ctx, "ping:%.*s\n", (int)len, (const char *)data);
}

static int on_pong(void *ctx, const uint8_t *data, size_t len)
{
	return event(ctx, "pong:%.*s\n", (int)len, (const char *)data);
}

static int on_close(void *ctx, unsigned code, const char *reason, size_t len)
{
	return event(ctx, "close:%u:%.*s\n", code, (int)len, reason);
}

static const struct wsp_decoder_ops ops = { on_message, on_ping, on_pong, on_close };

/* Decodes bytes in one call and byte by byte; both must agree. Returns
 * the result, the events in l. */
static int decode(const void *bytes, size_t len, size_t max, struct log *l)
{
	struct wsp_decoder d;
	struct log l2 = { .stop_after = l->stop_after };
	int rc, rc2 = 0;

	memset(l, 0, offsetof(struct log, stop_after));
	l->events = 0;
	wsp_decoder_init(&d, max, &ops, l);
	rc = wsp_decode(&d, bytes, len);
	wsp_decoder_clear(&d);

	wsp_decoder_init(&d, max, &ops, &l2);
	for (size_t i = 0; i < len && !rc2; i++)
		rc2 = wsp_decode(&d, (const uint8_t *)bytes + i, 1);
	wsp_decoder_clear(&d);
	assert_int_equal(rc, rc2);
	assert_string_equal(l->text, l2.text);
	return rc;
}

#define DECODE(lit, max, l) decode(lit, sizeof(lit) - 1, max, l)

/* ---------------------------------------------------------------- hashes */

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha1(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
		{ "The quick brown fox jumps over the lazy dog",
		  "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12" },
	};
	uint8_t d[20];
	char h[41];
	char *million = malloc(1000000);

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		wsp_sha1(v[i].in, strlen(v[i].in), d);
		hex(d, 20, h);
		assert_string_equal(h, v[i].out);
	}
	memset(million, 'a', 1000000);
	wsp_sha1(million, 1000000, d);
	hex(d, 20, h);
	assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(million);
}

static void test_base64(void **state)
{
	/* RFC 4648 section 10 */
	static const char *v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char out[16];

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		assert_int_equal(wsp_base64(v[i][0], strlen(v[i][0]), out, sizeof out), strlen(v[i][1]));
		assert_string_equal(out, v[i][1]);
	}
	assert_int_equal(wsp_base64("foobar", 6, out, 8), 0);   /* no room for the NUL */
	assert_int_equal(wsp_base64("foobar", 6, out, 9), 8);
}

static void test_accept(void **state)
{
	char out[29];

	/* RFC 6455 section 1.3 */
	wsp_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_utf8(void **state)
{
	static const struct { const char *s; int ok; } v[] = {
		{ "", 1 }, { "plain", 1 }, { "\xc3\xa9t\xc3\xa9", 1 }, { "\xe2\x82\xac", 1 },
		{ "\xf0\x9f\x94\x8c", 1 }, { "\xf4\x8f\xbf\xbf", 1 }, { "\xed\x9f\xbf", 1 },
		{ "\x80", 0 },                 /* lone continuation */
		{ "\xc0\xaf", 0 },             /* overlong '/' */
		{ "\xe0\x80\xaf", 0 },         /* overlong, 3 bytes */
		{ "\xf0\x80\x80\xaf", 0 },     /* overlong, 4 bytes */
		{ "\xed\xa0\x80", 0 },         /* surrogate */
		{ "\xf4\x90\x80\x80", 0 },     /* beyond U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", 0 }, /* 5 bytes */
		{ "\xc3", 0 },                 /* truncated */
		{ "\xe2\x82", 0 },
		{ "\xc3x", 0 },
		{ "\xff", 0 },
	};

	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		assert_int_equal(wsp_utf8_valid((const uint8_t *)v[i].s, strlen(v[i].s)), v[i].ok);
}

/* ---------------------------------------------------------------- handshake */

static const uint8_t sample_nonce[16] = "the sample nonce";
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void test_request(void **state)
{
	struct wsp_request r = { "example.com:8080", "/ocpp/CP%2001", NULL, "ocpp1.6",
				 "Basic Q1AgMDE6c2VjcmV0" };
	char out[1024], key[25];
	int n = wsp_build_request(out, sizeof out, &r, sample_nonce, key);

	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_string_equal(key, KEY);
	assert_string_equal(out,
			    "GET /ocpp/CP%2001 HTTP/1.1\r\n"
			    "Host: example.com:8080\r\n"
			    "Upgrade: websocket\r\n"
			    "Connection: Upgrade\r\n"
			    "Sec-WebSocket-Key: " KEY "\r\n"
			    "Sec-WebSocket-Version: 13\r\n"
			    "Sec-WebSocket-Protocol: ocpp1.6\r\n"
			    "Authorization: Basic Q1AgMDE6c2VjcmV0\r\n"
			    "\r\n");
	r.origin = "http://example.com";
	r.authorization = NULL;
	r.subprotocol = NULL;
	n = wsp_build_request(out, sizeof out, &r, sample_nonce, key);
	assert_non_null(strstr(out, "\r\nOrigin: http://example.com\r\n"));
	assert_null(strstr(out, "Authorization"));
	assert_null(strstr(out, "Sec-WebSocket-Protocol"));
	assert_int_equal(wsp_build_request(out, 40, &r, sample_nonce, key), -ENOSPC);
}

#define GOOD_STATUS "HTTP/1.1 101 Switching Protocols\r\n"
#define GOOD_HEADERS "Upgrade: websocket\r\nConnection: Upgrade\r\n" \
	"Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Protocol: ocpp1.6\r\n"

static int check(const char *resp, const char *proto, size_t *used, int *status, char *err)
{
	return wsp_check_response(resp, strlen(resp), KEY, proto, used, status, err, 160);
}

static void test_response(void **state)
{
	char err[160];
	size_t used = 0;
	int status;
	const char *good = GOOD_STATUS GOOD_HEADERS "\r\n\x81\x02hi";

	assert_int_equal(check(good, "ocpp1.6", &used, &status, err), 0);
	assert_int_equal(status, 101);
	assert_int_equal(used, strlen(good) - 4);   /* the frame after it is not the header's */
	/* any case, lists, spaces */
	assert_int_equal(check("HTTP/1.1 101 OK\r\nupgrade:  WebSocket \r\n"
			       "connection: keep-alive, upgrade\r\n"
			       "sec-websocket-accept: " ACCEPT "\r\n"
			       "SEC-WEBSOCKET-PROTOCOL: ocpp1.6\r\nServer: x\r\n\r\n",
			       "ocpp1.6", &used, &status, err), 0);
	/* incomplete, at any point */
	for (size_t i = 0; i < strlen(good) - 4; i++)
		assert_int_equal(wsp_check_response(good, i, KEY, "ocpp1.6", &used, &status,
						    err, sizeof err), -EAGAIN);
}

static void test_response_refused(void **state)
{
	static const struct { const char *resp, *why; int status; } v[] = {
		{ "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n", "not 101", 401 },
		{ "HTTP/1.1 200 OK\r\n" GOOD_HEADERS "\r\n", "not 101", 200 },
		{ "SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response", 0 },
		{ GOOD_STATUS "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT
		  "\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n", "Upgrade", 101 },
		{ GOOD_STATUS "Upgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT
		  "\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n", "Upgrade", 101 },
		{ GOOD_STATUS "Upgrade: websocket\r\nSec-WebSocket-Accept: " ACCEPT
		  "\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n", "Upgrade", 101 },
		{ GOOD_STATUS "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n", "no Sec-WebSocket-Accept", 101 },
		{ GOOD_STATUS "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		  "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n", "Accept hash", 101 },
		{ GOOD_STATUS "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n", "did not accept protocol", 101 },
		{ GOOD_STATUS "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n",
		  "not asked for", 101 },
		{ GOOD_STATUS GOOD_HEADERS "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
		  "extension", 101 },
		{ GOOD_STATUS GOOD_HEADERS "no colon here\r\n\r\n", "malformed", 101 },
		{ GOOD_STATUS GOOD_HEADERS " folded: line\r\n\r\n", "malformed", 101 },
		{ GOOD_STATUS GOOD_HEADERS "bare: lf\nx: y\r\n\r\n", "malformed", 101 },
	};
	char err[160], big[WSP_MAX_RESPONSE + 64];
	size_t used;
	int status;

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		err[0] = '\0';
		assert_int_equal(check(v[i].resp, "ocpp1.6", &used, &status, err), -EPROTO);
		if (!strstr(err, v[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, v[i].why);
		assert_int_equal(status, v[i].status);
	}
	/* a protocol we did not ask for at all */
	assert_int_equal(check(GOOD_STATUS GOOD_HEADERS "\r\n", NULL, &used, &status, err), -EPROTO);
	/* a header that never ends */
	memset(big, 'x', sizeof big);
	memcpy(big, GOOD_STATUS, strlen(GOOD_STATUS));
	assert_int_equal(wsp_check_response(big, sizeof big, KEY, "ocpp1.6", &used, &status,
					    err, sizeof err), -EPROTO);
	assert_non_null(strstr(err, "too long"));
}

/* ---------------------------------------------------------------- decoder */

static void test_rfc_examples(void **state)
{
	struct log l = { 0 };
	uint8_t *big = malloc(10 + 65536);

	/* RFC 6455 5.7: a single-frame unmasked text message */
	assert_int_equal(DECODE("\x81\x05Hello", 100, &l), 0);
	assert_string_equal(l.text, "text:Hello\n");
	/* a fragmented unmasked text message */
	assert_int_equal(DECODE("\x01\x03Hel\x80\x02lo", 100, &l), 0);
	assert_string_equal(l.text, "text:Hello\n");
	/* unmasked ping, and the pong a server might send */
	assert_int_equal(DECODE("\x89\x05Hello\x8a\x05Hello", 100, &l), 0);
	assert_string_equal(l.text, "ping:Hello\npong:Hello\n");
	/* 256 bytes binary in a single unmasked frame */
	big[0] = 0x82, big[1] = 0x7e, big[2] = 0x01, big[3] = 0x00;
	memset(big + 4, 'b', 256);
	assert_int_equal(decode(big, 4 + 256, 1000, &l), 0);
	assert_string_equal(l.text, "binary(256)\n");
	/* 64 KiB binary in a single unmasked frame */
	memcpy(big, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	memset(big + 10, 'b', 65536);
	assert_int_equal(decode(big, 10 + 65536, 65536, &l), 0);
	assert_string_equal(l.text, "binary(65536)\n");
	/* a masked frame: only clients mask */
	assert_int_equal(DECODE("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 100, &l),
			 WSP_CLOSE_PROTOCOL);
	assert_string_equal(l.text, "");
	free(big);
}

static void test_fragments_and_control(void **state)
{
	struct log l = { 0 };

	/* control frames between fragments, empty fragments, two messages */
	assert_int_equal(DECODE("\x01\x02" "ab" "\x89\x01p" "\x00\x00" "\x8a\x00"
				"\x00\x01" "c" "\x80\x02" "de" "\x81\x00" "\x81\x03xyz",
				100, &l), 0);
	assert_string_equal(l.text, "ping:p\npong:\ntext:abcde\ntext:\ntext:xyz\n");
	/* UTF-8 split across fragments is fine: checked on the whole */
	assert_int_equal(DECODE("\x01\x01\xc3\x80\x01\xa9", 100, &l), 0);
	assert_string_equal(l.text, "text:\xc3\xa9\n");
	/* a close with a code and a reason, without, and nothing after it */
	assert_int_equal(DECODE("\x88\x05\x03\xe8" "bye" "\x81\x01x", 100, &l), 0);
	assert_string_equal(l.text, "close:1000:bye\n");
	assert_int_equal(DECODE("\x88\x00", 100, &l), 0);
	assert_string_equal(l.text, "close:1005:\n");
	assert_int_equal(DECODE("\x88\x02\x0f\xa0", 100, &l), 0);   /* 4000, application's */
	assert_string_equal(l.text, "close:4000:\n");
	/* the largest control frame */
	{
		char f[2 + 125];
		struct log l2 = { 0 };
		f[0] = (char)0x89, f[1] = 125;
		memset(f + 2, 'z', 125);
		assert_int_equal(decode(f, sizeof f, 10, &l2), 0);
		assert_int_equal(l2.events, 1);
	}
}

static void test_limits(void **state)
{
	struct log l = { 0 };

	/* at the limit, and one byte over it: in one frame, across fragments */
	assert_int_equal(DECODE("\x81\x05" "12345", 5, &l), 0);
	assert_string_equal(l.text, "text:12345\n");
	assert_int_equal(DECODE("\x81\x06" "123456", 5, &l), WSP_CLOSE_TOO_BIG);
	assert_int_equal(DECODE("\x01\x03" "123" "\x80\x03" "456", 5, &l), WSP_CLOSE_TOO_BIG);
	assert_string_equal(l.text, "");
	/* known from the header alone: nothing of a huge frame is awaited */
	assert_int_equal(DECODE("\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00", 1 << 20, &l),
			 WSP_CLOSE_TOO_BIG);
	/* control frames do not count towards a message */
	assert_int_equal(DECODE("\x01\x03" "123" "\x89\x04ping" "\x80\x02" "45", 5, &l), 0);
	assert_string_equal(l.text, "ping:ping\ntext:12345\n");
}

static void test_protocol_errors(void **state)
{
	static const struct { const char *bytes; size_t len; int code; const char *what; } v[] = {
#define E(b, code, what) { b, sizeof(b) - 1, code, what }
		E("\xc1\x01x", WSP_CLOSE_PROTOCOL, "RSV1 set"),
		E("\xa1\x01x", WSP_CLOSE_PROTOCOL, "RSV2 set"),
		E("\x91\x01x", WSP_CLOSE_PROTOCOL, "RSV3 set"),
		E("\x83\x00", WSP_CLOSE_PROTOCOL, "reserved data opcode 3"),
		E("\x87\x00", WSP_CLOSE_PROTOCOL, "reserved data opcode 7"),
		E("\x8b\x00", WSP_CLOSE_PROTOCOL, "reserved control opcode 0xb"),
		E("\x8f\x00", WSP_CLOSE_PROTOCOL, "reserved control opcode 0xf"),
		E("\x09\x00", WSP_CLOSE_PROTOCOL, "fragmented ping"),
		E("\x08\x00", WSP_CLOSE_PROTOCOL, "fragmented close"),
		E("\x89\x7e\x00\x7e", WSP_CLOSE_PROTOCOL, "ping longer than 125"),
		E("\x80\x01x", WSP_CLOSE_PROTOCOL, "continuation without a message"),
		E("\x00\x01x", WSP_CLOSE_PROTOCOL, "unfinished continuation without a message"),
		E("\x01\x01x\x81\x01y", WSP_CLOSE_PROTOCOL, "text inside a fragmented message"),
		E("\x01\x01x\x02\x01y", WSP_CLOSE_PROTOCOL, "binary inside a fragmented message"),
		E("\x81\x7e\x00\x05hello", WSP_CLOSE_PROTOCOL, "16-bit length not minimal"),
		E("\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x05hello", WSP_CLOSE_PROTOCOL,
		  "64-bit length not minimal"),
		E("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", WSP_CLOSE_PROTOCOL,
		  "64-bit length with its top bit set"),
		E("\x81\x81\x00\x00\x00\x00x", WSP_CLOSE_PROTOCOL, "masked by the server"),
		E("\x88\x01\x03", WSP_CLOSE_PROTOCOL, "close with a 1-byte body"),
		E("\x88\x02\x03\xe7", WSP_CLOSE_PROTOCOL, "close code 999"),
		E("\x88\x02\x03\xec", WSP_CLOSE_PROTOCOL, "close code 1004"),
		E("\x88\x02\x03\xed", WSP_CLOSE_PROTOCOL, "close code 1005"),
		E("\x88\x02\x03\xee", WSP_CLOSE_PROTOCOL, "close code 1006"),
		E("\x88\x02\x03\xf7", WSP_CLOSE_PROTOCOL, "close code 1015"),
		E("\x88\x02\x0b\xb7", WSP_CLOSE_PROTOCOL, "close code 2999"),
		E("\x88\x02\x13\x88", WSP_CLOSE_PROTOCOL, "close code 5000"),
		E("\x88\x04\x03\xe8\xc0\xaf", WSP_CLOSE_INVALID_DATA, "close reason not UTF-8"),
		E("\x81\x02\xc0\xaf", WSP_CLOSE_INVALID_DATA, "overlong text"),
		E("\x81\x03\xed\xa0\x80", WSP_CLOSE_INVALID_DATA, "surrogate in text"),
		E("\x01\x01\xc3\x80\x01x", WSP_CLOSE_INVALID_DATA, "broken sequence across fragments"),
		E("\x81\x01\xc3", WSP_CLOSE_INVALID_DATA, "text ends inside a character"),
#undef E
	};
	struct log l = { 0 };

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		int rc = decode(v[i].bytes, v[i].len, 1000, &l);
		if (rc != v[i].code)
			fail_msg("%s: %d, expected %d", v[i].what, rc, v[i].code);
		assert_string_equal(l.text, "");
	}
	/* binary is not checked for UTF-8 */
	assert_int_equal(DECODE("\x82\x02\xc0\xaf", 100, &l), 0);
}

static void test_sticky_and_stop(void **state)
{
	struct wsp_decoder d;
	struct log l = { 0 };

	/* an error stays: nothing more is decoded */
	wsp_decoder_init(&d, 100, &ops, &l);
	assert_int_equal(wsp_decode(&d, (const uint8_t *)"\x81\x01" "a\xc1\x00", 5), WSP_CLOSE_PROTOCOL);
	assert_int_equal(wsp_decode(&d, (const uint8_t *)"\x81\x01" "b", 3), WSP_CLOSE_PROTOCOL);
	assert_string_equal(l.text, "text:a\n");
	wsp_decoder_clear(&d);
	/* after a close, bytes are ignored */
	memset(&l, 0, sizeof l);
	wsp_decoder_init(&d, 100, &ops, &l);
	assert_int_equal(wsp_decode(&d, (const uint8_t *)"\x88\x00", 2), 0);
	assert_int_equal(wsp_decode(&d, (const uint8_t *)"\x81\x01" "b", 3), 0);
	assert_string_equal(l.text, "close:1005:\n");
	wsp_decoder_clear(&d);
	/* a callback stops the decoder */
	memset(&l, 0, sizeof l);
	l.stop_after = 1;
	wsp_decoder_init(&d, 100, &ops, &l);
	assert_int_equal(wsp_decode(&d, (const uint8_t *)"\x81\x01" "a\x81\x01" "b", 6), -ECANCELED);
	assert_string_equal(l.text, "text:a\n");
	wsp_decoder_clear(&d);
}

/* ---------------------------------------------------------------- encoder */

static void test_encode(void **state)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d }, zero[4] = { 0 };
	uint8_t out[70000];
	char *payload = calloc(1, 65536);
	size_t n;

	/* RFC 6455 5.7: a single-frame masked text message */
	n = wsp_encode(out, WSP_OP_TEXT, "Hello", 5, mask);
	assert_int_equal(n, 11);
	assert_memory_equal(out, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
	/* lengths: 7 bits, 16 bits, 64 bits */
	n = wsp_encode(out, WSP_OP_TEXT, payload, 125, zero);
	assert_int_equal(n, 2 + 4 + 125);
	assert_int_equal(out[1], 0x80 | 125);
	n = wsp_encode(out, WSP_OP_TEXT, payload, 126, zero);
	assert_int_equal(n, 4 + 4 + 126);
	assert_memory_equal(out, "\x81\xfe\x00\x7e", 4);
	n = wsp_encode(out, WSP_OP_BINARY, payload, 65535, zero);
	assert_memory_equal(out, "\x82\xfe\xff\xff", 4);
	n = wsp_encode(out, WSP_OP_TEXT, payload, 65536, zero);
	assert_int_equal(n, 10 + 4 + 65536);
	assert_memory_equal(out, "\x81\xff\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	/* control frames */
	n = wsp_encode(out, WSP_OP_PING, NULL, 0, mask);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "\x89\x80\x37\xfa\x21\x3d", 6);
	n = wsp_encode(out, WSP_OP_PONG, "Hello", 5, mask);
	assert_memory_equal(out, "\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
	free(payload);
}

static void test_encode_close(void **state)
{
	static const uint8_t zero[4] = { 0 };
	uint8_t out[WSP_MAX_HEADER + WSP_MAX_CONTROL];
	char reason[200];
	size_t n;

	n = wsp_encode_close(out, 1000, "reset", zero);
	assert_int_equal(n, 2 + 4 + 7);
	assert_memory_equal(out, "\x88\x87\0\0\0\0\x03\xe8reset", 13);
	n = wsp_encode_close(out, 0, "ignored", zero);
	assert_memory_equal(out, "\x88\x80\0\0\0\0", 6);
	assert_int_equal(n, 6);
	n = wsp_encode_close(out, 1009, NULL, zero);
	assert_int_equal(n, 8);
	/* a long reason is cut to 123 bytes, not inside a character */
	memset(reason, 'r', sizeof reason);
	reason[199] = '\0';
	n = wsp_encode_close(out, 1000, reason, zero);
	assert_int_equal(n, 2 + 4 + 125);
	for (int i = 0; i < 66; i++)
		memcpy(reason + 2 * i, "\xc3\xa9", 2);
	reason[132] = '\0';
	n = wsp_encode_close(out, 1000, reason, zero);
	assert_int_equal(n, 2 + 4 + 2 + 122);
	assert_true(wsp_utf8_valid(out + 8, 122));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_response_refused),
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_fragments_and_control),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_protocol_errors),
		cmocka_unit_test(test_sticky_and_stop),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
