/* The run's state snapshot (driver/snapshot.h): the identity section and the order of every
 * piece's section. */
#include "driver/snapshot.h"

#include <stdio.h>
#include <string.h>

#include "driver/evlog.h"
#include "driver/part.h"
#include "driver/ranks.h"
#include "fw_version.h"

int fw_snapshot_path(const char *path, char *buf, size_t n)
{
    return (size_t)snprintf(buf, n, "%s.snap", path) < n ? 0 : -1;
}

const char *fw_sim_snap_refusal(const fw_sim *S, char *buf, size_t len)
{
    char missing[256];
    if (!S->rec)
        snprintf(buf, len, "the run is not recorded");
    else if (!fw_engine_can_snap(S->engine, missing, sizeof missing))
        snprintf(buf, len, "the engine's %s cannot save %s state", missing, strchr(missing, ',') ? "their" : "its");
    else {
        size_t at = 0;
        missing[0] = '\0';
        for (uint32_t k = 0; k < S->n_parts; k++)
            if (!S->part[k].def->snap && at < sizeof missing) {
                int w = snprintf(missing + at, sizeof missing - at, "%s%s", at ? ", " : "", S->part[k].def->name);
                at = w < 0 ? sizeof missing : at + (size_t)w;
            }
        if (!missing[0])
            return NULL;
        snprintf(buf, len, "the simulator's %s part%s cannot save %s state", missing, strchr(missing, ',') ? "s" : "",
                 strchr(missing, ',') ? "their" : "its");
    }
    return buf;
}

/* A string that must be this build's. */
static void same_text(fw_snap *s, const char *mine, const char *what)
{
    char buf[128] = {0};
    size_t n = strlen(mine);
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, mine, n);
    fw_snap_array(s, buf, sizeof buf, 1);
    if (fw_snap_loading(s) && !fw_snap_failed(s)) {
        buf[sizeof buf - 1] = '\0';
        if (strncmp(buf, mine, sizeof buf - 1) != 0)
            fw_snap_fail(s, "written by flywheel %s %s, this is %s (a snapshot holds one build's memory layout)",
                         what, buf, mine);
    }
}

void fw_snapshot_id(fw_snap *s, fw_snap_id *id)
{
    fw_snap_section(s, "run");
    same_text(s, FW_VERSION, "version");
    same_text(s, FW_GIT_REVISION, "revision");
    fw_snap_u64(s, &id->seed);
    fw_snap_u64(s, &id->scenario_hash);
    fw_snap_u32(s, &id->days_done);
}

fw_err fw_sim_snap(fw_sim *S, fw_snap *s, char *why, size_t len)
{
    fw_snap_section(s, "world");
    fw_world_snap(&S->w, s);
    fw_snap_section(s, "users");
    fw_users_snap(&S->us, &S->w, s);
    fw_snap_section(s, "aggs");
    fw_aggs_snap(&S->aggs, s);
    fw_err rc = FW_OK;
    if (!fw_snap_failed(s) && (rc = fw_engine_snap(S->engine, s)) != FW_OK) {
        snprintf(why, len, "%s", fw_engine_error(S->engine));
        return rc;
    }
    for (uint32_t k = 0; k < S->n_parts && !fw_snap_failed(s); k++) {
        char tag[FW_SNAP_TAG];   /* "p." + the part's name: apart from an engine module's of the same name */
        snprintf(tag, sizeof tag, "p.%s", S->part[k].def->name);
        fw_snap_section(s, tag);
        S->part[k].def->snap(S, &S->part[k], s);
    }
    fw_snap_section(s, "recorder");
    fw_recorder_snap(S->rec, s);
    if (S->evlog) {
        fw_snap_section(s, "evlog");
        fw_evlog_snap(S->evlog, s);
    }
    if (fw_snap_failed(s)) {
        snprintf(why, len, "%s", fw_snap_why(s));
        return fw_snap_loading(s) ? FW_ERR_PARSE : FW_ERR_IO;
    }
    return FW_OK;
}
