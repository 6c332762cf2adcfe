#include "config.h"
#include "net/wsproto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* ---------------------------------------------------------------- SHA-1 */

/* FIPS 180-4. Only the handshake uses it, on 60 bytes: small beats fast. */
static uint32_t rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void wsp_sha1(const void *data, size_t len, uint8_t out[20])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	const uint8_t *p = data;
	uint8_t last[128];
	uint64_t bits = (uint64_t)len * 8;
	size_t rest, n;

	for (; len >= 64; p += 64, len -= 64)
		sha1_block(h, p);
	rest = len;
	memcpy(last, p, rest);
	last[rest++] = 0x80;
	n = rest <= 56 ? 64 : 128;
	memset(last + rest, 0, n - rest);
	for (int i = 0; i < 8; i++)
		last[n - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha1_block(h, last);
	if (n == 128)
		sha1_block(h, last + 64);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

size_t wsp_base64(const void *in, size_t len, char *out, size_t size)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *p = in;
	size_t n = 0;

	if (size < 4 * ((len + 2) / 3) + 1)
		return 0;
	for (; len >= 3; p += 3, len -= 3) {
		out[n++] = alphabet[p[0] >> 2];
		out[n++] = alphabet[(p[0] & 3) << 4 | p[1] >> 4];
		out[n++] = alphabet[(p[1] & 15) << 2 | p[2] >> 6];
		out[n++] = alphabet[p[2] & 63];
	}
	if (len) {
		out[n++] = alphabet[p[0] >> 2];
		if (len == 1) {
			out[n++] = alphabet[(p[0] & 3) << 4];
			out[n++] = '=';
		} else {
			out[n++] = alphabet[(p[0] & 3) << 4 | p[1] >> 4];
			out[n++] = alphabet[(p[1] & 15) << 2];
		}
		out[n++] = '=';
	}
	out[n] = '\0';
	return n;
}

void wsp_accept(const char *key, char out[29])
{
	char buf[128];
	uint8_t digest[20];
	int n = snprintf(buf, sizeof buf, "%s" WS_GUID, key);

	wsp_sha1(buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0, digest);
	wsp_base64(digest, sizeof digest, out, 29);
}

int wsp_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			n = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (size_t j = 1; j <= n; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* ---------------------------------------------------------------- handshake */

int wsp_build_request(char *out, size_t size, const struct wsp_request *req,
		      const uint8_t nonce[16], char key[25])
{
	int n;

	wsp_base64(nonce, 16, key, 25);
	n = snprintf(out, size,
		     "GET %s HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n"
		     "%s%s%s"
		     "%s%s%s"
		     "%s%s%s"
		     "\r\n",
		     req->path, req->host, key,
		     req->origin ? "Origin: " : "", req->origin ? req->origin : "",
		     req->origin ? "\r\n" : "",
		     req->subprotocol ? "Sec-WebSocket-Protocol: " : "",
		     req->subprotocol ? req->subprotocol : "", req->subprotocol ? "\r\n" : "",
		     req->authorization ? "Authorization: " : "",
		     req->authorization ? req->authorization : "",
		     req->authorization ? "\r\n" : "");
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

/* Whether the comma-separated list v[0..len) holds token (any case). */
static int has_token(const char *v, size_t len, const char *token)
{
	size_t tl = strlen(token), i = 0;

	while (i < len) {
		size_t start, end;
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start == tl && strncasecmp(v + start, token, tl) == 0)
			return 1;
	}
	return 0;
}

static int equals(const char *v, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(v, s, len) == 0;
}

int wsp_check_response(const char *buf, size_t len, const char *key, const char *subprotocol,
		       size_t *used, int *status, char *err, size_t errlen)
{
	const char *end = NULL, *p, *eol;
	char accept[29];
	int upgrade = 0, connection = 0, accepted = 0, protocol = 0;

	*status = 0;
	for (size_t i = 0; i + 3 < len; i++) {
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i + 2;   /* at the empty line */
			break;
		}
	}
	if (!end) {
		if (len < WSP_MAX_RESPONSE)
			return -EAGAIN;
		snprintf(err, errlen, "HS: response header too long");
		return -EPROTO;
	}
	*used = (size_t)(end - buf) + 2;
	/* HTTP/1.1 101 Switching Protocols */
	if (end - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
	    buf[9] < '0' || buf[9] > '9' || buf[10] < '0' || buf[10] > '9' ||
	    buf[11] < '0' || buf[11] > '9' || (buf[12] != ' ' && buf[12] != '\r')) {
		snprintf(err, errlen, "HS: not an HTTP response");
		return -EPROTO;
	}
	*status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (*status != 101) {
		snprintf(err, errlen, "HS: ws upgrade response not 101 (%d)", *status);
		return -EPROTO;
	}
	wsp_accept(key, accept);
	p = (const char *)memchr(buf, '\n', (size_t)(end - buf)) + 1;
	for (; p < end; p = eol + 1) {
		const char *colon, *v, *ve;
		size_t nl;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol || eol == p || eol[-1] != '\r' || *p == ' ' || *p == '\t')
			goto bad;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			goto bad;
		nl = (size_t)(colon - p);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol - 1; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
#define NAME(s) (nl == sizeof(s) - 1 && strncasecmp(p, s, nl) == 0)
		if (NAME("Upgrade"))
			upgrade |= has_token(v, (size_t)(ve - v), "websocket");
		else if (NAME("Connection"))
			connection |= has_token(v, (size_t)(ve - v), "upgrade");
		else if (NAME("Sec-WebSocket-Accept")) {
			if (accepted || !equals(v, (size_t)(ve - v), accept)) {
				snprintf(err, errlen, "HS: Accept hash wrong");
				return -EPROTO;
			}
			accepted = 1;
		} else if (NAME("Sec-WebSocket-Protocol")) {
			if (protocol || !subprotocol || !equals(v, (size_t)(ve - v), subprotocol)) {
				snprintf(err, errlen, "HS: protocol '%.*s' not asked for",
					 (int)(ve - v > 64 ? 64 : ve - v), v);
				return -EPROTO;
			}
			protocol = 1;
		} else if (NAME("Sec-WebSocket-Extensions")) {
			snprintf(err, errlen, "HS: extension not asked for");
			return -EPROTO;
		}
#undef NAME
	}
	if (!upgrade || !connection) {
		snprintf(err, errlen, "HS: no Upgrade: websocket, Connection: Upgrade");
		return -EPROTO;
	}
	if (!accepted) {
		snprintf(err, errlen, "HS: no Sec-WebSocket-Accept");
		return -EPROTO;
	}
	if (subprotocol && !protocol) {
		snprintf(err, errlen, "HS: server did not accept protocol '%s'", subprotocol);
		return -EPROTO;
	}
	return 0;
