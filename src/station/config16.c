#include "config.h"
#include "station/config16.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/utf8.h"

#define I32_MAX 2147483647L

/* Measurand (7.31), as the schema spells it. */
static const char *const measurands[] = {
	"Energy.Active.Export.Register", "Energy.Active.Import.Register",
	"Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
	"Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
	"Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
	"Power.Active.Export", "Power.Active.Import", "Power.Offered",
	"Power.Reactive.Export", "Power.Reactive.Import", "Power.Factor",
	"Current.Import", "Current.Export", "Current.Offered",
	"Voltage", "Frequency", "Temperature", "SoC", "RPM", NULL,
};

/* Phase (7.34), the optional suffix of a measurand in a CSL (9.1.17). */
static const char *const phases[] = {
	"L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1", NULL,
};

/* Measurands no phase applies to. */
static const char *const phaseless[] = { "SoC", "Temperature", "RPM", NULL };

static const char *const rotations[] = {
	"NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR", NULL,
};

/* In the order of the CONFIG16_* bits. */
static const char *const profile_names[] = {
	"Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation",
	"SmartCharging", "RemoteTrigger", NULL,
};

static const char *const rate_units[] = { "Current", "Power", NULL };
static const char *const file_protocols[] = { "FTP", "FTPS", "HTTP", "HTTPS", NULL };

#define KEY(n, p, t, a) .name = (n), .profile = CONFIG16_##p, .type = CONFIG16_##t, \
	.access = CONFIG16_##a
#define REQ .required = 1
#define ON .on = 1
#define RANGE(lo, hi) .min = (lo), .max = (hi)
#define MEASURANDS(limit) .syntax = CONFIG16_MEASURANDS, .members = measurands, \
	.max_items = (limit)

/* Chapter 9 with the errata, then the security whitepaper (chapter 7).
 * Defaults and ranges where the spec gives none are ours; no key needs a
 * reboot: the station reads each key when it uses it. */
