#include "config.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "util/rfc3339.h"

static struct {
	const char *ident;
	enum ev_log_level level;
	int use_syslog;
} sink = { "evctl", EV_LOG_WARN, 0 };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void ev_log_open(const char *ident, enum ev_log_level level, int use_syslog)
{
	sink.ident = ident;
	sink.level = level;
	sink.use_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void ev_log_close(void)
{
	if (sink.use_syslog)
		closelog();
	sink.use_syslog = 0;
}

void ev_log_set_level(enum ev_log_level level) { sink.level = level; }
enum ev_log_level ev_log_get_level(void) { return sink.level; }

int ev_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void ev_log(enum ev_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > sink.level)
		return;
	va_start(ap, fmt);
	if (sink.use_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
		vsyslog(prio[level], fmt, ap);
	} else {
		char stamp[RFC3339_MAX];
		rfc3339_format_ms(ev_now_ms(), stamp, sizeof stamp);
		fprintf(stderr, "%s %s[%s]: ", stamp, sink.ident, level_names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
