/* The simulator's library entry point (flywheel/flywheel.h): what `flywheel run` does,
 * without the program's options, signals or summary. */
#include <stdio.h>
#include <string.h>

#include "driver/run.h"
#include "flywheel/flywheel.h"
#include "fw_version.h"
#include "io/scenario.h"

const char *fw_flywheel_version(void)
{
    return FW_VERSION " (" FW_GIT_REVISION ")";
}

int fw_flywheel_run(const char *path, const char *const *sets, size_t n_sets, const char *output, int threads,
                    char *why, size_t cap)
{
    fw_scenario sc;
    fw_diag diag = {{0}};
    char out[4096];
    if (cap)
        why[0] = '\0';
    if (!path || (n_sets && !sets)) {
        snprintf(why, cap, "no scenario");
        return 2;
    }
    if (fw_scenario_load(path, &sc, &diag) != FW_OK) {
        snprintf(why, cap, "%s", diag.msg);
        return 2;
    }
    int rc = 2;
    for (size_t i = 0; i < n_sets; i++)
        if (fw_scenario_set(&sc, sets[i], &diag) != FW_OK)
            goto bad;
    if (fw_scenario_finish(&sc, &diag) != FW_OK || fw_scenario_check_plugins(&sc, &diag) != FW_OK)
        goto bad;
    int w = output ? snprintf(out, sizeof out, "%s", output)
            : sc.output.file && sc.output.file[0] ? snprintf(out, sizeof out, "%s", sc.output.file)
                                                  : snprintf(out, sizeof out, "%s/%s.h5", sc.output.dir, sc.name);
    if (w < 0 || (size_t)w >= sizeof out) {
        snprintf(diag.msg, sizeof diag.msg, "the output path is too long");
        goto bad;
    }
    int t = fw_run_threads(&sc, threads);
    /* The day's snapshot is written in the calling process: a library does not fork its host
     * (whose at-fork handlers, a Python interpreter's among them, would run in the child). */
    fw_run_opts o = {.output_path = out, .threads = t, .no_fork = 1};
    fw_run_report rep;
    fw_err e = fw_run(&sc, &o, &rep);
    if (e != FW_OK)
        snprintf(why, cap, "the run failed (%s); %s", fw_err_str(e),
                 rep.result_path[0] ? rep.result_path : "nothing was recorded");
    rc = e == FW_OK ? 0 : 1;
    fw_scenario_fini(&sc);
    return rc;
bad:
    snprintf(why, cap, "%s", diag.msg);
    fw_scenario_fini(&sc);
    return rc;
}
