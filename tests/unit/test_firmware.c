/* Unit tests: the firmware update and diagnostics state machines on a real
 * libuv loop, with file:// locations in a temporary directory, install
 * hooks written as tiny shell scripts, and a wall clock the test can move. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/transfer.h"
#include "station/firmware.h"

#define WAIT_MS 10000      /* generous: every wait ends long before */
#define HOUR_MS 3600000LL

struct fx {
	uv_loop_t loop;
	char dir[64], work[128], remote[128], incoming[128];
	struct transfer_mgr *tm;
	struct firmware *fw;
	struct firmware_config cfg;
	char hook[160];
	/* the wall clock: a fixed start, real time since, and jumps */
	int64_t base_ms, jump_ms;
	uint64_t start_ns;
	/* what the callbacks saw */
	enum firmware_status statuses[32];
	int n_status;
	enum diag_status diags[16];
	int n_diag;
	json_t *saved;
	int saves;
	unsigned max_attempts_seen;
	int installed;
	char version[64];
	int version_null;
	int can_install;
	int done, diag_done, installing;
	int64_t diag_start, diag_stop;
	int no_diagnostics;
};

static void on_status(void *ctx, enum firmware_status s)
{
	struct fx *f = ctx;
	assert_true(f->n_status < 32);
	f->statuses[f->n_status++] = s;
	if (s == FW_INSTALLING)
		f->installing = 1;
	if (s == FW_DOWNLOAD_FAILED || s == FW_INSTALLED || s == FW_INSTALLATION_FAILED)
		f->done = 1;
}

static void on_diag_status(void *ctx, enum diag_status s)
{
	struct fx *f = ctx;
	assert_true(f->n_diag < 16);
	f->diags[f->n_diag++] = s;
	if (s == DIAG_UPLOADED || s == DIAG_UPLOAD_FAILED)
		f->diag_done = 1;
}

static void on_save(void *ctx, const json_t *state)
{
	struct fx *f = ctx;
	json_t *job;

	json_decref(f->saved);
	f->saved = json_deep_copy(state);
	f->saves++;
	job = json_object_get(state, "firmware");
	if (!job)
		job = json_object_get(state, "diagnostics");
	if (job && json_integer_value(json_object_get(job, "attempts")) > f->max_attempts_seen)
		f->max_attempts_seen = (unsigned)json_integer_value(json_object_get(job, "attempts"));
}

static void on_installed(void *ctx, const char *version)
{
	struct fx *f = ctx;
	f->installed++;
	f->version_null = version == NULL;
	snprintf(f->version, sizeof f->version, "%s", version ? version : "");
}

static json_t *diagnostics(void *ctx, int64_t start_ms, int64_t stop_ms)
{
	struct fx *f = ctx;
	f->diag_start = start_ms;
	f->diag_stop = stop_ms;
	if (f->no_diagnostics)
		return NULL;
	return json_pack("{s:[s,s], s:{s:s, s:i}}", "log", "line one", "line two",
			 "connector", "status", "Available", "id", 1);
}

static int can_install(void *ctx)
{
	return ((struct fx *)ctx)->can_install;
}

static int64_t fake_now(void *ctx)
{
	struct fx *f = ctx;
	return f->base_ms + (int64_t)((uv_hrtime() - f->start_ns) / 1000000) + f->jump_ms;
}

static const struct firmware_ops ops = {
	on_status, on_diag_status, on_save, on_installed, diagnostics, can_install, fake_now
};

/* ---------------------------------------------------------------- fixture */

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void write_image(const char *path, size_t size)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	for (size_t i = 0; i < size; i++)
		fputc((int)((i * 13) & 0xff), fp);
	assert_int_equal(fclose(fp), 0);
}

