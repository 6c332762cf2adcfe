/* What commands print: aligned tables for people, the API's JSON for
 * programs (--json). Everything goes to standard output. */
#ifndef EV_CLI_OUTPUT_H
#define EV_CLI_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* A table: a header row, then cells added left to right, top to bottom.
 * Columns are as wide as their widest cell (in characters), two spaces
 * apart; the header is bold when standard output is a terminal (and
 * NO_COLOR is unset). A missing value is shown as "-". Control characters
 * in cells are shown as '?': a station's text must not drive the
 * terminal. */
struct table;

/* Header names, NULL-terminated. */
struct table *table_new(const char *first, ...) __attribute__((sentinel));
/* Two columns, no header: "name:  value" lines for one object. */
struct table *table_fields(void);

void table_cell(struct table *t, const char *text);
void table_cellf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_cell_json(struct table *t, const json_t *value);
/* One cell per key of obj, in the order of keys (NULL-terminated). */
void table_row_json(struct table *t, const json_t *obj, const char *const *keys);
/* A name and a value: one row of a table_fields(). */
void table_field(struct table *t, const char *name, const json_t *value);

/* Prints to out and frees the table. Returns 0, or -1 if memory ran out
 * while it was built. */
int table_print(struct table *t, FILE *out);
void table_free(struct table *t);
/* table_print to stdout; on failure says so and returns EV_EXIT_SOFTWARE. */
int output_table(struct table *t);
size_t table_rows(const struct table *t);

/* A JSON value as text for people: strings as they are, null as "-",
 * true/false as yes/no, numbers as numbers, arrays and objects as JSON. */
const char *output_text(const json_t *value, char *buf, size_t size);

/* Replaces control characters with '?', in place. */
void output_sanitize(char *s);

/* Prints v and a newline to stdout: indented when stdout is a terminal,
 * one line otherwise. */
void output_json(const json_t *v);

/* Whether to use bold text on stdout. */
int output_color(FILE *out);

#endif
