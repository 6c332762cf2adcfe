/* RFC 3339 timestamps, as OCPP uses them.
 *
 * The grammar accepted is the one the official OCPP schemas are checked with
 * (ajv-formats' "date-time"), so that whatever passes validation also parses:
 * a date and a time separated by one 'T', 't' or whitespace character, an
 * optional fraction of any length, and an offset that is 'Z', '+hh', '+hhmm'
 * or '+hh:mm', or absent (then UTC is assumed). Leap second 23:59:60 is
 * accepted and read as the following second. */
#ifndef EV_RFC3339_H
#define EV_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#define RFC3339_MAX 32 /* "2024-01-01T10:00:00.123Z" plus room */

struct ev_timestamp {
	int64_t unix_ms;    /* the instant, milliseconds since the epoch */
	int offset_min;     /* offset written in the text, in minutes */
	int has_offset;     /* 0 when the text carried no offset */
};

/* Parses s (NUL-terminated). Returns 0, or -1 if s is not a timestamp.
 * out may be NULL to only check the syntax. */
int rfc3339_parse(const char *s, struct ev_timestamp *out);

/* Writes "YYYY-MM-DDThh:mm:ss.mmmZ" (UTC). Returns the length, or 0 if
 * buf is too small. */
size_t rfc3339_format_ms(int64_t unix_ms, char *buf, size_t size);

/* Calendar helpers. */
int64_t ev_days_from_civil(int64_t y, unsigned m, unsigned d);
int ev_is_leap_year(int64_t y);

/* Clocks: wall time for timestamps, monotonic time for timers. */
int64_t ev_now_ms(void);
int64_t ev_mono_ms(void);

#endif