static int same_content(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, same = fa && fb;

	while (same) {
		ca = fgetc(fa);
		cb = fgetc(fb);
		if (ca != cb)
			same = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The contents of member name of the tar archive at path (malloc'd,
 * NUL-terminated), checking each header's magic and checksum on the way;
 * NULL if there is no such member. */
static char *tar_member(const char *path, const char *name)
{
	FILE *fp = fopen(path, "rb");
	unsigned char h[512];
	char *out = NULL;

	assert_non_null(fp);
	while (!out && fread(h, 1, sizeof h, fp) == sizeof h && h[0]) {
		unsigned long size = strtoul((char *)h + 124, NULL, 8);
		unsigned long sum = strtoul((char *)h + 148, NULL, 8), mine = 0;
		size_t padded = (size + 511) / 512 * 512;

		assert_memory_equal(h + 257, "ustar", 6);
		memset(h + 148, ' ', 8);
		for (size_t i = 0; i < sizeof h; i++)
			mine += h[i];
		assert_int_equal(mine, sum);
		if (strcmp((char *)h, name) == 0) {
			out = calloc(1, size + 1);
			assert_non_null(out);
			assert_int_equal(fread(out, 1, size, fp), size);
		} else {
			assert_int_equal(fseek(fp, (long)padded, SEEK_CUR), 0);
		}
	}
	fclose(fp);
	return out;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	assert_non_null(d);
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* A hook script in the test directory. */
static const char *hook_script(struct fx *f, const char *body)
{
	snprintf(f->hook, sizeof f->hook, "%s/hook.sh", f->dir);
	write_text(f->hook, body);
	assert_int_equal(chmod(f->hook, 0755), 0);
	return f->hook;
}

static const struct transfer_config with_files = { .allow_file_urls = 1 };

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/evfirmware-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->work, sizeof f->work, "%s/work", f->dir);
	snprintf(f->remote, sizeof f->remote, "%s/remote", f->dir);
	snprintf(f->incoming, sizeof f->incoming, "%s/incoming", f->dir);
	assert_int_equal(mkdir(f->remote, 0700), 0);
	assert_int_equal(mkdir(f->incoming, 0700), 0);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->tm = transfer_mgr_new(&f->loop, &with_files);
	assert_non_null(f->tm);
	f->base_ms = 1700000000000LL;
	f->start_ns = uv_hrtime();
	f->can_install = 1;
	f->cfg.station_id = "CP/1";
	f->cfg.work_dir = f->work;
	f->cfg.version = "2.0";
	return f;
}

/* The firmware object, after cfg has been adjusted. */
static void fx_start(struct fx *f)
{
	f->fw = firmware_new(&f->loop, f->tm, &f->cfg, &ops, f);
	assert_non_null(f->fw);
}

/* A restart: the object goes, a new one is made (the saved state stays). */
static void fx_restart(struct fx *f)
{
	firmware_free(f->fw);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	f->n_status = f->n_diag = 0;
	f->done = f->diag_done = f->installing = 0;
	fx_start(f);
}

/* Everything must be closed: uv_loop_close fails if a handle was leaked. */
static void fx_free(struct fx *f)
{
	firmware_free(f->fw);
	transfer_mgr_free(f->tm);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	json_decref(f->saved);
	remove_tree(f->dir);
	free(f);
}

static void watchdog(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

typedef int (*pred_fn)(const void *arg);

struct wait {
	pred_fn pred;
	const void *arg;
	int expired;
};

/* Just before the loop would block: stop if there is nothing to wait for. */
static void check_wait(uv_prepare_t *p)
{
	struct wait *w = p->data;
	if (w->pred(w->arg) || w->expired)
		uv_stop(p->loop);
}

/* Runs the loop until pred(arg) holds or ms have passed; returns pred(arg). */
static int run_pred(uv_loop_t *loop, pred_fn pred, const void *arg, unsigned ms)
{
	struct wait w = { pred, arg, 0 };
	uv_timer_t t;
	uv_prepare_t p;

	uv_timer_init(loop, &t);
	t.data = &w.expired;
	uv_timer_start(&t, watchdog, ms, 0);
	uv_prepare_init(loop, &p);
	p.data = &w;
	uv_prepare_start(&p, check_wait);
	while (!pred(arg) && !w.expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_close((uv_handle_t *)&p, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return pred(arg);
}

static int flag_set(const void *arg)
{
	return *(const int *)arg;
}

static int run_until(uv_loop_t *loop, const int *flag, unsigned ms)
{
	return run_pred(loop, flag_set, flag, ms);
}

static int never(const void *arg)
{
	return 0;
}

static void run_for(uv_loop_t *loop, unsigned ms)
{
	run_pred(loop, never, NULL, ms);
}

static int last_is_downloaded(const void *arg)
{
	const struct fx *f = arg;
	return f->n_status > 0 && f->statuses[f->n_status - 1] == FW_DOWNLOADED;
}

/* The first attempt failed and the next one waits. */
static int waiting_to_retry(const void *arg)
{
	const struct fx *f = arg;
	json_t *job = json_object_get(f->saved, "firmware");
	return job && json_integer_value(json_object_get(job, "attempts")) == 1 &&
	       !strcmp(json_string_value(json_object_get(job, "phase")), "waiting");
}

static void expect_statuses(const struct fx *f, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n && i < f->n_status; i++) {
		enum firmware_status s = (enum firmware_status)va_arg(ap, int);
		if (f->statuses[i] != s)
			fail_msg("status %d: expected %s, got %s", i, firmware_status_name(s),
				 firmware_status_name(f->statuses[i]));
	}
	va_end(ap);
	assert_int_equal(f->n_status, n);
}

/* An image at remote/<name>; its file:// URL in url. */
static void remote_image(struct fx *f, const char *name, size_t size, char *url, size_t urlsize,
			 char *path, size_t pathsize)
{
	snprintf(path, pathsize, "%s/%s", f->remote, name);
	write_image(path, size);
	snprintf(url, urlsize, "file://%s", path);
}

static struct firmware_request request(const char *url, int64_t retrieve_ms)
{
	struct firmware_request r = { url, retrieve_ms, -1, -1 };
	return r;
}

static json_t *saved_job(const struct fx *f, const char *which)
{
	return json_object_get(f->saved, which);
}

/* ---------------------------------------------------------------- firmware */

static void test_update_without_hook(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url[256], image[256], kept[256];
	(void)state;

	fx_start(f);
	remote_image(f, "fw-1.2.bin", 200000, url, sizeof url, image, sizeof image);
	req = request(url, fake_now(f) - 1000);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	/* Saved at once, reported only from the loop (the answer goes first). */
	assert_int_equal(f->n_status, 0);
	assert_non_null(saved_job(f, "firmware"));
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLED);
	assert_int_equal(f->installed, 1);
	assert_string_equal(f->version, "2.0");   /* the configured one */
	/* Without a hook the file is kept. */
	snprintf(kept, sizeof kept, "%s/firmware-fw-1.2.bin", f->work);
	assert_true(same_content(image, kept));
	assert_int_equal(json_object_size(f->saved), 0);
	assert_int_equal(firmware_status(f->fw), FW_IDLE);
	fx_free(f);
}

static void test_download_failure_retries(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url[256], part[256];
	(void)state;

	fx_start(f);
	snprintf(url, sizeof url, "file://%s/missing.bin", f->remote);
	req = request(url, 0);
	req.retries = 2;
	req.retry_interval_s = 0;
	assert_int_equal(firmware_update(f->fw, &req), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	/* Downloading once, for all three attempts, then the verdict. */
	expect_statuses(f, 2, FW_DOWNLOADING, FW_DOWNLOAD_FAILED);
	assert_int_equal(f->max_attempts_seen, 3);
	assert_int_equal(f->installed, 0);
	assert_int_equal(json_object_size(f->saved), 0);
	snprintf(part, sizeof part, "%s/firmware-missing.bin.part", f->work);
	assert_false(exists(part));
	assert_int_equal(firmware_status(f->fw), FW_IDLE);
	fx_free(f);
}

static void test_retry_interval_survives_restart(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url[256], image[256];
	json_t *job;
	(void)state;

	fx_start(f);
	snprintf(url, sizeof url, "file://%s/late.bin", f->remote);
	req = request(url, 0);
	req.retries = 1;
	req.retry_interval_s = 3600;
	assert_int_equal(firmware_update(f->fw, &req), 0);
	/* The first attempt fails; the second is an hour away. */
	assert_true(run_pred(&f->loop, waiting_to_retry, f, WAIT_MS));
	run_for(&f->loop, 50);
	job = saved_job(f, "firmware");
	assert_true(json_integer_value(json_object_get(job, "next_ms")) >= fake_now(f) + HOUR_MS - 60000);
	expect_statuses(f, 1, FW_DOWNLOADING);
	assert_int_equal(firmware_status(f->fw), FW_DOWNLOADING);

	/* Restarted an hour later, with the image now in place. */
	remote_image(f, "late.bin", 1000, url, sizeof url, image, sizeof image);
	fx_restart(f);
	f->jump_ms = HOUR_MS;
	assert_int_equal(firmware_restore(f->fw, f->saved), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLED);
	assert_int_equal(f->max_attempts_seen, 2);
	fx_free(f);
}

static void test_install_hook_success(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url[256], image[256], copy[256], downloaded[256];
	(void)state;

	f->cfg.install_hook = hook_script(f,
		"#!/bin/sh\n"
		"cp \"$1\" \"$(dirname \"$1\")/installed.bin\" || exit 1\n"
		"echo '  3.1.4-beta  '\n"
		"echo 'a second line'\n");
	fx_start(f);
	remote_image(f, "image.bin", 5000, url, sizeof url, image, sizeof image);
	req = request(url, 0);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLED);
	assert_int_equal(f->installed, 1);
	assert_string_equal(f->version, "3.1.4-beta");
	/* The hook got the downloaded file; afterwards it is gone. */
	snprintf(copy, sizeof copy, "%s/installed.bin", f->work);
	snprintf(downloaded, sizeof downloaded, "%s/firmware-image.bin", f->work);
	assert_true(same_content(image, copy));
	assert_false(exists(downloaded));
	fx_free(f);
}

static void test_install_hook_silent(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url[256], image[256];
	(void)state;

	/* Prints no version: the configured one, or none at all. */
	f->cfg.install_hook = hook_script(f, "#!/bin/sh\nexit 0\n");
	f->cfg.version = NULL;
	fx_start(f);
	remote_image(f, "image.bin", 100, url, sizeof url, image, sizeof image);
	req = request(url, 0);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	assert_int_equal(f->statuses[f->n_status - 1], FW_INSTALLED);
	assert_int_equal(f->installed, 1);
	assert_true(f->version_null);
	fx_free(f);
}

static void test_install_hook_failure(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url[256], image[256], downloaded[256];
	(void)state;

	f->cfg.install_hook = hook_script(f, "#!/bin/sh\necho 9.9\nexit 3\n");
	fx_start(f);
	remote_image(f, "image.bin", 100, url, sizeof url, image, sizeof image);
	req = request(url, 0);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLATION_FAILED);
	assert_int_equal(f->installed, 0);
	snprintf(downloaded, sizeof downloaded, "%s/firmware-image.bin", f->work);
	assert_false(exists(downloaded));
	assert_int_equal(json_object_size(f->saved), 0);
	fx_free(f);
}

static void test_install_hook_missing_or_slow(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url[256], image[256], missing[256];
	(void)state;

	/* A hook that cannot be run. */
	snprintf(missing, sizeof missing, "%s/no-such-hook", f->dir);
	f->cfg.install_hook = missing;
	fx_start(f);
	remote_image(f, "image.bin", 100, url, sizeof url, image, sizeof image);
	req = request(url, 0);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLATION_FAILED);

	/* A hook that runs past its time is killed. */
	f->cfg.install_hook = hook_script(f, "#!/bin/sh\nexec sleep 30\n");
	f->cfg.install_timeout_s = 1;
	fx_restart(f);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	assert_true(run_until(&f->loop, &f->installing, WAIT_MS));
	/* Installing: a new update is refused meanwhile. */
	assert_int_equal(firmware_update(f->fw, &req), -EBUSY);
	assert_int_equal(firmware_status(f->fw), FW_INSTALLING);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLATION_FAILED);
	assert_int_equal(f->installed, 0);
	fx_free(f);
}

