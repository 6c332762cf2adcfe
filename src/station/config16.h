/* OCPP 1.6 configuration keys of one charging station.
 *
 * A static table describes every standard key: OCPP 1.6 edition 2 chapter 9
 * with the errata (MessageTimeout, StopTransactionMaxMeterValues,
 * SupportedFileTransferProtocols, StopTransactionOnEVSideDisconnect now
 * optional) and the 1.6 security whitepaper's keys. A struct config16 holds
 * one station's values: defaults from the table, then what the station
 * restores from its store and its own configuration (config16_set_local),
 * then what the central system sets (config16_change, ChangeConfiguration).
 *
 * - Which keys a station has: the required keys of the profiles it supports,
 *   plus the optional keys that are on (table default, config16_enable).
 *   An absent key is unknown: NotSupported, unknownKey.
 * - Key names are CiString50Type, so they match case-insensitively; answers
 *   use the table's spelling. Values are CiString500Type: printable ASCII,
 *   at most 500 characters; booleans and CSL members also match
 *   case-insensitively and are stored as the spec spells them.
 * - A change is validated (type, range, CSL members, the CSL's MaxLength
 *   key, read-only) and then offered to ops->check, which can refuse what the
 *   table cannot know (e.g. SecurityProfile 3 needs a client certificate).
 *   ops->changed then persists it and reacts (re-arm the heartbeat timer,
 *   reconnect after SecurityProfile or AuthorizationKey changes).
 * - AuthorizationKey is write-only: GetConfiguration never returns it, not
 *   even when asked by name (it is then in neither list).
 *
 * Pure: no I/O, no clock, no global state. */
#ifndef EV_STATION_CONFIG16_H
#define EV_STATION_CONFIG16_H

#include <stddef.h>
#include <jansson.h>

#define CONFIG16_KEY_MAX 50     /* CiString50Type */
#define CONFIG16_VALUE_MAX 500  /* CiString500Type */

enum config16_type { CONFIG16_BOOL, CONFIG16_INT, CONFIG16_CSL, CONFIG16_STRING };

enum config16_access {
	CONFIG16_R,   /* read-only */
	CONFIG16_RW,  /* a station may still make it read-only (config16_set_readonly) */
	CONFIG16_W,   /* write-only: never in GetConfiguration */
};

/* How the members of a CSL, or a string, are checked beyond the table's
 * member list. */
enum config16_syntax {
	CONFIG16_PLAIN,
	CONFIG16_MEASURANDS,      /* Measurand, optionally ".<Phase>" (Voltage.L1) */
	CONFIG16_PHASE_ROTATION,  /* "<connector>.<rotation>", connector 0..NumberOfConnectors */
	CONFIG16_PASSWORD,        /* AuthorizationKey: 16..40 characters */
	CONFIG16_RAISE_ONLY,      /* SecurityProfile: ChangeConfiguration may not lower it */
};

/* Feature profiles (bits), as in SupportedFeatureProfiles, plus the
 * security whitepaper's keys and the station's own keys. */
enum {
	CONFIG16_CORE = 1 << 0,
	CONFIG16_FIRMWARE_MANAGEMENT = 1 << 1,
	CONFIG16_LOCAL_AUTH_LIST = 1 << 2,
	CONFIG16_RESERVATION = 1 << 3,
	CONFIG16_SMART_CHARGING = 1 << 4,
	CONFIG16_REMOTE_TRIGGER = 1 << 5,
	CONFIG16_SECURITY = 1 << 6,
	CONFIG16_VENDOR = 1 << 7,
	CONFIG16_ALL_PROFILES = (1 << 7) - 1,  /* all of the above but VENDOR */
};

struct config16_def {
	const char *name;
	unsigned profile;             /* one CONFIG16_* bit */
	enum config16_type type;
	enum config16_access access;
	unsigned char required;       /* by the spec, for a station with the profile */
	unsigned char on;             /* optional: present unless the station turns it off */
	unsigned char reboot;         /* a change takes effect after a reboot */
	unsigned char syntax;         /* enum config16_syntax */
	const char *def;              /* default; NULL: no value until set */
	long min, max;                /* CONFIG16_INT: inclusive range */
	const char *const *members;   /* CSL: allowed members, NULL-terminated; NULL: any */
	const char *max_items;        /* CSL: the key that bounds its number of items */
};

/* The standard keys, in chapter order. */
const struct config16_def *config16_standard(size_t *n);

/* ChangeConfiguration.conf statuses. */
enum config16_status {
	CONFIG16_ACCEPTED,
	CONFIG16_REJECTED,
	CONFIG16_REBOOT_REQUIRED,
	CONFIG16_NOT_SUPPORTED,
};

