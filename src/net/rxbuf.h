/* A WebSocket message being reassembled from the fragments libwebsockets
 * hands over, up to a size limit: past it the message is only counted as
 * oversized (read to its end, then the connection is dropped), never kept.
 * Shared by the OCPP server and the wss:// side of the client. */
#ifndef EV_NET_RXBUF_H
#define EV_NET_RXBUF_H

#include <stddef.h>

struct rxbuf {
	char *data;               /* NUL-terminated once complete */
	size_t len, cap;
	int oversized;
};

/* Starts a new message (the memory is kept). */
void rxbuf_reset(struct rxbuf *b);
/* Appends a fragment; 0, or -1 when memory is short. */
int rxbuf_append(struct rxbuf *b, const char *in, size_t len, size_t max);
/* Lets go of a big buffer so idle connections do not hold it. */
void rxbuf_trim(struct rxbuf *b, size_t keep);
void rxbuf_free(struct rxbuf *b);

#endif