static const struct config16_def standard[] = {
	/* 9.1 Core */
	{ KEY("AllowOfflineTxForUnknownId", CORE, BOOL, RW), ON, .def = "false" },
	{ KEY("AuthorizationCacheEnabled", CORE, BOOL, RW), ON, .def = "false" },
	{ KEY("AuthorizeRemoteTxRequests", CORE, BOOL, RW), REQ, .def = "false" },
	{ KEY("BlinkRepeat", CORE, INT, RW), .def = "0", RANGE(0, I32_MAX) },
	{ KEY("ClockAlignedDataInterval", CORE, INT, RW), REQ, .def = "0", RANGE(0, 86400) },
	{ KEY("ConnectionTimeOut", CORE, INT, RW), REQ, .def = "60", RANGE(0, I32_MAX) },
	{ KEY("ConnectorPhaseRotation", CORE, CSL, RW), REQ, .def = "1.Unknown",
	  .syntax = CONFIG16_PHASE_ROTATION, .members = rotations,
	  .max_items = "ConnectorPhaseRotationMaxLength" },
	{ KEY("ConnectorPhaseRotationMaxLength", CORE, INT, R), ON, .def = "16", RANGE(0, I32_MAX) },
	{ KEY("GetConfigurationMaxKeys", CORE, INT, R), REQ, .def = "100", RANGE(1, I32_MAX) },
	{ KEY("HeartbeatInterval", CORE, INT, RW), REQ, .def = "300", RANGE(0, I32_MAX) },
	{ KEY("LightIntensity", CORE, INT, RW), .def = "100", RANGE(0, 100) },
	{ KEY("LocalAuthorizeOffline", CORE, BOOL, RW), REQ, .def = "true" },
	{ KEY("LocalPreauthorize", CORE, BOOL, RW), REQ, .def = "false" },
	{ KEY("MaxEnergyOnInvalidId", CORE, INT, RW), .def = "0", RANGE(0, I32_MAX) },
	{ KEY("MessageTimeout", CORE, INT, RW), ON, .def = "30", RANGE(1, I32_MAX) },
	{ KEY("MeterValuesAlignedData", CORE, CSL, RW), REQ, .def = "Energy.Active.Import.Register",
	  MEASURANDS("MeterValuesAlignedDataMaxLength") },
	{ KEY("MeterValuesAlignedDataMaxLength", CORE, INT, R), ON, .def = "20", RANGE(0, I32_MAX) },
	{ KEY("MeterValuesSampledData", CORE, CSL, RW), REQ, .def = "Energy.Active.Import.Register",
	  MEASURANDS("MeterValuesSampledDataMaxLength") },
	{ KEY("MeterValuesSampledDataMaxLength", CORE, INT, R), ON, .def = "20", RANGE(0, I32_MAX) },
	{ KEY("MeterValueSampleInterval", CORE, INT, RW), REQ, .def = "60", RANGE(0, I32_MAX) },
	{ KEY("MinimumStatusDuration", CORE, INT, RW), ON, .def = "0", RANGE(0, I32_MAX) },
	{ KEY("NumberOfConnectors", CORE, INT, R), REQ, .def = "1", RANGE(1, I32_MAX) },
	{ KEY("ResetRetries", CORE, INT, RW), REQ, .def = "3", RANGE(0, I32_MAX) },
	{ KEY("StopTransactionMaxMeterValues", CORE, INT, R), .def = "100", RANGE(0, I32_MAX) },
	{ KEY("StopTransactionOnEVSideDisconnect", CORE, BOOL, RW), ON, .def = "true" },
	{ KEY("StopTransactionOnInvalidId", CORE, BOOL, RW), REQ, .def = "true" },
	{ KEY("StopTxnAlignedData", CORE, CSL, RW), REQ, .def = "",
	  MEASURANDS("StopTxnAlignedDataMaxLength") },
	{ KEY("StopTxnAlignedDataMaxLength", CORE, INT, R), ON, .def = "20", RANGE(0, I32_MAX) },
	{ KEY("StopTxnSampledData", CORE, CSL, RW), REQ, .def = "",
	  MEASURANDS("StopTxnSampledDataMaxLength") },
	{ KEY("StopTxnSampledDataMaxLength", CORE, INT, R), ON, .def = "20", RANGE(0, I32_MAX) },
	{ KEY("SupportedFeatureProfiles", CORE, CSL, R), REQ, .def = "Core", .members = profile_names,
	  .max_items = "SupportedFeatureProfilesMaxLength" },
	{ KEY("SupportedFeatureProfilesMaxLength", CORE, INT, R), .def = "6", RANGE(0, I32_MAX) },
	{ KEY("TransactionMessageAttempts", CORE, INT, RW), REQ, .def = "3", RANGE(0, I32_MAX) },
	{ KEY("TransactionMessageRetryInterval", CORE, INT, RW), REQ, .def = "60", RANGE(0, I32_MAX) },
	{ KEY("UnlockConnectorOnEVSideDisconnect", CORE, BOOL, RW), REQ, .def = "true" },
	{ KEY("WebSocketPingInterval", CORE, INT, RW), ON, .def = "60", RANGE(0, I32_MAX) },
	/* 9.2 Local Auth List Management */
	{ KEY("LocalAuthListEnabled", LOCAL_AUTH_LIST, BOOL, RW), REQ, .def = "true" },
	{ KEY("LocalAuthListMaxLength", LOCAL_AUTH_LIST, INT, R), REQ, .def = "1000", RANGE(0, I32_MAX) },
	{ KEY("SendLocalListMaxLength", LOCAL_AUTH_LIST, INT, R), REQ, .def = "100", RANGE(0, I32_MAX) },
	/* 9.3 Reservation */
	{ KEY("ReserveConnectorZeroSupported", RESERVATION, BOOL, R), ON, .def = "false" },
	/* 9.4 Smart Charging */
	{ KEY("ChargeProfileMaxStackLevel", SMART_CHARGING, INT, R), REQ, .def = "10", RANGE(0, I32_MAX) },
	{ KEY("ChargingScheduleAllowedChargingRateUnit", SMART_CHARGING, CSL, R), REQ,
	  .def = "Current,Power", .members = rate_units },
	{ KEY("ChargingScheduleMaxPeriods", SMART_CHARGING, INT, R), REQ, .def = "24", RANGE(1, I32_MAX) },
	{ KEY("ConnectorSwitch3to1PhaseSupported", SMART_CHARGING, BOOL, R), ON, .def = "false" },
	{ KEY("MaxChargingProfilesInstalled", SMART_CHARGING, INT, R), REQ, .def = "20", RANGE(0, I32_MAX) },
	/* 9.5 Firmware Management (errata 3.90) */
	{ KEY("SupportedFileTransferProtocols", FIRMWARE_MANAGEMENT, CSL, R), ON, .def = "HTTP,HTTPS",
	  .members = file_protocols },
	/* Security whitepaper, chapter 7 */
	{ KEY("AdditionalRootCertificateCheck", SECURITY, BOOL, R), ON, .def = "false" },
	{ KEY("AuthorizationKey", SECURITY, STRING, W), ON, .syntax = CONFIG16_PASSWORD },
	{ KEY("CertificateSignedMaxChainSize", SECURITY, INT, R), ON, .def = "10000", RANGE(0, 10000) },
	{ KEY("CertificateStoreMaxLength", SECURITY, INT, R), ON, .def = "10", RANGE(0, I32_MAX) },
	{ KEY("CpoName", SECURITY, STRING, RW), ON },
	{ KEY("SecurityProfile", SECURITY, INT, RW), ON, .def = "0", RANGE(0, 3),
	  .syntax = CONFIG16_RAISE_ONLY },
};

