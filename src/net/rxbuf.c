#include "config.h"
#include "net/rxbuf.h"

#include <stdlib.h>
#include <string.h>

void rxbuf_reset(struct rxbuf *b)
{
	b->len = 0;
	b->oversized = 0;
}

int rxbuf_append(struct rxbuf *b, const char *in, size_t len, size_t max)
{
	if (b->oversized || b->len + len > max) {
		b->oversized = 1;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, in, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

void rxbuf_trim(struct rxbuf *b, size_t keep)
{
	if (b->cap > keep) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
	rxbuf_reset(b);
}

void rxbuf_free(struct rxbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = 0;
	rxbuf_reset(b);
}
