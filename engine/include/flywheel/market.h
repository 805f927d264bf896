/* The brand-creator marketplace (the Pugongying model): brands post tasks, creators quote,
 * the platform matches them, the creator publishes a sponsored note that must pass review,
 * its performance is reported, and the platform settles: the brand pays the creator.
 * Owns: the tasks and their lifecycle, the books (payments per creator and per brand).
 * Borrows: nothing beyond a call.
 * Never touches: the world's truth, randomness (review outcomes are hashes of ids), threads,
 * files. Every call here is a barrier call.
 *
 * Lifecycle: open -> matched (a creator at an agreed price) -> delivered (the sponsored note
 * passed review) -> completed (settled: paid, engine.market.settle_days after delivery);
 * open -> expired (no match within engine.market.expire_days); matched -> failed (nothing
 * delivered within engine.market.deliver_days, or the note failed review twice).
 * Invariants (fw_market_check): payments = sum of completed tasks' prices; no task pays more
 * than its budget; a creator's income is what their completed tasks paid. */
#ifndef FLYWHEEL_MARKET_H
#define FLYWHEEL_MARKET_H

#include "flywheel/engine.h"

typedef enum fw_task_status {
    FW_MTASK_OPEN = 0, FW_MTASK_MATCHED, FW_MTASK_DELIVERED, FW_MTASK_COMPLETED, FW_MTASK_EXPIRED,
    FW_MTASK_FAILED, FW_MTASK__COUNT
} fw_task_status;

const char *fw_task_status_name(fw_task_status s);

/* What a brand posts. */
typedef struct fw_task_post {
    uint32_t brand;
    uint32_t niche;               /* topic */
    uint32_t product;             /* the product the sponsored note is to show, or FW_NONE */
    int64_t budget_cents;         /* > 0: the most the brand pays */
    uint32_t followers_min, followers_max;   /* the creators it wants */
    int32_t tick;
} fw_task_post;

/* A creator's quote for a task: their price, and the platform's prediction of the reads a
 * sponsored note of theirs would get (from the creator's followers and engagement). */
typedef struct fw_quote {
    uint32_t task, creator;       /* creator: a user id */
    int64_t price_cents;
    double predicted_reads;
} fw_quote;

typedef struct fw_task_info {
    fw_task_post post;
    uint32_t status;              /* fw_task_status */
    uint32_t creator;             /* FW_NONE until matched */
    int64_t price_cents;          /* agreed */
    uint32_t note;                /* the sponsored note, FW_NONE until delivered */
    uint32_t reviews;             /* review attempts */
    int32_t matched_tick, delivered_tick, settled_tick;
    uint64_t impressions, reads, interactions, saves;   /* the note's performance so far */
} fw_task_info;

/* Posts a task; writes its id. FW_ERR_INVAL for a bad brand-free field (budget <= 0, a
 * topic out of range, min > max). */
fw_err fw_market_post(fw_engine *e, const fw_task_post *t, uint32_t *id);

/* Matches open tasks with the creators who quoted for them (quotes[n], any order), by
 * engine.market.matching (read from the first arm): greedy = the (task, creator) pairs of
 * highest predicted reads per cent first; stable = brands propose to creators in order of
 * predicted reads per cent, creators keep the best-paying offer (Gale-Shapley, brand
 * proposing). A quote above the task's budget, for a task not open, or from a creator
 * outside the task's follower range (followers as the engine counts them) is ignored; a
 * creator takes at most one task per call. Matched tasks record the creator and price.
 * Returns how many were matched. */
uint32_t fw_market_match(fw_engine *e, const fw_quote *quotes, size_t n, int32_t tick);

/* The matched creator delivers note (one of theirs: which one is the caller's choice; the
 * simulator delivers the note it wrote for the task) for task: review passes or not (a hash
 * of the task and the attempt; engine.market.review_pass). FW_OK with *passed, or
 * FW_ERR_INVAL (nothing written) when the task is not matched or the note is not the
 * creator's. After a second failed review the task fails. Performance (fw_market_task) counts the note's likes, saves and comments as
 * interactions. */
fw_err fw_market_deliver(fw_engine *e, uint32_t task, uint32_t note, int32_t tick, int *passed);

uint32_t fw_market_n_tasks(const fw_engine *e);
fw_err fw_market_task(const fw_engine *e, uint32_t task, fw_task_info *out);

typedef struct fw_market_totals {
    uint64_t posted, matched, delivered, completed, expired, failed;
    int64_t payments_cents;       /* paid to creators (settled) */
    int64_t committed_cents;      /* agreed prices of tasks matched, settled or not */
} fw_market_totals;

fw_market_totals fw_market_total(const fw_engine *e);

/* A creator's (user's) income from completed tasks, in cents. */
int64_t fw_market_income(const fw_engine *e, uint32_t user);

/* Followers of a user as the engine counts them (the catalog's follow graph plus follows
 * logged since). */
uint32_t fw_market_followers(const fw_engine *e, uint32_t user);

fw_err fw_market_check(const fw_engine *e, char *why, size_t cap);

#endif
