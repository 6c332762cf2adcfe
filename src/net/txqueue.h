/* Text messages waiting for libwebsockets' writable callback, oldest
 * first, each with the LWS_PRE bytes of room lws_write needs in front of
 * it. Shared by the OCPP server and the wss:// client (the send side of
 * what rxbuf is for receiving). */
#ifndef EV_NET_TXQUEUE_H
#define EV_NET_TXQUEUE_H

#include <stddef.h>

struct txq_frame {
	struct txq_frame *next;
	size_t len;
	unsigned char buf[];       /* LWS_PRE + len */
};

struct txqueue {
	struct txq_frame *head, *tail;
	size_t bytes;              /* of text queued */
};

/* Appends a copy of text; 0 or -ENOMEM. */
int txq_push(struct txqueue *q, const char *text, size_t len);
/* Frees the oldest message (after lws_write took it). */
void txq_pop(struct txqueue *q);
void txq_clear(struct txqueue *q);

#endif
