/* libFuzzer target: the scenario loader on arbitrary bytes, as `flywheel run FILE` uses it:
 * fw_scenario_load, then fw_scenario_finish, then (for a scenario that passes) the effective
 * YAML written back out and loaded again, which the header promises parses back.
 * The loader takes a path, so the bytes go to one temporary file per process, rewritten for
 * each input. It reports errors through fw_diag and never exits, so no entry point beyond
 * scenario.h is needed. Nothing here may exit(): a crash, a sanitizer report, a leak or a
 * written scenario that does not load back is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/scenario.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char in_path[4096], out_path[4096];

static void remove_files(void)
{
    unlink(in_path);
    unlink(out_path);
}

static int make_temp(char *path, size_t n, const char *tag)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, n, "%s/fw-fuzz-%s-XXXXXX.yaml", dir && *dir ? dir : "/tmp", tag);
    int fd = mkstemps(path, 5);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (make_temp(in_path, sizeof in_path, "in") < 0 || make_temp(out_path, sizeof out_path, "out") < 0) {
        perror("fuzz_scenario: temporary file");
        abort();
    }
    atexit(remove_files);
    return 0;
}

static void put(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz_scenario: writing the input");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    put(in_path, data, size);
    fw_scenario s, back;
    fw_diag diag;
    memset(&s, 0, sizeof s);
    memset(&back, 0, sizeof back);
    if (fw_scenario_load(in_path, &s, &diag) == FW_OK && fw_scenario_finish(&s, &diag) == FW_OK) {
        /* A valid scenario written out must load back (scenario.h: "Output parses back to
         * the same scenario"). */
        FILE *f = fopen(out_path, "w");
        if (!f)
            abort();
        fw_err e = fw_scenario_write_yaml(&s, f, 0);
        if (fclose(f) != 0 || e != FW_OK) {
            fprintf(stderr, "fuzz_scenario: fw_scenario_write_yaml failed: %s\n", fw_err_str(e));
            abort();
        }
        if (fw_scenario_load(out_path, &back, &diag) != FW_OK || fw_scenario_finish(&back, &diag) != FW_OK) {
            fprintf(stderr, "fuzz_scenario: the written scenario does not load back: %s\n", diag.msg);
            abort();
        }
    }
    fw_scenario_fini(&back);
    fw_scenario_fini(&s);
    return 0;
}
