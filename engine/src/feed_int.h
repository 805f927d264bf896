/* The baseline feed's recall, which the plug-in ranker (plugin.c) shares: a researcher's
 * ranker is served exactly the candidates the built-in baseline ranks.
 * Owns: nothing.  Borrows: the engine and the ctx's candidate scratch.
 * Never touches: any module's state; reads only what requests may read (rank.h). */
#ifndef FLYWHEEL_FEED_INT_H
#define FLYWHEEL_FEED_INT_H

#include "rank.h"

/* Recalls the request's candidates into c->cand[0..n) / c->cand_follow (followed creators'
 * recent notes, the cell's trending pool, the fresh pool; the served filter and duplicates
 * skipped; c's id set holds exactly them) and returns n; *looked is what recall looked at. */
uint32_t fw_feed_recall(fw_engine *e, fw_rank_ctx *c, const fw_feed_req *req, uint64_t *looked);

/* The candidates one request of a cell with this configuration may recall. */
uint32_t fw_feed_cand_need(const fw_engine_cfg *cfg);

#endif