static void test_retrieve_date_in_future(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url[256], image[256], downloaded[256];
	(void)state;

	fx_start(f);
	remote_image(f, "image.bin", 100, url, sizeof url, image, sizeof image);
	snprintf(downloaded, sizeof downloaded, "%s/firmware-image.bin", f->work);

	/* An hour ahead: scheduled, nothing fetched. */
	req = request(url, fake_now(f) + HOUR_MS);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	run_for(&f->loop, 200);
	expect_statuses(f, 1, FW_DOWNLOAD_SCHEDULED);
	assert_int_equal(firmware_status(f->fw), FW_DOWNLOAD_SCHEDULED);
	assert_false(exists(downloaded));

	/* The daemon restarts after the date: it goes ahead at once. */
	fx_restart(f);
	f->jump_ms = HOUR_MS;
	assert_int_equal(firmware_restore(f->fw, f->saved), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLED);

	/* A short wait runs out on the loop by itself. */
	fx_restart(f);
	req = request(url, fake_now(f) + 300);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(firmware_status(f->fw), FW_DOWNLOAD_SCHEDULED);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 5, FW_DOWNLOAD_SCHEDULED, FW_DOWNLOADING, FW_DOWNLOADED,
			FW_INSTALLING, FW_INSTALLED);
	fx_free(f);
}

