/* The client side of the WebSocket protocol (RFC 6455), with no I/O: the
 * opening handshake as text, a frame decoder fed with the bytes that
 * arrive, a frame encoder. The caller supplies the randomness (the key's
 * nonce, the masks) and moves the bytes.
 *
 * It exists so that a plain ws:// station needs neither libwebsockets nor
 * the OpenSSL it links (bench/README.md); SHA-1 and base64 are here for
 * the same reason. */
#ifndef EV_NET_WSPROTO_H
#define EV_NET_WSPROTO_H

#include <stddef.h>
#include <stdint.h>

enum wsp_opcode {
	WSP_OP_CONT = 0x0,
	WSP_OP_TEXT = 0x1,
	WSP_OP_BINARY = 0x2,
	WSP_OP_CLOSE = 0x8,
	WSP_OP_PING = 0x9,
	WSP_OP_PONG = 0xa,
};

/* Close codes (RFC 6455 7.4.1) we send. */
#define WSP_CLOSE_NORMAL 1000
#define WSP_CLOSE_GOING_AWAY 1001
#define WSP_CLOSE_PROTOCOL 1002
#define WSP_CLOSE_NO_STATUS 1005   /* never on the wire: a close without a code */
#define WSP_CLOSE_INVALID_DATA 1007
#define WSP_CLOSE_TOO_BIG 1009

#define WSP_MAX_HEADER 14          /* 2 + 8 (length) + 4 (mask) */
#define WSP_MAX_CONTROL 125
#define WSP_MAX_RESPONSE 8192      /* a longer handshake response is refused */

void wsp_sha1(const void *data, size_t len, uint8_t out[20]);
/* out needs 4 * ((len + 2) / 3) + 1 bytes; returns the length written
 * (NUL-terminated), or 0 if it does not fit. */
size_t wsp_base64(const void *in, size_t len, char *out, size_t size);
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: 28 characters and NUL. */
void wsp_accept(const char *key, char out[29]);
/* Whether s is well-formed UTF-8 (no overlong forms, no surrogates). */
int wsp_utf8_valid(const uint8_t *s, size_t len);

/* ------------------------------------------------------------ handshake */

struct wsp_request {
	const char *host;          /* the Host header's value */
	const char *path;          /* begins with '/' */
	const char *origin;        /* NULL: no Origin header */
	const char *subprotocol;   /* NULL: none asked for */
	const char *authorization; /* the whole value ("Basic ..."); NULL: none */
};

/* Writes the request into out (NUL-terminated) and the key it carries
 * into key (base64 of nonce). Returns its length, or -ENOSPC. */
int wsp_build_request(char *out, size_t size, const struct wsp_request *req,
		      const uint8_t nonce[16], char key[25]);

/* Checks the server's answer in buf[0..len): 0 once it is complete and
 * right (*used: the bytes of the header; what follows is frames), -EAGAIN
 * while incomplete, -EPROTO when refused (why in err; *status is the
 * HTTP status when there was one, else 0). */
int wsp_check_response(const char *buf, size_t len, const char *key, const char *subprotocol,
		       size_t *used, int *status, char *err, size_t errlen);

/* ------------------------------------------------------------ frames */

/* The decoder's callbacks; any of them may return nonzero to stop the
 * decoder at once (wsp_decode then returns -ECANCELED). Text is valid
 * UTF-8 and NUL-terminated; a close's reason is valid UTF-8 and code is
 * WSP_CLOSE_NO_STATUS when the frame had none. */
struct wsp_decoder_ops {
	int (*message)(void *ctx, int binary, const char *data, size_t len);
	int (*ping)(void *ctx, const uint8_t *data, size_t len);
	int (*pong)(void *ctx, const uint8_t *data, size_t len);
	int (*close)(void *ctx, unsigned code, const char *reason, size_t len);
};

struct wsp_decoder {
	const struct wsp_decoder_ops *ops;
	void *ctx;
	size_t max_message;
	uint8_t hdr[WSP_MAX_HEADER];
	size_t hdr_len;            /* header bytes so far */
	int in_payload;            /* header done, payload bytes to come */
	uint8_t opcode, fin;
	uint64_t remaining;        /* of the current frame's payload */
	/* the message being assembled (data frames) */
	uint8_t msg_opcode;        /* 0: none in progress */
	char *msg;
	size_t msg_len, msg_cap;
	/* the control frame being read */
	uint8_t ctl[WSP_MAX_CONTROL + 1];
	size_t ctl_len;
	int error;                 /* sticky: the close code, or after a close frame -1 */
};

void wsp_decoder_init(struct wsp_decoder *d, size_t max_message,
		      const struct wsp_decoder_ops *ops, void *ctx);
void wsp_decoder_clear(struct wsp_decoder *d);
/* Feeds received bytes. 0: all consumed (bytes after a close frame are
 * ignored); a close code (1002, 1007, 1009) the connection must be closed
 * with; -ENOMEM; -ECANCELED when a callback stopped it. */
int wsp_decode(struct wsp_decoder *d, const uint8_t *data, size_t len);

/* Writes one masked client frame (FIN set) into out, which needs
 * len + WSP_MAX_HEADER bytes. Returns the frame's length. */
size_t wsp_encode(uint8_t *out, enum wsp_opcode op, const void *payload, size_t len,
		  const uint8_t mask[4]);
/* A close frame: code (0: none), reason cut to fit 125 bytes. out needs
 * WSP_MAX_HEADER + WSP_MAX_CONTROL bytes. */
size_t wsp_encode_close(uint8_t *out, unsigned code, const char *reason, const uint8_t mask[4]);

#endif
