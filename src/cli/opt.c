#include "config.h"
#include "cli/opt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

const struct opt *opt_find_long(const struct opt *opts, const char *name)
{
	for (; opts && opts->kind != OPT_END; opts++)
		if (opts->long_name && strcmp(opts->long_name, name) == 0)
			return opts;
	return NULL;
}

static const struct opt *find(const struct opt_group *g, size_t n, const char *long_name,
			      char short_name, void **target)
{
	for (size_t i = 0; i < n; i++) {
		for (const struct opt *o = g[i].opts; o && o->kind != OPT_END; o++) {
			if ((long_name && o->long_name && strcmp(o->long_name, long_name) == 0) ||
			    (!long_name && short_name && o->short_name == short_name)) {
				*target = g[i].target;
				return o;
			}
		}
	}
	return NULL;
}

static void describe(const struct opt *o, char *buf, size_t size)
{
	if (o->long_name)
		snprintf(buf, size, "--%s", o->long_name);
	else
		snprintf(buf, size, "-%c", o->short_name);
}

static int store(const struct opt *o, void *target, const char *value, char *err, size_t errlen)
{
	char *slot = (char *)target + o->offset, name[64];

	describe(o, name, sizeof name);
	switch (o->kind) {
	case OPT_STRING:
		*(const char **)slot = value;
		return 0;
	case OPT_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (!*value || *end || errno || v < o->min || v > o->max)
			return fail(err, errlen, "%s takes a number from %ld to %ld, not '%s'",
				    name, o->min, o->max, value);
		*(long *)slot = v;
		return 0;
	}
	case OPT_ENUM: {
		char list[256] = "";
		for (int i = 0; o->choices[i]; i++) {
			if (strcmp(o->choices[i], value) == 0) {
				*(int *)slot = i;
				return 0;
			}
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
				 i ? ", " : "", o->choices[i]);
		}
		return fail(err, errlen, "%s takes one of %s, not '%s'", name, list, value);
	}
	default:
		*(int *)slot = 1;
		return 0;
	}
}

int opt_parse(const struct opt_group *groups, size_t n_groups, int argc, char **argv,
	      char *err, size_t errlen)
{
	int operands = 0, only_operands = 0;

	for (int i = 1; i < argc; i++) {
		char *arg = argv[i];
		const struct opt *o;
		void *target;

		if (only_operands || arg[0] != '-' || arg[1] == '\0') {
			argv[1 + operands++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_operands = 1;
			continue;
		}
		if (arg[1] == '-') {
			char name[64], *eq = strchr(arg + 2, '=');
			size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
			snprintf(name, sizeof name, "%.*s", (int)len, arg + 2);
			o = find(groups, n_groups, name, 0, &target);
			if (!o)
				return fail(err, errlen, "unknown option '--%s'", name);
			if (o->kind == OPT_BOOL) {
				if (eq)
					return fail(err, errlen, "--%s takes no value", name);
				store(o, target, NULL, err, errlen);
				continue;
			}
			if (!eq && i + 1 >= argc)
				return fail(err, errlen, "--%s needs a value", name);
			if (store(o, target, eq ? eq + 1 : argv[++i], err, errlen))
				return -1;
			continue;
		}
		/* Short options, bundled: -qv, -oVALUE, -o VALUE. */
		for (char *p = arg + 1; *p; p++) {
			o = find(groups, n_groups, NULL, *p, &target);
			if (!o)
				return fail(err, errlen, "unknown option '-%c'", *p);
			if (o->kind == OPT_BOOL) {
				store(o, target, NULL, err, errlen);
				continue;
			}
			if (p[1] == '\0' && i + 1 >= argc)
				return fail(err, errlen, "-%c needs a value", *p);
			if (store(o, target, p[1] ? p + 1 : argv[++i], err, errlen))
				return -1;
			break;
		}
	}
	return operands;
}