/* "Accepted", "Rejected", "RebootRequired", "NotSupported". */
const char *config16_status_name(enum config16_status s);

struct config16_ops {
	/* Optional: may a valid change be made? Return 0, or a negative errno
	 * and a reason in why: the change is Rejected. */
	int (*check)(void *ctx, const char *key, const char *value, char *why, size_t whylen);
	/* Optional: a ChangeConfiguration changed a value (not called when the
	 * value stays the same, nor for config16_set_local). value is the
	 * stored form; persist it and react. */
	void (*changed)(void *ctx, const char *key, const char *value);
};

struct config16;

/* A station supporting `profiles` (CONFIG16_* bits; Core is implied), its
 * values at their defaults. SupportedFeatureProfiles is set from profiles.
 * ops may be NULL; it and ctx must outlive the object. */
struct config16 *config16_new(unsigned profiles, const struct config16_ops *ops, void *ctx);
void config16_free(struct config16 *cfg);

/* Registers a key of the station's own (profile CONFIG16_VENDOR, which is
 * always supported; `on` and `required` are ignored: it is present). The
 * definition and its strings must outlive cfg. Returns 0; -EINVAL if the
 * name is not 1..50 printable characters, the range or default is bad;
 * -EEXIST if the name is taken (case-insensitively); -ENOMEM. */
int config16_add(struct config16 *cfg, const struct config16_def *def);

/* Turns an optional key of a supported profile on or off. -ENOENT unknown
 * key; -EPERM if the key is required or its profile unsupported. */
int config16_enable(struct config16 *cfg, const char *key, int on);

/* Makes an RW key read-only for this station (e.g.
 * UnlockConnectorOnEVSideDisconnect with a fixed cable), or RW again.
 * -ENOENT; -EPERM if the table does not say RW. */
int config16_set_readonly(struct config16 *cfg, const char *key, int readonly);

/* Narrows the members a measurand CSL accepts to what this station can
 * measure (errata sheet, new section 3.14.4: others are Rejected). members is NULL-terminated,
 * each a standard measurand, and must outlive cfg; NULL lifts the limit.
 * -ENOENT; -EINVAL if the key has no member list or a member is unknown. */
int config16_restrict(struct config16 *cfg, const char *key, const char *const *members);

/* Sets a value on the station's own authority: restoring persisted values,
 * the station's configuration (NumberOfConnectors...), the heartbeat
 * interval from BootNotification.conf. Read-only keys and keys currently
 * off may be set; SecurityProfile may be lowered (the whitepaper leaves
 * that to means other than OCPP). value NULL clears it. Type, range and
 * members are checked as for a change, and so is a CSL's MaxLength: set the
 * limits first. ops are not called. Returns 0; -ENOENT unknown key;
 * -EINVAL bad value (reason in why, which may be NULL); -ENOMEM. */
int config16_set_local(struct config16 *cfg, const char *key, const char *value,
		       char *why, size_t whylen);

/* ChangeConfiguration. The reason for Rejected and NotSupported goes to why
 * (may be NULL). */
enum config16_status config16_change(struct config16 *cfg, const char *key, const char *value,
				     char *why, size_t whylen);

/* Values of present keys, write-only ones included (the station needs
 * AuthorizationKey to connect). The string is valid until the key is next
 * set. NULL if the key is absent or has no value. */
const char *config16_get(const struct config16 *cfg, const char *key);
/* 0; -ENOENT absent key or no value; -EINVAL not of that type. */
int config16_get_bool(const struct config16 *cfg, const char *key, int *out);
int config16_get_int(const struct config16 *cfg, const char *key, long *out);
/* 1 if the CSL value of key has member (an exact item, case-insensitively:
 * "Voltage" does not match "Voltage.L1"), else 0. */
int config16_csl_contains(const struct config16 *cfg, const char *key, const char *member);

/* Whether key is present, and if so read-only for the central system. */
int config16_has(const struct config16 *cfg, const char *key);
int config16_is_readonly(const struct config16 *cfg, const char *key);

/* The GetConfiguration.conf payload for the request's "key" array (NULL or
 * empty: every present key, in table order, then the station's own).
 * Requested keys come once each, in request order; unknown ones in
 * unknownKey.
 * configurationKey is always there, unknownKey only when not empty.
 * Returns 0 and *out (new reference); -E2BIG if more keys are asked than
 * GetConfigurationMaxKeys (answer with a CALLERROR); -EINVAL if keys is not
 * an array of strings; -ENOMEM. */
int config16_get_configuration(const struct config16 *cfg, const json_t *keys, json_t **out);

#endif
