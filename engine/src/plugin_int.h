/* Private to the engine: what the ranker (plugin.c) and bidder (bidder.c) plug-ins share --
 * opening a shared object and naming it in messages -- and the calls the ads make into the
 * bidder module.
 * Owns: nothing.  Borrows: nothing. */
#ifndef FLYWHEEL_PLUGIN_INT_H
#define FLYWHEEL_PLUGIN_INT_H

#include "engine_int.h"
#include "flywheel/policy.h"

/* The path as messages show it: control bytes as \xHH. */
void fw_plugin_shown_path(char *buf, size_t cap, const char *path);

/* dlopens path (a bare name is taken as ./name, never searched for) and resolves symbol.
 * kind ("ranker", "bidder") and knob name it in messages. FW_OK with *dl and *sym set, or
 * FW_ERR_INVAL (empty path), FW_ERR_IO (cannot read or load), FW_ERR_NOTFOUND (no symbol),
 * with why[0..cap) naming the file. */
fw_err fw_plugin_open(const char *path, const char *kind, const char *knob, const char *symbol, void **dl,
                      void **sym, char *why, size_t cap);

/* The table a plug-in's entry returned (present: not NULL), of ABI version abi, lacking the
 * function missing names (NULL: none; fw_plugin_missing): FW_OK, or FW_ERR_INVAL with dl
 * closed and why saying what is wrong, naming the file. */
const char *fw_plugin_missing(int create, int destroy, int call, const char *call_name, int ctx_create,
                              int ctx_destroy);
fw_err fw_plugin_check_table(void *dl, const char *path, const char *kind, const char *symbol, int present,
                             uint32_t abi, const char *missing, char *why, size_t cap);

/* After a plug-in's create: refused (created 0) is FW_ERR_INVAL with *dl closed and why
 * quoting what it said; else *label = "'NAME' (PATH)" for messages (FW_ERR_NOMEM without). */
fw_err fw_plugin_started(int created, const char *path, const char *kind, const char *said, const char *name,
                         void **dl, char **label, char *why, size_t cap);

/* ---- the bidder module, for the ads (bidder.c) ------------------------------------------- */

/* Whether a plug-in bids for campaign c in the budget of cell `bud` (the budget cell: the
 * arm under a budget split, else 0). */
int fw_bidder_controls(const fw_engine *e, uint32_t bud, uint32_t c);

/* One auction campaign req->campaign enters in budget cell bud: the plug-in's bid in cents per
 * billable unit, or a negative value when the answer is a fault (recorded: the run fails at
 * the tick's end, naming it; the campaign stays out of this auction). */
double fw_bidder_bid(fw_engine *e, fw_engine_ctx *ctx, uint32_t bud, fw_bid_request *req);

/* From the ads, for the bidder: campaign c's budget today in budget cell bud, what it spent of
 * it, and whether it is out of today's auctions (millicents). */
void fw_ads_budget(const fw_engine *e, uint32_t bud, uint32_t c, int64_t *budget_mc, int64_t *spent_mc,
                   int *throttled);

#endif
