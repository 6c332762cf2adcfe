/* Logging: one process-wide sink chosen by main (stderr or syslog).
 * This is the one piece of global state in the libraries: a log call must
 * not need a context pointer threaded through every layer. */
#ifndef EV_LOG_H
#define EV_LOG_H

#include <stddef.h>
#include <stdint.h>

enum ev_log_level { EV_LOG_ERROR, EV_LOG_WARN, EV_LOG_INFO, EV_LOG_DEBUG };

/* ident: program name used as prefix (stderr) or syslog ident. */
void ev_log_open(const char *ident, enum ev_log_level level, int use_syslog);
void ev_log_close(void);
void ev_log_set_level(enum ev_log_level level);
enum ev_log_level ev_log_get_level(void);
/* "error", "warn", "info", "debug" -> level; returns -1 if unknown. */
int ev_log_level_parse(const char *name);

void ev_log(enum ev_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A ring of the most recent lines logged (those the level lets through),
 * kept in memory for diagnostics uploads; off until enabled. It holds at
 * most max_bytes, dropping the oldest lines; a longer line is cut to
 * EV_LOG_RING_LINE_MAX. Enabling again resizes it and keeps the newest
 * lines that fit; 0 turns it off and frees it. 0 or -ENOMEM (then the old
 * ring stays). Part of the process-wide sink. */
#define EV_LOG_RING_LINE_MAX 1024
int ev_log_ring_enable(size_t max_bytes);

/* One kept line: when (Unix ms), its level, and the text as the stderr
 * sink writes it, without the newline. */
typedef int (*ev_log_line_fn)(void *arg, int64_t time_ms, enum ev_log_level level,
			      const char *line);
/* The kept lines, oldest first; stops at (and returns) fn's first non-zero
 * value. Logging from fn is not kept in the same pass. */
int ev_log_ring_each(ev_log_line_fn fn, void *arg);

#define log_error(...) ev_log(EV_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  ev_log(EV_LOG_WARN, __VA_ARGS__)
#define log_info(...)  ev_log(EV_LOG_INFO, __VA_ARGS__)
#define log_debug(...) ev_log(EV_LOG_DEBUG, __VA_ARGS__)

#endif
