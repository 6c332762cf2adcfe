#include "config.h"
#include "util/rfc3339.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/utf8.h"

int ev_is_leap_year(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm): no timegm(), no time zone database involved. */
int64_t ev_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* The separators JavaScript's /t|\s/i splits on: 't', 'T' and every
 * character of \s. */
static int is_separator(uint32_t cp)
{
	switch (cp) {
	case 't': case 'T': case ' ': case '\t': case '\n': case '\v':
	case '\f': case '\r': case 0xa0: case 0x1680: case 0x2028:
	case 0x2029: case 0x202f: case 0x205f: case 0x3000: case 0xfeff:
		return 1;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}

static int parse_date(const char *s, size_t len, int64_t *days)
{
	static const unsigned char mdays[] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
	    digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
		return -1;
	if (m < 1 || m > 12 || d < 1 ||
	    d > (m == 2 && ev_is_leap_year(y) ? 29 : mdays[m]))
		return -1;
	*days = ev_days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

/* hh:mm:ss[.frac][Z|z|+hh|+hhmm|+hh:mm]; returns ms of the day (may reach
 * 86400000 for a leap second) and the offset. */
static int parse_time(const char *s, size_t len, int64_t *ms, struct ev_timestamp *ts)
{
	int h, mi, se, frac_ms = 0;
	size_t i = 8;

	if (len < 8 || s[2] != ':' || s[5] != ':' || digits(s, 2, &h) ||
	    digits(s + 3, 2, &mi) || digits(s + 6, 2, &se))
		return -1;
	if (!((h <= 23 && mi <= 59 && se <= 59) || (h == 23 && mi == 59 && se == 60)))
		return -1;
	if (i < len && s[i] == '.') {
		size_t start = ++i;
		int scale = 100;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			frac_ms += (s[i] - '0') * scale;
			scale /= 10;
			i++;
		}
		if (i == start)
			return -1;
	}
	ts->offset_min = 0;
	ts->has_offset = i < len;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
		if (i + 3 > len || digits(s + i + 1, 2, &oh))
			return -1;
		i += 3;
		if (i < len && s[i] == ':')
			i++;
		if (i < len) {
			if (i + 2 != len || digits(s + i, 2, &om))
				return -1;
			i += 2;
		} else if (s[i - 1] == ':') {
			return -1;
		}
		ts->offset_min = sign * (oh * 60 + om);
	}
	if (i != len)
		return -1;
	*ms = ((int64_t)h * 3600 + mi * 60 + se) * 1000 + frac_ms;
	return 0;
}

int rfc3339_parse(const char *s, struct ev_timestamp *out)
{
	struct ev_timestamp ts;
	const char *p = s, *sep = NULL, *after = NULL;
	int64_t days, ms;

	/* Exactly one separator in the whole string, as a split would find. */
	while (*p) {
		const char *here = p;
		uint32_t cp = utf8_next(&p);
		if (is_separator(cp)) {
			if (sep)
				return -1;
			sep = here;
			after = p;
		}
	}
	if (!sep || parse_date(s, (size_t)(sep - s), &days) ||
	    parse_time(after, strlen(after), &ms, &ts))
		return -1;
	ts.unix_ms = days * 86400000 + ms - (int64_t)ts.offset_min * 60000;
	if (out)
		*out = ts;
	return 0;
}

size_t rfc3339_format_ms(int64_t unix_ms, char *buf, size_t size)
{
	int64_t days = unix_ms / 86400000, rem = unix_ms % 86400000, y;
	unsigned m, d;
	int n;

	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
		     (long long)y, m, d, (int)(rem / 3600000),
		     (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ev_now_ms(void) { return clock_ms(CLOCK_REALTIME); }
int64_t ev_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
