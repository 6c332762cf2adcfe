/* evctl: the operator's command line. All logic lives in libevcore and the
 * command table (cli/cmd.c); this is only the entry point. */
#include "config.h"

#include "cli/cmd.h"
#include "util/log.h"

int main(int argc, char **argv)
{
	ev_log_open("evctl", EV_LOG_WARN, 0);
	return cmd_main(argc, argv);
}
