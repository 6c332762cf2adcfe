/* evctl session: to be written. */
#include "config.h"

#include "cli/cmd.h"

const struct cmd session_commands[] = {
	{ .name = NULL }
};