#define N_STANDARD (sizeof standard / sizeof standard[0])

struct entry {
	const struct config16_def *def;
	char *value;
	const char *const *allowed;  /* CSL members accepted now */
	unsigned char on, readonly, vendor;
};

struct config16 {
	struct entry *e;
	size_t n, cap;
	unsigned profiles;
	const struct config16_ops *ops;
	void *ctx;
};

const struct config16_def *config16_standard(size_t *n)
{
	*n = N_STANDARD;
	return standard;
}

const char *config16_status_name(enum config16_status s)
{
	switch (s) {
	case CONFIG16_ACCEPTED: return "Accepted";
	case CONFIG16_REJECTED: return "Rejected";
	case CONFIG16_REBOOT_REQUIRED: return "RebootRequired";
	case CONFIG16_NOT_SUPPORTED: return "NotSupported";
	}
	return "Rejected";
}

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static struct entry *find(const struct config16 *cfg, const char *key)
{
	if (!key)
		return NULL;
	for (size_t i = 0; i < cfg->n; i++)
		if (strcasecmp(cfg->e[i].def->name, key) == 0)
			return &cfg->e[i];
	return NULL;
}

static int present(const struct config16 *cfg, const struct entry *e)
{
	if (e->vendor)
		return 1;
	return (cfg->profiles & e->def->profile) && (e->def->required || e->on);
}

static struct entry *find_present(const struct config16 *cfg, const char *key)
{
	struct entry *e = find(cfg, key);
	return e && present(cfg, e) ? e : NULL;
}

/* A decimal 32-bit integer, nothing around it. */
static int parse_int(const char *s, long *out)
{
	const char *p = s + (*s == '-');
	long long v = 0;

	if (!*p)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > I32_MAX + 1LL)
			return -1;
	}
	v = *s == '-' ? -v : v;
	if (v > I32_MAX)
		return -1;
	*out = (long)v;
	return 0;
}

