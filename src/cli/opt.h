/* Command-line options as tables (after git's parse-options). Each entry
 * says what an option is; values land at an offset in the caller's struct:
 * OPT_BOOL -> int, OPT_STRING -> const char * (points into argv),
 * OPT_INT -> long, OPT_ENUM -> int (index into choices). */
#ifndef EV_CLI_OPT_H
#define EV_CLI_OPT_H

#include <stddef.h>

enum opt_kind { OPT_END, OPT_BOOL, OPT_STRING, OPT_INT, OPT_ENUM };

struct opt {
	enum opt_kind kind;
	char short_name;             /* 0: none */
	const char *long_name;
	const char *arg_name;        /* shown in help: --ocpp VERSION */
	const char *help;
	size_t offset;
	const char *const *choices;  /* OPT_ENUM: the values allowed; OPT_STRING:
	                                hints for completion. NULL-terminated */
	long min, max;               /* OPT_INT range */
};

#define OPT_END_MARK { OPT_END, 0, NULL, NULL, NULL, 0, NULL, 0, 0 }

/* A table and the struct its values go to. */
struct opt_group {
	const struct opt *opts;
	void *target;
};

/* Parses argv (argv[0] is the command name and skipped). Options and
 * operands may be mixed; "--" ends options; "-" is an operand. Operands are
 * moved, in order, to the front of argv+1; their count is returned, or -1
 * with a message in err. */
int opt_parse(const struct opt_group *groups, size_t n_groups, int argc, char **argv,
	      char *err, size_t errlen);

/* Finds an option by long name across groups (for completion). */
const struct opt *opt_find_long(const struct opt *opts, const char *name);

#endif
