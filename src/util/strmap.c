#include "config.h"
#include "util/strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	void *value;
	uint32_t hash;
	char key[];
};

struct strmap {
	struct entry **buckets;
	size_t n_buckets, count;
};

/* FNV-1a: ids are short and not chosen to collide (an attacker can only
 * use ids we registered, or be refused before reaching the map). */
static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct strmap *strmap_new(void)
{
	struct strmap *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	m->n_buckets = 64;
	m->buckets = calloc(m->n_buckets, sizeof *m->buckets);
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	return m;
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_buckets; i++) {
		while (m->buckets[i]) {
			struct entry *e = m->buckets[i];
			m->buckets[i] = e->next;
			free(e);
		}
	}
	free(m->buckets);
	free(m);
}

static void grow(struct strmap *m)
{
	size_t n = m->n_buckets * 2;
	struct entry **b = calloc(n, sizeof *b);

	if (!b)
		return;    /* longer chains, still correct */
	for (size_t i = 0; i < m->n_buckets; i++) {
		while (m->buckets[i]) {
			struct entry *e = m->buckets[i];
			m->buckets[i] = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = n;
}

static struct entry **find(const struct strmap *m, const char *key, uint32_t h)
{
	struct entry **pp = &m->buckets[h & (m->n_buckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
			break;
	return pp;
}

int strmap_set(struct strmap *m, const char *key, void *value)
{
	uint32_t h = hash(key);
	struct entry **pp = find(m, key, h), *e;
	size_t len;

	if (*pp) {
		(*pp)->value = value;
		return 0;
	}
	len = strlen(key);
	e = malloc(sizeof *e + len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, key, len + 1);
	e->hash = h;
	e->value = value;
	e->next = NULL;
	*pp = e;
	if (++m->count > m->n_buckets)
		grow(m);
	return 0;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	struct entry *e = *find(m, key, hash(key));
	return e ? e->value : NULL;
}

void *strmap_del(struct strmap *m, const char *key)
{
	struct entry **pp = find(m, key, hash(key)), *e = *pp;
	void *v;

	if (!e)
		return NULL;
	*pp = e->next;
	v = e->value;
	free(e);
	m->count--;
	return v;
}

size_t strmap_count(const struct strmap *m)
{
	return m->count;
}

void strmap_each(const struct strmap *m, void (*fn)(void *arg, const char *key, void *value),
		 void *arg)
{
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct entry *e = m->buckets[i]; e; e = e->next)
			fn(arg, e->key, e->value);
}
