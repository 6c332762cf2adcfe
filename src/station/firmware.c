#include "config.h"
#include "station/firmware.h"
#include "util/uvtimer.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/rfc3339.h"

#define DEFAULT_INSTALL_TIMEOUT_S 600
#define DEFAULT_RETRY_INTERVAL_S 60
#define INSTALL_RECHECK_MS 10000
#define HOOK_GRACE_MS 1000        /* to read what the hook wrote before it exited */
#define HOOK_OUTPUT_MAX 1024
#define VERSION_MAX 50            /* BootNotification's firmwareVersion: CiString50 */
#define MAX_INSTALL_RUNS 2        /* an installation interrupted twice has failed */
#define NAME_PART_MAX 100

/* Where a job is. PH_WAITING: until next_ms, then the next attempt (or the
 * first: the download waits for retrieveDate this way). */
enum phase { PH_NONE, PH_WAITING, PH_TRANSFER, PH_DOWNLOADED, PH_INSTALLING };

static const char *const phase_names[] = {
	"none", "waiting", "transferring", "downloaded", "installing"
};

/* What a firmware download and a diagnostics upload have in common. */
struct job {
	enum phase phase;
	char *location;
	char *name;                /* the local file, in work_dir */
	unsigned max_attempts, interval_s, attempts;
	int64_t next_ms;           /* PH_WAITING: when to go on (wall clock) */
	uv_timer_t *timer;         /* freed by its close callback */
	struct transfer *xfer;
};

struct hook;

struct firmware {
	uv_loop_t *loop;
	struct transfer_mgr *tm;
	const struct firmware_ops *ops;
	void *ctx;
	char *station_id, *work_dir, *install_hook, *version;
	unsigned install_timeout_s, transfer_timeout_s, default_retries, default_interval_s;
	struct job fw, diag;
	unsigned installs;         /* hook runs begun for this update */
	unsigned gen;              /* changes whenever the update is replaced or ends */
	struct hook *hook;
	enum firmware_status fw_reported;
	enum diag_status diag_reported;
};

/* The install hook while it runs. */
struct hook {
	struct firmware *fw;
	uv_process_t proc;
	uv_pipe_t out;             /* its stdout */
	uv_timer_t timer;          /* install timeout, then the grace for output */
	int open;                  /* handles not closed yet; freed at 0 */
	int exited, eof, timed_out, term_signal;
	int64_t exit_status;
	size_t len;
	char buf[HOOK_OUTPUT_MAX];
	char sink[256];            /* output beyond buf is read into here and dropped */
};

const char *firmware_status_name(enum firmware_status s)
{
	static const char *const names[] = {
		"Idle", "DownloadScheduled", "Downloading", "Downloaded", "DownloadFailed",
		"Installing", "Installed", "InstallationFailed"
	};
	return (unsigned)s < sizeof names / sizeof *names ? names[s] : "Idle";
}

const char *diag_status_name(enum diag_status s)
{
	static const char *const names[] = { "Idle", "Uploading", "Uploaded", "UploadFailed" };
	return (unsigned)s < sizeof names / sizeof *names ? names[s] : "Idle";
}

/* ---------------------------------------------------------------- helpers */

static int64_t now_ms(const struct firmware *fw)
{
	return fw->ops->now_ms ? fw->ops->now_ms(fw->ctx) : ev_now_ms();
}

static char *path_of(const struct firmware *fw, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", fw->work_dir, name) < 0 ? NULL : p;
}

static int file_exists(const struct firmware *fw, const char *name)
{
	char *path = path_of(fw, name);
	int ok = path && access(path, F_OK) == 0;
	free(path);
	return ok;
}

static void remove_file(const struct firmware *fw, const char *name)
{
	char *path = path_of(fw, name);
	if (path)
		unlink(path);
	free(path);
}

/* A file-name-safe copy of s, at most NAME_PART_MAX characters. */
static void safe_name(const char *s, size_t n, char *out)
{
	size_t i;

	if (n > NAME_PART_MAX)
		n = NAME_PART_MAX;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		out[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ? ch : '_';
	}
	out[i] = '\0';
}

static void log_url(const char *what, const char *url, unsigned attempt, unsigned of)
{
	char shown[512];
	transfer_redact_url(url, shown, sizeof shown);
	log_info("%s %s (attempt %u of %u)", what, shown, attempt, of);
}

