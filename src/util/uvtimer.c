#include "config.h"
#include "util/uvtimer.h"

#include <stdlib.h>

uv_timer_t *ev_timer_new(uv_loop_t *loop, void *data)
{
	uv_timer_t *t = malloc(sizeof *t);

	if (t) {
		uv_timer_init(loop, t);
		t->data = data;
	}
	return t;
}

static void closed(uv_handle_t *h)
{
	free(h);
}

void ev_timer_free(uv_timer_t *t)
{
	if (t)
		uv_close((uv_handle_t *)t, closed);
}
