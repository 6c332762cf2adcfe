/* Replays a fuzz target's corpus without libFuzzer, so every `make check`
 * (and every sanitizer build) runs the targets over known inputs.
 *
 *   replay_NAME [FILE_OR_DIR...]   default: $FUZZ_CORPUS/NAME */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long len;

	if (!f) {
		perror(path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "%s: read error\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

static int replay(const char *path, unsigned *count)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	if (!(d = opendir(path))) {
		perror(path);
		return -1;
	}
	while ((e = readdir(d))) {
		char child[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(child, sizeof child, "%s/%s", path, e->d_name);
		rc |= replay(child, count);
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	char def[4096];
	unsigned count = 0;
	int rc = 0;

	if (argc < 2) {
		const char *corpus = getenv("FUZZ_CORPUS");
		snprintf(def, sizeof def, "%s/%s", corpus ? corpus : "tests/fuzz/corpus", FUZZ_NAME);
		rc = replay(def, &count);
	}
	for (int i = 1; i < argc; i++)
		rc |= replay(argv[i], &count);
	printf("%s: replayed %u inputs\n", FUZZ_NAME, count);
	if (count == 0) {
		fprintf(stderr, "%s: no corpus found\n", FUZZ_NAME);
		return 1;
	}
	return rc ? 1 : 0;
}