static void test_installation_waits(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url[256], image[256];
	(void)state;

	f->can_install = 0;   /* a charging session goes on */
	fx_start(f);
	remote_image(f, "image.bin", 100, url, sizeof url, image, sizeof image);
	req = request(url, 0);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	assert_true(run_pred(&f->loop, last_is_downloaded, f, WAIT_MS));
	run_for(&f->loop, 100);
	expect_statuses(f, 2, FW_DOWNLOADING, FW_DOWNLOADED);
	assert_int_equal(firmware_status(f->fw), FW_DOWNLOADED);
	/* The session ended. */
	f->can_install = 1;
	firmware_kick(f->fw);
	assert_int_equal(f->n_status, 2);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLED);
	fx_free(f);
}

static void test_new_update_replaces(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	char url1[256], url2[256], image[256], kept[256];
	(void)state;

	fx_start(f);
	remote_image(f, "old.bin", 100, url1, sizeof url1, image, sizeof image);
	remote_image(f, "new.bin", 200, url2, sizeof url2, image, sizeof image);
	req = request(url1, fake_now(f) + HOUR_MS);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	req = request(url2, 0);
	assert_int_equal(firmware_update(f->fw, &req), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLED);
	assert_int_equal(f->installed, 1);
	snprintf(kept, sizeof kept, "%s/firmware-new.bin", f->work);
	assert_true(same_content(image, kept));
	snprintf(kept, sizeof kept, "%s/firmware-old.bin", f->work);
	assert_false(exists(kept));

	req.location = "";
	assert_int_equal(firmware_update(f->fw, &req), -EINVAL);
	fx_free(f);
}

