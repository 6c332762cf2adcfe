/* evstationd: the charging-station daemon (the station side of OCPP).
 * The station core arrives with its own issue; until then the binary
 * answers --help and --version and refuses to pretend it runs a station. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "util/exitcode.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evstationd [--help] [--version]\n\n"
		"evstationd is the OCPP charging-station daemon of the evctl project.\n\n"
		"options:\n"
		"  -h, --help      show this help\n"
		"  -V, --version   print the version\n\n"
		"The station core is not part of this release yet; see evstationd(8).\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return EV_EXIT_OK;
	}
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("evstationd %s (OCPP 1.6, 2.0.1)\n", PACKAGE_VERSION);
		return EV_EXIT_OK;
	}
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "evstationd: unknown option '%s' (see 'evstationd --help')\n", argv[1]);
		return EV_EXIT_USAGE;
	}
	fprintf(stderr, "evstationd: the station core is not implemented in this release\n");
	return EV_EXIT_FAILURE;
}
