#include "config.h"
#include "cli/rcfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "util/cfgfile.h"

/* The vector handed out, with the strings made from the file (the option
 * parser reorders argv, so they are remembered apart). */
struct rcvec {
	size_t n_owned;
	char **owned;
	char *argv[];
};

static const char *find_config(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

/* The options made from the file so far. */
struct rcargs {
	const struct opt *opts;
	char **owned;
	size_t n;
};

static int add_arg(struct rcargs *r, char *arg)
{
	char **grown = arg ? realloc(r->owned, (r->n + 1) * sizeof *grown) : NULL;

	if (!grown) {
		free(arg);
		return -1;
	}
	r->owned = grown;
	r->owned[r->n++] = arg;
	return 0;
}

static int rc_line(void *arg, const char *name, const char *value, const char *where,
		   char *err, size_t errlen)
{
	struct rcargs *r = arg;
	const struct opt *o = opt_find_long(r->opts, name);
	char *flag;

	if (!o || strcmp(name, "config") == 0) {
		snprintf(err, errlen, "%s: unknown setting '%s'", where, name);
		return -1;
	}
	if (o->kind == OPT_BOOL ? value && strcmp(value, "true") && strcmp(value, "yes") : !value) {
		snprintf(err, errlen, "%s: %s: %s", where, name,
			 o->kind == OPT_BOOL ? "a switch takes no value (or: true)"
					     : "expected 'name = value'");
		return -1;
	}
	if (asprintf(&flag, "--%s", name) < 0)
		flag = NULL;
	if (add_arg(r, flag) || (o->kind != OPT_BOOL && add_arg(r, strdup(value)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int rc_expand(const struct opt *opts, int argc, char **argv, int *out_argc, char ***out_argv,
	      char *err, size_t errlen)
{
	const char *path = find_config(argc, argv);
	struct rcargs r = { opts, NULL, 0 };
	struct rcvec *v = NULL;
	char *text;

	*out_argv = NULL;
	if (!path)
		return 0;
	if (cfg_read_file(path, &text, err, errlen))
		return -1;
	if (cfg_each(text, path, rc_line, &r, err, errlen) == 0 &&
	    !(v = malloc(sizeof *v + (r.n + (size_t)argc + 1) * sizeof(char *))))
		snprintf(err, errlen, "out of memory");
	free(text);
	if (!v) {
		for (size_t i = 0; i < r.n; i++)
			free(r.owned[i]);
		free(r.owned);
		return -1;
	}
	v->n_owned = r.n;
	v->owned = r.owned;
	v->argv[0] = argv[0];
	if (r.n)
		memcpy(v->argv + 1, r.owned, r.n * sizeof *r.owned);
	memcpy(v->argv + 1 + r.n, argv + 1, (size_t)(argc - 1) * sizeof *argv);
	v->argv[r.n + (size_t)argc] = NULL;
	*out_argc = argc + (int)r.n;
	*out_argv = v->argv;
	return 0;
}

void rc_free(char **argv)
{
	struct rcvec *v;

	if (!argv)
		return;
	v = (struct rcvec *)((char *)argv - offsetof(struct rcvec, argv));
	for (size_t i = 0; i < v->n_owned; i++)
		free(v->owned[i]);
	free(v->owned);
	free(v);
}
