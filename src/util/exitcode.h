/* Exit statuses of evctl and evstationd: the one table, documented in
 * evctl(1) EXIT STATUS. Library code returns errors; only a program's main
 * turns them into one of these. */
#ifndef EV_EXITCODE_H
#define EV_EXITCODE_H

enum ev_exit {
	EV_EXIT_OK = 0,       /* success */
	EV_EXIT_FAILURE = 1,  /* the command ran and the answer is "no": an
	                         invalid frame, a station's Rejected, a name
	                         that exists already */
	EV_EXIT_USAGE = 2,    /* bad command line (or a request the API
	                         refused as malformed) */
	EV_EXIT_CONFIG = 3,   /* bad configuration file */
	EV_EXIT_IO = 4,       /* a file or device could not be read or written */
	EV_EXIT_SOFTWARE = 5, /* internal error (out of memory, a bug) */
	EV_EXIT_SERVER = 6,   /* the central system's API could not be used:
	                         unreachable, token refused, not an evctl API */
	EV_EXIT_STATION = 7,  /* the station could not act: not connected, busy,
	                         no answer in time, an OCPP error answer */
	EV_EXIT_NOTFOUND = 8, /* no such station, session or token */
};

#endif
