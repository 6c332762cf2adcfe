#include "config.h"
#include "ocpp/validate.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>

#include "ocpp/uri_regex.h"
#include "util/rfc3339.h"
#include "util/utf8.h"

#define MAX_DEPTH 32   /* far deeper than any OCPP schema nests */

/* Where the walk is, for error messages: property names and array indexes. */
struct walk {
	struct ocpp_violation *v;
	int depth;
	struct {
		const char *name;   /* NULL: an array index */
		size_t index;
	} seg[MAX_DEPTH];
};

static void render_path(const struct walk *w, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < w->depth && len < size; i++) {
		int n = w->seg[i].name
			? snprintf(buf + len, size - len, "%s%s", len ? "." : "", w->seg[i].name)
			: snprintf(buf + len, size - len, "[%zu]", w->seg[i].index);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

static int fail(struct walk *w, enum ocpp_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct walk *w, enum ocpp_error code, const char *fmt, ...)
{
	char path[160], what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	render_path(w, path, sizeof path);
	w->v->code = code;
	snprintf(w->v->reason, sizeof w->v->reason, "%s%s%s",
		 path[0] ? path : "", path[0] ? ": " : "", what);
	return -1;
}

static const char *json_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE: case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static const char *const type_names[] = {
	[OCPP_JANY] = "any", [OCPP_JOBJECT] = "object", [OCPP_JARRAY] = "array",
	[OCPP_JSTRING] = "string", [OCPP_JINTEGER] = "integer",
	[OCPP_JNUMBER] = "number", [OCPP_JBOOLEAN] = "boolean",
};

/* An integer in JSON Schema is any number without a fractional part. */
static int is_integral(const json_t *j)
{
	if (json_is_integer(j))
		return 1;
	if (json_is_real(j)) {
		double d = json_real_value(j);
		return isfinite(d) && floor(d) == d;
	}
	return 0;
}

static int type_ok(const struct ocpp_schema *s, const json_t *j)
{
	switch (s->type) {
	case OCPP_JOBJECT: return json_is_object(j);
	case OCPP_JARRAY: return json_is_array(j);
	case OCPP_JSTRING: return json_is_string(j);
	case OCPP_JINTEGER: return is_integral(j);
	case OCPP_JNUMBER: return json_is_number(j) && isfinite(json_number_value(j));
	case OCPP_JBOOLEAN: return json_is_boolean(j);
	default: return 1;
	}
}

int ocpp_is_date_time(const char *s)
{
	return rfc3339_parse(s, NULL) == 0;
}

static regex_t uri_regex;
static int uri_regex_ok;
static pthread_once_t uri_once = PTHREAD_ONCE_INIT;

static void uri_compile(void)
{
	uri_regex_ok = regcomp(&uri_regex, OCPP_URI_REGEX,
			       REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
}

int ocpp_is_uri(const char *s)
{
	/* ajv-formats also insists on a '/' or ':' somewhere. */
	if (!strpbrk(s, "/:"))
		return 0;
	pthread_once(&uri_once, uri_compile);
	return uri_regex_ok && regexec(&uri_regex, s, 0, NULL, 0) == 0;
}

static int check_string(struct walk *w, const struct ocpp_schema *s, const json_t *j)
{
	const char *str = json_string_value(j);
	size_t len = json_string_length(j);

	/* Strings may hold \u0000: compare by length, and no format
	 * allows a NUL. */
	int has_nul = strlen(str) != len;

	if (s->n_enum) {
		unsigned i = 0;
		while (i < s->n_enum && (strlen(s->enums[i]) != len || memcmp(str, s->enums[i], len)))
			i++;
		if (i == s->n_enum)
			return fail(w, OCPP_ERR_PROPERTY_CONSTRAINT, "'%.40s' is not an allowed value", str);
	}
	if ((s->flags & OCPP_S_MAX_LENGTH) && utf8_codepoints(str, len) > s->max_length)
		return fail(w, OCPP_ERR_PROPERTY_CONSTRAINT,
			    "longer than %u characters", s->max_length);
	if (s->format == OCPP_FMT_DATE_TIME && (has_nul || !ocpp_is_date_time(str)))
		return fail(w, OCPP_ERR_PROPERTY_CONSTRAINT,
			    "'%.40s' is not an RFC 3339 date-time", str);
	if (s->format == OCPP_FMT_URI && (has_nul || !ocpp_is_uri(str)))
		return fail(w, OCPP_ERR_PROPERTY_CONSTRAINT, "'%.60s' is not a URI", str);
	return 0;
}

static int check_number(struct walk *w, const struct ocpp_schema *s, const json_t *j)
{
	double d = json_number_value(j);

	if ((s->flags & OCPP_S_MINIMUM) && d < s->minimum)
		return fail(w, OCPP_ERR_PROPERTY_CONSTRAINT, "%g is below the minimum %g", d, s->minimum);
	if ((s->flags & OCPP_S_MAXIMUM) && d > s->maximum)
		return fail(w, OCPP_ERR_PROPERTY_CONSTRAINT, "%g is above the maximum %g", d, s->maximum);
	if (s->flags & OCPP_S_MULTIPLE_OF) {
		/* As ocpp-rpc checks it: the quotient within 1e-6 of a whole
		 * number, rounding halves up like JavaScript's Math.round. */
		double q = d / s->multiple_of;
		if (!(fabs(floor(q + 0.5) - q) < 1e-6))
			return fail(w, OCPP_ERR_PROPERTY_CONSTRAINT,
				    "%g is not a multiple of %g", d, s->multiple_of);
	}
	return 0;
}

static int check(struct walk *w, const struct ocpp_schema *s, const json_t *j);

static int check_array(struct walk *w, const struct ocpp_schema *s, const json_t *j)
{
	size_t n = json_array_size(j);

	if (n < s->min_items)
		return fail(w, OCPP_ERR_OCCURRENCE_CONSTRAINT,
			    "needs at least %u item%s", s->min_items, s->min_items == 1 ? "" : "s");
	if ((s->flags & OCPP_S_MAX_ITEMS) && n > s->max_items)
		return fail(w, OCPP_ERR_OCCURRENCE_CONSTRAINT, "more than %u items", s->max_items);
	if (!s->items)
		return 0;
	if (w->depth == MAX_DEPTH)
		return fail(w, OCPP_ERR_FORMAT, "nested too deeply");
	w->seg[w->depth].name = NULL;
	w->depth++;
	for (size_t i = 0; i < n; i++) {
		w->seg[w->depth - 1].index = i;
		if (check(w, s->items, json_array_get(j, i)))
			return -1;
	}
	w->depth--;
	return 0;
}

static int check_object(struct walk *w, const struct ocpp_schema *s, const json_t *j)
{
	size_t known = 0;

	for (unsigned i = 0; i < s->n_props; i++) {
		if (!json_object_get(j, s->props[i].name) && s->props[i].required)
			return fail(w, OCPP_ERR_OCCURRENCE_CONSTRAINT,
				    "required property '%s' is missing", s->props[i].name);
	}
	if (w->depth == MAX_DEPTH)
		return fail(w, OCPP_ERR_FORMAT, "nested too deeply");
	w->depth++;
	for (unsigned i = 0; i < s->n_props; i++) {
		const json_t *value = json_object_get(j, s->props[i].name);
		if (!value)
			continue;
		known++;
		w->seg[w->depth - 1].name = s->props[i].name;
		if (check(w, s->props[i].schema, value))
			return -1;
	}
	w->depth--;
	if ((s->flags & OCPP_S_CLOSED) && known != json_object_size(j)) {
		const char *key;
		const json_t *value;
		json_object_foreach((json_t *)j, key, value) {
			unsigned i = 0;
			while (i < s->n_props && strcmp(s->props[i].name, key) != 0)
				i++;
			if (i == s->n_props)
				return fail(w, OCPP_ERR_FORMAT, "unknown property '%.60s'", key);
		}
	}
	return 0;
}

static int check(struct walk *w, const struct ocpp_schema *s, const json_t *j)
{
	if (!type_ok(s, j))
		return fail(w, OCPP_ERR_TYPE_CONSTRAINT, "expected %s, got %s",
			    type_names[s->type], json_type_name(j));
	switch (json_typeof(j)) {
	case JSON_STRING: return check_string(w, s, j);
	case JSON_INTEGER:
	case JSON_REAL: return check_number(w, s, j);
	case JSON_ARRAY: return check_array(w, s, j);
	case JSON_OBJECT: return check_object(w, s, j);
	default: return 0;
	}
}

int ocpp_validate(const struct ocpp_schema *s, const json_t *payload, struct ocpp_violation *v)
{
	struct walk w = { .v = v };

	v->code = OCPP_ERR_NONE;
	v->reason[0] = '\0';
	return check(&w, s, payload);
}

int ocpp_validate_message(const struct ocpp_schema_set *set, const char *action,
			  int response, const json_t *payload, struct ocpp_violation *v)
{
	const struct ocpp_action *a = ocpp_action_find(set, action);

	if (!a) {
		v->code = OCPP_ERR_NOT_IMPLEMENTED;
		snprintf(v->reason, sizeof v->reason, "OCPP %s has no action '%.60s'",
			 ocpp_version_name(set->version), action);
		return -1;
	}
	return ocpp_validate(response ? a->response : a->request, payload, v);
}
