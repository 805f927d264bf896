/* The scratch of a libFuzzer target that hands its input to a reader taking a path: a
 * folder made under $TMPDIR (else /tmp) at initialisation, and the input file in it, removed
 * at exit. Header-only: each target is its own program. */
#ifndef FW_FUZZ_TMP_H
#define FW_FUZZ_TMP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[4096], fuzz_file[4200];

/* The input, and the folder when nothing else is in it (a target may leave its output). */
static void fuzz_tmp_remove(void)
{
    unlink(fuzz_file);
    rmdir(fuzz_dir);
}

/* Makes fuzz_dir (fw-fuzz-TAG-XXXXXX) and names fuzz_file (NAME in it); aborts on failure. */
static void fuzz_tmp_init(const char *tag, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/fw-fuzz-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    if (!mkdtemp(fuzz_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    snprintf(fuzz_file, sizeof fuzz_file, "%s/%s", fuzz_dir, name);
    atexit(fuzz_tmp_remove);
}

/* Writes the input to fuzz_file; aborts when it cannot. */
static void fuzz_tmp_write(const uint8_t *data, size_t size)
{
    FILE *f = fopen(fuzz_file, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz: writing the input");
        abort();
    }
}

#endif
