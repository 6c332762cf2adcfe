/* evctl sim: to be written. */
#include "config.h"

#include "cli/cmd.h"

const struct cmd sim_commands[] = {
	{ .name = NULL }
};