/* Values are CiStrings: "TRUE" is true. */
static int parse_bool(const char *s, int *out)
{
	if (strcasecmp(s, "true") == 0)
		*out = 1;
	else if (strcasecmp(s, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static const char *member(const char *const *list, const char *s, size_t len)
{
	for (; list && *list; list++)
		if (strlen(*list) == len && strncasecmp(*list, s, len) == 0)
			return *list;
	return NULL;
}

static int int_of(const struct config16 *cfg, const char *key, long *out)
{
	const struct entry *e = find_present(cfg, key);
	return e && e->value && e->def->type == CONFIG16_INT ? parse_int(e->value, out) : -1;
}

/* Writes the canonical spelling of a measurand item ("voltage.l1" ->
 * "Voltage.L1") to out. */
static int measurand_item(const struct entry *e, const char *s, size_t len, char *out,
			  size_t outlen, char *why, size_t whylen)
{
	for (const char *const *m = measurands; *m; m++) {
		size_t ml = strlen(*m);
		const char *ph = NULL;

		if (len < ml || strncasecmp(*m, s, ml) != 0)
			continue;
		if (len > ml && (s[ml] != '.' || !(ph = member(phases, s + ml + 1, len - ml - 1))))
			continue;
		if (!member(e->allowed, *m, ml))
			return fail(why, whylen, "%s: measurand %s is not supported", e->def->name, *m);
		if (ph && member(phaseless, *m, ml))
			return fail(why, whylen, "%s: %s has no phases", e->def->name, *m);
		snprintf(out, outlen, "%s%s%s", *m, ph ? "." : "", ph ? ph : "");
		return 0;
	}
	return fail(why, whylen, "%s: '%.*s' is not a measurand", e->def->name, (int)len, s);
}

/* "<connector>.<rotation>" (9.1.7), the connector at most NumberOfConnectors. */
static int rotation_item(const struct config16 *cfg, const struct entry *e, const char *s,
			 size_t len, char *out, size_t outlen, char *why, size_t whylen)
{
	const char *dot = memchr(s, '.', len), *rot;
	long long conn = 0;
	long n;
	size_t i;

	if (!dot)
		return fail(why, whylen, "%s: '%.*s' is not <connector>.<rotation>",
			    e->def->name, (int)len, s);
	for (i = 0; s + i < dot && s[i] >= '0' && s[i] <= '9' && conn <= I32_MAX; i++)
		conn = conn * 10 + (s[i] - '0');
	if (i == 0 || s + i != dot)
		return fail(why, whylen, "%s: '%.*s' is not <connector>.<rotation>",
			    e->def->name, (int)len, s);
	if (int_of(cfg, "NumberOfConnectors", &n) == 0 && conn > n)
		return fail(why, whylen, "%s: no connector %.*s (NumberOfConnectors is %ld)",
			    e->def->name, (int)i, s, n);
	rot = member(e->allowed, dot + 1, len - i - 1);
	if (!rot)
		return fail(why, whylen, "%s: '%.*s' is not a phase rotation",
			    e->def->name, (int)(len - i - 1), dot + 1);
	snprintf(out, outlen, "%lld.%s", conn, rot);
	return 0;
}

/* Whether list (canonical, comma-separated) has an item that is item, or
 * for phase rotations names the same connector. */
static int csl_has(const char *list, const char *item, int by_connector)
{
	size_t len = by_connector ? strcspn(item, ".") + 1 : strlen(item);

	for (const char *p = list; *p; ) {
		size_t il = strcspn(p, ",");
		if (by_connector ? il >= len && strncmp(p, item, len) == 0
				 : il == len && strncasecmp(p, item, len) == 0)
			return 1;
		p += il;
		p += *p == ',';
	}
	return 0;
}

/* A member of the key's list (spelled as the list does), or anything when
 * the list is free. */
static int plain_item(const struct entry *e, const char *s, size_t len, char *out,
		      size_t outlen, char *why, size_t whylen)
{
	const char *m = e->allowed ? member(e->allowed, s, len) : s;

	if (!m)
		return fail(why, whylen, "%s: '%.*s' is not one of its values",
			    e->def->name, (int)len, s);
	snprintf(out, outlen, "%.*s", (int)len, m);
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Checks a CSL item by item; the canonical list goes to out (items trimmed,
 * members spelled as the spec does). */
static int csl_normalize(const struct config16 *cfg, const struct entry *e, const char *value,
			 char *out, char *why, size_t whylen)
{
	const struct config16_def *d = e->def;
	const char *p = value;
	char item[CONFIG16_VALUE_MAX + 1];
	size_t n = 0;
	long max;
	int rc;

	*out = '\0';
	while (is_space(*p))
		p++;
	if (!*p)
		return 0;   /* the empty list, e.g. StopTxnSampledData: nothing */
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *s = p, *next = p[len] == ',' ? p + len + 1 : NULL;

		while (len && is_space(*s))
			s++, len--;
		while (len && is_space(s[len - 1]))
			len--;
		if (!len)
			return fail(why, whylen, "%s: empty item in the list", d->name);
		if (d->syntax == CONFIG16_MEASURANDS)
			rc = measurand_item(e, s, len, item, sizeof item, why, whylen);
		else if (d->syntax == CONFIG16_PHASE_ROTATION)
			rc = rotation_item(cfg, e, s, len, item, sizeof item, why, whylen);
		else
			rc = plain_item(e, s, len, item, sizeof item, why, whylen);
		if (rc)
			return rc;
		if (csl_has(out, item, d->syntax == CONFIG16_PHASE_ROTATION))
			return fail(why, whylen, "%s: '%s' is listed twice", d->name, item);
		if (strlen(out) + 1 + strlen(item) > CONFIG16_VALUE_MAX)
			return fail(why, whylen, "%s: longer than %d characters", d->name,
				    CONFIG16_VALUE_MAX);
		if (n++)
			strcat(out, ",");
		strcat(out, item);
		if (!next)
			break;
		p = next;
	}
	if (d->max_items && int_of(cfg, d->max_items, &max) == 0 && (long)n > max)
		return fail(why, whylen, "%s: %zu items, at most %ld (%s)", d->name, n, max, d->max_items);
	return 0;
}

static int int_normalize(const struct config16 *cfg, const struct entry *e, const char *value,
			 int local, char *out, char *why, size_t whylen)
{
	const struct config16_def *d = e->def;
	long v, cur;

	if (parse_int(value, &v))
		return fail(why, whylen, "%s: '%.40s' is not an integer", d->name, value);
	if (v < d->min || v > d->max)
		return fail(why, whylen, "%s: %ld is out of range %ld..%ld", d->name, v, d->min, d->max);
	/* Lowering the security profile is not done over OCPP (A00.FR.005). */
	if (d->syntax == CONFIG16_RAISE_ONLY && !local && e->value &&
	    parse_int(e->value, &cur) == 0 && v < cur)
		return fail(why, whylen, "%s: cannot be lowered from %ld", d->name, cur);
	snprintf(out, CONFIG16_VALUE_MAX + 1, "%ld", v);
	return 0;
}

/* Validates value for e; the form to store goes to *out (malloc'd). */
static int normalize(const struct config16 *cfg, const struct entry *e, const char *value,
		     int local, char **out, char *why, size_t whylen)
{
	const struct config16_def *d = e->def;
	size_t len = strlen(value);
	char buf[CONFIG16_VALUE_MAX + 1];
	int b, rc = 0;

	for (const char *p = value; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return fail(why, whylen, "%s: only printable ASCII is allowed", d->name);
	if (len > CONFIG16_VALUE_MAX)
		return fail(why, whylen, "%s: longer than %d characters", d->name, CONFIG16_VALUE_MAX);
	switch (d->type) {
	case CONFIG16_BOOL:
		if (parse_bool(value, &b))
			return fail(why, whylen, "%s: '%.40s' is not true or false", d->name, value);
		strcpy(buf, b ? "true" : "false");
		break;
	case CONFIG16_INT:
		rc = int_normalize(cfg, e, value, local, buf, why, whylen);
		break;
	case CONFIG16_CSL:
		rc = csl_normalize(cfg, e, value, buf, why, whylen);
		break;
	case CONFIG16_STRING:
		/* Security whitepaper A00.FR.205: at least 16, at most 40. */
		if (d->syntax == CONFIG16_PASSWORD && (len < 16 || len > 40))
			return fail(why, whylen, "%s: must be 16 to 40 characters", d->name);
		strcpy(buf, value);
		break;
	}
	if (rc)
		return rc;
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

static int grow(struct config16 *cfg)
{
	struct entry *e;
	size_t cap = cfg->cap ? cfg->cap * 2 : N_STANDARD + 8;

	if (cfg->n < cfg->cap)
		return 0;
	e = realloc(cfg->e, cap * sizeof *e);
	if (!e)
		return -ENOMEM;
	cfg->e = e;
	cfg->cap = cap;
	return 0;
}

static const char *const *default_members(const struct config16_def *d)
{
	if (d->members)
		return d->members;
	if (d->syntax == CONFIG16_MEASURANDS)
		return measurands;
	return d->syntax == CONFIG16_PHASE_ROTATION ? rotations : NULL;
}

static void init_entry(struct entry *e, const struct config16_def *d)
{
	memset(e, 0, sizeof *e);
	e->def = d;
	e->allowed = default_members(d);
	e->on = d->on;
	e->readonly = d->access == CONFIG16_R;
}

static int set_value(struct entry *e, const char *value)
{
	char *v = NULL;

	if (value && !(v = strdup(value)))
		return -ENOMEM;
	free(e->value);
	e->value = v;
	return 0;
}

/* SupportedFeatureProfiles says what the station was created with. */
static int set_profiles(struct config16 *cfg)
{
	char buf[CONFIG16_VALUE_MAX + 1] = "";

	for (int i = 0; profile_names[i]; i++) {
		if (!(cfg->profiles & (1u << i)))
			continue;
		if (*buf)
			strcat(buf, ",");
		strcat(buf, profile_names[i]);
	}
	return set_value(find(cfg, "SupportedFeatureProfiles"), buf);
}

struct config16 *config16_new(unsigned profiles, const struct config16_ops *ops, void *ctx)
{
	struct config16 *cfg = calloc(1, sizeof *cfg);

	if (!cfg || grow(cfg)) {
		free(cfg);
		return NULL;
	}
	cfg->profiles = (profiles & CONFIG16_ALL_PROFILES) | CONFIG16_CORE | CONFIG16_VENDOR;
	cfg->ops = ops;
	cfg->ctx = ctx;
	for (size_t i = 0; i < N_STANDARD; i++) {
		struct entry *e = &cfg->e[cfg->n++];
		init_entry(e, &standard[i]);
		if (set_value(e, standard[i].def)) {
			config16_free(cfg);
			return NULL;
		}
	}
	if (set_profiles(cfg)) {
		config16_free(cfg);
		return NULL;
	}
	return cfg;
}

void config16_free(struct config16 *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++)
		free(cfg->e[i].value);
	free(cfg->e);
	free(cfg);
}

static int valid_name(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (s[n] < 0x21 || s[n] > 0x7e)
			return 0;
	return n >= 1 && n <= CONFIG16_KEY_MAX;
}

int config16_add(struct config16 *cfg, const struct config16_def *d)
{
	struct entry e;
	char *v = NULL;
	int rc;

	if (!d || !d->name || !valid_name(d->name) || d->type > CONFIG16_STRING ||
	    d->access > CONFIG16_W || d->syntax > CONFIG16_RAISE_ONLY ||
	    (d->type == CONFIG16_INT && d->min > d->max))
		return -EINVAL;
	if (find(cfg, d->name))
		return -EEXIST;
	init_entry(&e, d);
	e.vendor = 1;
	if (d->def && (rc = normalize(cfg, &e, d->def, 1, &v, NULL, 0)))
		return rc;
	if (grow(cfg)) {
		free(v);
		return -ENOMEM;
	}
	e.value = v;
	cfg->e[cfg->n++] = e;
	return 0;
}

int config16_enable(struct config16 *cfg, const char *key, int on)
{
	struct entry *e = find(cfg, key);

	if (!e)
		return -ENOENT;
	if (e->vendor || !(cfg->profiles & e->def->profile) || (e->def->required && !on))
		return -EPERM;
	e->on = !!on;
	return 0;
}

int config16_set_readonly(struct config16 *cfg, const char *key, int readonly)
{
	struct entry *e = find(cfg, key);

	if (!e)
		return -ENOENT;
	if (e->def->access != CONFIG16_RW)
		return -EPERM;
	e->readonly = !!readonly;
	return 0;
}

int config16_restrict(struct config16 *cfg, const char *key, const char *const *members)
{
	struct entry *e = find(cfg, key);

	if (!e)
		return -ENOENT;
	if (e->def->syntax != CONFIG16_MEASURANDS)
		return -EINVAL;
	for (const char *const *m = members; m && *m; m++)
		if (!member(measurands, *m, strlen(*m)))
			return -EINVAL;
	e->allowed = members ? members : default_members(e->def);
	return 0;
}

int config16_set_local(struct config16 *cfg, const char *key, const char *value,
		       char *why, size_t whylen)
{
	struct entry *e = find(cfg, key);
	char *v = NULL;
	int rc;

	if (!e) {
		fail(why, whylen, "unknown key '%.50s'", key ? key : "");
		return -ENOENT;
	}
	if (value && (rc = normalize(cfg, e, value, 1, &v, why, whylen)))
		return rc;
	free(e->value);
	e->value = v;
	return 0;
}

enum config16_status config16_change(struct config16 *cfg, const char *key, const char *value,
				     char *why, size_t whylen)
{
	struct entry *e = find_present(cfg, key);
	char *v;
	int same;

	if (why && whylen)
		*why = '\0';
	if (!e) {
		fail(why, whylen, "unknown key '%.50s'", key ? key : "");
		return CONFIG16_NOT_SUPPORTED;
	}
	if (e->readonly) {
		fail(why, whylen, "%s is read-only", e->def->name);
		return CONFIG16_REJECTED;
	}
	if (!value) {
		fail(why, whylen, "%s: no value", e->def->name);
		return CONFIG16_REJECTED;
	}
	if (normalize(cfg, e, value, 0, &v, why, whylen)) {
		if (why && whylen && !*why)
			fail(why, whylen, "out of memory");
		return CONFIG16_REJECTED;
	}
	if (cfg->ops && cfg->ops->check &&
	    cfg->ops->check(cfg->ctx, e->def->name, v, why, whylen) < 0) {
		if (why && whylen && !*why)
			fail(why, whylen, "%s: refused by the station", e->def->name);
		free(v);
		return CONFIG16_REJECTED;
	}
	same = e->value && strcmp(e->value, v) == 0;
	if (same) {
		free(v);
	} else {
		free(e->value);
		e->value = v;
		if (cfg->ops && cfg->ops->changed)
			cfg->ops->changed(cfg->ctx, e->def->name, e->value);
	}
	return e->def->reboot ? CONFIG16_REBOOT_REQUIRED : CONFIG16_ACCEPTED;
}

const char *config16_get(const struct config16 *cfg, const char *key)
{
	const struct entry *e = find_present(cfg, key);
	return e ? e->value : NULL;
}

int config16_get_bool(const struct config16 *cfg, const char *key, int *out)
{
	const struct entry *e = find_present(cfg, key);

	if (!e || !e->value)
		return -ENOENT;
	return e->def->type == CONFIG16_BOOL && parse_bool(e->value, out) == 0 ? 0 : -EINVAL;
}

int config16_get_int(const struct config16 *cfg, const char *key, long *out)
{
	const struct entry *e = find_present(cfg, key);

	if (!e || !e->value)
		return -ENOENT;
	return e->def->type == CONFIG16_INT && parse_int(e->value, out) == 0 ? 0 : -EINVAL;
}

int config16_csl_contains(const struct config16 *cfg, const char *key, const char *item)
{
	const struct entry *e = find_present(cfg, key);

	if (!e || !e->value || e->def->type != CONFIG16_CSL || !item || !*item)
		return 0;
	return csl_has(e->value, item, 0);
}

int config16_has(const struct config16 *cfg, const char *key)
{
	return find_present(cfg, key) != NULL;
}

int config16_is_readonly(const struct config16 *cfg, const char *key)
{
	const struct entry *e = find_present(cfg, key);
	return e && e->readonly;
}

/* One KeyValue (7.29); a key without a value has none. */
static int append_key(json_t *list, const struct entry *e)
{
	json_t *kv = json_object();

	if (!kv || json_object_set_new(kv, "key", json_string(e->def->name)) ||
	    json_object_set_new(kv, "readonly", json_boolean(e->readonly)) ||
	    (e->value && json_object_set_new(kv, "value", json_string(e->value)))) {
		json_decref(kv);
		return -ENOMEM;
	}
	return json_array_append_new(list, kv) ? -ENOMEM : 0;
}

static int in_list(const json_t *list, const json_t *s)
{
	size_t i;
	json_t *x;

	json_array_foreach(list, i, x)
		if (json_equal(x, s))
			return 1;
	return 0;
}

/* Sorts the requested keys into known (order[], request order, once each)
 * and unknown (once each). */
static int sort_keys(const struct config16 *cfg, const json_t *keys, size_t *order,
		     size_t *n_order, json_t *unknown)
{
	size_t i;
	json_t *k;

	json_array_foreach(keys, i, k) {
		const char *s = json_string_value(k);
		size_t len = json_string_length(k), j;
		/* A name with a NUL in it is nobody's. */
		const struct entry *e = strlen(s) == len ? find_present(cfg, s) : NULL;

		if (e) {
			for (j = 0; j < *n_order && order[j] != (size_t)(e - cfg->e); j++)
				;
			if (j == *n_order)
				order[(*n_order)++] = (size_t)(e - cfg->e);
		} else if (utf8_codepoints(s, len) <= CONFIG16_KEY_MAX && !in_list(unknown, k) &&
			   json_array_append(unknown, k)) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int build(const struct config16 *cfg, const json_t *keys, json_t **out)
{
	json_t *res = NULL, *known = json_array(), *unknown = json_array();
	size_t *order = calloc(cfg->n, sizeof *order), n_order = 0, i;
	int rc = -ENOMEM;

	if (!known || !unknown || !order)
		goto done;
	if (!keys) {
		for (i = 0; i < cfg->n; i++)
			if (present(cfg, &cfg->e[i]))
				order[n_order++] = i;
	} else if (sort_keys(cfg, keys, order, &n_order, unknown)) {
		goto done;
	}
	for (i = 0; i < n_order; i++)
		if (cfg->e[order[i]].def->access != CONFIG16_W && append_key(known, &cfg->e[order[i]]))
			goto done;
	res = json_object();
	if (!res || json_object_set(res, "configurationKey", known) ||
	    (json_array_size(unknown) && json_object_set(res, "unknownKey", unknown))) {
		json_decref(res);
		goto done;
	}
	*out = res;
	rc = 0;
done:
	json_decref(known);
	json_decref(unknown);
	free(order);
	return rc;
}

int config16_get_configuration(const struct config16 *cfg, const json_t *keys, json_t **out)
{
	size_t n = 0, i;
	json_t *k;
	long max;

	*out = NULL;
	if (keys && !json_is_array(keys))
		return -EINVAL;
	json_array_foreach(keys, i, k) {
		if (!json_is_string(k))
			return -EINVAL;
		n++;
	}
	if (n && int_of(cfg, "GetConfigurationMaxKeys", &max) == 0 && (long)n > max)
		return -E2BIG;
	return build(cfg, n ? keys : NULL, out);
}
