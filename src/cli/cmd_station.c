/* evctl station: to be written. */
#include "config.h"

#include "cli/cmd.h"

const struct cmd station_commands[] = {
	{ .name = NULL }
};