/* ---------------------------------------------------------------- diagnostics */

static void test_diagnostics_upload(void **state)
{
	struct fx *f = fx_new();
	struct diag_request req;
	char location[256], name[256], uploaded[512], local[512], *text;
	(void)state;

	fx_start(f);
	snprintf(location, sizeof location, "file://%s", f->incoming);
	req = (struct diag_request){ location, -1, -1, f->base_ms - HOUR_MS, INT64_MAX };
	assert_int_equal(firmware_get_diagnostics(f->fw, &req, name, sizeof name), 0);
	/* The name is known at once, the status comes from the loop. */
	assert_int_equal(strncmp(name, "CP_1-diagnostics-2023", 21), 0);
	assert_non_null(strstr(name, "Z.tar"));
	assert_int_equal(f->n_diag, 0);
	assert_int_equal(f->diag_start, f->base_ms - HOUR_MS);
	assert_int_equal(f->diag_stop, INT64_MAX);
	assert_int_equal(firmware_diag_status(f->fw), DIAG_UPLOADING);
	assert_non_null(saved_job(f, "diagnostics"));
	/* One at a time. */
	assert_int_equal(firmware_get_diagnostics(f->fw, &req, local, sizeof local), -EBUSY);

	assert_true(run_until(&f->loop, &f->diag_done, WAIT_MS));
	assert_int_equal(f->n_diag, 2);
	assert_int_equal(f->diags[0], DIAG_UPLOADING);
	assert_int_equal(f->diags[1], DIAG_UPLOADED);
	assert_int_equal(firmware_diag_status(f->fw), DIAG_IDLE);
	assert_int_equal(json_object_size(f->saved), 0);

	/* A tar archive: what it is, the state, the log lines. */
	snprintf(uploaded, sizeof uploaded, "%s/%s", f->incoming, name);
	text = tar_member(uploaded, "diagnostics.txt");
	assert_non_null(text);
	assert_non_null(strstr(text, "Diagnostics of charging station CP/1\n"));
	assert_non_null(strstr(text, "Period: from 2023-11-14T"));
	assert_non_null(strstr(text, " to now\n"));
	assert_non_null(strstr(text, "2 log lines"));
	free(text);
	text = tar_member(uploaded, "state.json");
	assert_non_null(text);
	assert_non_null(strstr(text, "\"status\": \"Available\""));
	assert_null(strstr(text, "line one"));
	free(text);
	text = tar_member(uploaded, "log.txt");
	assert_non_null(text);
	assert_string_equal(text, "line one\nline two\n");
	free(text);
	assert_null(tar_member(uploaded, "configuration.json"));   /* none given */
	snprintf(local, sizeof local, "%s/%s", f->work, name);
	assert_false(exists(local));   /* removed once uploaded */

	/* Nothing to report: no file name. */
	f->no_diagnostics = 1;
	assert_int_equal(firmware_get_diagnostics(f->fw, &req, name, sizeof name), -ENODATA);
	f->no_diagnostics = 0;
	assert_int_equal(firmware_get_diagnostics(f->fw, &req, name, 10), -ENOSPC);
	req.location = NULL;
	assert_int_equal(firmware_get_diagnostics(f->fw, &req, name, sizeof name), -EINVAL);
	fx_free(f);
}

