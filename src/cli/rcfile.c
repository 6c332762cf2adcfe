#include "config.h"
#include "cli/rcfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

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

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int rc_expand(const struct opt *opts, int argc, char **argv, int *out_argc, char ***out_argv,
	      char *err, size_t errlen)
{
	const char *path = find_config(argc, argv);
	char *line = NULL, **owned = NULL;
	size_t cap = 0, n = 0, lineno = 0;
	struct rcvec *v;
	FILE *f;

	*out_argv = NULL;
	if (!path)
		return 0;
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *s = trim(line), *eq, *name, *value, **grown;
		const struct opt *o;
		lineno++;
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		name = trim(s);
		if (eq) {
			*eq = '\0';
			name = trim(s);
			value = trim(eq + 1);
		} else {
			value = NULL;
		}
		if (strlen(value ? value : "") >= 2 && value[0] == '"' && value[strlen(value) - 1] == '"') {
			value[strlen(value) - 1] = '\0';
			value++;
		}
		o = opt_find_long(opts, name);
		if (!o || strcmp(name, "config") == 0) {
			snprintf(err, errlen, "%s:%zu: unknown setting '%s'", path, lineno, name);
			goto fail;
		}
		if (o->kind == OPT_BOOL ? value && strcmp(value, "true") && strcmp(value, "yes")
		    : !value) {
			snprintf(err, errlen, "%s:%zu: %s: %s", path, lineno, name,
				 o->kind == OPT_BOOL ? "a switch takes no value (or: true)"
						     : "expected 'name = value'");
			goto fail;
		}
		grown = realloc(owned, (n + 2) * sizeof *owned);
		if (!grown)
			goto nomem;
		owned = grown;
		if (asprintf(&owned[n], "--%s", name) < 0)
			goto nomem;
		n++;
		if (o->kind != OPT_BOOL) {
			if (!(owned[n] = strdup(value)))
				goto nomem;
			n++;
		}
	}
	fclose(f);
	free(line);
	f = NULL;
	line = NULL;
	v = malloc(sizeof *v + (n + (size_t)argc + 1) * sizeof(char *));
	if (!v)
		goto nomem;
	v->n_owned = n;
	v->owned = owned;
	v->argv[0] = argv[0];
	if (n)
		memcpy(v->argv + 1, owned, n * sizeof *owned);
	memcpy(v->argv + 1 + n, argv + 1, (size_t)(argc - 1) * sizeof *argv);
	v->argv[n + (size_t)argc] = NULL;
	*out_argc = argc + (int)n;
	*out_argv = v->argv;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	if (f)
		fclose(f);
	free(line);
	for (size_t i = 0; i < n; i++)
		free(owned[i]);
	free(owned);
	return -1;
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
