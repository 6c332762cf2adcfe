#include "config.h"
#include "cli/output.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/exitcode.h"
#include "util/utf8.h"

struct table {
	size_t cols;
	int header;     /* the first row is a header */
	int fields;     /* name/value rows: the names get a ':' */
	int failed;     /* out of memory: print nothing */
	char **cells;
	size_t n, cap;
};

static struct table *table_alloc(size_t cols, int header)
{
	struct table *t = calloc(1, sizeof *t);

	if (t) {
		t->cols = cols;
		t->header = header;
	}
	return t;
}

struct table *table_new(const char *first, ...)
{
	struct table *t;
	va_list ap;
	size_t cols = 0;

	va_start(ap, first);
	for (const char *h = first; h; h = va_arg(ap, const char *))
		cols++;
	va_end(ap);
	if (!(t = table_alloc(cols, 1)))
		return NULL;
	va_start(ap, first);
	for (const char *h = first; h; h = va_arg(ap, const char *))
		table_cell(t, h);
	va_end(ap);
	return t;
}

struct table *table_fields(void)
{
	struct table *t = table_alloc(2, 0);

	if (t)
		t->fields = 1;
	return t;
}

static void add(struct table *t, char *cell)
{
	if (!t)
		return;
	if (!cell || t->failed) {
		t->failed = 1;
		free(cell);
		return;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		char **p = realloc(t->cells, cap * sizeof *p);
		if (!p) {
			t->failed = 1;
			free(cell);
			return;
		}
		t->cells = p;
		t->cap = cap;
	}
	output_sanitize(cell);
	t->cells[t->n++] = cell;
}

void table_cell(struct table *t, const char *text)
{
	add(t, strdup(text && *text ? text : "-"));
}

void table_cellf(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	add(t, s);
}

void table_row_json(struct table *t, const json_t *obj, const char *const *keys)
{
	for (; *keys; keys++)
		table_cell_json(t, json_object_get(obj, *keys));
}

void table_cell_json(struct table *t, const json_t *value)
{
	char buf[256];

	if (json_is_object(value) || json_is_array(value)) {
		add(t, json_dumps(value, JSON_COMPACT));
		return;
	}
	table_cell(t, output_text(value, buf, sizeof buf));
}

void table_field(struct table *t, const char *name, const json_t *value)
{
	table_cellf(t, "%s:", name);
	table_cell_json(t, value);
}

size_t table_rows(const struct table *t)
{
	return t ? t->n / t->cols - (size_t)t->header : 0;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int table_print(struct table *t, FILE *out)
{
	size_t *width;
	int bold;

	if (!t || t->failed || t->n % t->cols || !(width = calloc(t->cols, sizeof *width))) {
		table_free(t);
		return -1;
	}
	for (size_t i = 0; i < t->n; i++) {
		size_t w = utf8_codepoints(t->cells[i], strlen(t->cells[i]));
		if (w > width[i % t->cols])
			width[i % t->cols] = w;
	}
	bold = t->header && output_color(out);
	for (size_t i = 0; i < t->n; i++) {
		size_t col = i % t->cols;
		int last = col == t->cols - 1;
		if (bold && i == 0)
			fputs("\033[1m", out);
		fputs(t->cells[i], out);
		if (!last)
			for (size_t w = utf8_codepoints(t->cells[i], strlen(t->cells[i])); w < width[col] + 2; w++)
				fputc(' ', out);
		if (last) {
			if (bold && i == t->cols - 1)
				fputs("\033[0m", out);
			fputc('\n', out);
		}
	}
	free(width);
	table_free(t);
	return 0;
}

int output_table(struct table *t)
{
	if (table_print(t, stdout) == 0)
		return EV_EXIT_OK;
	/* (cmd_error's format, without making this module depend on cmd.c.) */
	fflush(stdout);
	fputs("evctl: out of memory\n", stderr);
	return EV_EXIT_SOFTWARE;
}

const char *output_text(const json_t *value, char *buf, size_t size)
{
	if (!value)
		return "-";
	switch (json_typeof(value)) {
	case JSON_STRING:
		return json_string_value(value);
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
		return buf;
	case JSON_REAL:
		snprintf(buf, size, "%g", json_real_value(value));
		return buf;
	case JSON_TRUE:
		return "yes";
	case JSON_FALSE:
		return "no";
	case JSON_OBJECT:
	case JSON_ARRAY: {
		char *s = json_dumps(value, JSON_COMPACT);
		snprintf(buf, size, "%s", s ? s : "?");
		free(s);
		return buf;
	}
	default:
		return "-";
	}
}

void output_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void output_json(const json_t *v)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY |
				 (isatty(STDOUT_FILENO) ? JSON_INDENT(2) : JSON_COMPACT));

	if (text)
		puts(text);
	free(text);
}

int output_color(FILE *out)
{
	const char *term = getenv("TERM");

	return isatty(fileno(out)) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0;
}
