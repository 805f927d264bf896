/* The privacy module's read side (privacy.c): what pools.c, rec.c and the feed dispatch ask.
 * Owns: nothing here (privacy.c owns the state).  Borrows: the engine.
 * Never touches: anything; every call reads, requests may call them concurrently. Every call
 * answers "no privacy mechanism" when the module is off. */
#ifndef FLYWHEEL_PRIVACY_INT_H
#define FLYWHEEL_PRIVACY_INT_H

#include "engine_int.h"

/* Whether the cell releases its trending counts with differential privacy (engine.privacy.dp
 * on); then fw_pools_scores, fw_pools_decay_at and fw_pools_trending answer with the released
 * (noisy) aggregate below instead of the exact one. */
int fw_privacy_dp_cell(const fw_engine *e, uint32_t cell);
const double *fw_privacy_scores(const fw_engine *e, uint32_t cell);
double fw_privacy_decay_at(const fw_engine *e, uint32_t cell, int32_t tick);
const uint32_t *fw_privacy_trending(const fw_engine *e, uint32_t cell, uint32_t *n);

/* Whether the DP cell released new trending counts at the end of tick (its pools changed
 * wholesale: the recommender recuts the cell's topic pools from every note). */
int fw_privacy_released_at(const fw_engine *e, uint32_t cell, int32_t tick);

/* Whether user u opted out of personalisation (fw_catalog.optout). */
int fw_privacy_opted_out(const fw_engine *e, uint32_t u);

/* The non-personalised feed of an opted-out user: the cell's trending pool in order, then the
 * newest notes, less what the user was served; ad slots as every feed. */
uint32_t fw_privacy_feed(fw_engine *e, fw_engine_ctx *ctx, const fw_feed_req *req, uint32_t *out, uint32_t cap,
                         int64_t t_start);

/* How learner l releases today's co-engagement counts. exact: no DP (count pairs as they
 * are). Otherwise release 0 means nothing may be released (pure epsilon-DP has no release of
 * a sparse pair table: the cf channel is empty), else each unordered pair's count gets
 * noise(key) and is released when above threshold; a user contributes pairs among at most
 * window distinct notes of their recent opens. */
typedef struct fw_dp_pairs {
    int exact, release;
    int mechanism;
    double scale, threshold;
    uint32_t window;
    uint32_t cell, day;
    uint64_t seed;
} fw_dp_pairs;
fw_dp_pairs fw_privacy_pairs(const fw_engine *e, uint32_t learner, uint32_t day);

/* engine.privacy.retention_days of the cell (0: keep everything). */
uint32_t fw_privacy_retention(const fw_engine *e, uint32_t cell);

#endif
