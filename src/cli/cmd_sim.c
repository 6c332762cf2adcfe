/* evctl sim: simulated stations for operators and demos.
 *
 *   evctl sim start [--count N] [--id-pattern P] [--url URL] ...
 *   evctl sim stop | status [STATION...]
 *   evctl sim plug | unplug | fault | clear STATION CONNECTOR
 *   evctl sim token STATION ID_TAG
 *
 * A sim is one evstationd process (simulated hardware, many stations)
 * per sim directory, detached and logging to a file there. Every command
 * after start talks JSON lines to its control socket (evstationd(8),
 * CONTROL SOCKET). The directory holds:
 *
 *   sim.conf    the settings evstationd runs with (0600: may hold the password)
 *   sim.lock    flock()ed by the running evstationd: "is a sim running here"
 *               without pid-file races; released by the kernel when it dies
 *   sim.json    its pid and URL, for stop and status
 *   sim.log     its log
 *   evstationd.sock, evstationd.db  evstationd's own
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cmd.h"
#include "util/exitcode.h"

#define DEFAULT_URL "ws://127.0.0.1:8180/ocpp"
#define DEFAULT_PATTERN "SIM%03d"
#define REPLY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 10000  /* evstationd waits up to 5 s for its last messages */
#define IDTAG_MAX 20           /* OCPP 1.6 idTag; the sims speak 1.6 */
#define FAULT_INFO_MAX 50      /* 1.6 StatusNotification info */

/* ------------------------------------------------------------ options */

#define STATE_DIR_OPT(type) \
	{ OPT_STRING, 0, "state-dir", "DIR", "the sim's directory (default: $XDG_STATE_HOME/evctl/sim)", \
	  offsetof(type, state_dir), NULL, 0, 0 }

struct start_opts {
	const char *state_dir, *id_pattern, *url, *password;
	long count, first, connectors;
	int foreground;
};

static const struct opt start_opts[] = {
	{ OPT_INT, 'n', "count", "N", "how many stations (default 1)",
	  offsetof(struct start_opts, count), NULL, 1, 100000 },
	{ OPT_STRING, 0, "id-pattern", "PATTERN", "station ids, printf-like with one %d (default " DEFAULT_PATTERN ")",
	  offsetof(struct start_opts, id_pattern), NULL, 0, 0 },
	{ OPT_INT, 0, "first", "N", "number of the first station (default 1)",
	  offsetof(struct start_opts, first), NULL, 1, 100000000 },
	{ OPT_INT, 0, "connectors", "N", "connectors per station (default 2)",
	  offsetof(struct start_opts, connectors), NULL, 1, 64 },
	{ OPT_STRING, 0, "url", "URL", "the central system (default " DEFAULT_URL ")",
	  offsetof(struct start_opts, url), NULL, 0, 0 },
	{ OPT_STRING, 0, "password", "PASSWORD", "Basic Auth password of every station",
	  offsetof(struct start_opts, password), NULL, 0, 0 },
	STATE_DIR_OPT(struct start_opts),
	{ OPT_BOOL, 'f', "foreground", NULL, "stay in the foreground, logging to stderr, until interrupted",
	  offsetof(struct start_opts, foreground), NULL, 0, 0 },
	OPT_END_MARK
};

struct dir_opts {
	const char *state_dir;
};

static const struct opt dir_opts[] = {
	STATE_DIR_OPT(struct dir_opts),
	OPT_END_MARK
};

struct plug_opts {
	const char *state_dir, *soc, *capacity, *max_current, *max_power;
	long phases;
};

static const struct opt plug_opts[] = {
	{ OPT_STRING, 0, "soc", "PERCENT", "the EV's state of charge at plug-in (default 20)",
	  offsetof(struct plug_opts, soc), NULL, 0, 0 },
	{ OPT_STRING, 0, "capacity", "KWH", "its battery capacity in kWh (default 60)",
	  offsetof(struct plug_opts, capacity), NULL, 0, 0 },
	{ OPT_STRING, 0, "max-current", "AMPS", "its on-board charger's current per phase (default 32)",
	  offsetof(struct plug_opts, max_current), NULL, 0, 0 },
	{ OPT_INT, 0, "phases", "N", "phases its on-board charger uses: 1 to 3 (default 3)",
	  offsetof(struct plug_opts, phases), NULL, 1, 3 },
	{ OPT_STRING, 0, "max-power", "KW", "its maximum charging power in kW (instead of --max-current)",
	  offsetof(struct plug_opts, max_power), NULL, 0, 0 },
	STATE_DIR_OPT(struct plug_opts),
	OPT_END_MARK
};

struct unplug_opts {
	const char *state_dir;
	int force;
};

static const struct opt unplug_opts[] = {
	{ OPT_BOOL, 0, "force", NULL, "unplug even though the cable is locked",
	  offsetof(struct unplug_opts, force), NULL, 0, 0 },
	STATE_DIR_OPT(struct unplug_opts),
	OPT_END_MARK
};

struct token_opts {
	const char *state_dir;
	long connector;
};

static const struct opt token_opts[] = {
	{ OPT_INT, 'c', "connector", "N", "present it at connector N (default 0: the station's reader)",
	  offsetof(struct token_opts, connector), NULL, 0, 64 },
	STATE_DIR_OPT(struct token_opts),
	OPT_END_MARK
};

/* OCPP 1.6 ChargePointErrorCode, less NoError. The first is the default
 * (an OPT_ENUM left alone is 0). */
static const char *const fault_codes[] = {
	"OtherError", "ConnectorLockFailure", "EVCommunicationError", "GroundFailure",
	"HighTemperature", "InternalError", "LocalListConflict", "OverCurrentFailure",
	"OverVoltage", "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure",
	"ResetFailure", "UnderVoltage", "WeakSignal", NULL
};

struct fault_opts {
	const char *state_dir, *info;
	int code;
};