static void job_clear(struct job *j)
{
	transfer_cancel(j->xfer);
	j->xfer = NULL;
	uv_timer_stop(j->timer);
	free(j->location);
	free(j->name);
	j->location = j->name = NULL;
	j->phase = PH_NONE;
	j->attempts = j->max_attempts = j->interval_s = 0;
	j->next_ms = 0;
}

static void job_start(struct job *j, const struct firmware *fw, int retries, int interval_s,
		      int64_t next_ms)
{
	j->phase = PH_WAITING;
	j->attempts = 0;
	j->max_attempts = 1 + (retries >= 0 ? (unsigned)retries : fw->default_retries);
	j->interval_s = interval_s >= 0 ? (unsigned)interval_s : fw->default_interval_s;
	j->next_ms = next_ms;
}

static void save(struct firmware *fw)
{
	json_t *state = firmware_save(fw);
	if (state)
		fw->ops->save(fw->ctx, state);
	json_decref(state);
}

/* Reports s if it is news. Returns 0 if the callback replaced or ended the
 * update, so the caller must leave it alone. */
static int report(struct firmware *fw, enum firmware_status s)
{
	unsigned gen = fw->gen;

	if (s != fw->fw_reported) {
		fw->fw_reported = s;
		fw->ops->on_status(fw->ctx, s);
	}
	return gen == fw->gen;
}

static void report_diag(struct firmware *fw, enum diag_status s)
{
	if (s != fw->diag_reported) {
		fw->diag_reported = s;
		fw->ops->on_diag_status(fw->ctx, s);
	}
}

/* ---------------------------------------------------------------- firmware: end */

/* The update is over: forget it, then tell. */
static void fw_finish(struct firmware *fw, enum firmware_status s)
{
	job_clear(&fw->fw);
	fw->installs = 0;
	fw->gen++;
	save(fw);
	report(fw, s);
}

static void fw_installed(struct firmware *fw, const char *version)
{
	char v[VERSION_MAX + 1] = "";

	if (version)
		snprintf(v, sizeof v, "%s", version);
	log_info("firmware: installed%s%s", v[0] ? ", version " : "", v);
	if (fw->install_hook)
		remove_file(fw, fw->fw.name);
	fw_finish(fw, FW_INSTALLED);
	/* Even if the status callback started something new: this one is in. */
	fw->ops->on_installed(fw->ctx, v[0] ? v : NULL);
}

static void fw_install_failed(struct firmware *fw, const char *why)
{
	log_warn("firmware: installation failed: %s", why);
	if (fw->install_hook && fw->fw.name)
		remove_file(fw, fw->fw.name);
	fw_finish(fw, FW_INSTALLATION_FAILED);
}

/* ---------------------------------------------------------------- the install hook */

static void hook_closed(uv_handle_t *h)
{
	struct hook *k = h->data;
	if (--k->open == 0)
		free(k);
}

static void hook_close(struct hook *k)
{
	uv_close((uv_handle_t *)&k->proc, hook_closed);
	uv_close((uv_handle_t *)&k->out, hook_closed);
	uv_close((uv_handle_t *)&k->timer, hook_closed);
}

/* The first line of the output, trimmed, printable ASCII (CiString). */
static void first_line(const char *buf, size_t len, char out[VERSION_MAX + 1])
{
	size_t i = 0, n = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	for (; i < len && buf[i] != '\n' && buf[i] != '\r' && n < VERSION_MAX; i++) {
		unsigned char ch = (unsigned char)buf[i];
		out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
}

static void hook_check(struct hook *k)
{
	struct firmware *fw = k->fw;
	char version[VERSION_MAX + 1], why[64];
	int ok;

	if (!k->exited || !k->eof)
		return;
	ok = !k->timed_out && !k->term_signal && k->exit_status == 0;
	first_line(k->buf, k->len, version);
	if (k->timed_out)
		snprintf(why, sizeof why, "the hook ran longer than %u s", fw->install_timeout_s);
	else if (k->term_signal)
		snprintf(why, sizeof why, "the hook was killed by signal %d", k->term_signal);
	else
		snprintf(why, sizeof why, "the hook exited with status %lld", (long long)k->exit_status);
	fw->hook = NULL;
	hook_close(k);
	if (ok)
		fw_installed(fw, version[0] ? version : fw->version);
	else
		fw_install_failed(fw, why);
}

static void hook_grace_over(uv_timer_t *t)
{
	struct hook *k = t->data;
	k->eof = 1;
	hook_check(k);
}

static void hook_exited(uv_process_t *p, int64_t exit_status, int term_signal)
{
	struct hook *k = p->data;

	k->exited = 1;
	k->exit_status = exit_status;
	k->term_signal = term_signal;
	/* A child it left behind may hold stdout open: do not wait for ever. */
	if (!k->eof)
		uv_timer_start(&k->timer, hook_grace_over, HOOK_GRACE_MS, 0);
	hook_check(k);
}

static void hook_timeout(uv_timer_t *t)
{
	struct hook *k = t->data;
	k->timed_out = 1;
	uv_process_kill(&k->proc, SIGKILL);
}

static void hook_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct hook *k = h->data;

	if (k->len < sizeof k->buf)
		*buf = uv_buf_init(k->buf + k->len, (unsigned)(sizeof k->buf - k->len));
	else
		*buf = uv_buf_init(k->sink, sizeof k->sink);
}

