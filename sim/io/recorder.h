/* The result file: one HDF5 file per run, self-describing, readable by h5py without Flywheel.
 * Owns: the run's recorded days (kept in memory; a few kilobytes per day) and the files it
 * writes.  Borrows: the strings in fw_rec_info until fw_recorder_destroy.
 * Never touches: the world or the engine; it is handed finished numbers.
 *
 * Crash safety: at every day's end the whole file is built in memory, written to
 * PATH.partial.tmp, synced, and renamed over PATH.partial, so PATH.partial is always a
 * complete, readable file of the days finished so far, whatever kills the process. On
 * success an earlier file at PATH is moved to PATH's previous version (NAME.prev.h5 for
 * NAME.h5, else PATH.prev) and PATH.partial is renamed to PATH; nothing is ever written at
 * PATH itself before the run is complete. HDF5 never writes to disk itself (its core driver):
 * a failed write (a full disk) is an error here, never a file left open in libhdf5.
 * On several ranks (fw_recorder_set_parallel) the file is written at PATH.partial.tmp through
 * MPI-IO instead (a rank killed meanwhile leaves that name behind, replaced by the next
 * write), synced and renamed by rank 0 as above; rank 0 first checks that the disk has room,
 * and a write that fails inside parallel HDF5 all the same ends the run (MPI_Abort, exit 1)
 * with the partial marked failed, as the ranks could otherwise wait on each other for ever. */
#ifndef FLYWHEEL_RECORDER_H
#define FLYWHEEL_RECORDER_H

#include <stdint.h>

#include "experiment/experiment.h"
#include "flywheel/engine.h"
#include "flywheel/snap.h"

/* A day counter (or a column of a day series): its name in the file, units, description --
 * the engine's series descriptor, so the engine's day series are recorded as they come. */
typedef fw_series_desc fw_counter_desc;

/* A rate over two counters of the same row: scale * row[num] / row[den], NaN when row[den]
 * is 0. */
typedef struct fw_rec_rate {
    const char *name;
    uint32_t num, den;
    double scale;
    const char *unit, *doc;
} fw_rec_rate;

typedef struct fw_rec_info {
    const char *version, *git_revision;
    const char *scenario_name, *scenario_path, *scenario_text, *scenario_resolved, *overrides;
    uint64_t seed;
    int threads;
    int ranks;                       /* MPI ranks (issue 21); > 1 adds the root attribute ranks */
    uint32_t days_planned, ticks_per_day, n_arms;
    const char *const *arm_names;
    const double *arm_weights;
    const char *const *arm_layers;   /* each arm's experiment layer */
    const uint64_t *arm_users;       /* users assigned to each arm */
    const fw_scenario *scenario;     /* the arms' overrides, as written and as resolved, for
                                        /arms/<arm> (read once, at create); NULL: not recorded */
    unsigned compression;            /* deflate level 0..9 */
    /* The day counters of every arm (/days/<arm>/<counter>) and the rates over them. */
    uint32_t n_counters, n_rates;
    const fw_counter_desc *counters;
    const fw_rec_rate *rates;
    /* World summary (deterministic). */
    uint64_t n_users, n_creators, n_notes_initial, n_follow_edges, n_brands, n_products;
    double expected_dau_mau, follower_gini, top1pct_follower_share, top10pct_creator_note_share;
    /* Measured (not deterministic). */
    double generation_s;
    double generation_peak_rss_mb;
} fw_rec_info;

typedef struct fw_recorder fw_recorder;

/* Prepares a recorder writing to path (PATH.partial while running). Writes nothing yet.
 * NULL when out of memory. */
fw_recorder *fw_recorder_create(const char *path, const fw_rec_info *info);
void fw_recorder_destroy(fw_recorder *r);

/* Adds one finished day: counters[n_arms * n_counters], one latency histogram per engine
 * stage (all with the same layout) and the engine's work counters [FW_WORK__COUNT]. */
fw_err fw_recorder_add_day(fw_recorder *r, const uint64_t *counters, const fw_hist *lat,
                           const uint64_t *work);

