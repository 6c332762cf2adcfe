/* The local control socket: JSON lines over a Unix socket, on the libuv
 * loop. Each line a client sends is one request object; each gets exactly
 * one reply line: {"ok":true,...} or {"ok":false,"error":"why"}. A bad
 * line gets an error reply; the connection stays open. Who may connect is
 * decided by the socket file's permissions (0600: the daemon's user). */
#ifndef EV_STATION_CTL_H
#define EV_STATION_CTL_H

#include <jansson.h>
#include <uv.h>

#define CTL_LINE_MAX (64 * 1024)

struct ctl;

/* Handles one request; fills reply (an object with "ok" preset to true) or
 * returns -1 with a message in err. */
typedef int (*ctl_handler)(void *ctx, json_t *request, json_t *reply, char *err, size_t errlen);

struct ctl *ctl_new(uv_loop_t *loop, const char *path, ctl_handler fn, void *ctx,
		    char *err, size_t errlen);
/* Stops listening, closes every client, removes the socket file. */
void ctl_free(struct ctl *ctl);

#endif