static void hook_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct hook *k = s->data;

	if (n > 0 && buf->base != k->sink)
		k->len += (size_t)n;
	if (n < 0) {
		uv_read_stop(s);
		k->eof = 1;
		hook_check(k);
	}
}

static int hook_start(struct firmware *fw, const char *path)
{
	struct hook *k = calloc(1, sizeof *k);
	char *args[] = { fw->install_hook, (char *)path, NULL };
	uv_stdio_container_t stdio[3];
	uv_process_options_t o;
	int rc;

	if (!k)
		return -ENOMEM;
	k->fw = fw;
	k->open = 3;
	uv_pipe_init(fw->loop, &k->out, 0);
	uv_timer_init(fw->loop, &k->timer);
	k->out.data = k->timer.data = k->proc.data = k;
	memset(stdio, 0, sizeof stdio);
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&k->out;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	memset(&o, 0, sizeof o);
	o.file = fw->install_hook;
	o.args = args;
	o.exit_cb = hook_exited;
	o.stdio = stdio;
	o.stdio_count = 3;
	rc = uv_spawn(fw->loop, &k->proc, &o);
	k->proc.data = k;
	if (rc) {
		hook_close(k);   /* a failed spawn's handle is closed all the same */
		return rc;
	}
	fw->hook = k;
	uv_read_start((uv_stream_t *)&k->out, hook_alloc, hook_read);
	uv_timer_start(&k->timer, hook_timeout, (uint64_t)fw->install_timeout_s * 1000, 0);
	log_info("firmware: installing %s with %s", path, fw->install_hook);
	return 0;
}

/* ---------------------------------------------------------------- firmware: steps */

static void fw_timer_cb(uv_timer_t *t);

static void install(struct firmware *fw)
{
	char *path = path_of(fw, fw->fw.name), why[300];
	int rc;

	if (!report(fw, FW_INSTALLING)) {
		free(path);
		return;
	}
	if (!path || access(path, R_OK) != 0) {
		snprintf(why, sizeof why, "%s: %s", path ? path : fw->fw.name,
			 path ? strerror(errno) : "out of memory");
		free(path);
		fw_install_failed(fw, why);
		return;
	}
	if (!fw->install_hook) {
		free(path);
		fw_installed(fw, fw->version);
		return;
	}
	rc = hook_start(fw, path);
	free(path);
	if (rc) {
		snprintf(why, sizeof why, "cannot run %s: %s", fw->install_hook, uv_strerror(rc));
		fw_install_failed(fw, why);
	}
}

static void try_install(struct firmware *fw)
{
	struct job *j = &fw->fw;

	if (fw->ops->can_install && !fw->ops->can_install(fw->ctx)) {
		log_debug("firmware: installation waits until the station is free");
		uv_timer_start(j->timer, fw_timer_cb, INSTALL_RECHECK_MS, 0);
		return;
	}
	j->phase = PH_INSTALLING;
	fw->installs++;
	save(fw);
	install(fw);
}