/* ---- what the parts describe ----------------------------------------------------------
 * A part (or the driver) describes its datasets once, at the start of the run, and the
 * recorder writes them at every write: groups with a description, day series (one row a
 * day, written as one dataset per column) and tables (arrays the caller keeps current).
 * Paths are relative to the file's root ("shop/days"); a group a series or table names is
 * created when it is not registered yet. A top-level group with day series is written once
 * one of them has a day (until then the group and everything under it are left out); one
 * without is always written. Tables are left out while they have no rows. */

typedef enum fw_rec_type {
    FW_REC_I64 = 0, FW_REC_U64, FW_REC_U32, FW_REC_F64,
    FW_REC_U8, FW_REC_U16, FW_REC_I32, FW_REC_F32   /* the narrow types of logs (below) */
} fw_rec_type;

/* The group at path and its description (doc may be NULL: none; a later call sets it).
 * Strings are borrowed and must outlive the recorder (path is copied). */
fw_err fw_recorder_group(fw_recorder *r, const char *path, const char *doc);

/* A day series in group path (doc: the group's description, or NULL): n columns of type, one
 * dataset path/<col.name> [day] each. Writes its id to *id. cols is borrowed. */
fw_err fw_recorder_series(fw_recorder *r, const char *path, const char *doc, fw_rec_type type, uint32_t n,
                          const fw_counter_desc *cols, uint32_t *id);

/* Adds one day's row (n values of the series' type) to series id. */
fw_err fw_recorder_push(fw_recorder *r, uint32_t id, const void *row);

/* A table: the array at *data ([*rows] or [*rows, cols] values of type), read at every
 * write; both pointers are borrowed and must stay valid (the array may move between writes).
 * labels[0..rank) name the dimensions; attr_name = attr_value is one string attribute (none
 * when attr_name is NULL). */
typedef struct fw_rec_table {
    const char *path, *unit, *doc;
    fw_rec_type type;
    const void *const *data;
    const uint32_t *rows;
    uint32_t cols;                /* 0: one dimension */
    const char *labels[2];
    const char *attr_name;
    const char *const *attr_value;
} fw_rec_table;

fw_err fw_recorder_table(fw_recorder *r, const fw_rec_table *t);

/* ---- logs: append-only tables of many rows (the event log, per-entity day rows) ----------
 * A log is a group of column datasets path/<col.name> [row], all of one length, that only
 * grow: each call appends rows to every column. The recorder owns the rows. At each write,
 * the chunks (FW_REC_LOG_CHUNK rows) that are full were compressed once and are kept
 * compressed in memory: a write copies them into the file as they are (H5Dwrite_chunk)
 * and only the last, partial chunk is compressed again. So a day costs its own rows'
 * compression, not the whole log's, and memory holds the log compressed. Written even
 * with no rows (zero-length, extendible), so that a reader finds the same layout. */
#define FW_REC_LOG_CHUNK 65536

typedef struct fw_rec_col {
    const char *name;
    fw_rec_type type;
    const char *unit, *doc;
} fw_rec_col;

/* Describes the log at path (a group, doc its description) with n columns cols[] (borrowed:
 * they must outlive the recorder); writes its id to *id. FW_ERR_NOMEM. */
fw_err fw_recorder_log(fw_recorder *r, const char *path, const char *doc, uint32_t n, const fw_rec_col *cols,
                       uint32_t *id);

/* Appends n rows to log id: col[c] points to n values of column c's type. FW_ERR_NOMEM
 * (nothing appended), FW_ERR_INVAL for an unknown id. */
fw_err fw_recorder_log_append(fw_recorder *r, uint32_t id, size_t n, const void *const *col);

/* Rows appended to log id so far; bytes the recorder holds for all logs (compressed chunks
 * plus uncompressed tails). */
uint64_t fw_recorder_log_rows(const fw_recorder *r, uint32_t id);
uint64_t fw_recorder_log_bytes(const fw_recorder *r);

/* ---- the run's own -------------------------------------------------------------------- */

/* Several ranks (issue 21; size > 1 only in an FW_MPI build under mpirun): every rank has a
 * recorder fed the same (replicated) numbers and every write is collective -- one file
 * through parallel HDF5, each rank writing the rows of its users [user_lo, user_hi), rank 0
 * the rest, rank 0 alone renaming it. Call it before the first write, on every rank. */
