/* The floor: what answering an OCPP-J call costs on this machine when the
 * server does nothing else. It accepts WebSocket connections on loopback
 * (libuv, no TLS, no checks worth the name), and answers every CALL with a
 * fixed CALLRESULT for its action: no JSON parser, no schema, no store.
 *
 * bench/csms.sh runs it as a third "server" (SERVERS="... floor") so that
 * evctl serve's and the reference's CPU per MeterValues can be read against
 * the cost of the TCP round trip itself. Not a central system: never point
 * a station at it.
 *
 *   csms-floor [PORT]    prints "READY <port>", exits on SIGTERM */
#define _GNU_SOURCE /* strcasestr */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "net/wsproto.h"

#define RX_SIZE 65536

struct conn {
	uv_tcp_t tcp;
	int upgraded;
	size_t len;
	char buf[RX_SIZE];
};

struct wreq {
	uv_write_t req;
	char data[];
};

static long next_tx = 1;

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

static void drop(struct conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_written(uv_write_t *req, int status)
{
	(void)status;
	free(req);
}

/* uv_try_write first, as a server that cares would: most answers go out
 * in one system call with no write request at all. */
static void send_bytes(struct conn *c, const char *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	struct wreq *w;

	if (n == (int)len)
		return;
	if (n < 0)
		n = 0;
	w = malloc(sizeof *w + len - (size_t)n);
	if (!w) {
		drop(c);
		return;
	}
	memcpy(w->data, data + n, len - (size_t)n);
	b = uv_buf_init(w->data, (unsigned)(len - (size_t)n));
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written))
		free(w);
}

static void send_text(struct conn *c, const char *text, size_t len)
{
	char frame[1024];
	size_t n = 0;

	if (len > sizeof frame - 4)
		return;
	frame[n++] = (char)0x81;
	if (len < 126) {
		frame[n++] = (char)len;
	} else {
		frame[n++] = 126;
		frame[n++] = (char)(len >> 8);
		frame[n++] = (char)(len & 0xff);
	}
	memcpy(frame + n, text, len);
	send_bytes(c, frame, n + len);
}

/* [2,"id","Action",{...}] -> the fixed answer for Action. */
static void answer(struct conn *c, const char *msg, size_t len)
{
	const char *id, *id_end, *action;
	char out[512];
	int n;

	(void)len;
	id = strchr(msg, '"');
	id_end = id ? strchr(id + 1, '"') : NULL;
	action = id_end ? strchr(id_end + 1, '"') : NULL;
	if (!action)
		return;
	action++;
#define IS(a) (strncmp(action, a "\"", sizeof a) == 0)
	if (IS("BootNotification"))
		n = snprintf(out, sizeof out, "[3,%.*s,{\"status\":\"Accepted\",\"currentTime\":"
			     "\"2026-01-01T00:00:00Z\",\"interval\":300}]",
			     (int)(id_end - id + 1), id);
	else if (IS("Heartbeat"))
		n = snprintf(out, sizeof out, "[3,%.*s,{\"currentTime\":\"2026-01-01T00:00:00Z\"}]",
			     (int)(id_end - id + 1), id);
	else if (IS("Authorize"))
		n = snprintf(out, sizeof out, "[3,%.*s,{\"idTagInfo\":{\"status\":\"Accepted\"}}]",
			     (int)(id_end - id + 1), id);
	else if (IS("StartTransaction"))
		n = snprintf(out, sizeof out, "[3,%.*s,{\"idTagInfo\":{\"status\":\"Accepted\"},"
			     "\"transactionId\":%ld}]", (int)(id_end - id + 1), id, next_tx++);
	else
		n = snprintf(out, sizeof out, "[3,%.*s,{}]", (int)(id_end - id + 1), id);
#undef IS
	send_text(c, out, (size_t)n);
}

static int upgrade(struct conn *c)
{
	static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\n"
				   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
				   "Sec-WebSocket-Protocol: ocpp1.6\r\nSec-WebSocket-Accept: ";
	char *end, *key, *key_end, accept[29], out[256];
	size_t used;

	c->buf[c->len] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return c->len < RX_SIZE - 1 ? 0 : -1;
	key = strcasestr(c->buf, "Sec-WebSocket-Key:");
	if (!key)
		return -1;
	key += 18;
	while (*key == ' ')
		key++;
	key_end = strstr(key, "\r\n");
	*key_end = '\0';
	wsp_accept(key, accept);
	snprintf(out, sizeof out, "%s%s\r\n\r\n", resp, accept);
	send_bytes(c, out, strlen(out));
	used = (size_t)(end + 4 - c->buf);
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	c->upgraded = 1;
	return 0;
}

/* Masked client frames; unfragmented text only (what the generator sends). */
static int frames(struct conn *c)
{
	size_t off = 0;

	while (c->len - off >= 6) {
		unsigned char *p = (unsigned char *)c->buf + off;
		size_t hdr = 2, plen = p[1] & 0x7f;
		unsigned char *mask;

		if (plen == 126) {
			if (c->len - off < 8)
				break;
			plen = ((size_t)p[2] << 8) | p[3];
			hdr = 4;
		} else if (plen == 127) {
			return -1;
		}
		if (c->len - off < hdr + 4 + plen)
			break;
		if ((p[0] & 0x0f) == WSP_OP_CLOSE)
			return -1;
		mask = p + hdr;
		for (size_t i = 0; i < plen; i++)
			mask[4 + i] ^= mask[i & 3];
		if ((p[0] & 0x0f) == WSP_OP_TEXT) {
			char save = (char)mask[4 + plen];
			mask[4 + plen] = '\0';
			answer(c, (char *)mask + 4, plen);
			mask[4 + plen] = (unsigned char)save;
		}
		off += hdr + 4 + plen;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->buf + c->len, (unsigned)(RX_SIZE - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;

	(void)b;
	if (n < 0) {
		drop(c);
		return;
	}
	c->len += (size_t)n;
	if (!c->upgraded && upgrade(c) < 0) {
		drop(c);
		return;
	}
	if (c->upgraded && frames(c) < 0)
		drop(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct conn *c;

	if (status < 0 || !(c = calloc(1, sizeof *c)))
		return;
	uv_tcp_init(server->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
		drop(c);
}

static void on_term(uv_signal_t *s, int sig)
{
	(void)sig;
	uv_stop(s->loop);
}

int main(int argc, char **argv)
{
	uv_loop_t *loop = uv_default_loop();
	uv_tcp_t server;
	uv_signal_t term;
	struct sockaddr_in addr;
	struct sockaddr_storage bound;
	int len = sizeof bound;

	uv_ip4_addr("127.0.0.1", argc > 1 ? atoi(argv[1]) : 0, &addr);
	uv_tcp_init(loop, &server);
	if (uv_tcp_bind(&server, (struct sockaddr *)&addr, 0) ||
	    uv_listen((uv_stream_t *)&server, 4096, on_connection)) {
		fprintf(stderr, "csms-floor: cannot listen\n");
		return 1;
	}
	uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
	printf("READY %d\n", ntohs(((struct sockaddr_in *)&bound)->sin_port));
	fflush(stdout);
	uv_signal_init(loop, &term);
	uv_signal_start(&term, on_term, SIGTERM);
	uv_run(loop, UV_RUN_DEFAULT);
	return 0;
}
