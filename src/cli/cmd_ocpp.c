/* evctl ocpp: protocol tools that need no central system.
 *
 *   evctl ocpp validate [--ocpp VERSION] [FILE...]
 *
 * Reads OCPP-J frames, one per line (a station's message log), and says
 * for each whether it is valid and, if not, which CALLERROR it would get. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmd.h"
#include "ocpp/frame.h"
#include "ocpp/validate.h"
#include "util/exitcode.h"

struct validate_opts {
	const char *ocpp;
	int quiet;
};

static const char *const ocpp_versions[] = { "1.6", "2.0.1", NULL };

static const struct opt validate_opts[] = {
	{ OPT_STRING, 0, "ocpp", "VERSION", "OCPP version of the frames: 1.6 (default) or 2.0.1",
	  offsetof(struct validate_opts, ocpp), ocpp_versions, 0, 0 },
	{ OPT_BOOL, 'q', "quiet", NULL, "print only the frames that are not valid",
	  offsetof(struct validate_opts, quiet), NULL, 0, 0 },
	OPT_END_MARK
};

/* The verdict on one frame. */
struct verdict {
	int valid;
	int type;
	char id[OCPP_ID_MAX + 1];
	const char *action;          /* borrowed from the frame or the CALL map */
	struct ocpp_violation v;
};

struct validation {
	enum ocpp_version version;
	const struct ocpp_schema_set *set;
	json_t *calls;     /* id -> action of CALLs not yet answered, per file */
	char *action_buf;  /* the matched action's name, kept while printing */
	int json, quiet;
	unsigned long frames, invalid;
};