static void download_failed(struct firmware *fw, const char *why)
{
	struct job *j = &fw->fw;

	log_warn("firmware: download attempt %u of %u failed: %s", j->attempts, j->max_attempts, why);
	if (j->attempts < j->max_attempts) {
		j->phase = PH_WAITING;
		j->next_ms = now_ms(fw) + (int64_t)j->interval_s * 1000;
		save(fw);
		uv_timer_start(j->timer, fw_timer_cb, (uint64_t)j->interval_s * 1000, 0);
		return;
	}
	fw_finish(fw, FW_DOWNLOAD_FAILED);
}

static void downloaded(void *arg, const struct transfer_result *r)
{
	struct firmware *fw = arg;
	struct job *j = &fw->fw;

	j->xfer = NULL;
	if (r->status) {
		download_failed(fw, r->error);
		return;
	}
	log_info("firmware: downloaded %s (%llu bytes)", j->name, (unsigned long long)r->bytes);
	j->phase = PH_DOWNLOADED;
	save(fw);
	/* Installing is the timer's next step, after Downloaded is out. */
	uv_timer_start(j->timer, fw_timer_cb, 0, 0);
	report(fw, FW_DOWNLOADED);
}

static void start_download(struct firmware *fw)
{
	struct job *j = &fw->fw;
	char *path = path_of(fw, j->name);

	j->attempts++;
	j->phase = PH_TRANSFER;
	save(fw);
	log_url("firmware: downloading", j->location, j->attempts, j->max_attempts);
	if (path)
		j->xfer = transfer_start(fw->tm, TRANSFER_DOWNLOAD, j->location, path,
					 fw->transfer_timeout_s, downloaded, fw);
	free(path);
	if (!j->xfer)
		download_failed(fw, "out of memory");
	else
		report(fw, FW_DOWNLOADING);
}

