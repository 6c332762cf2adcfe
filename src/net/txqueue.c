#include "config.h"
#include "net/txqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

int txq_push(struct txqueue *q, const char *text, size_t len)
{
	struct txq_frame *f = malloc(sizeof *f + LWS_PRE + len);

	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->buf + LWS_PRE, text, len);
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->bytes += len;
	return 0;
}

void txq_pop(struct txqueue *q)
{
	struct txq_frame *f = q->head;

	if (!f)
		return;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	q->bytes -= f->len;
	free(f);
}

void txq_clear(struct txqueue *q)
{
	while (q->head)
		txq_pop(q);
}
