/* evctl token: to be written. */
#include "config.h"

#include "cli/cmd.h"

const struct cmd token_commands[] = {
	{ .name = NULL }
};
