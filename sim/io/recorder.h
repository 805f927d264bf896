/* The result file: one HDF5 file per run, self-describing, readable by h5py without Flywheel.
 * Owns: the run's recorded days (kept in memory; a few kilobytes per day) and the files it
 * writes.  Borrows: the strings in fw_rec_info until fw_recorder_destroy.
 * Never touches: the world or the engine; it is handed finished numbers.
 *
 * Crash safety: at every day's end the whole file is written to PATH.partial.tmp, synced,
 * and renamed over PATH.partial, so PATH.partial is always a complete, readable file of the
 * days finished so far, whatever kills the process. On success PATH.partial is renamed to
 * PATH; nothing is ever written at PATH itself before the run is complete. */
#ifndef FLYWHEEL_RECORDER_H
#define FLYWHEEL_RECORDER_H

#include <stdint.h>

#include "flywheel/engine.h"
#include "experiment/experiment.h"
#include "driver/metrics.h"

typedef struct fw_rec_info {
    const char *version, *git_revision;
    const char *scenario_name, *scenario_path, *scenario_text, *scenario_resolved, *overrides;
    uint64_t seed;
    int threads;
    uint32_t days_planned, ticks_per_day, n_arms;
    const char *const *arm_names;
    const double *arm_weights;
    const char *const *arm_layers;   /* each arm's experiment layer */
    const uint64_t *arm_users;       /* users assigned to each arm */
    unsigned compression;            /* deflate level 0..9 */
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

/* Adds one finished day: counters[n_arms * FW_DC__COUNT], one latency histogram per
 * engine stage (all with the same layout) and the engine's work counters [FW_WORK__COUNT]. */
fw_err fw_recorder_add_day(fw_recorder *r, const uint64_t *counters, const fw_hist *lat,
                           const uint64_t *work);

/* Adds one day's ranking-model statistics (stats[FW_TASK__COUNT]), written under /model;
 * call once per day from the first day on, or never (no /model group). */
fw_err fw_recorder_add_model(fw_recorder *r, const fw_model_stats *stats);

/* The shop's books at a day's end (global: every arm buys from the same stock). Written
 * under /shop/days. X(name, unit, description). */
#define FW_SHOP_DAY_SERIES(X)                                                                  \
    X(gmv_cents, "cents", "net GMV to date: payments minus refunds, as the shop keeps it")    \
    X(paid_cents, "cents", "payments to date")                                                 \
    X(refunded_cents, "cents", "refunds to date")                                              \
    X(orders, "orders", "orders created to date")                                              \
    X(units_available, "units", "units on sale at the day's end")                              \
    X(units_reserved, "units", "units reserved by orders awaiting payment")                    \
    X(units_sold, "units", "units of paid orders not refunded, to date")                       \
    X(units_restocked, "units", "units brands restocked, to date")                             \
    X(stocked_out_products, "products", "products with no unit on sale at the day's end (before restocking)")

typedef enum fw_shop_series {
#define FW_SS_ENUM(name, unit, doc) FW_SS_##name,
    FW_SHOP_DAY_SERIES(FW_SS_ENUM)
#undef FW_SS_ENUM
    FW_SS__COUNT
} fw_shop_series;

/* The ads' books at a day's end (global). Written under /ads/days. */
#define FW_ADS_DAY_SERIES(X)                                                                   \
    X(revenue_cents, "cents", "ad revenue billed on the day")                                  \
    X(overdelivery_cents, "cents", "charges not billed on the day: the campaign's budget was spent") \
    X(budget_cents, "cents", "the campaigns' daily budgets, summed")                          \
    X(budget_utilisation_ppm, "1e-6", "revenue / budgets (x 1e6)")                             \
    X(pacing_error_ppm, "1e-6", "mean over campaigns of |share of the day's budget spent by midday - 0.5| (x 1e6): 0 is even pacing") \
    X(campaigns_exhausted, "campaigns", "campaigns throttled by their budget at the day's end")

typedef enum fw_ads_series {
#define FW_AS_ENUM(name, unit, doc) FW_AS_##name,
    FW_ADS_DAY_SERIES(FW_AS_ENUM)
#undef FW_AS_ENUM
    FW_AS__COUNT
} fw_ads_series;

/* The marketplace at a day's end (global). Written under /market/days. */
#define FW_MARKET_DAY_SERIES(X)                                                                \
    X(tasks_posted, "tasks", "tasks brands posted, to date")                                   \
    X(tasks_matched, "tasks", "tasks matched with a creator, to date")                         \
    X(tasks_delivered, "tasks", "sponsored notes that passed review, to date")                 \
    X(tasks_completed, "tasks", "tasks settled (the creator paid), to date")                   \
    X(tasks_expired, "tasks", "tasks nobody was matched to in time, to date")                  \
    X(tasks_failed, "tasks", "matched tasks not delivered in time or failing review twice, to date") \
    X(payments_cents, "cents", "paid to creators, to date (= the brands' task spend settled)")  \
    X(committed_cents, "cents", "prices agreed in matches, to date")                           \
    X(earning_creators, "creators", "creators with marketplace income")                        \
    X(income_gini_ppm, "1e-6", "Gini of marketplace income over the creators who earned (x 1e6)")

typedef enum fw_market_series {
#define FW_MS_ENUM(name, unit, doc) FW_MS_##name,
    FW_MARKET_DAY_SERIES(FW_MS_ENUM)
#undef FW_MS_ENUM
    FW_MS__COUNT
} fw_market_series;

/* The tasks' table at the last day's end. X(name, unit, description), int64 each. */
#define FW_MARKET_TASK_FIELDS(X)                                                               \
    X(brand, "brand", "the brand that posted it")                                              \
    X(niche, "topic", "the niche it wants")                                                    \
    X(budget_cents, "cents", "the brand's budget")                                             \
    X(status, "code", "0 open, 1 matched, 2 delivered, 3 completed, 4 expired, 5 failed")     \
    X(creator, "user", "the matched creator (-1: none)")                                       \
    X(price_cents, "cents", "the agreed price")                                                \
    X(note, "note", "the sponsored note (-1: none)")                                           \
    X(impressions, "notes", "the sponsored note's impressions")                                \
    X(reads, "notes", "its reads (opens)")                                                     \
    X(interactions, "events", "its likes, saves and comments")                                 \
    X(saves, "events", "its saves")

typedef enum fw_market_field {
#define FW_MF_ENUM(name, unit, doc) FW_MF_##name,
    FW_MARKET_TASK_FIELDS(FW_MF_ENUM)
#undef FW_MF_ENUM
    FW_MF__COUNT
} fw_market_field;

fw_err fw_recorder_add_market(fw_recorder *r, const int64_t *v);
/* The tasks' table, cols[FW_MF__COUNT * n] (field-major), borrowed: /market/tasks/<field>. */
void fw_recorder_set_market_tasks(fw_recorder *r, uint32_t n, const int64_t *cols);

/* Adds one day's ads series (v[FW_AS__COUNT]); once per day, or never (no /ads group). */
fw_err fw_recorder_add_ads(fw_recorder *r, const int64_t *v);

/* Per-brand ad spend and the GMV of orders attributed to the brand's ads, [n_brands] to date,
 * borrowed: /ads/brand_spend_cents, /ads/brand_attributed_gmv_cents. */
void fw_recorder_set_ad_brands(fw_recorder *r, uint32_t n_brands, const int64_t *spend_cents,
                               const int64_t *gmv_cents);

/* Adds one day's shop series (v[FW_SS__COUNT]); once per day, or never (no /shop group). */
fw_err fw_recorder_add_shop(fw_recorder *r, const int64_t *v);

/* Per-brand sales, [n_arms * n_brands] net units and revenue (cents) to date, borrowed and
 * read at every write: /shop/brand_units, /shop/brand_revenue_cents. Sales go to the arm
 * that served the buyer: during experiment.pre_days that is every layer's control. */
void fw_recorder_set_brands(fw_recorder *r, uint32_t n_brands, const int64_t *units,
                            const int64_t *revenue_cents);

/* Per-user aggregates and the assignment (borrowed: read at every write, so they must
 * outlive the recorder), written under /users/<arm>/. */
void fw_recorder_set_users(fw_recorder *r, const fw_assignment *a, const fw_user_aggs *g,
                           uint32_t pre_days);

/* The latest experiment analysis (copied), written under /experiment. */
void fw_recorder_set_experiment(fw_recorder *r, const fw_exp_table *t, const char *unit,
                                double alpha);

/* The creators (user ids, [n]) and everyone's current follower counts ([n_users]), both
 * borrowed and read at every write: /world/creator_followers. */
void fw_recorder_set_followers(fw_recorder *r, uint32_t n, const uint32_t *creator_user,
                               const uint32_t *n_followers);

/* Replicates: tables[0..k) (borrowed, read at every write) for seeds[0..k); tables[0] is
 * the recorded run's own. Written under /replicates. */
void fw_recorder_set_replicates(fw_recorder *r, uint32_t k, const uint64_t *seeds,
                                const fw_exp_table *tables);

/* Writes the file with what has been recorded: status is "running", "complete" or
 * "interrupted"; complete renames to the final path, the others to PATH.partial.
 * wall_s and peak_rss_mb are stored as measured attributes. On failure errbuf says why. */
fw_err fw_recorder_write(fw_recorder *r, const char *status, double wall_s, double peak_rss_mb,
                         char *errbuf, size_t errlen);

/* The paths in use. */
const char *fw_recorder_path(const fw_recorder *r);
const char *fw_recorder_partial_path(const fw_recorder *r);

#endif
