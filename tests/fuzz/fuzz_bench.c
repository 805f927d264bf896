/* libFuzzer target: a bench file as `flywheel bench --baseline FILE` reads it (a baseline is
 * untrusted input: CI jobs pass files from elsewhere). The bytes are written to a temporary
 * .h5 and checked with fw_bench_check, fw_bench_load's reading in this process (the load runs
 * it in a child first, where a crash would hide). A crash, a sanitizer report or a leak is a
 * finding; a refusal with a message is not, and every refusal must say why. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_tmp.h"
#include "io/bench_file.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_tmp_init("bench", "in.h5");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_tmp_write(data, size);
    char err[1024] = "";
    if (fw_bench_check(fuzz_file, err, sizeof err) != FW_OK && !err[0])
        abort();   /* every refusal says why */
    return 0;
}