void fw_recorder_set_parallel(fw_recorder *r, int rank, int size, uint32_t user_lo, uint32_t user_hi);

/* After a write on several ranks, rank 0's line about it for the run's summary (who wrote
 * how many bytes, how long it took); "" otherwise. */
const char *fw_recorder_writers(const fw_recorder *r);

/* Per-user aggregates and the assignment (borrowed: read at every write, so they must
 * outlive the recorder), written under /users/<arm>/. */
void fw_recorder_set_users(fw_recorder *r, const fw_assignment *a, const fw_user_aggs *g,
                           uint32_t pre_days);

/* The latest experiment analysis (copied), written under /experiment; call it once a look
 * (t->days is the look's number): each look's sufficient statistics, p and sequential p are
 * kept for /experiment/days. Memory running out here makes the next fw_recorder_write fail
 * with FW_ERR_NOMEM. */
void fw_recorder_set_experiment(fw_recorder *r, const fw_exp_table *t, const char *unit,
                                double alpha);

/* The creators (user ids, [n]) and everyone's current follower counts ([n_users]), both
 * borrowed and read at every write: /world/creator_followers. */
void fw_recorder_set_followers(fw_recorder *r, uint32_t n, const uint32_t *creator_user,
                               const uint32_t *n_followers);

/* Counterfactual runs: cf[arm][day][metric] (borrowed, read at every write), each metric's
 * value over days experiment days with everyone on that arm (a layer's control: on every
 * layer's control). Written under /experiment/counterfactual, and per treatment arm as
 * /experiment/<arm>/{gte,gte_abs,bias,bias_abs} at the day the experiment table has reached. */
void fw_recorder_set_counterfactual(fw_recorder *r, uint32_t days, const double *cf);

/* Replicates: tables[0..k) (borrowed, read at every write) for seeds[0..k); tables[0] is
 * the recorded run's own. Written under /replicates. */
void fw_recorder_set_replicates(fw_recorder *r, uint32_t k, const uint64_t *seeds,
                                const fw_exp_table *tables);

/* Writes the file with what has been recorded: status is "running", "complete" or
 * "interrupted"; complete renames to the final path, the others to PATH.partial.
 * wall_s and peak_rss_mb are stored as measured attributes. On failure errbuf says why. */
fw_err fw_recorder_write(fw_recorder *r, const char *status, double wall_s, double peak_rss_mb,
                         char *errbuf, size_t errlen);

/* After a failure elsewhere: marks the run "failed" in PATH.partial, with every finished
 * day, rewriting the file; where that cannot be written (a full disk) it sets the status
 * attribute of PATH.partial as it stands (its last good write), which needs that file's size
 * again plus ~6 KB; failing that it writes the file anew without the measured /latency group
 * (every finished day, and none of the room a partial file written day after day leaves
 * behind), and failing that marks PATH.partial without /latency. On FW_OK errbuf is "" or
 * says what was left out;
 * FW_ERR_IO (errbuf says why) when nothing could be written, or when no PATH.partial was ever
 * written. Leaves no PATH.partial.tmp. */
fw_err fw_recorder_fail(fw_recorder *r, double wall_s, double peak_rss_mb, char *errbuf, size_t errlen);

/* The snapshot (issue 21, flywheel/snap.h): what the file holds of the finished days -- day
 * counters, work, latency, day series, logs, the experiment's table and looks -- one function
 * for both directions. Loading, r was just created for the same scenario, with the same
 * groups, series, tables and logs described in the same order (their counts are checked) and
 * the same setters called; the next fw_recorder_write then writes what the run that saved it
 * would have. A snapshot that does not fit r fails s (fw_snap_why says why). It ends with a
 * section of its own, "rec_latency": the measured latency, which differs between two runs of
 * the same days where every other section is identical. */
void fw_recorder_snap(fw_recorder *r, fw_snap *s);

/* The paths in use; fw_recorder_prev_path is where the complete write moved an earlier file
 * found at PATH, or NULL when there was none. */
const char *fw_recorder_path(const fw_recorder *r);
const char *fw_recorder_partial_path(const fw_recorder *r);
const char *fw_recorder_prev_path(const fw_recorder *r);

#endif
