/* evctl shell: to be written. */
#include "config.h"

#include "cli/cmd.h"

const struct cmd shell_commands[] = {
	{ .name = NULL }
};
