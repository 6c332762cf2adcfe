/* Option files (curl's .curlrc idea): a file of `name = value` lines whose
 * names are a command's long options, read by the same option parser as
 * the command line. Commands with CMD_CONFIG_FILE take `--config FILE`;
 * the file's options come first, so the command line overrides them. */
#ifndef EV_CLI_RCFILE_H
#define EV_CLI_RCFILE_H

#include <stddef.h>

#include "cli/opt.h"

/* If argv holds --config FILE (or --config=FILE), returns in *out_argv a
 * new argument vector: argv[0], the file's options as --name value, then
 * the rest of argv. *out_argv is NULL when there is no --config. Free
 * with rc_free. -1 with a message ("FILE:LINE: ...") in err. */
int rc_expand(const struct opt *opts, int argc, char **argv, int *out_argc, char ***out_argv,
	      char *err, size_t errlen);
void rc_free(char **argv);

#endif