static void fw_timer_cb(uv_timer_t *t)
{
	struct firmware *fw = t->data;
	struct job *j = &fw->fw;
	int64_t now;

	switch (j->phase) {
	case PH_WAITING:
		now = now_ms(fw);
		if (now >= j->next_ms) {
			start_download(fw);
			break;
		}
		uv_timer_start(j->timer, fw_timer_cb, (uint64_t)(j->next_ms - now), 0);
		if (j->attempts == 0)
			report(fw, FW_DOWNLOAD_SCHEDULED);
		break;
	case PH_DOWNLOADED:
		try_install(fw);
		break;
	case PH_INSTALLING:
		/* Restored: the daemon stopped while the hook ran. */
		if (fw->hook)
			break;
		if (fw->installs >= MAX_INSTALL_RUNS) {
			fw_install_failed(fw, "interrupted by restarts");
			break;
		}
		fw->installs++;
		save(fw);
		install(fw);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- diagnostics */

static void diag_timer_cb(uv_timer_t *t);

static void diag_finish(struct firmware *fw, enum diag_status s)
{
	remove_file(fw, fw->diag.name);
	job_clear(&fw->diag);
	save(fw);
	report_diag(fw, s);
}

static void upload_failed(struct firmware *fw, const char *why)
{
	struct job *j = &fw->diag;

	log_warn("diagnostics: upload attempt %u of %u failed: %s", j->attempts, j->max_attempts, why);
	if (j->attempts < j->max_attempts) {
		j->phase = PH_WAITING;
		j->next_ms = now_ms(fw) + (int64_t)j->interval_s * 1000;
		save(fw);
		uv_timer_start(j->timer, diag_timer_cb, (uint64_t)j->interval_s * 1000, 0);
		return;
	}
	diag_finish(fw, DIAG_UPLOAD_FAILED);
}

static void uploaded(void *arg, const struct transfer_result *r)
{
	struct firmware *fw = arg;

	fw->diag.xfer = NULL;
	if (r->status) {
		upload_failed(fw, r->error);
		return;
	}
	log_info("diagnostics: uploaded %s (%llu bytes)", fw->diag.name, (unsigned long long)r->bytes);
	diag_finish(fw, DIAG_UPLOADED);
}

static void start_upload(struct firmware *fw)
{
	struct job *j = &fw->diag;
	char *path = path_of(fw, j->name), *url = transfer_join_url(j->location, j->name);

	j->attempts++;
	j->phase = PH_TRANSFER;
	save(fw);
	if (url)
		log_url("diagnostics: uploading to", url, j->attempts, j->max_attempts);
	if (path && url)
		j->xfer = transfer_start(fw->tm, TRANSFER_UPLOAD, url, path,
					 fw->transfer_timeout_s, uploaded, fw);
	free(path);
	free(url);
	if (!j->xfer)
		upload_failed(fw, "out of memory");
	else
		report_diag(fw, DIAG_UPLOADING);
}

static void diag_timer_cb(uv_timer_t *t)
{
	struct firmware *fw = t->data;
	struct job *j = &fw->diag;
	int64_t now;

	if (j->phase != PH_WAITING)
		return;
	now = now_ms(fw);
	if (now < j->next_ms)
		uv_timer_start(j->timer, diag_timer_cb, (uint64_t)(j->next_ms - now), 0);
	else
		start_upload(fw);
}

static void format_bound(int64_t ms, const char *open, char *out, size_t size)
{
	if (ms == INT64_MIN || ms == INT64_MAX || !rfc3339_format_ms(ms, out, size))
		snprintf(out, size, "%s", open);
}

/* ---- the diagnostics archive: a POSIX ustar file, readable anywhere */

#define TAR_BLOCK 512

/* An octal field of width n (n - 1 digits and a NUL), as tar wants. */
static void tar_octal(unsigned char *field, size_t n, unsigned long long v)
{
	field[n - 1] = '\0';
	for (size_t i = n - 1; i-- > 0; v >>= 3)
		field[i] = (unsigned char)('0' + (v & 7));
}

static int tar_member(FILE *f, const char *name, const char *data, size_t len, int64_t mtime_ms)
{
	static const char zeros[TAR_BLOCK];
	unsigned char h[TAR_BLOCK] = { 0 };
	unsigned sum = 0;

	snprintf((char *)h, 100, "%s", name);
	tar_octal(h + 100, 8, 0644);                    /* mode */
	tar_octal(h + 108, 8, 0);                       /* uid */
	tar_octal(h + 116, 8, 0);                       /* gid */
	tar_octal(h + 124, 12, len);
	tar_octal(h + 136, 12, mtime_ms > 0 ? (unsigned long long)(mtime_ms / 1000) : 0);
	memset(h + 148, ' ', 8);                        /* the checksum counts as spaces */
	h[156] = '0';                                   /* a regular file */
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (size_t i = 0; i < sizeof h; i++)
		sum += h[i];
	tar_octal(h + 148, 7, sum);                     /* six digits, NUL, the space stays */
	fwrite(h, 1, sizeof h, f);
	fwrite(data, 1, len, f);
	fwrite(zeros, 1, (TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK, f);
	return ferror(f) ? -EIO : 0;
}

/* A JSON value as an archive member (absent: none). */
static int tar_json(FILE *f, const char *name, const json_t *v, int64_t mtime_ms)
{
	char *text;
	int rc;

	if (!v)
		return 0;
	text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!text)
		return -ENOMEM;
	rc = tar_member(f, name, text, strlen(text), mtime_ms);
	free(text);
	return rc;
}

static int tar_text(FILE *f, const char *name, char *text, size_t len, int64_t mtime_ms)
{
	int rc = text ? tar_member(f, name, text, len, mtime_ms) : -ENOMEM;
	free(text);
	return rc;
}

/* The diagnostics archive: diagnostics.txt (what this is), state.json,
 * configuration.json (content's "configuration"), log.txt (its "log"
 * lines). */
static int write_diagnostics(const struct firmware *fw, const char *path, json_t *content,
			     const struct diag_request *req, int64_t now)
{
	static const char zeros[2 * TAR_BLOCK];
	json_t *log = json_object_get(content, "log"), *conf = json_object_get(content, "configuration");
	json_t *state = json_copy(content), *line;
	char created[RFC3339_MAX], from[RFC3339_MAX], to[RFC3339_MAX], *text = NULL;
	size_t i, len = 0, lines = 0;
	FILE *f, *mem;
	int rc = 0;

	if (!state)
		return -ENOMEM;
	json_object_del(state, "log");
	json_object_del(state, "configuration");
	if (!(f = fopen(path, "we"))) {
		rc = -errno;
		json_decref(state);
		return rc;
	}
	format_bound(now, "now", created, sizeof created);
	format_bound(req->start_ms, "the beginning", from, sizeof from);
	format_bound(req->stop_ms, "now", to, sizeof to);
	json_array_foreach(log, i, line)
		lines += json_is_string(line);
	if ((mem = open_memstream(&text, &len))) {
		fprintf(mem, "Diagnostics of charging station %s\n", fw->station_id);
		fprintf(mem, "Created %s by %s %s\n", created, PACKAGE_NAME, PACKAGE_VERSION);
		fprintf(mem, "Period: from %s to %s\n\n", from, to);
		fprintf(mem, "state.json          the station's state now\n");
		if (conf)
			fprintf(mem, "configuration.json  its configuration keys\n");
		fprintf(mem, "log.txt             %zu log line%s of the period\n", lines, lines == 1 ? "" : "s");
		fclose(mem);
	}
	rc = tar_text(f, "diagnostics.txt", mem ? text : NULL, len, now);
	if (!rc)
		rc = tar_json(f, "state.json", state, now);
	if (!rc)
		rc = tar_json(f, "configuration.json", conf, now);
	text = NULL;
	len = 0;
	if (!rc && (mem = open_memstream(&text, &len))) {
		json_array_foreach(log, i, line)
			if (json_is_string(line))
				fprintf(mem, "%s\n", json_string_value(line));
		fclose(mem);
	}
	if (!rc)
		rc = tar_text(f, "log.txt", text, len, now);
	if (!rc && fwrite(zeros, 1, sizeof zeros, f) != sizeof zeros)   /* the end of the archive */
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	if (rc)
		unlink(path);
	json_decref(state);
	return rc;
}

/* "<station>-diagnostics-20240101T100000Z.tar" */
static void diag_name(const struct firmware *fw, int64_t now, char *out, size_t size)
{
	char id[NAME_PART_MAX + 1], stamp[RFC3339_MAX], compact[RFC3339_MAX];
	size_t n = 0;

	safe_name(fw->station_id, strlen(fw->station_id), id);
	if (!rfc3339_format_ms(now, stamp, sizeof stamp))
		snprintf(stamp, sizeof stamp, "0");
	for (const char *p = stamp; *p && *p != '.' && *p != 'Z'; p++)
		if (*p != '-' && *p != ':')
			compact[n++] = *p;
	compact[n] = '\0';
	snprintf(out, size, "%s-diagnostics-%sZ.tar", id[0] ? id : "station", compact);
}

int firmware_get_diagnostics(struct firmware *fw, const struct diag_request *req,
			     char *name, size_t size)
{
	struct job *j = &fw->diag;
	char file[NAME_PART_MAX + 64], *path;
	int64_t now = now_ms(fw);
	json_t *content;
	int rc;

	if (!req->location || !*req->location)
		return -EINVAL;
	if (j->phase != PH_NONE)
		return -EBUSY;
	diag_name(fw, now, file, sizeof file);
	if (strlen(file) >= size)
		return -ENOSPC;
	if (!fw->ops->diagnostics || !(content = fw->ops->diagnostics(fw->ctx, req->start_ms, req->stop_ms)))
		return -ENODATA;
	path = path_of(fw, file);
	rc = path ? write_diagnostics(fw, path, content, req, now) : -ENOMEM;
	free(path);
	json_decref(content);
	if (rc)
		return rc;
	j->location = strdup(req->location);
	j->name = strdup(file);
	if (!j->location || !j->name) {
		remove_file(fw, file);
		job_clear(j);
		return -ENOMEM;
	}
	job_start(j, fw, req->retries, req->retry_interval_s, now);
	fw->diag_reported = DIAG_IDLE;
	save(fw);
	uv_timer_start(j->timer, diag_timer_cb, 0, 0);
	snprintf(name, size, "%s", file);
	return 0;
}

/* ---------------------------------------------------------------- firmware: requests */

/* "firmware-<last path segment of url>" */
static char *firmware_file_name(const char *url)
{
	const char *p = strstr(url, "://"), *end, *base;
	char part[NAME_PART_MAX + 1], *out;

	p = p ? p + 3 : url;
	p += strcspn(p, "/?#");                 /* past the authority */
	end = p + strcspn(p, "?#");
	for (base = end; base > p && base[-1] != '/'; base--)
		;
	safe_name(base, (size_t)(end - base), part);
	return asprintf(&out, "firmware-%s", part[0] ? part : "image") < 0 ? NULL : out;
}

int firmware_update(struct firmware *fw, const struct firmware_request *req)
{
	struct job *j = &fw->fw;
	char *location, *name;

	if (!req->location || !*req->location)
		return -EINVAL;
	if (j->phase == PH_INSTALLING)
		return -EBUSY;
	location = strdup(req->location);
	name = firmware_file_name(req->location);
	if (!location || !name) {
		free(location);
		free(name);
		return -ENOMEM;
	}
	if (j->phase == PH_DOWNLOADED)
		remove_file(fw, j->name);
	if (j->phase != PH_NONE)
		log_info("firmware: a new update replaces the one under way");
	job_clear(j);
	fw->gen++;
	fw->installs = 0;
	fw->fw_reported = FW_IDLE;
	j->location = location;
	j->name = name;
	job_start(j, fw, req->retries, req->retry_interval_s, req->retrieve_ms);
	save(fw);
	uv_timer_start(j->timer, fw_timer_cb, 0, 0);
	return 0;
}

enum firmware_status firmware_status(const struct firmware *fw)
{
	switch (fw->fw.phase) {
	case PH_WAITING:
		return fw->fw.attempts ? FW_DOWNLOADING : FW_DOWNLOAD_SCHEDULED;
	case PH_TRANSFER:
		return FW_DOWNLOADING;
	case PH_DOWNLOADED:
		return FW_DOWNLOADED;
	case PH_INSTALLING:
		return FW_INSTALLING;
	default:
		return FW_IDLE;
	}
}

enum diag_status firmware_diag_status(const struct firmware *fw)
{
	return fw->diag.phase == PH_NONE ? DIAG_IDLE : DIAG_UPLOADING;
}

void firmware_kick(struct firmware *fw)
{
	if (fw->fw.phase == PH_DOWNLOADED)
		uv_timer_start(fw->fw.timer, fw_timer_cb, 0, 0);
}

/* ---------------------------------------------------------------- persistence */

static json_t *job_save(const struct job *j)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}",
			 "phase", phase_names[j->phase], "location", j->location, "file", j->name,
			 "max_attempts", (json_int_t)j->max_attempts,
			 "interval_s", (json_int_t)j->interval_s,
			 "attempts", (json_int_t)j->attempts, "next_ms", (json_int_t)j->next_ms);
}

