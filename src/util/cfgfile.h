/* Table-driven configuration files.
 *
 * A file is lines of `name = value`; '#' starts a comment; blank lines are
 * ignored; a value may be double-quoted (then \" \\ \n \t escapes apply).
 * Each option is described once (name, type, range or choices, default,
 * help) and lands at an offset in the caller's struct. Unknown names and bad
 * values are errors naming file:line. */
#ifndef EV_CFGFILE_H
#define EV_CFGFILE_H

#include <stddef.h>

enum cfg_type { CFG_STRING, CFG_INT, CFG_BOOL, CFG_ENUM };

struct cfg_option {
	const char *name;
	enum cfg_type type;
	size_t offset;               /* where the value lives in the struct */
	const char *def;             /* default, as text; NULL for none */
	long min, max;               /* CFG_INT range (inclusive) */
	const char *const *choices;  /* CFG_ENUM: NULL-terminated; value = index */
	const char *help;
};

/* Value types in the target struct: CFG_STRING -> char * (owned, freed by
 * cfg_free), CFG_INT -> long, CFG_BOOL -> int, CFG_ENUM -> int. */

/* Sets every option to its default. Returns 0 or -1 (error in errbuf). */
int cfg_defaults(const struct cfg_option *opts, void *target, char *errbuf, size_t errlen);

/* Sets one option from text; `where` prefixes the error (e.g. "file:3"). */
int cfg_set(const struct cfg_option *opts, void *target, const char *name,
	    const char *value, const char *where, char *errbuf, size_t errlen);

/* Parses a whole file's text. `filename` is used in errors. */
int cfg_parse(const struct cfg_option *opts, void *target, const char *text,
	      const char *filename, char *errbuf, size_t errlen);

/* The lines of a `name = value` text, one call each, with the syntax above
 * (quotes, comments); value is NULL on a line with a name only. where is
 * "file:line". fn returns 0, or -1 with a message in errbuf. */
typedef int (*cfg_line_fn)(void *arg, const char *name, const char *value, const char *where,
			   char *errbuf, size_t errlen);
int cfg_each(const char *text, const char *filename, cfg_line_fn fn, void *arg,
	     char *errbuf, size_t errlen);
/* A whole file into *text (free it). 0, -1 out of memory, -2 if it cannot
 * be read (errno set). */
int cfg_read_file(const char *path, char **text, char *errbuf, size_t errlen);

/* Reads and parses a file. Returns 0, -1 on a parse error, -2 if the file
 * cannot be read (errno set). */
int cfg_load(const struct cfg_option *opts, void *target, const char *path,
	     char *errbuf, size_t errlen);

/* Frees the strings cfg_set allocated. */
void cfg_free(const struct cfg_option *opts, void *target);

const struct cfg_option *cfg_find(const struct cfg_option *opts, const char *name);

#endif