static const struct opt fault_opts[] = {
	{ OPT_ENUM, 0, "code", "CODE", "the OCPP error code (default OtherError)",
	  offsetof(struct fault_opts, code), fault_codes, 0, 0 },
	{ OPT_STRING, 0, "info", "TEXT", "free text sent with it (at most 50 characters)",
	  offsetof(struct fault_opts, info), NULL, 0, 0 },
	STATE_DIR_OPT(struct fault_opts),
	OPT_END_MARK
};

/* ---------------------------------------------------------- the directory */

struct sim_paths {
	char dir[PATH_MAX];
	char conf[PATH_MAX + 16], lock[PATH_MAX + 16], info[PATH_MAX + 16], log[PATH_MAX + 16];
	char sock[sizeof ((struct sockaddr_un *)0)->sun_path];
};

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0700) && errno != EEXIST ? -1 : 0;
}

/* The sim's directory: --state-dir, else $XDG_STATE_HOME/evctl/sim, else
 * ~/.local/state/evctl/sim. start creates it and makes it absolute, since
 * evstationd runs from "/". Returns an exit status. */
static int sim_paths(const char *path, const char *state_dir, int create, struct sim_paths *p)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];
	int n;

	if (state_dir && *state_dir)
		n = snprintf(dir, sizeof dir, "%s", state_dir);
	else if (xdg && *xdg)
		n = snprintf(dir, sizeof dir, "%s/evctl/sim", xdg);
	else if (home && *home)
		n = snprintf(dir, sizeof dir, "%s/.local/state/evctl/sim", home);
	else {
		cmd_error("%s: no state directory: set $HOME or give --state-dir", path);
		return EV_EXIT_USAGE;
	}
	if (n < 0 || (size_t)n >= sizeof dir) {
		cmd_error("%s: state directory name too long", path);
		return EV_EXIT_USAGE;
	}
	if (create && mkdirs(dir)) {
		cmd_error("%s: cannot create %s: %s", path, dir, strerror(errno));
		return EV_EXIT_IO;
	}
	if (!realpath(dir, p->dir))
		snprintf(p->dir, sizeof p->dir, "%s", dir);   /* absent: nothing runs there */
	snprintf(p->conf, sizeof p->conf, "%s/sim.conf", p->dir);
	snprintf(p->lock, sizeof p->lock, "%s/sim.lock", p->dir);
	snprintf(p->info, sizeof p->info, "%s/sim.json", p->dir);
	snprintf(p->log, sizeof p->log, "%s/sim.log", p->dir);
	n = snprintf(p->sock, sizeof p->sock, "%s/evstationd.sock", p->dir);
	if (n < 0 || (size_t)n >= sizeof p->sock) {
		cmd_error("%s: state directory %s: too long for a Unix socket's name (at most %zu bytes)",
			  path, p->dir, sizeof p->sock - sizeof "/evstationd.sock");
		return EV_EXIT_USAGE;
	}
	return EV_EXIT_OK;
}

/* 1 if a sim holds the lock, 0 if not (or no lock file), -1 on error. */
static int sim_running(const struct sim_paths *p)
{
	int fd = open(p->lock, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		rc = 0;
	else
		rc = errno == EWOULDBLOCK ? 1 : -1;
	close(fd);
	return rc;
}

/* sim.json, or NULL. */
static json_t *sim_info(const struct sim_paths *p)
{
	return json_load_file(p->info, 0, NULL);
}

static long sim_pid(const struct sim_paths *p)
{
	json_t *info = sim_info(p);
	long pid = (long)json_integer_value(json_object_get(info, "pid"));
	json_decref(info);
	return pid;
}

/* ------------------------------------------------------- control socket */

struct ctl_conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static int ctl_connect(const char *sock, struct ctl_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof *c);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa)) {
		int e = errno;
		close(c->fd);
		c->fd = -1;
		return -e;
	}
	return 0;
}

static void ctl_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

/* Sends req (stolen) and reads the one reply line. Returns 0 with *reply
 * (its "ok" true), 1 with the daemon's error in err, -1 with an I/O
 * error in err. */
static int ctl_request(struct ctl_conn *c, json_t *req, json_t **reply, char *err, size_t errlen)
{
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	size_t n, off = 0;
	json_error_t jerr;
	char *nl;
	json_t *r;

	json_decref(req);
	*reply = NULL;
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = strlen(text);
	text[n] = '\n';    /* json_dumps leaves room: the NUL becomes the newline */
	while (off < n + 1) {
		ssize_t w = send(c->fd, text + off, n + 1 - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errlen, "control socket: %s", strerror(errno));
			free(text);
			return -1;
		}
		off += (size_t)w;
	}
	free(text);
	while (!(nl = c->buf ? memchr(c->buf, '\n', c->len) : NULL)) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		ssize_t got;
		int rc;

		if (c->cap - c->len < 4096) {
			size_t cap = c->cap ? c->cap * 2 : 16384;
			char *b = realloc(c->buf, cap);
			if (!b) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			c->buf = b;
			c->cap = cap;
		}
		rc = poll(&pfd, 1, REPLY_TIMEOUT_MS);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			snprintf(err, errlen, "control socket: %s",
				 rc ? strerror(errno) : "no answer from evstationd");
			return -1;
		}
		got = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			snprintf(err, errlen, "control socket: %s",
				 got ? strerror(errno) : "evstationd closed the connection");
			return -1;
		}
		c->len += (size_t)got;
	}
	r = json_loadb(c->buf, (size_t)(nl - c->buf), 0, &jerr);
	c->len -= (size_t)(nl - c->buf) + 1;
	memmove(c->buf, nl + 1, c->len);
	if (!json_is_object(r)) {
		snprintf(err, errlen, "control socket: not a JSON object: %s", r ? "" : jerr.text);
		json_decref(r);
		return -1;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		const char *e = json_string_value(json_object_get(r, "error"));
		snprintf(err, errlen, "%s", e ? e : "request failed");
		json_decref(r);
		return 1;
	}
	json_object_del(r, "ok");
	*reply = r;
	return 0;
}

