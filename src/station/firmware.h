/* Firmware update and diagnostics upload of one station (OCPP 1.6 sections
 * 4.4, 4.5, 5.9, 5.19 and chapter 8), version-neutral: the adapter turns
 * requests into calls here and status callbacks into notifications.
 *
 * Firmware (UpdateFirmware):
 *   wait until retrieveDate -> Downloading -> Downloaded -> Installing ->
 *   Installed (then on_installed: the core reboots), or DownloadFailed once
 *   every attempt failed, or InstallationFailed.
 *   - retries counts attempts after the first (errata 3.50), retryInterval
 *     seconds apart; a request without them gets the configured defaults.
 *     The status stays Downloading between attempts.
 *   - The file is downloaded to <work_dir>/firmware-<name in the URL>.
 *   - Installing runs the install hook, if configured, as
 *     `hook <downloaded file>` (uv_spawn: stdin /dev/null, stderr the
 *     daemon's). Exit 0 means Installed, anything else (or a signal, or
 *     running past install_timeout_s) InstallationFailed. The new firmware
 *     version is the first line the hook writes to stdout, trimmed, at most
 *     50 characters (BootNotification's firmwareVersion); if it prints
 *     nothing, cfg.version. The downloaded file is removed after the hook
 *     ran: the hook copies what it keeps. It must exit rather than reboot
 *     (rebooting is the core's job) and may be run again if the daemon
 *     restarted while it ran.
 *   - Without a hook, installing means: the file is kept where it was
 *     downloaded and the version is cfg.version.
 *   - ops->can_install may hold the installation back (a charging session
 *     goes on, OCPP 1.6 5.19): it is asked again every 10 s and at
 *     firmware_kick; the status stays Downloaded meanwhile.
 *   - A new UpdateFirmware replaces an update that is not installing yet;
 *     while installing it is refused (-EBUSY; UpdateFirmware.conf has no
 *     status, so the adapter just logs).
 *
 * Diagnostics (GetDiagnostics):
 *   the file is written at once from ops->diagnostics (a POSIX tar archive:
 *   diagnostics.txt saying what it is and the period, state.json,
 *   configuration.json, log.txt with the log lines) and its name returned
 *   for GetDiagnostics.conf; then Uploading -> Uploaded, or UploadFailed
 *   once every attempt failed. The upload goes to location + "/" + name:
 *   FTP(S) STOR, HTTP(S) PUT, file:// a copy (net/transfer.h). The file is
 *   removed afterwards. One at a time: a second request while one is under
 *   way gets -EBUSY (the adapter answers without a fileName).
 *
 * Durability: after every change the whole state (both jobs) is handed to
 * ops->save as a small JSON object for the core to store; firmware_restore
 * takes it back after a restart and carries on: a wait resumes, an
 * interrupted transfer starts again (not counted as another attempt), an
 * interrupted installation runs the hook once more.
 *
 * Callbacks come from the loop only, never from inside a call here (so an
 * adapter's answer to the request goes out before the first notification),
 * except ops->save, which is also called from inside firmware_update,
 * firmware_get_diagnostics and firmware_restore. Callbacks must not free
 * the firmware object. */
#ifndef EV_STATION_FIRMWARE_H
#define EV_STATION_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "net/transfer.h"

enum firmware_status {
	FW_IDLE,
	FW_DOWNLOAD_SCHEDULED,  /* waiting for retrieveDate: not a 1.6 status */
	FW_DOWNLOADING,
	FW_DOWNLOADED,
	FW_DOWNLOAD_FAILED,
	FW_INSTALLING,
	FW_INSTALLED,
	FW_INSTALLATION_FAILED,
};

enum diag_status {
	DIAG_IDLE,
	DIAG_UPLOADING,
	DIAG_UPLOADED,
	DIAG_UPLOAD_FAILED,
};

/* The names OCPP uses ("Downloading", ..., "DownloadScheduled" as in
 * 2.0.1). A 1.6 adapter sends nothing for FW_DOWNLOAD_SCHEDULED and
 * reports it as Idle when triggered. */
const char *firmware_status_name(enum firmware_status s);
const char *diag_status_name(enum diag_status s);

