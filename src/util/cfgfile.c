#include "config.h"
#include "util/cfgfile.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

const struct cfg_option *cfg_find(const struct cfg_option *opts, const char *name)
{
	for (; opts->name; opts++)
		if (strcmp(opts->name, name) == 0)
			return opts;
	return NULL;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

int cfg_set(const struct cfg_option *opts, void *target, const char *name,
	    const char *value, const char *where, char *errbuf, size_t errlen)
{
	const struct cfg_option *o = cfg_find(opts, name);
	char *slot;

	if (!o)
		return fail(errbuf, errlen, "%s: unknown option '%s'", where, name);
	slot = (char *)target + o->offset;
	switch (o->type) {
	case CFG_STRING: {
		char *copy = strdup(value);
		if (!copy)
			return fail(errbuf, errlen, "%s: out of memory", where);
		free(*(char **)slot);
		*(char **)slot = copy;
		return 0;
	}
	case CFG_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno || v < o->min || v > o->max)
			return fail(errbuf, errlen,
				    "%s: '%s' must be an integer from %ld to %ld, not '%s'",
				    where, name, o->min, o->max, value);
		*(long *)slot = v;
		return 0;
	}
	case CFG_BOOL:
		if (parse_bool(value, (int *)slot))
			return fail(errbuf, errlen, "%s: '%s' must be yes or no, not '%s'",
				    where, name, value);
		return 0;
	case CFG_ENUM:
		for (int i = 0; o->choices[i]; i++) {
			if (strcmp(o->choices[i], value) == 0) {
				*(int *)slot = i;
				return 0;
			}
		}
		{
			char list[256] = "";
			for (int i = 0; o->choices[i]; i++) {
				if (i)
					strncat(list, ", ", sizeof list - strlen(list) - 1);
				strncat(list, o->choices[i], sizeof list - strlen(list) - 1);
			}
			return fail(errbuf, errlen, "%s: '%s' must be one of %s, not '%s'",
				    where, name, list, value);
		}
	}
	return fail(errbuf, errlen, "%s: '%s' has an unknown type", where, name);
}

int cfg_defaults(const struct cfg_option *opts, void *target, char *errbuf, size_t errlen)
{
	for (const struct cfg_option *o = opts; o->name; o++) {
		if (o->def && cfg_set(opts, target, o->name, o->def, "default",
				      errbuf, errlen))
			return -1;
	}
	return 0;
}

/* Unquotes a double-quoted value in place; returns -1 if unterminated or
 * followed by anything but a comment. */
static int unquote(char *v)
{
	char *out = v, *in = v + 1;

	for (; *in && *in != '"'; in++) {
		if (*in == '\\' && in[1]) {
			in++;
			*out++ = *in == 'n' ? '\n' : *in == 't' ? '\t' : *in;
		} else {
			*out++ = *in;
		}
	}
	if (*in != '"')
		return -1;
	for (in++; *in == ' ' || *in == '\t'; in++)
		;
	if (*in && *in != '#')
		return -1;
	*out = '\0';
	return 0;
}

static char *trim(char *s)
{
	char *end;
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int cfg_each(const char *text, const char *filename, cfg_line_fn fn, void *arg,
	     char *errbuf, size_t errlen)
{
	char *copy = strdup(text), *line, *next;
	int lineno = 0, rc = 0;

	if (!copy)
		return fail(errbuf, errlen, "%s: out of memory", filename);
	for (line = copy; line && rc == 0; line = next) {
		char where[PATH_MAX + 16], *eq, *name, *value = NULL;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		snprintf(where, sizeof where, "%s:%d", filename, lineno);
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (eq) {
			*eq = '\0';
			value = trim(eq + 1);
		}
		name = trim(line);
		if (value && *value == '"') {
			if (unquote(value)) {
				rc = fail(errbuf, errlen, "%s: unterminated quoted value", where);
				break;
			}
		} else if (value) {
			char *hash = strchr(value, '#');
			if (hash) {
				*hash = '\0';
				value = trim(value);
			}
		}
		if (*name == '\0')
			rc = fail(errbuf, errlen, "%s: missing option name", where);
		else
			rc = fn(arg, name, value, where, errbuf, errlen);
	}
	free(copy);
	return rc;
}

struct parse_target {
	const struct cfg_option *opts;
	void *target;
};

static int set_line(void *arg, const char *name, const char *value, const char *where,
		    char *errbuf, size_t errlen)
{
	struct parse_target *t = arg;

	if (!value)
		return fail(errbuf, errlen, "%s: expected 'name = value'", where);
	return cfg_set(t->opts, t->target, name, value, where, errbuf, errlen);
}

int cfg_parse(const struct cfg_option *opts, void *target, const char *text,
	      const char *filename, char *errbuf, size_t errlen)
{
	struct parse_target t = { opts, target };

	return cfg_each(text, filename, set_line, &t, errbuf, errlen);
}

int cfg_read_file(const char *path, char **text, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "r"), *mem;
	size_t len = 0, n;
	char buf[4096];
	int rc;

	*text = NULL;
	if (!f) {
		int e = errno;
		fail(errbuf, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -2;
	}
	mem = open_memstream(text, &len);
	if (!mem) {
		fclose(f);
		return fail(errbuf, errlen, "%s: out of memory", path);
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, mem);
	rc = ferror(f);
	fclose(mem);
	fclose(f);
	if (rc) {
		free(*text);
		*text = NULL;
		fail(errbuf, errlen, "%s: read error", path);
		return -2;
	}
	return 0;
}

int cfg_load(const struct cfg_option *opts, void *target, const char *path,
	     char *errbuf, size_t errlen)
{
	char *text;
	int rc = cfg_read_file(path, &text, errbuf, errlen);

	if (rc)
		return rc;
	rc = cfg_parse(opts, target, text, path, errbuf, errlen);
	free(text);
	return rc;
}

void cfg_free(const struct cfg_option *opts, void *target)
{
	for (; opts->name; opts++) {
		if (opts->type == CFG_STRING) {
			char **slot = (char **)((char *)target + opts->offset);
			free(*slot);
			*slot = NULL;
		}
	}
}
