/* Logging: one process-wide sink chosen by main (stderr or syslog).
 * This is the one piece of global state in the libraries: a log call must
 * not need a context pointer threaded through every layer. */
#ifndef EV_LOG_H
#define EV_LOG_H

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

#define log_error(...) ev_log(EV_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  ev_log(EV_LOG_WARN, __VA_ARGS__)
#define log_info(...)  ev_log(EV_LOG_INFO, __VA_ARGS__)
#define log_debug(...) ev_log(EV_LOG_DEBUG, __VA_ARGS__)

#endif
