/* Unit tests: tables and values as evctl prints them for people. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/output.h"

/* Prints t into a string (not a terminal: no bold). */
static char *render(struct table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(table_print(t, f), 0);
	fclose(f);
	return text;
}

static void test_aligned_columns(void **state)
{
	struct table *t = table_new("ID", "STATUS", "ENERGY", NULL);
	json_t *n = json_integer(2345);
	char *text;
	(void)state;
	table_cell(t, "CP-001");
	table_cell(t, "Charging");
	table_cell_json(t, n);
	table_cell(t, "Zürich-1");   /* width in characters, not bytes */
	table_cell(t, NULL);
	table_cellf(t, "%.3f", 1.5);
	assert_int_equal(table_rows(t), 2);
	text = render(t);
	assert_string_equal(text,
		"ID        STATUS    ENERGY\n"
		"CP-001    Charging  2345\n"
		"Zürich-1  -         1.500\n");
	free(text);
	json_decref(n);
}

static void test_fields(void **state)
{
	struct table *t = table_fields();
	json_t *o = json_pack("{s:s, s:b, s:n, s:[i,i]}", "id", "CP-001", "connected", 1, "iccid",
			      "list", 1, 2);
	const char *key;
	json_t *v;
	char *text;
	(void)state;
	json_object_foreach(o, key, v)
		table_field(t, key, v);
	text = render(t);
	assert_string_equal(text,
		"id:         CP-001\n"
		"connected:  yes\n"
		"iccid:      -\n"
		"list:       [1,2]\n");
	free(text);
	json_decref(o);
}

static void test_control_characters(void **state)
{
	struct table *t = table_new("A", NULL);
	char s[] = "x\033]0;title\007y";
	char *text;
	(void)state;
	table_cell(t, "bad\033[31m\r\n");
	text = render(t);
	assert_string_equal(text, "A\nbad?[31m??\n");
	free(text);
	output_sanitize(s);
	assert_string_equal(s, "x?]0;title?y");
}

static void test_text(void **state)
{
	char buf[64];
	json_t *v;
	(void)state;
	assert_string_equal(output_text(NULL, buf, sizeof buf), "-");
	assert_string_equal(output_text(json_null(), buf, sizeof buf), "-");
	assert_string_equal(output_text(json_false(), buf, sizeof buf), "no");
	v = json_real(7.25);
	assert_string_equal(output_text(v, buf, sizeof buf), "7.25");
	json_decref(v);
	v = json_integer(-3);
	assert_string_equal(output_text(v, buf, sizeof buf), "-3");
	json_decref(v);
	v = json_pack("{s:s}", "a", "b");
	assert_string_equal(output_text(v, buf, sizeof buf), "{\"a\":\"b\"}");
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aligned_columns),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
