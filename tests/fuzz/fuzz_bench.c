/* libFuzzer target: a bench file as `flywheel bench --baseline FILE` reads it (a baseline is
 * untrusted input: CI jobs pass files from elsewhere). The bytes are written to a temporary
 * .h5 and checked with fw_bench_check, fw_bench_load's reading in this process (the load runs
 * it in a child first, where a crash would hide). A crash, a sanitizer report or a leak is a
 * finding; a refusal with a message is not, and every refusal must say why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/bench_file.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096], h5[4200];

static void remove_file(void)
{
    unlink(h5);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/fw-fuzz-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("fuzz_bench: mkdtemp");
        abort();
    }
    snprintf(h5, sizeof h5, "%s/in.h5", dir);
    atexit(remove_file);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(h5, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz_bench: writing the input");
        abort();
    }
    char err[1024] = "";
    if (fw_bench_check(h5, err, sizeof err) != FW_OK && !err[0])
        abort();   /* every refusal says why */
    return 0;
}
