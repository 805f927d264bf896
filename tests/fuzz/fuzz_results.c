/* libFuzzer target: a result file as `flywheel report FILE` reads it: the bytes written to a
 * temporary .h5, loaded with fw_results_load_here (fw_results_load's reading, in this process:
 * not in the child fw_results_load runs it in first, where a crash would hide), and for a file that loads, the report built
 * (its data files and index.html) into a temporary folder. gnuplot is never started: this
 * target is linked with -Wl,--wrap=fork and __wrap_fork fails, so every figure is reported
 * as one that could not be drawn, and the rest of the report is still written.
 * A crash, a sanitizer report or a leak is a finding; a refusal with a message is not. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_tmp.h"
#include "io/report.h"
#include "io/results.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
pid_t __wrap_fork(void);

pid_t __wrap_fork(void)
{
    errno = ENOSYS;
    return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_tmp_init("results", "in.h5");
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/figures", fuzz_dir);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/data", fuzz_dir);
    mkdir(sub, 0755);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_tmp_write(data, size);
    fw_results *r = NULL;
    char err[1024];
    if (fw_results_load_here(fuzz_file, &r, err, sizeof err) == FW_OK) {
        FILE *devnull = fopen("/dev/null", "w");
        fw_report_opts o = {.dir = fuzz_dir, .gnuplot = "gnuplot", .err = devnull};
        fw_report_summary sum;
        const fw_results *runs[1] = {r};
        fw_report_build(runs, 1, &o, &sum);
        if (devnull)
            fclose(devnull);
        fw_results_destroy(r);
    }
    return 0;
}