json_t *firmware_save(const struct firmware *fw)
{
	json_t *state = json_object(), *job;

	if (!state)
		return NULL;
	if (fw->fw.phase != PH_NONE) {
		if (!(job = job_save(&fw->fw)) ||
		    json_object_set_new(job, "installs", json_integer(fw->installs)) ||
		    json_object_set_new(state, "firmware", job)) {
			json_decref(state);
			return NULL;
		}
	}
	if (fw->diag.phase != PH_NONE &&
	    json_object_set_new(state, "diagnostics", job_save(&fw->diag))) {
		json_decref(state);
		return NULL;
	}
	return state;
}

/* A job as read back, checked before anything changes. */
struct loaded {
	enum phase phase;
	const char *location, *name;
	json_int_t max_attempts, interval_s, attempts, next_ms, installs;
};

static int job_load(const json_t *o, struct loaded *l, enum phase last)
{
	const char *phase;
	unsigned i;

	l->installs = 0;
	if (json_unpack((json_t *)o, "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s?I}",
			"phase", &phase, "location", &l->location, "file", &l->name,
			"max_attempts", &l->max_attempts, "interval_s", &l->interval_s,
			"attempts", &l->attempts, "next_ms", &l->next_ms, "installs", &l->installs))
		return -EINVAL;
	for (i = PH_WAITING; i <= (unsigned)last; i++)
		if (strcmp(phase, phase_names[i]) == 0)
			break;
	if (i > (unsigned)last || !*l->location || !*l->name || strchr(l->name, '/') ||
	    l->name[0] == '.' || l->max_attempts < 1 || l->max_attempts > UINT32_MAX ||
	    l->attempts < 0 || l->attempts > l->max_attempts || l->interval_s < 0 ||
	    l->interval_s > UINT32_MAX / 1000 || l->installs < 0 || l->installs > MAX_INSTALL_RUNS)
		return -EINVAL;
	l->phase = (enum phase)i;
	return 0;
}

