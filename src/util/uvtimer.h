/* libuv timers on the heap: libuv frees nothing itself and a handle must
 * outlive uv_close until its close callback, so objects that come and go
 * (stations, connections, transfers) keep their timers this way. */
#ifndef EV_UVTIMER_H
#define EV_UVTIMER_H

#include <uv.h>

/* An initialised, stopped timer with data set; NULL if out of memory. */
uv_timer_t *ev_timer_new(uv_loop_t *loop, void *data);
/* Stops and closes t; its memory goes when libuv is done. NULL is fine. */
void ev_timer_free(uv_timer_t *t);

#endif