bad:
	snprintf(err, errlen, "HS: malformed header line");
	return -EPROTO;
}

/* ---------------------------------------------------------------- decoder */

void wsp_decoder_init(struct wsp_decoder *d, size_t max_message,
		      const struct wsp_decoder_ops *ops, void *ctx)
{
	memset(d, 0, sizeof *d);
	d->ops = ops;
	d->ctx = ctx;
	d->max_message = max_message;
}

void wsp_decoder_clear(struct wsp_decoder *d)
{
	free(d->msg);
	d->msg = NULL;
	d->msg_len = d->msg_cap = 0;
}

static size_t header_need(const struct wsp_decoder *d)
{
	size_t n = 2;

	if (d->hdr_len < 2)
		return n;
	if ((d->hdr[1] & 0x7f) == 126)
		n += 2;
	else if ((d->hdr[1] & 0x7f) == 127)
		n += 8;
	return n + (d->hdr[1] & 0x80 ? 4 : 0);
}

static int valid_close_code(unsigned code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

/* The header is complete: check it, set up for the payload. */
static int start_frame(struct wsp_decoder *d)
{
	uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
	uint64_t n = b1 & 0x7f;

	d->fin = b0 & 0x80;
	d->opcode = b0 & 0x0f;
	/* No extension was negotiated, and servers never mask. */
	if (b0 & 0x70 || b1 & 0x80)
		return WSP_CLOSE_PROTOCOL;
	if (n == 126) {
		n = (uint64_t)d->hdr[2] << 8 | d->hdr[3];
		if (n < 126)
			return WSP_CLOSE_PROTOCOL;   /* lengths are minimal */
	} else if (n == 127) {
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | d->hdr[2 + i];
		if (n >> 63 || n < 65536)
			return WSP_CLOSE_PROTOCOL;
	}
	switch (d->opcode) {
	case WSP_OP_CLOSE:
	case WSP_OP_PING:
	case WSP_OP_PONG:
		if (!d->fin || n > WSP_MAX_CONTROL)
			return WSP_CLOSE_PROTOCOL;
		d->ctl_len = 0;
		break;
	case WSP_OP_CONT:
		if (!d->msg_opcode)
			return WSP_CLOSE_PROTOCOL;
		break;
	case WSP_OP_TEXT:
	case WSP_OP_BINARY:
		if (d->msg_opcode)
			return WSP_CLOSE_PROTOCOL;
		d->msg_opcode = d->opcode;
		d->msg_len = 0;
		break;
	default:
		return WSP_CLOSE_PROTOCOL;
	}
	if (!(d->opcode & 8)) {
		if (n > d->max_message - d->msg_len)
			return WSP_CLOSE_TOO_BIG;
		/* Room for the whole frame now: the length is known and bounded. */
		if (d->msg_len + n + 1 > d->msg_cap) {
			size_t cap = d->msg_len + (size_t)n + 1;
			char *p;
			if (cap < 2 * d->msg_cap && 2 * d->msg_cap <= d->max_message + 1)
				cap = 2 * d->msg_cap;
			if (!(p = realloc(d->msg, cap)))
				return -ENOMEM;
			d->msg = p;
			d->msg_cap = cap;
		}
	}
	d->remaining = n;
	d->in_payload = 1;
	return 0;
}

/* The frame's payload is complete. */
static int end_frame(struct wsp_decoder *d)
{
	unsigned code;

	d->in_payload = 0;
	d->hdr_len = 0;
	switch (d->opcode) {
	case WSP_OP_PING:
		return d->ops->ping && d->ops->ping(d->ctx, d->ctl, d->ctl_len) ? -ECANCELED : 0;
	case WSP_OP_PONG:
		return d->ops->pong && d->ops->pong(d->ctx, d->ctl, d->ctl_len) ? -ECANCELED : 0;
	case WSP_OP_CLOSE:
		if (d->ctl_len == 1)
			return WSP_CLOSE_PROTOCOL;
		code = WSP_CLOSE_NO_STATUS;
		if (d->ctl_len >= 2) {
			code = (unsigned)d->ctl[0] << 8 | d->ctl[1];
			if (!valid_close_code(code))
				return WSP_CLOSE_PROTOCOL;
			if (!wsp_utf8_valid(d->ctl + 2, d->ctl_len - 2))
				return WSP_CLOSE_INVALID_DATA;
		}
		d->ctl[d->ctl_len] = '\0';
		d->error = -1;   /* nothing counts after a close */
		return d->ops->close(d->ctx, code, (const char *)d->ctl + (d->ctl_len >= 2 ? 2 : 0),
				     d->ctl_len >= 2 ? d->ctl_len - 2 : 0) ? -ECANCELED : 0;
	default:
		if (!d->fin)
			return 0;
		if (d->msg_opcode == WSP_OP_TEXT &&
		    !wsp_utf8_valid((const uint8_t *)d->msg, d->msg_len))
			return WSP_CLOSE_INVALID_DATA;
		d->msg[d->msg_len] = '\0';
		code = d->msg_opcode == WSP_OP_BINARY;
		d->msg_opcode = 0;
		return d->ops->message(d->ctx, (int)code, d->msg, d->msg_len) ? -ECANCELED : 0;
	}
}

int wsp_decode(struct wsp_decoder *d, const uint8_t *data, size_t len)
{
	int rc;

	if (d->error)
		return d->error > 0 ? d->error : 0;
	while (len) {
		if (!d->in_payload) {
			while (len && d->hdr_len < header_need(d)) {
				d->hdr[d->hdr_len++] = *data++;
				len--;
			}
			if (d->hdr_len < header_need(d))
				break;
			if ((rc = start_frame(d)))
				goto fail;
		} else {
			size_t n = d->remaining < len ? (size_t)d->remaining : len;
			if (d->opcode & 8) {
				memcpy(d->ctl + d->ctl_len, data, n);
				d->ctl_len += n;
			} else {
				memcpy(d->msg + d->msg_len, data, n);
				d->msg_len += n;
			}
			d->remaining -= n;
			data += n;
			len -= n;
		}
		if (d->in_payload && !d->remaining && (rc = end_frame(d)))
			goto fail;
		if (d->error)
			break;
	}
	return 0;
fail:
	if (rc > 0)
		d->error = rc;
	return rc;
}

/* ---------------------------------------------------------------- encoder */

size_t wsp_encode(uint8_t *out, enum wsp_opcode op, const void *payload, size_t len,
		  const uint8_t mask[4])
{
	const uint8_t *p = payload;
	size_t n = 0;

	out[n++] = (uint8_t)(0x80 | op);
	if (len < 126) {
		out[n++] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		out[n++] = 0x80 | 126;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	} else {
		out[n++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			out[n++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	memcpy(out + n, mask, 4);
	n += 4;
	for (size_t i = 0; i < len; i++)
		out[n + i] = p[i] ^ mask[i & 3];
	return n + len;
}

size_t wsp_encode_close(uint8_t *out, unsigned code, const char *reason, const uint8_t mask[4])
{
	uint8_t body[WSP_MAX_CONTROL];
	size_t n = 0, rl = reason ? strlen(reason) : 0;

	if (code) {
		body[n++] = (uint8_t)(code >> 8);
		body[n++] = (uint8_t)code;
		if (rl > WSP_MAX_CONTROL - 2) {
			rl = WSP_MAX_CONTROL - 2;
			/* cut at a character boundary: the peer checks UTF-8 */
			while (rl && ((uint8_t)reason[rl] & 0xc0) == 0x80)
				rl--;
		}
		if (rl)
			memcpy(body + n, reason, rl);
		n += rl;
	}
	return wsp_encode(out, WSP_OP_CLOSE, body, n, mask);
}
