/* The run's state snapshot (issue 21): NAME.h5.snap beside NAME.h5.partial and its checkpoint,
 * rewritten at every recorded day's end, read by `flywheel run --resume` so that a resumed
 * run continues from its last finished day instead of re-simulating the finished days.
 * Owns: nothing (the driver keeps the paths and counts).  Borrows: the run's state.
 * Never touches: the result file (the recorder's content travels as the recorder's section).
 *
 * Sections, in order: "run" (the identity: flywheel version and revision, seed, scenario
 * hash, finished days), "world", "users", "aggs", the engine's ("engine", then each module
 * that is on, in the engine's table order), each part that runs (in the parts' table order,
 * named "p." and the part's name), "recorder" (and "rec_latency", its timings), "evlog" (with the event
 * log on), then the driver's own ("driver": run totals, the experiment's running look, the
 * day digests). A run is snapshot only when every piece of
 * state it uses has a hook (fw_sim_snap_refusal); otherwise its checkpoint alone lets a
 * resumed run re-simulate, as before. */
#ifndef FLYWHEEL_SNAPSHOT_H
#define FLYWHEEL_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "driver/sim.h"
#include "flywheel/snap.h"

/* The snapshot path of a result at path (path + ".snap") into buf; -1 when it does not fit. */
int fw_snapshot_path(const char *path, char *buf, size_t n);

/* NULL when S can be snapshot; else why not ("the recommender plug-in keeps its state in
 * its shared object"), into buf. */
const char *fw_sim_snap_refusal(const fw_sim *S, char *buf, size_t len);

/* The identity of a snapshot: what must match for it to be loaded. */
typedef struct fw_snap_id {
    uint64_t seed, scenario_hash;
    uint32_t days_done;   /* finished days it holds the state after */
} fw_snap_id;

/* Transfers the "run" section. Loading, *id is filled and the version and revision must be
 * this flywheel's (else s fails saying so). */
void fw_snapshot_id(fw_snap *s, fw_snap_id *id);

/* Transfers the simulation's sections: world, users, aggregates, engine, parts, recorder.
 * FW_OK, or the snapshot's failure (FW_ERR_IO writing, FW_ERR_PARSE loading) with why. */
fw_err fw_sim_snap(fw_sim *S, fw_snap *s, char *why, size_t len);

#endif
