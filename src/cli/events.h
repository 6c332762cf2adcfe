/* The API's live events (GET /api/v1/events): a server-sent-events parser
 * and one line of text per event for people.
 *
 * The parser does no I/O: feed it bytes in whatever chunks the transport
 * delivers (libcurl for `evctl watch`, the shell's loop) and it calls back
 * once per complete event, following the event-stream rules of the HTML
 * standard: lines end in CRLF, LF or CR; ':' starts a comment; "data" lines
 * are joined with '\n'; a blank line ends an event; an event without data
 * is not delivered; one space after the field's ':' is dropped. */
#ifndef EV_CLI_EVENTS_H
#define EV_CLI_EVENTS_H

#include <stddef.h>

#include <jansson.h>

#define SSE_LINE_MAX (1 << 20)  /* longer lines (and events) are refused */

struct sse_event {
	const char *type;    /* "message" when the event named none */
	const char *data;    /* the data lines joined with '\n', NUL-terminated */
	size_t data_len;
	const char *id;      /* the last event id seen, "" if none */
};

/* Returns 0 to go on; anything else stops sse_feed, which returns it. The
 * event's strings are valid during the call only. */
typedef int (*sse_event_fn)(const struct sse_event *ev, void *arg);

struct sse_parser;

struct sse_parser *sse_parser_new(sse_event_fn fn, void *arg);
void sse_parser_free(struct sse_parser *p);

/* Feeds len bytes. Returns 0, the callback's non-zero value, or -1 when a
 * line or an event is over SSE_LINE_MAX or memory ran out (the event in
 * progress is dropped and parsing goes on after the next line break). */
int sse_feed(struct sse_parser *p, const char *bytes, size_t len);

/* For a new connection: drops a partial line or event (the stream ended
 * inside it); keeps the last event id and the retry delay. */
void sse_reset(struct sse_parser *p);

/* The reconnection delay the stream asked for ("retry:"), in ms; -1 if it
 * has not. */
long sse_retry_ms(const struct sse_parser *p);

/* One line about an event for people: "TIME STATION what happened", e.g.
 * "2026-11-22T10:00:00Z CP-001 connector 1 Charging". Unknown types are
 * shown with their data as JSON. Control characters become '?'. Returns
 * buf. */
const char *event_describe(const char *type, const json_t *data, char *buf, size_t size);

#endif
