/* evctl serve: to be written. */
#include "config.h"

#include "cli/cmd.h"

const struct cmd serve_commands[] = {
	{ .name = NULL }
};