static int job_take(struct job *j, const struct loaded *l, int64_t now)
{
	if (!(j->location = strdup(l->location)) || !(j->name = strdup(l->name)))
		return -ENOMEM;
	j->phase = l->phase;
	j->max_attempts = (unsigned)l->max_attempts;
	j->interval_s = (unsigned)l->interval_s;
	j->attempts = (unsigned)l->attempts;
	j->next_ms = l->next_ms;
	/* A transfer cut off by the restart starts again; the same attempt. */
	if (j->phase == PH_TRANSFER) {
		j->phase = PH_WAITING;
		j->next_ms = now;
		if (j->attempts > 0)
			j->attempts--;
	}
	return 0;
}

int firmware_restore(struct firmware *fw, const json_t *state)
{
	const json_t *fo = json_object_get(state, "firmware"), *dob = json_object_get(state, "diagnostics");
	struct loaded f = { 0 }, d = { 0 };
	int64_t now = now_ms(fw);

	if (fw->fw.phase != PH_NONE || fw->diag.phase != PH_NONE)
		return -EBUSY;
	if (!json_is_object(state) || (fo && job_load(fo, &f, PH_INSTALLING)) ||
	    (dob && job_load(dob, &d, PH_TRANSFER)))
		return -EINVAL;
	if ((fo && job_take(&fw->fw, &f, now)) || (dob && job_take(&fw->diag, &d, now))) {
		job_clear(&fw->fw);
		job_clear(&fw->diag);
		return -ENOMEM;
	}
	if (fo) {
		fw->installs = (unsigned)f.installs;
		/* The download is gone: fetch it again. */
		if (fw->fw.phase == PH_DOWNLOADED && !file_exists(fw, fw->fw.name)) {
			fw->fw.phase = PH_WAITING;
			fw->fw.attempts = 0;
			fw->fw.next_ms = now;
		}
		uv_timer_start(fw->fw.timer, fw_timer_cb, 0, 0);
	}
	if (dob)
		uv_timer_start(fw->diag.timer, diag_timer_cb, 0, 0);
	save(fw);
	return 0;
}