struct firmware_config {
	const char *station_id;       /* names the diagnostics file */
	const char *work_dir;         /* this station's own; created if missing */
	const char *install_hook;     /* NULL: no hook (see above) */
	const char *version;          /* version after an install without hook output */
	unsigned install_timeout_s;   /* the hook is killed after this; 0: 600 s */
	unsigned transfer_timeout_s;  /* one download or upload; 0: only the low-speed limit */
	unsigned default_retries;     /* for a request without retries (0: one attempt) */
	unsigned default_retry_interval_s;  /* for a request without retryInterval; 0: 60 s */
};

struct firmware_ops {
	/* A status change: FirmwareStatusNotification. */
	void (*on_status)(void *ctx, enum firmware_status s);
	/* A status change: DiagnosticsStatusNotification. */
	void (*on_diag_status)(void *ctx, enum diag_status s);
	/* Store this (borrowed) and give it to firmware_restore after a
	 * restart; an empty object when nothing is going on. */
	void (*save)(void *ctx, const json_t *state);
	/* Installed: remember version for BootNotification (NULL: unknown, keep
	 * the current one) and reboot once the notifications queued have gone
	 * out; not from inside this callback. */
	void (*on_installed)(void *ctx, const char *version);
	/* Optional: what goes into a diagnostics file for the period (bounds in
	 * Unix ms, INT64_MIN / INT64_MAX when open): a new JSON object; "log",
	 * an array of strings, goes into log.txt as lines, "configuration"
	 * into configuration.json, the rest into state.json.
	 * NULL (or no callback): no diagnostics available. */
	json_t *(*diagnostics)(void *ctx, int64_t start_ms, int64_t stop_ms);
	/* Optional: 0 while installing must wait. */
	int (*can_install)(void *ctx);
	/* Optional: the wall clock in Unix ms; NULL: the system's. */
	int64_t (*now_ms)(void *ctx);
};

struct firmware_request {          /* UpdateFirmware.req */
	const char *location;
	int64_t retrieve_ms;           /* retrieveDate */
	int retries;                   /* -1: absent */
	int retry_interval_s;          /* -1: absent */
};

struct diag_request {              /* GetDiagnostics.req */
	const char *location;          /* a directory */
	int retries;                   /* -1: absent */
	int retry_interval_s;          /* -1: absent */
	int64_t start_ms;              /* INT64_MIN: absent */
	int64_t stop_ms;               /* INT64_MAX: absent */
};

struct firmware;

/* tm is shared and must outlive the object; cfg's strings are copied.
 * NULL when out of memory. */
struct firmware *firmware_new(uv_loop_t *loop, struct transfer_mgr *tm,
			      const struct firmware_config *cfg,
			      const struct firmware_ops *ops, void *ctx);
/* Stops everything (a running hook gets SIGTERM) without callbacks and
 * without saving: the last state saved is what a restart resumes. */
void firmware_free(struct firmware *fw);

/* 0; -EINVAL (no location); -EBUSY (installing); -ENOMEM. */
int firmware_update(struct firmware *fw, const struct firmware_request *req);
/* 0 with the file name (for GetDiagnostics.conf) in name; -ENODATA (no
 * diagnostics available); -EBUSY; -EINVAL; -ENOSPC (name too small); or
 * the negative errno of writing the file. */
int firmware_get_diagnostics(struct firmware *fw, const struct diag_request *req,
			     char *name, size_t size);

/* For TriggerMessage: what is going on now; FW_IDLE / DIAG_IDLE when
 * nothing is (also after a job ended). */
enum firmware_status firmware_status(const struct firmware *fw);
enum diag_status firmware_diag_status(const struct firmware *fw);

/* The state as ops->save gets it (a new reference). */
json_t *firmware_save(const struct firmware *fw);
/* Takes a saved state back and resumes it. 0; -EINVAL (not a state of
 * ours: nothing changes); -EBUSY (a job is already under way). */
int firmware_restore(struct firmware *fw, const json_t *state);
/* The station may have become free to install (a session ended). */
void firmware_kick(struct firmware *fw);

#endif
