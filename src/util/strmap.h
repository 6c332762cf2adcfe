/* A map from strings to pointers (open hashing, grows by doubling). The
 * keys are copied; the values belong to the caller. For the central
 * system's stations by id, where tens of thousands are connected. */
#ifndef EV_UTIL_STRMAP_H
#define EV_UTIL_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);
/* Replaces a value of the same key. 0 or -ENOMEM. */
int strmap_set(struct strmap *m, const char *key, void *value);
void *strmap_get(const struct strmap *m, const char *key);
/* Returns the value removed, or NULL. */
void *strmap_del(struct strmap *m, const char *key);
size_t strmap_count(const struct strmap *m);
/* Calls fn for each entry; fn must not change the map. */
void strmap_each(const struct strmap *m, void (*fn)(void *arg, const char *key, void *value),
		 void *arg);

#endif