/* Connects to the sim of state_dir; prints why not and returns the exit
 * status when it cannot. */
static int sim_connect(const char *path, const char *state_dir, struct sim_paths *p,
		       struct ctl_conn *c)
{
	int rc = sim_paths(path, state_dir, 0, p);

	if (rc != EV_EXIT_OK)
		return rc;
	rc = ctl_connect(p->sock, c);
	if (rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENOTDIR) {
		cmd_error("%s: no sim running in %s (start one with 'evctl sim start')", path, p->dir);
		return EV_EXIT_FAILURE;
	}
	if (rc) {
		cmd_error("%s: %s: %s", path, p->sock, strerror(-rc));
		return EV_EXIT_IO;
	}
	return EV_EXIT_OK;
}

/* A request whose failure is printed as is. Returns an exit status. */
static int ctl_simple(const char *path, struct ctl_conn *c, json_t *req, json_t **reply)
{
	char err[512];
	int rc = ctl_request(c, req, reply, err, sizeof err);

	if (rc)
		cmd_error("%s: %s", path, err);
	return rc < 0 ? EV_EXIT_IO : rc ? EV_EXIT_FAILURE : EV_EXIT_OK;
}

/* One station's state; a clear message when there is no such station. */
static int station_state(const char *path, struct ctl_conn *c, const char *station, json_t **state)
{
	char err[512], want[512];
	int rc = ctl_request(c, json_pack("{s:s, s:s}", "cmd", "state", "station", station), state,
			     err, sizeof err);

	if (rc == 0)
		return EV_EXIT_OK;
	snprintf(want, sizeof want, "no station '%.60s'", station);
	if (rc > 0 && strcmp(err, want) == 0) {
		cmd_error("%s: no station '%s' in this sim (see 'evctl sim status')", path, station);
		return EV_EXIT_NOTFOUND;
	}
	cmd_error("%s: %s", path, err);
	return rc < 0 ? EV_EXIT_IO : EV_EXIT_FAILURE;
}

/* CONNECTOR: a number the station has (0, the station itself, only when
 * allowed). */
static int check_connector(const char *path, json_t *state, const char *station, const char *text,
			   int allow0, long *out)
{
	long n = (long)json_array_size(json_object_get(state, "connectors")) - 1;
	char *end;

	errno = 0;
	*out = strtol(text, &end, 10);
	if (!*text || *end || errno) {
		cmd_error("%s: connector must be a number, not '%s'", path, text);
		return EV_EXIT_USAGE;
	}
	if (*out > n || *out < (allow0 ? 0 : 1)) {
		cmd_error("%s: station '%s' has no connector %ld (it has %s1 to %ld)", path, station, *out,
			  allow0 ? "0 (its reader) and " : "", n);
		return EV_EXIT_NOTFOUND;
	}
	return EV_EXIT_OK;
}

/* -------------------------------------------------------------- output */

static double num(json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

/* One line for a connector: status, EV, meter, fault, transaction. */
static void print_connector(json_t *conn)
{
	json_t *hw = json_object_get(conn, "hardware"), *veh = json_object_get(hw, "vehicle");
	json_t *meter = json_object_get(hw, "meter"), *tx = json_object_get(conn, "transaction");
	json_t *fault = json_object_get(hw, "fault");
	const char *ev = json_string_value(json_object_get(hw, "ev"));

	printf("  %-3lld %-14s", (long long)json_integer_value(json_object_get(conn, "connectorId")),
	       json_string_value(json_object_get(conn, "status")));
	if (!hw) {
		printf("\n");
		return;
	}
	if (!ev || strcmp(ev, "unplugged") == 0)
		printf(" no EV");
	else
		printf(" EV %s, %.0f %% of %.0f kWh", json_is_true(json_object_get(hw, "charging")) ? "charging" : ev,
		       num(veh, "soc"), num(veh, "capacityKWh"));
	printf(", %.1f kW, %.3f kWh", num(meter, "powerW") / 1000, num(meter, "energyWh") / 1000);
	if (json_is_object(fault))
		printf(", fault %s", json_string_value(json_object_get(fault, "code")));
	if (json_is_object(json_object_get(hw, "meterError")))
		printf(", meter failing");
	if (tx) {
		json_t *id = json_object_get(tx, "transactionId");
		printf(", tag %s", json_string_value(json_object_get(tx, "idTag")));
		if (json_is_integer(id))
			printf(", transaction %lld", (long long)json_integer_value(id));
	}
	printf("\n");
}

static void print_station(json_t *st)
{
	size_t i;
	json_t *conn;

	printf("%s  %s, %s\n", json_string_value(json_object_get(st, "id")),
	       json_is_true(json_object_get(st, "connected")) ? "connected" : "not connected",
	       json_string_value(json_object_get(st, "registration")));
	json_array_foreach(json_object_get(st, "connectors"), i, conn)
		if (i > 0)
			print_connector(conn);
}

static void print_json(json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(12));
	if (text)
		puts(text);
	free(text);
}

/* --------------------------------------------------------------- start */

/* evstationd formats ids with one integer conversion (%d, %04d, %ld);
 * anything else would give every station the same id. */
static int check_pattern(const char *pattern, long count)
{
	const char *p = strchr(pattern, '%');

	if (!*pattern || strlen(pattern) > 40)
		return -1;
	if (!p)
		return count == 1 ? 0 : -1;
	p++;
	p += strspn(p, "0123456789");
	if (*p == 'l')
		p++;
	return *p == 'd' && !strchr(p + 1, '%') ? 0 : -1;
}

