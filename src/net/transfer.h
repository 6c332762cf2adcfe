/* File transfers (firmware downloads, diagnostics uploads) with libcurl's
 * multi interface on the process's one libuv loop. libcurl is not linked:
 * it is opened at the first transfer, so a process that transfers nothing
 * never loads it or the libraries it needs.
 *
 * A transfer_mgr is the shared part, one per process: a curl multi handle
 * driven by curl_multi_socket_action, with a uv_poll_t per socket curl
 * asks us to watch and one uv_timer_t for curl's timeouts. Nothing blocks
 * the loop except local file I/O (writing what arrives, reading what is
 * sent), which is small per step; file:// URLs are read or written by curl
 * in one step and are meant for tests and local setups.
 *
 * Protocols: http, https, ftp, ftps, and file if allowed (off by default:
 * the URLs come from the central system, which must not get to read or
 * write the station's local files). Redirects are followed (at most 5,
 * never to file://). TLS peers are always verified, against the system
 * store or the configured CA file.
 *
 * - Download: url -> path. Data is streamed to "<path>.part", which is
 *   renamed to path on success and removed on failure or cancel, so path
 *   only ever holds a complete file. Limited to max_download bytes.
 * - Upload: path -> url. http(s): PUT to url; ftp(s): STOR; file: the file
 *   is written there. (For OCPP the url is the location joined with the
 *   file name: transfer_join_url.)
 *
 * Every transfer started gets exactly one done callback, always from the
 * loop and never from inside transfer_start, unless it is cancelled first.
 * An HTTP status of 400 or more is an error. */
#ifndef EV_NET_TRANSFER_H
#define EV_NET_TRANSFER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct transfer_mgr;
struct transfer;

enum transfer_dir { TRANSFER_DOWNLOAD, TRANSFER_UPLOAD };

struct transfer_config {
	const char *ca_file;          /* https/ftps: CA bundle; NULL: the system store */
	uint64_t max_download;        /* bytes; 0: 1 GiB */
	unsigned connect_timeout_s;   /* 0: 30 s */
	unsigned low_speed_bytes;     /* a transfer slower than this (bytes/s) ... */
	unsigned low_speed_time_s;    /* ... for this long fails; 0: 1 byte/s for 60 s */
	int allow_file_urls;          /* accept file:// (tests, local setups) */
};

struct transfer_result {
	int status;                   /* 0, or a negative errno: -ETIMEDOUT (timeout or
				       * too slow), -EFBIG (over the size limit),
				       * -ENOENT (a file missing), -EPROTONOSUPPORT
				       * (scheme not allowed), -EIO (the rest) */
	const char *error;            /* NULL on success, else why (curl's message,
				       * "HTTP status 404", ...); borrowed */
	long http_status;             /* last HTTP status; 0 if not HTTP */
	uint64_t bytes;               /* payload bytes transferred */
};

typedef void (*transfer_done_fn)(void *arg, const struct transfer_result *r);

/* The strings in cfg are copied; cfg may be NULL for the defaults. */
struct transfer_mgr *transfer_mgr_new(uv_loop_t *loop, const struct transfer_config *cfg);
/* Cancels every transfer (no callbacks), closes the handles; the memory
 * goes once the loop has run their close callbacks. Not from a callback. */
void transfer_mgr_free(struct transfer_mgr *m);

/* Starts a transfer; timeout_s bounds the whole transfer (0: none, the
 * low-speed limit still applies). The first one loads libcurl (dlopen).
 * NULL only when out of memory or libcurl cannot be loaded (logged): a bad
 * URL or a missing file is reported through fn like any other failure.
 * The handle is valid until fn is called or transfer_cancel. */
struct transfer *transfer_start(struct transfer_mgr *m, enum transfer_dir dir,
				const char *url, const char *path, unsigned timeout_s,
				transfer_done_fn fn, void *arg);
/* Stops the transfer; fn is not called. A partial download is removed. */
void transfer_cancel(struct transfer *t);

/* location + "/" + name, the name percent-encoded, inserted before any
 * "?query" or "#fragment" of location; no slash is doubled. The result is
 * malloc'd; NULL when out of memory. */
char *transfer_join_url(const char *location, const char *name);
/* Copies url without the password of its user info (for logs). */
void transfer_redact_url(const char *url, char *out, size_t size);

#endif