/* ---------------------------------------------------------------- life cycle */


struct firmware *firmware_new(uv_loop_t *loop, struct transfer_mgr *tm,
			      const struct firmware_config *cfg,
			      const struct firmware_ops *ops, void *ctx)
{
	struct firmware *fw = calloc(1, sizeof *fw);

	if (!fw)
		return NULL;
	fw->loop = loop;
	fw->tm = tm;
	fw->ops = ops;
	fw->ctx = ctx;
	fw->station_id = strdup(cfg->station_id ? cfg->station_id : "");
	fw->work_dir = strdup(cfg->work_dir ? cfg->work_dir : ".");
	fw->install_hook = cfg->install_hook ? strdup(cfg->install_hook) : NULL;
	fw->version = cfg->version ? strdup(cfg->version) : NULL;
	fw->install_timeout_s = cfg->install_timeout_s ? cfg->install_timeout_s : DEFAULT_INSTALL_TIMEOUT_S;
	fw->transfer_timeout_s = cfg->transfer_timeout_s;
	fw->default_retries = cfg->default_retries;
	fw->default_interval_s = cfg->default_retry_interval_s ? cfg->default_retry_interval_s
							       : DEFAULT_RETRY_INTERVAL_S;
	fw->fw.timer = ev_timer_new(loop, fw);
	fw->diag.timer = ev_timer_new(loop, fw);
	if (!fw->station_id || !fw->work_dir || (cfg->install_hook && !fw->install_hook) ||
	    (cfg->version && !fw->version) || !fw->fw.timer || !fw->diag.timer) {
		firmware_free(fw);
		return NULL;
	}
	if (mkdir(fw->work_dir, 0700) && errno != EEXIST)
		log_warn("firmware: cannot create %s: %s", fw->work_dir, strerror(errno));
	return fw;
}

void firmware_free(struct firmware *fw)
{
	if (!fw)
		return;
	if (fw->fw.timer) {
		job_clear(&fw->fw);
		ev_timer_free(fw->fw.timer);
	}
	if (fw->diag.timer) {
		job_clear(&fw->diag);
		ev_timer_free(fw->diag.timer);
	}
	if (fw->hook) {
		if (!fw->hook->exited)
			uv_process_kill(&fw->hook->proc, SIGTERM);
		hook_close(fw->hook);
	}
	free(fw->station_id);
	free(fw->work_dir);
	free(fw->install_hook);
	free(fw->version);
	free(fw);
}