/* evstationd next to this evctl (a build tree, or one installed prefix),
 * else $EVSTATIOND, else on PATH. */
static int find_evstationd(char *out, size_t size)
{
	const char *env = getenv("EVSTATIOND"), *path = getenv("PATH");
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/'))) {
			*slash = '\0';
			if (snprintf(out, size, "%s/evstationd", self) < (int)size && access(out, X_OK) == 0)
				return 0;
		}
	}
	if (env && *env && access(env, X_OK) == 0) {
		snprintf(out, size, "%s", env);
		return 0;
	}
	while (path && *path) {
		size_t len = strcspn(path, ":");
		if (len && snprintf(out, size, "%.*s/evstationd", (int)len, path) < (int)size &&
		    access(out, X_OK) == 0)
			return 0;
		path += len + (path[len] == ':');
	}
	return -1;
}

static void conf_line(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s = \"", name);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputs("\"\n", f);
}

/* The settings go to a file rather than the command line, where any user
 * could read the password. */
static int write_conf(const char *path, const struct sim_paths *p, const struct start_opts *o)
{
	char tmp[sizeof p->conf + 8];
	int fd;
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", p->conf);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		cmd_error("%s: %s: %s", path, tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "# Written by 'evctl sim start'; see evstationd.conf(5).\n");
	conf_line(f, "url", o->url);
	conf_line(f, "id", o->id_pattern);
	fprintf(f, "count = %ld\nfirst = %ld\nconnectors = %ld\nhal = sim\n", o->count, o->first,
		o->connectors);
	if (o->password)
		conf_line(f, "password", o->password);
	conf_line(f, "state-dir", p->dir);
	conf_line(f, "ctl-socket", p->sock);
	if (fclose(f) || rename(tmp, p->conf)) {
		cmd_error("%s: %s: %s", path, p->conf, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. The
 * daemon keeps the lock (its descriptor survives exec) for as long as it
 * lives; a failed exec reports errno on errfd. */
static void exec_daemon(const char *exe, char *const argv[], int lock_fd, int log_fd, int errfd)
{
	sigset_t none;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);   /* blocked signals survive exec */
	if (null >= 0)
		dup2(null, 0);
	if (log_fd >= 0) {
		dup2(log_fd, 1);
		dup2(log_fd, 2);
	}
	/* Nothing of the caller's (a shell's descriptors, a pipe someone
	 * waits on) goes along into the daemon. */
	for (int fd = 3; fd < 1024; fd++)
		if (fd != lock_fd && fd != errfd && fd != null && fd != log_fd)
			close(fd);
	if (fcntl(lock_fd, F_SETFD, 0) == 0 && chdir("/") == 0)
		execv(exe, argv);
	e = errno;
	if (write(errfd, &e, sizeof e) != (ssize_t)sizeof e)
		_exit(127);
	_exit(127);
}

/* Reads an errno the child sent after a failed exec; 0 when exec worked
 * (the pipe closed on exec). */
static int exec_errno(int fd)
{
	int e = 0;
	ssize_t n;

	while ((n = read(fd, &e, sizeof e)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof e ? e : 0;
}

/* Detached: the child starts a new session and forks the daemon, which
 * init adopts, so nothing is left to reap (the shell runs this
 * in-process). Returns the daemon's pid, or -1 with errno. */
static pid_t spawn_detached(const char *exe, char *const argv[], int lock_fd, int log_fd)
{
	int pfd[2], e, status;
	pid_t mid, pid = -1;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	mid = fork();
	if (mid == 0) {
		close(pfd[0]);
		if (setsid() < 0)
			_exit(127);
		pid = fork();
		if (pid == 0)
			exec_daemon(exe, argv, lock_fd, log_fd, pfd[1]);
		_exit(write(pfd[1], &pid, sizeof pid) == (ssize_t)sizeof pid && pid > 0 ? 0 : 127);
	}
	close(pfd[1]);
	if (mid > 0) {
		if (read(pfd[0], &pid, sizeof pid) != (ssize_t)sizeof pid)
			pid = -1;
		while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
			;
	}
	e = pid > 0 ? exec_errno(pfd[0]) : EAGAIN;
	close(pfd[0]);
	if (e) {
		errno = e;
		return -1;
	}
	return pid;
}

/* Foreground: the daemon is our child, in its own process group so that
 * a ^C reaches only us and is passed on once (a second signal would make
 * evstationd skip delivering its last messages). */
static pid_t spawn_foreground(const char *exe, char *const argv[], int lock_fd)
{
	int pfd[2], e;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		setpgid(0, 0);
		exec_daemon(exe, argv, lock_fd, -1, pfd[1]);
	}
	close(pfd[1]);
	e = pid > 0 ? exec_errno(pfd[0]) : errno;
	close(pfd[0]);
	if (e) {
		if (pid > 0)
			waitpid(pid, NULL, 0);
		errno = e;
		return -1;
	}
	return pid;
}

/* The last line of the log, to say why evstationd stopped. */
static void log_tail(const char *log, char *out, size_t size)
{
	char buf[2048];
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	ssize_t n;
	char *line;

	*out = '\0';
	if (end < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	n = pread(fd, buf, sizeof buf - 1, end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	/* Without the time stamp and level: "...Z evstationd[error]: ". */
	if (strstr(line, "]: "))
		line = strstr(line, "]: ") + 3;
	if (strncmp(line, "evstationd: ", 12) == 0)
		line += 12;
	snprintf(out, size, "%s", line);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps up to ms, waking for the signals in set (blocked): a signal is
 * passed on to the daemon (foreground) or, for SIGCHLD, ends the wait.
 * Returns the signal, 0 on timeout. */
static int nap(const sigset_t *set, pid_t child, int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	int sig = sigtimedwait(set, NULL, &ts);

	if (sig > 0 && sig != SIGCHLD && child > 0)
		kill(child, sig);
	return sig > 0 ? sig : 0;
}

/* Waits until the control socket answers (the daemon is ready: it
 * answers once every station is set up), the daemon dies, or the
 * deadline. Returns the "list" reply, or NULL. */
static json_t *wait_ready(const struct sim_paths *p, const sigset_t *set, pid_t child,
			  int64_t deadline, int *died)
{
	*died = 0;
	for (;;) {
		struct ctl_conn c;
		json_t *reply = NULL;
		char err[256];

		if (ctl_connect(p->sock, &c) == 0) {
			int rc = ctl_request(&c, json_pack("{s:s}", "cmd", "list"), &reply, err, sizeof err);
			ctl_close(&c);
			if (rc == 0)
				return reply;
		}
		if (sim_running(p) == 0) {
			*died = 1;
			return NULL;
		}
		if (now_ms() >= deadline)
			return NULL;
		nap(set, child, 50);
	}
}

/* Waits for the lock to be free (the daemon gone). 0 if it is. */
static int wait_gone(const struct sim_paths *p, int ms)
{
	int64_t deadline = now_ms() + ms;
	sigset_t none;

	sigemptyset(&none);
	while (sim_running(p) == 1) {
		if (now_ms() >= deadline)
			return -1;
		nap(&none, 0, 50);
	}
	return 0;
}

static int write_info(const struct sim_paths *p, pid_t pid, const struct start_opts *o)
{
	json_t *info = json_pack("{s:I, s:s, s:s, s:I}", "pid", (json_int_t)pid, "url", o->url, "log",
				 o->foreground ? "" : p->log, "count", (json_int_t)o->count);
	int rc = info ? json_dump_file(info, p->info, JSON_COMPACT) : -1;
	json_decref(info);
	return rc;
}

static void print_started(struct cmd_ctx *ctx, const struct sim_paths *p, pid_t pid,
			  const struct start_opts *o, json_t *list)
{
	json_t *st, *ids = json_array();
	size_t i;

	json_array_foreach(json_object_get(list, "stations"), i, st)
		json_array_append(ids, json_object_get(st, "id"));
	if (ctx->json) {
		json_t *out = json_pack("{s:I, s:s, s:s, s:s?, s:o}", "pid", (json_int_t)pid, "state_dir", p->dir,
					"url", o->url, "log", o->foreground ? NULL : p->log, "stations", ids);
		print_json(out);
		json_decref(out);
	} else {
		json_array_foreach(ids, i, st)
			printf("%s\n", json_string_value(st));
		json_decref(ids);
	}
	fflush(stdout);
}

/* Foreground: waits for the daemon, passing signals on; its status is
 * ours. */
static int wait_child(const sigset_t *set, pid_t child)
{
	int status;

	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);
		if (w == child)
			break;
		if (w < 0 && errno != EINTR)
			return EV_EXIT_SOFTWARE;
		if (w == 0)
			nap(set, child, 1000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return EV_EXIT_FAILURE;
}

static int exec_start(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct start_opts *o = opts;
	struct sim_paths p;
	char exe[PATH_MAX], why[2048];
	char *dargv[] = { "evstationd", "--config", p.conf, NULL };
	sigset_t set, old;
	int lock_fd = -1, log_fd = -1, rc, died;
	pid_t pid;
	json_t *list;

	if (argc > 1) {
		cmd_error("%s: unexpected argument '%s'", ctx->path, argv[1]);
		return EV_EXIT_USAGE;
	}
	o->count = o->count ? o->count : 1;
	o->first = o->first ? o->first : 1;
	o->connectors = o->connectors ? o->connectors : 2;
	o->url = o->url ? o->url : DEFAULT_URL;
	o->id_pattern = o->id_pattern ? o->id_pattern : DEFAULT_PATTERN;
	if (strncmp(o->url, "ws://", 5) != 0 && strncmp(o->url, "wss://", 6) != 0) {
		cmd_error("%s: --url must be ws:// or wss://, not '%s'", ctx->path, o->url);
		return EV_EXIT_USAGE;
	}
	if (check_pattern(o->id_pattern, o->count)) {
		cmd_error("%s: --id-pattern '%s': %s", ctx->path, o->id_pattern,
			  strchr(o->id_pattern, '%') || o->count == 1
			  ? "needs exactly one %d, %0Nd or %ld conversion and at most 40 characters"
			  : "with --count above 1 it needs a %d (such as SIM%03d)");
		return EV_EXIT_USAGE;
	}
	if (o->password && !*o->password) {
		cmd_error("%s: --password is empty", ctx->path);
		return EV_EXIT_USAGE;
	}
	if ((rc = sim_paths(ctx->path, o->state_dir, 1, &p)) != EV_EXIT_OK)
		return rc;
	if (find_evstationd(exe, sizeof exe)) {
		cmd_error("%s: evstationd not found (next to evctl, in $EVSTATIOND, or on PATH)", ctx->path);
		return EV_EXIT_IO;
	}
	lock_fd = open(p.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0) {
		cmd_error("%s: %s: %s", ctx->path, p.lock, strerror(errno));
		return EV_EXIT_IO;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		close(lock_fd);
		if (e != EWOULDBLOCK) {
			cmd_error("%s: %s: %s", ctx->path, p.lock, strerror(e));
			return EV_EXIT_IO;
		}
		cmd_error("%s: a sim is already running in %s (pid %ld); stop it with 'evctl sim stop'",
			  ctx->path, p.dir, sim_pid(&p));
		return EV_EXIT_FAILURE;
	}
	if (write_conf(ctx->path, &p, o)) {
		close(lock_fd);
		return EV_EXIT_IO;
	}
	if (!o->foreground) {
		log_fd = open(p.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log_fd < 0) {
			cmd_error("%s: %s: %s", ctx->path, p.log, strerror(errno));
			close(lock_fd);
			return EV_EXIT_IO;
		}
	}
	/* Signals are taken with sigtimedwait while we wait (foreground). */
	sigemptyset(&set);
	if (o->foreground) {
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGCHLD);
	}
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = o->foreground ? spawn_foreground(exe, dargv, lock_fd) : spawn_detached(exe, dargv, lock_fd, log_fd);
	rc = errno;
	close(lock_fd);   /* the daemon holds it now */
	if (log_fd >= 0)
		close(log_fd);
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		cmd_error("%s: cannot run %s: %s", ctx->path, exe, strerror(rc));
		return EV_EXIT_IO;
	}
	if (write_info(&p, pid, o))
		cmd_error("%s: %s: cannot write", ctx->path, p.info);   /* stop will not find the pid */
	list = wait_ready(&p, &set, o->foreground ? pid : 0, now_ms() + 15000 + o->count * 2, &died);
	if (!list) {
		if (!died) {
			kill(pid, SIGTERM);
			if (wait_gone(&p, STOP_TIMEOUT_MS))
				kill(pid, SIGKILL);
		}
		rc = o->foreground ? wait_child(&set, pid) : EV_EXIT_FAILURE;
		sigprocmask(SIG_SETMASK, &old, NULL);
		unlink(p.info);
		if (o->foreground) {
			cmd_error("%s: evstationd %s (exit status %d)", ctx->path,
				  died ? "stopped during start-up" : "did not answer in time", rc);
			return rc ? rc : EV_EXIT_FAILURE;
		}
		log_tail(p.log, why, sizeof why);
		cmd_error("%s: evstationd %s: %s (see %s)", ctx->path,
			  died ? "stopped during start-up" : "did not answer in time", why, p.log);
		return EV_EXIT_FAILURE;
	}
	print_started(ctx, &p, pid, o, list);
	json_decref(list);
	rc = EV_EXIT_OK;
	if (o->foreground) {
		rc = wait_child(&set, pid);
		unlink(p.info);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* ---------------------------------------------------------------- stop */

/* The pid really is an evstationd (a stale pid may have been reused). */
static int is_evstationd(long pid)
{
	char path[64], cmdline[256] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, cmdline, sizeof cmdline - 1);
	close(fd);
	if (n <= 0)
		return 0;
	cmdline[n] = '\0';
	return strstr(cmdline, "evstationd") != NULL;
}

static int exec_stop(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct dir_opts *o = opts;
	struct sim_paths p;
	long pid;
	int rc;

	if (argc > 1) {
		cmd_error("%s: unexpected argument '%s'", ctx->path, argv[1]);
		return EV_EXIT_USAGE;
	}
	if ((rc = sim_paths(ctx->path, o->state_dir, 0, &p)) != EV_EXIT_OK)
		return rc;
	rc = sim_running(&p);
	if (rc < 0) {
		cmd_error("%s: %s: %s", ctx->path, p.lock, strerror(errno));
		return EV_EXIT_IO;
	}
	if (rc == 0) {
		cmd_error("%s: no sim running in %s", ctx->path, p.dir);
		return EV_EXIT_FAILURE;
	}
	pid = sim_pid(&p);
	if (pid <= 0 || !is_evstationd(pid)) {
		cmd_error("%s: a sim holds %s but its pid is unknown (%s)", ctx->path, p.lock, p.info);
		return EV_EXIT_FAILURE;
	}
	/* SIGTERM ends transactions and delivers their StopTransaction; a
	 * second one exits at once, SIGKILL if even that hangs. */
	kill((pid_t)pid, SIGTERM);
	if (wait_gone(&p, STOP_TIMEOUT_MS)) {
		kill((pid_t)pid, SIGTERM);
		if (wait_gone(&p, 3000)) {
			kill((pid_t)pid, SIGKILL);
			if (wait_gone(&p, 3000)) {
				cmd_error("%s: evstationd (pid %ld) does not exit", ctx->path, pid);
				return EV_EXIT_FAILURE;
			}
		}
	}
	unlink(p.info);
	if (ctx->json)
		printf("{\"stopped\":true,\"pid\":%ld}\n", pid);
	else
		printf("stopped the sim in %s (pid %ld)\n", p.dir, pid);
	return EV_EXIT_OK;
}

/* -------------------------------------------------------------- status */

static int exec_status(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct dir_opts *o = opts;
	struct sim_paths p;
	struct ctl_conn c;
	json_t *list = NULL, *states = json_array(), *info, *st;
	size_t i;
	int rc;

	if ((rc = sim_connect(ctx->path, o->state_dir, &p, &c)) != EV_EXIT_OK) {
		json_decref(states);
		return rc;
	}
	if (argc <= 1)
		rc = ctl_simple(ctx->path, &c, json_pack("{s:s}", "cmd", "list"), &list);
	json_array_foreach(json_object_get(list, "stations"), i, st) {
		json_t *state;
		if (rc == EV_EXIT_OK)
			rc = station_state(ctx->path, &c, json_string_value(json_object_get(st, "id")), &state);
		if (rc == EV_EXIT_OK)
			json_array_append_new(states, state);
	}
	for (int k = 1; rc == EV_EXIT_OK && k < argc; k++) {
		json_t *state;
		if ((rc = station_state(ctx->path, &c, argv[k], &state)) == EV_EXIT_OK)
			json_array_append_new(states, state);
	}
	ctl_close(&c);
	json_decref(list);
	if (rc != EV_EXIT_OK) {
		json_decref(states);
		return rc;
	}
	info = sim_info(&p);
	if (ctx->json) {
		json_t *out = json_pack("{s:O?, s:s, s:O?, s:O?, s:o}", "pid", json_object_get(info, "pid"),
					"state_dir", p.dir, "url", json_object_get(info, "url"),
					"log", json_object_get(info, "log"), "stations", states);
		print_json(out);
		json_decref(out);
	} else {
		printf("sim in %s: pid %lld, %zu station%s, %s\n", p.dir,
		       (long long)json_integer_value(json_object_get(info, "pid")), json_array_size(states),
		       json_array_size(states) == 1 ? "" : "s",
		       json_string_value(json_object_get(info, "url")) ? json_string_value(json_object_get(info, "url")) : "?");
		json_array_foreach(states, i, st)
			print_station(st);
		json_decref(states);
	}
	json_decref(info);
	return EV_EXIT_OK;
}

/* ----------------------------------------------------- acting on an EV */

/* The operands STATION and a connector (or an id tag): connects, checks
 * the station and the connector. Returns an exit status. */
static int open_station(struct cmd_ctx *ctx, const char *state_dir, int argc, char **argv,
			const char *operands, struct sim_paths *p, struct ctl_conn *c, json_t **state)
{
	int rc;

	*state = NULL;
	if (argc != 3) {
		cmd_error("%s: %s %s (see 'evctl %s --help')", ctx->path,
			  argc < 3 ? "expected" : "too many arguments; expected", operands, ctx->path);
		return EV_EXIT_USAGE;
	}
	if ((rc = sim_connect(ctx->path, state_dir, p, c)) != EV_EXIT_OK)
		return rc;
	if ((rc = station_state(ctx->path, c, argv[1], state)) != EV_EXIT_OK)
		ctl_close(c);
	return rc;
}

/* Sends an action and prints the connector it touched. known[] maps the
 * daemon's errno-style answers to messages. */
struct known_error {
	int err;
	const char *fmt;    /* gets station, connector */
};

static int act(struct cmd_ctx *ctx, struct ctl_conn *c, const char *station, long connector,
	       json_t *req, const struct known_error *known)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	char err[512], want[256];
	json_t *reply;
	int rc;

	json_object_set_new(req, "station", json_string(station));
	json_object_set_new(req, "connector", json_integer(connector));
	rc = ctl_request(c, json_incref(req), &reply, err, sizeof err);
	if (rc) {
		for (const struct known_error *k = known; rc > 0 && k && k->fmt; k++) {
			snprintf(want, sizeof want, "%s: %s", cmd, strerror(k->err));
			if (strcmp(err, want) == 0) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
				snprintf(err, sizeof err, k->fmt, station, connector);
#pragma GCC diagnostic pop
				break;
			}
		}
		cmd_error("%s: %s", ctx->path, err);
		json_decref(req);
		return rc < 0 ? EV_EXIT_IO : EV_EXIT_FAILURE;
	}
	if (ctx->json) {
		print_json(reply);
	} else if (strcmp(cmd, "token") == 0) {
		printf("%s: presented %s at %s\n", station,
		       json_string_value(json_object_get(req, "id")), connector ? "its connector" : "its reader");
	} else {
		json_t *conn = json_array_get(json_object_get(reply, "connectors"), (size_t)connector);
		printf("%s\n", station);
		print_connector(conn);
	}
	json_decref(req);
	json_decref(reply);
	return EV_EXIT_OK;
}

/* A decimal option within [min, max]; *out keeps def when not given. */
static int number_opt(struct cmd_ctx *ctx, const char *name, const char *text, double min, double max,
		      double *out)
{
	char *end;
	double v;

	if (!text)
		return 0;
	errno = 0;
	v = strtod(text, &end);
	if (!*text || *end || errno || !isfinite(v) || v < min || v > max) {
		cmd_error("%s: --%s takes a number from %g to %g, not '%s'", ctx->path, name, min, max, text);
		return -1;
	}
	*out = v;
	return 0;
}

static const struct known_error plug_errors[] = {
	{ EBUSY, "connector %2$ld of '%1$s' already has an EV plugged in" },
	{ EINVAL, "the EV does not fit connector %2$ld of '%1$s'" },
	{ 0, NULL }
};

static int exec_plug(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct plug_opts *o = opts;
	double soc = 20, capacity = 60, current = 32, power = 0;
	long phases = o->phases ? o->phases : 3, connector;
	struct sim_paths p;
	struct ctl_conn c;
	json_t *state, *req;
	int rc;

	if (number_opt(ctx, "soc", o->soc, 0, 100, &soc) ||
	    number_opt(ctx, "capacity", o->capacity, 0.1, 1000, &capacity) ||
	    number_opt(ctx, "max-current", o->max_current, 1, 1000, &current) ||
	    number_opt(ctx, "max-power", o->max_power, 0.1, 1000, &power))
		return EV_EXIT_USAGE;
	if (o->max_current && o->max_power) {
		cmd_error("%s: --max-current and --max-power: give one", ctx->path);
		return EV_EXIT_USAGE;
	}
	/* The simulated connectors are AC: a power is a current on the
	 * EV's phases at 230 V. */
	if (o->max_power)
		current = power * 1000 / (230.0 * (double)phases);
	if ((rc = open_station(ctx, o->state_dir, argc, argv, "STATION CONNECTOR", &p, &c, &state)))
		return rc;
	rc = check_connector(ctx->path, state, argv[1], argv[2], 0, &connector);
	json_decref(state);
	if (rc == EV_EXIT_OK) {
		req = json_pack("{s:s, s:f, s:f, s:f, s:I}", "cmd", "plug", "soc", soc, "capacityKwh", capacity,
				"maxCurrent", current, "phases", (json_int_t)phases);
		if (o->max_power)
			json_object_set_new(req, "maxPowerKw", json_real(power));
		rc = act(ctx, &c, argv[1], connector, req, plug_errors);
	}
	ctl_close(&c);
	return rc;
}

static const struct known_error unplug_errors[] = {
	{ ENOENT, "no EV is plugged in at connector %2$ld of '%1$s'" },
	{ EBUSY, "the cable at connector %2$ld of '%1$s' is locked (a transaction runs): "
		 "stop it first (the same token again) or use --force" },
	{ 0, NULL }
};

static int exec_unplug(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct unplug_opts *o = opts;
	struct sim_paths p;
	struct ctl_conn c;
	json_t *state;
	long connector;
	int rc;

	if ((rc = open_station(ctx, o->state_dir, argc, argv, "STATION CONNECTOR", &p, &c, &state)))
		return rc;
	rc = check_connector(ctx->path, state, argv[1], argv[2], 0, &connector);
	json_decref(state);
	if (rc == EV_EXIT_OK)
		rc = act(ctx, &c, argv[1], connector,
			 json_pack("{s:s, s:b}", "cmd", "unplug", "force", o->force), unplug_errors);
	ctl_close(&c);
	return rc;
}

static int exec_token(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct token_opts *o = opts;
	struct sim_paths p;
	struct ctl_conn c;
	char num[32];
	json_t *state;
	long connector;
	int rc;

	if (argc == 3 && (!*argv[2] || strlen(argv[2]) > IDTAG_MAX)) {
		cmd_error("%s: an id tag has 1 to %d characters, not %zu", ctx->path, IDTAG_MAX, strlen(argv[2]));
		return EV_EXIT_USAGE;
	}
	if ((rc = open_station(ctx, o->state_dir, argc, argv, "STATION ID_TAG", &p, &c, &state)))
		return rc;
	snprintf(num, sizeof num, "%ld", o->connector);
	rc = check_connector(ctx->path, state, argv[1], num, 1, &connector);
	json_decref(state);
	if (rc == EV_EXIT_OK)
		rc = act(ctx, &c, argv[1], connector,
			 json_pack("{s:s, s:s}", "cmd", "token", "id", argv[2]), NULL);
	ctl_close(&c);
	return rc;
}

static int exec_fault(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct fault_opts *o = opts;
	struct sim_paths p;
	struct ctl_conn c;
	json_t *state, *req;
	long connector;
	int rc;

	if (o->info && strlen(o->info) > FAULT_INFO_MAX) {
		cmd_error("%s: --info has at most %d characters", ctx->path, FAULT_INFO_MAX);
		return EV_EXIT_USAGE;
	}
	if ((rc = open_station(ctx, o->state_dir, argc, argv, "STATION CONNECTOR", &p, &c, &state)))
		return rc;
	rc = check_connector(ctx->path, state, argv[1], argv[2], 0, &connector);
	json_decref(state);
	if (rc == EV_EXIT_OK) {
		req = json_pack("{s:s, s:s}", "cmd", "fault", "code", fault_codes[o->code]);
		if (o->info)
			json_object_set_new(req, "info", json_string(o->info));
		rc = act(ctx, &c, argv[1], connector, req, NULL);
	}
	ctl_close(&c);
	return rc;
}

static const struct known_error clear_errors[] = {
	{ ENOENT, "connector %2$ld of '%1$s' has no fault to clear" },
	{ 0, NULL }
};

static int exec_clear_fault(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct dir_opts *o = opts;
	struct sim_paths p;
	struct ctl_conn c;
	json_t *state;
	long connector;
	int rc;

	if ((rc = open_station(ctx, o->state_dir, argc, argv, "STATION CONNECTOR", &p, &c, &state)))
		return rc;
	rc = check_connector(ctx->path, state, argv[1], argv[2], 0, &connector);
	json_decref(state);
	if (rc == EV_EXIT_OK)
		rc = act(ctx, &c, argv[1], connector, json_pack("{s:s}", "cmd", "clear-fault"), clear_errors);
	ctl_close(&c);
	return rc;
}

/* ---------------------------------------------------------------- table */

static const struct cmd sim_subcommands[] = {
	{ .name = "start", .operands = "", .summary = "start simulated stations in the background",
	  .description = "Runs one evstationd with simulated hardware for --count stations, connected to\n"
			 "the central system at --url, waits until it answers and prints the station ids.",
	  .opts = start_opts, .opts_size = sizeof(struct start_opts), .exec = exec_start },
	{ .name = "stop", .operands = "", .summary = "stop the sim (its transactions end first)",
	  .opts = dir_opts, .opts_size = sizeof(struct dir_opts), .exec = exec_stop },
	{ .name = "status", .operands = "[STATION...]",
	  .summary = "show the simulated stations, their connectors and EVs",
	  .opts = dir_opts, .opts_size = sizeof(struct dir_opts), .exec = exec_status },
	{ .name = "plug", .operands = "STATION CONNECTOR", .summary = "plug a simulated EV in",
	  .opts = plug_opts, .opts_size = sizeof(struct plug_opts), .exec = exec_plug },
	{ .name = "unplug", .operands = "STATION CONNECTOR", .summary = "unplug the EV",
	  .opts = unplug_opts, .opts_size = sizeof(struct unplug_opts), .exec = exec_unplug },
	{ .name = "token", .operands = "STATION ID_TAG",
	  .summary = "present an RFID card or app token (again: stop its transaction)",
	  .opts = token_opts, .opts_size = sizeof(struct token_opts), .exec = exec_token },
	{ .name = "fault", .operands = "STATION CONNECTOR", .summary = "raise a hardware fault at a connector",
	  .opts = fault_opts, .opts_size = sizeof(struct fault_opts), .exec = exec_fault },
	{ .name = "clear", .operands = "STATION CONNECTOR", .summary = "clear the fault of a connector",
	  .opts = dir_opts, .opts_size = sizeof(struct dir_opts), .exec = exec_clear_fault },
	{ .name = NULL }
};

const struct cmd sim_commands[] = {
	{ .name = "sim", .operands = "COMMAND",
	  .summary = "simulated stations for demos and tests (evstationd)", .subcommands = sim_subcommands },
	{ .name = NULL }
};