static void test_diagnostics_upload_failure(void **state)
{
	struct fx *f = fx_new();
	struct diag_request req;
	char location[256], name[256], local[512];
	(void)state;

	fx_start(f);
	snprintf(location, sizeof location, "file://%s/no-such-dir", f->dir);
	req = (struct diag_request){ location, 1, 0, INT64_MIN, INT64_MAX };
	assert_int_equal(firmware_get_diagnostics(f->fw, &req, name, sizeof name), 0);
	assert_true(run_until(&f->loop, &f->diag_done, WAIT_MS));
	assert_int_equal(f->n_diag, 2);
	assert_int_equal(f->diags[0], DIAG_UPLOADING);
	assert_int_equal(f->diags[1], DIAG_UPLOAD_FAILED);
	assert_int_equal(f->max_attempts_seen, 2);
	snprintf(local, sizeof local, "%s/%s", f->work, name);
	assert_false(exists(local));
	assert_int_equal(firmware_diag_status(f->fw), DIAG_IDLE);
	fx_free(f);
}

/* ---------------------------------------------------------------- persistence */

static void test_save_and_restore(void **state)
{
	struct fx *f = fx_new();
	struct firmware_request req;
	struct diag_request dreq;
	char url[256], image[256], location[256], name[256], uploaded[512], downloaded[256];
	json_t *s, *copy, *bad;
	(void)state;

	fx_start(f);
	remote_image(f, "image.bin", 100, url, sizeof url, image, sizeof image);
	snprintf(downloaded, sizeof downloaded, "%s/firmware-image.bin", f->work);
	snprintf(location, sizeof location, "file://%s", f->incoming);
	req = request(url, fake_now(f) + HOUR_MS);
	req.retries = 4;
	req.retry_interval_s = 30;
	assert_int_equal(firmware_update(f->fw, &req), 0);
	dreq = (struct diag_request){ location, -1, -1, INT64_MIN, INT64_MAX };
	assert_int_equal(firmware_get_diagnostics(f->fw, &dreq, name, sizeof name), 0);

	/* What firmware_save says is what ops->save got. */
	s = firmware_save(f->fw);
	assert_true(json_equal(s, f->saved));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "firmware"),
							   "max_attempts")), 5);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "firmware"),
							   "interval_s")), 30);
	/* A job under way: no restoring over it. */
	assert_int_equal(firmware_restore(f->fw, s), -EBUSY);

	/* The daemon stopped in the middle of both transfers. */
	copy = json_deep_copy(s);
	json_object_set_new(json_object_get(copy, "firmware"), "phase", json_string("transferring"));
	json_object_set_new(json_object_get(copy, "firmware"), "attempts", json_integer(1));
	json_object_set_new(json_object_get(copy, "diagnostics"), "phase", json_string("transferring"));
	json_object_set_new(json_object_get(copy, "diagnostics"), "attempts", json_integer(1));
	fx_restart(f);

	/* Not ours: refused, nothing changes. */
	bad = json_pack("{s:{s:s}}", "firmware", "phase", "dancing");
	assert_int_equal(firmware_restore(f->fw, bad), -EINVAL);
	json_decref(bad);
	bad = json_pack("{s:{s:s, s:s, s:s, s:i, s:i, s:i, s:i}}", "firmware", "phase", "waiting",
			"location", url, "file", "../../etc/passwd", "max_attempts", 1,
			"interval_s", 0, "attempts", 0, "next_ms", 0);
	assert_int_equal(firmware_restore(f->fw, bad), -EINVAL);
	json_decref(bad);
	assert_int_equal(firmware_status(f->fw), FW_IDLE);

	assert_int_equal(firmware_restore(f->fw, copy), 0);
	/* The interrupted attempt is taken again, not counted twice. */
	assert_int_equal(json_integer_value(json_object_get(saved_job(f, "firmware"), "attempts")), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	assert_true(run_until(&f->loop, &f->diag_done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLED);
	assert_int_equal(f->diags[f->n_diag - 1], DIAG_UPLOADED);
	snprintf(uploaded, sizeof uploaded, "%s/%s", f->incoming, name);
	assert_true(exists(uploaded));
	json_decref(copy);

	/* Stopped while installing, and already once before: failed. */
	copy = json_deep_copy(s);
	json_object_del(copy, "diagnostics");
	json_object_set_new(json_object_get(copy, "firmware"), "phase", json_string("installing"));
	json_object_set_new(json_object_get(copy, "firmware"), "installs", json_integer(2));
	fx_restart(f);
	assert_int_equal(firmware_restore(f->fw, copy), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 1, FW_INSTALLATION_FAILED);
	json_decref(copy);

	/* Stopped when downloaded, but the file is gone: fetched again. */
	unlink(downloaded);
	copy = json_deep_copy(s);
	json_object_del(copy, "diagnostics");
	json_object_set_new(json_object_get(copy, "firmware"), "phase", json_string("downloaded"));
	fx_restart(f);
	assert_int_equal(firmware_restore(f->fw, copy), 0);
	assert_true(run_until(&f->loop, &f->done, WAIT_MS));
	expect_statuses(f, 4, FW_DOWNLOADING, FW_DOWNLOADED, FW_INSTALLING, FW_INSTALLED);
	json_decref(copy);

	/* An empty state is nothing to do. */
	copy = json_object();
	fx_restart(f);
	assert_int_equal(firmware_restore(f->fw, copy), 0);
	run_for(&f->loop, 50);
	assert_int_equal(f->n_status + f->n_diag, 0);
	json_decref(copy);
	json_decref(s);
	fx_free(f);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(firmware_status_name(FW_IDLE), "Idle");
	assert_string_equal(firmware_status_name(FW_DOWNLOAD_SCHEDULED), "DownloadScheduled");
	assert_string_equal(firmware_status_name(FW_DOWNLOADING), "Downloading");
	assert_string_equal(firmware_status_name(FW_DOWNLOADED), "Downloaded");
	assert_string_equal(firmware_status_name(FW_DOWNLOAD_FAILED), "DownloadFailed");
	assert_string_equal(firmware_status_name(FW_INSTALLING), "Installing");
	assert_string_equal(firmware_status_name(FW_INSTALLED), "Installed");
	assert_string_equal(firmware_status_name(FW_INSTALLATION_FAILED), "InstallationFailed");
	assert_string_equal(diag_status_name(DIAG_IDLE), "Idle");
	assert_string_equal(diag_status_name(DIAG_UPLOADING), "Uploading");
	assert_string_equal(diag_status_name(DIAG_UPLOADED), "Uploaded");
	assert_string_equal(diag_status_name(DIAG_UPLOAD_FAILED), "UploadFailed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_without_hook),
		cmocka_unit_test(test_download_failure_retries),
		cmocka_unit_test(test_retry_interval_survives_restart),
		cmocka_unit_test(test_install_hook_success),
		cmocka_unit_test(test_install_hook_silent),
		cmocka_unit_test(test_install_hook_failure),
		cmocka_unit_test(test_install_hook_missing_or_slow),
		cmocka_unit_test(test_retrieve_date_in_future),
		cmocka_unit_test(test_installation_waits),
		cmocka_unit_test(test_new_update_replaces),
		cmocka_unit_test(test_diagnostics_upload),
		cmocka_unit_test(test_diagnostics_upload_failure),
		cmocka_unit_test(test_save_and_restore),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