static void set_violation(struct verdict *r, enum ocpp_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_violation(struct verdict *r, enum ocpp_error code, const char *fmt, ...)
{
	va_list ap;
	r->v.code = code;
	va_start(ap, fmt);
	vsnprintf(r->v.reason, sizeof r->v.reason, fmt, ap);
	va_end(ap);
}

/* Finds and forgets the CALL an answer belongs to. */
static int match_call(struct validation *val, struct verdict *r)
{
	json_t *action = json_object_get(val->calls, r->id);

	if (!action)
		return -1;
	free(val->action_buf);
	val->action_buf = strdup(json_string_value(action));
	r->action = val->action_buf;
	json_object_del(val->calls, r->id);
	return 0;
}

static void check_frame(struct validation *val, const char *text, size_t len, struct verdict *r)
{
	struct ocpp_frame f;

	memset(r, 0, sizeof *r);
	if (ocpp_frame_parse(text, len, &f, &r->v) == 0) {
		switch (f.type) {
		case OCPP_CALL:
			r->action = f.action;
			json_object_set_new(val->calls, f.id, json_string(f.action));
			ocpp_validate_message(val->set, f.action, 0, f.payload, &r->v);
			break;
		case OCPP_CALLRESULT:
			snprintf(r->id, sizeof r->id, "%s", f.id);
			if (match_call(val, r))
				set_violation(r, OCPP_ERR_PROTOCOL, "no CALL with id '%s' before this answer", f.id);
			else
				ocpp_validate_message(val->set, r->action, 1, f.payload, &r->v);
			break;
		case OCPP_CALLERROR: {
			enum ocpp_error e = ocpp_error_parse(f.error_code);
			snprintf(r->id, sizeof r->id, "%s", f.id);
			if (e == OCPP_ERR_NONE || strcmp(ocpp_error_name(val->version, e), f.error_code) != 0)
				set_violation(r, OCPP_ERR_PROPERTY_CONSTRAINT,
					      "'%.60s' is not an error code of this OCPP version", f.error_code);
			else if (strcmp(f.id, "-1") != 0 && match_call(val, r))
				set_violation(r, OCPP_ERR_PROTOCOL, "no CALL with id '%s' before this answer", f.id);
			break;
		}
		default:
			r->v.code = OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED;
			snprintf(r->v.reason, sizeof r->v.reason, "%s frames do not exist in OCPP %s",
				 ocpp_msgtype_name(f.type), ocpp_version_name(val->version));
		}
	}
	r->type = f.type;
	if (!r->id[0])
		snprintf(r->id, sizeof r->id, "%s", f.id);
	/* f.action is borrowed from the frame: copy before clearing it. */
	if (r->action == f.action && f.action) {
		free(val->action_buf);
		val->action_buf = strdup(f.action);
		r->action = val->action_buf;
	}
	r->valid = r->v.code == OCPP_ERR_NONE;
	ocpp_frame_clear(&f);
}

static void print_verdict(const struct validation *val, const char *file, unsigned long line,
			  const struct verdict *r)
{
	const char *code = r->valid ? NULL : ocpp_error_name(val->version, r->v.code);

	if (val->json) {
		json_t *o = json_pack("{s:s, s:I, s:b, s:s?, s:s?, s:s?, s:s?, s:s?}",
				      "file", file, "line", (json_int_t)line, "valid", r->valid,
				      "type", r->type ? ocpp_msgtype_name(r->type) : NULL,
				      "id", strcmp(r->id, "-1") ? r->id : NULL,
				      "action", r->action, "code", code,
				      "reason", r->valid ? NULL : r->v.reason);
		if (o) {
			char *text = json_dumps(o, JSON_COMPACT);
			if (text)
				puts(text);
			free(text);
			json_decref(o);
		}
		return;
	}
	if (r->valid && val->quiet)
		return;
	if (r->valid)
		printf("%s:%lu: ok %s%s%s\n", file, line, ocpp_msgtype_name(r->type),
		       r->action ? " " : "", r->action ? r->action : "");
	else
		printf("%s:%lu: %s: %s\n", file, line, code, r->v.reason);
}

static int blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Returns 0, or -1 if the file could not be read. */
static int validate_stream(struct validation *val, FILE *in, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;

	json_object_clear(val->calls);
	while ((len = getline(&line, &cap, in)) >= 0) {
		struct verdict r;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (blank(line))
			continue;
		check_frame(val, line, (size_t)len, &r);
		val->frames++;
		val->invalid += !r.valid;
		print_verdict(val, name, lineno, &r);
	}
	free(line);
	if (ferror(in)) {
		cmd_error("%s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

static int exec_validate(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct validate_opts *opts = opts_;
	struct validation val = { .json = ctx->json, .quiet = opts->quiet };
	int io_error = 0;

	if (ocpp_version_parse(opts->ocpp ? opts->ocpp : "1.6", &val.version)) {
		cmd_error("ocpp validate: unknown OCPP version '%s' (use 1.6 or 2.0.1)", opts->ocpp);
		return EV_EXIT_USAGE;
	}
	val.set = ocpp_schemas(val.version);
	val.calls = json_object();
	if (!val.calls) {
		cmd_error("out of memory");
		return EV_EXIT_SOFTWARE;
	}
	if (argc < 2) {
		io_error |= validate_stream(&val, stdin, "-");
	}
	for (int i = 1; i < argc; i++) {
		FILE *in = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
		if (!in) {
			cmd_error("%s: %s", argv[i], strerror(errno));
			io_error = 1;
			continue;
		}
		io_error |= validate_stream(&val, in, argv[i]);
		if (in != stdin)
			fclose(in);
	}
	if (!ctx->json && !opts->quiet)
		printf("%lu frame%s, %lu invalid\n", val.frames, val.frames == 1 ? "" : "s", val.invalid);
	json_decref(val.calls);
	free(val.action_buf);
	if (io_error)
		return EV_EXIT_IO;
	return val.invalid ? EV_EXIT_FAILURE : EV_EXIT_OK;
}

const struct cmd ocpp_commands[] = {
	{ .name = "validate", .operands = "[FILE...]",
	  .summary = "check OCPP-J frames against the official schemas",
	  .description =
	  "Reads frames one per line from each FILE (or standard input) and prints,\n"
	  "for each, 'ok' or the CALLERROR code it would get and why. A CALLRESULT or\n"
	  "CALLERROR is checked against the CALL with the same id earlier in the same\n"
	  "file. Blank lines are skipped. With --json, one object per frame:\n"
	  "file, line, valid, type, id, action, code, reason.\n\n"
	  "exit status: 0 every frame valid, 1 some frame invalid, 4 a FILE unreadable.",
	  .opts = validate_opts, .opts_size = sizeof(struct validate_opts),
	  .exec = exec_validate },
	{ .name = NULL }
};
