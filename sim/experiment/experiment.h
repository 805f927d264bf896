/* A/B experiments: who is in which arm, what each user did, and the statistics.
 * Owns: the assignment (units and arms), per-user aggregates for the pre-period and the
 * experiment period, and analysis tables.
 * Borrows: the scenario and the world (read-only) while assigning.
 * Never touches: the engine, files (the recorder writes what this module computes).
 *
 * Assignment hashes a unit id with the experiment's salt, so it is deterministic and
 * independent of thread count. A unit is a user, or a cluster of the follow graph (every
 * user who follows the same top creator -- the most followed creator they follow -- shares
 * an arm, which bounds interference through that creator's feed). Every metric is analysed
 * as a ratio of sums over units (per-user means are sum / users), so the standard errors
 * are right for either unit. */
#ifndef FLYWHEEL_EXPERIMENT_H
#define FLYWHEEL_EXPERIMENT_H

#include <stdint.h>
#include <stdio.h>

#include "io/scenario.h"
#include "experiment/stats.h"
#include "flywheel/snap.h"
#include "model/world.h"

/* Per-user counts, kept for the pre-period and the experiment period.
 * X(name, unit, description). */
#define FW_USER_METRICS(X)                                                        \
    X(active_days, "days", "days with at least one session")                      \
    X(sessions, "sessions", "sessions (app opens)")                               \
    X(impressions, "notes", "feed impressions")                                   \
    X(opens, "notes", "notes opened")                                             \
    X(likes, "events", "likes")                                                   \
    X(saves, "events", "saves")                                                   \
    X(comments, "events", "comments")                                             \
    X(interactions, "events", "likes + saves + comments")                         \
    X(follows, "events", "creators followed")                                     \
    X(searches, "searches", "searches issued")                                    \
    X(search_impressions, "results", "search results examined")                   \
    X(search_clicks, "results", "search results opened")                          \
    X(product_views, "views", "product pages viewed")                             \
    X(cart_adds, "items", "products added to the cart")                           \
    X(paid_orders, "orders", "orders paid")                                       \
    X(gmv_cents, "cents", "value of the orders paid (saturates at 2^32 - 1)")     \
    X(ad_impressions, "ads", "ads examined")                                      \
    X(ad_clicks, "clicks", "ads opened")                                          \
    X(ad_revenue_millicents, "millicents", "ad revenue billed for the user's ad events (saturates)") \
    X(notes_published, "notes", "notes the user published (as a creator)")       \
    X(impressions_received, "notes", "impressions of the user's notes")           \
    X(opens_received, "notes", "reads of the user's notes")                       \
    X(interactions_received, "events", "likes + saves + comments on the user's notes") \
    X(follows_received, "events", "new followers of the user")

typedef enum fw_user_metric {
#define FW_UM_ENUM(name, unit, doc) FW_UM_##name,
    FW_USER_METRICS(FW_UM_ENUM)
#undef FW_UM_ENUM
    FW_UM__COUNT,
    FW_UM_USERS = FW_UM__COUNT /* as a denominator: the number of users */
} fw_user_metric;

extern const char *const fw_user_metric_name[FW_UM__COUNT];
extern const char *const fw_user_metric_unit[FW_UM__COUNT];
extern const char *const fw_user_metric_doc[FW_UM__COUNT];

/* The metrics every treatment arm is tested on, against its layer's control.
 * X(name, numerator, denominator, side, unit, description). Per-unit means have denominator
 * USERS. side U metrics are tested with user and cluster units, side C (what creators
 * receive) with creator units. unit is the metric's own (what control, treatment, the
 * differences and the MDE are in). CUPED (with the same metric in the pre-period) applies to
 * per-unit means when there is a pre-period and each unit is one person. */
#define FW_EXPERIMENT_METRICS(X)                                                                            \
    X(active_days_per_user, active_days, USERS, U, "days/user", "days active per user")                    \
    X(sessions_per_user, sessions, USERS, U, "sessions/user", "sessions per user")                         \
    X(impressions_per_user, impressions, USERS, U, "impressions/user", "feed impressions per user")        \
    X(opens_per_user, opens, USERS, U, "reads/user", "notes read per user")                                \
    X(interactions_per_user, interactions, USERS, U, "interactions/user", "likes + saves + comments per user") \
    X(follows_per_user, follows, USERS, U, "follows/user", "follows per user")                             \
    X(ctr, opens, impressions, U, "reads/impression", "cover click-through rate (opens / impressions)")   \
    X(interactions_per_read, interactions, opens, U, "interactions/read", "(likes + saves + comments) / opens") \
    X(saves_per_read, saves, opens, U, "saves/read", "saves / opens")                                      \
    X(searches_per_user, searches, USERS, U, "searches/user", "searches per user")                         \
    X(search_clicks_per_user, search_clicks, USERS, U, "clicks/user", "search results opened per user")    \
    X(search_ctr, search_clicks, search_impressions, U, "clicks/result", "search results opened / examined") \
    X(gmv_per_user, gmv_cents, USERS, U, "cents/user", "GMV per user (cents of orders paid)")             \
    X(orders_per_user, paid_orders, USERS, U, "orders/user", "orders paid per user")                       \
    X(product_views_per_user, product_views, USERS, U, "views/user", "product pages viewed per user")      \
    X(view_to_purchase, paid_orders, product_views, U, "orders/view", "orders paid / product views")       \
    X(ad_impressions_per_user, ad_impressions, USERS, U, "ads/user", "ads examined per user")              \
    X(ad_ctr, ad_clicks, ad_impressions, U, "clicks/ad", "ads opened / ads examined")                      \
    X(ad_revenue_per_user, ad_revenue_millicents, USERS, U, "millicents/user", "ad revenue per user (millicents)") \
    X(impressions_received, impressions_received, USERS, C, "impressions/creator", "impressions per creator") \
    X(opens_received, opens_received, USERS, C, "reads/creator", "reads per creator")                     \
    X(interactions_received, interactions_received, USERS, C, "interactions/creator", "interactions per creator") \
    X(follows_received, follows_received, USERS, C, "followers/creator", "new followers per creator")     \
    X(received_ctr, opens_received, impressions_received, C, "reads/impression", "CTR of creators' notes") \
    X(notes_published, notes_published, USERS, C, "notes/creator", "notes published per creator")

typedef enum fw_experiment_metric {
#define FW_EM_ENUM(name, num, den, side, unit, doc) FW_EM_##name,
    FW_EXPERIMENT_METRICS(FW_EM_ENUM)
#undef FW_EM_ENUM
    FW_EM__COUNT
} fw_experiment_metric;

extern const char *const fw_experiment_metric_name[FW_EM__COUNT];
extern const char *const fw_experiment_metric_unit[FW_EM__COUNT];
extern const char *const fw_experiment_metric_doc[FW_EM__COUNT];
/* Each metric's numerator and denominator (FW_UM_USERS: the unit's users). */
extern const fw_user_metric fw_experiment_metric_num[FW_EM__COUNT];
extern const fw_user_metric fw_experiment_metric_den[FW_EM__COUNT];

/* Arms are indexed as in fw_scenario.arms (all layers); a cell is one arm per layer, and
 * its index is mixed-radix over the layers' arm positions, so cell 0 is every layer's
 * control. */
typedef struct fw_assignment {
    uint32_t n_users, n_units, n_arms, n_layers, n_cells;
    uint32_t *unit_of_user;              /* [n_users] dense unit index; FW_NONE for users who
                                            are no unit (non-creators with creator units) */
    uint32_t *unit_id;                   /* [n_units] user id naming the unit */
    uint8_t *arm_of_unit[FW_MAX_ARMS];   /* per layer: [n_units] arm of each unit */
    uint8_t *arm_of_user[FW_MAX_ARMS];   /* per layer: [n_users] arm of each user */
    uint8_t *cell_of_user;               /* [n_users] */
    uint8_t cell_arm[FW_MAX_CELLS][FW_MAX_ARMS];   /* [cell][layer] -> arm */
    uint8_t layer_of_arm[FW_MAX_ARMS];
    uint8_t control_of_arm[FW_MAX_ARMS]; /* the first arm of the arm's layer */
    uint64_t units[FW_MAX_ARMS], users[FW_MAX_ARMS];   /* per arm */
    /* Learner groups (experiment.learners_per_arm, fw_scenario_learners): the units of each
     * cell are dealt in turn, in unit order, into n_buckets groups; group b of a cell is
     * served by its own learned state. With n_buckets > 1 the tests take the groups of an
     * arm as its units (clusters), so what each learner's path adds is in the variance. */
    uint32_t n_buckets;
    uint8_t *bucket_of_unit;             /* [n_units] */
    uint8_t *bucket_of_user;             /* [n_users] (0 for users who are no unit) */
} fw_assignment;

/* Assigns every user of w to an arm of s (by unit). FW_ERR_NOMEM on failure. */
fw_err fw_assignment_init(fw_assignment *a, const fw_scenario *s, const fw_world *w);
void fw_assignment_fini(fw_assignment *a);

/* Period 0 is the pre-period, 1 the experiment period. */
typedef struct fw_user_aggs {
    uint32_t n_users;
    int no_pre;                    /* v[0][m] all share one array of zeros (never counted in) */
    uint32_t *v[2][FW_UM__COUNT];  /* [period][metric][user] */
} fw_user_aggs;

fw_err fw_user_aggs_init(fw_user_aggs *g, uint32_t n_users);

/* The same; with with_pre 0 (a run with neither a pre-period nor a warm-up: nothing is ever
 * counted in period 0) every period-0 metric reads one shared array of zeros, which saves
 * 92 bytes a user; period 0 must then never be written. */
fw_err fw_user_aggs_init_pre(fw_user_aggs *g, uint32_t n_users, int with_pre);
void fw_user_aggs_fini(fw_user_aggs *g);

/* Issue 21, state snapshots (flywheel/snap.h): transfers every per-user count of both periods
 * in both directions (saving or loading, as s does); loading, a was just initialised for the
 * same users and periods (else s fails). */
void fw_aggs_snap(fw_user_aggs *a, fw_snap *s);

/* Sufficient statistics of one arm and metric at one look, over the arm's units (its learner
 * groups when there are several per arm: n is then the groups): y the metric's numerator and
 * x its denominator (the users in the unit for per-unit means), so the metric is
 * sum_y / sum_x; pre the numerator in the pre-period (CUPED's covariate; 0 without one).
 * Every test of the look is a function of these: the recorder stores them per look under
 * /experiment/days/ so that any p-value can be recomputed from the file. */
typedef struct fw_exp_moments {
    double n, sum_y, sum_x, sum_yy, sum_xx, sum_xy, sum_pre, sum_pre_sq, sum_y_pre;
} fw_exp_moments;

/* One metric of one treatment arm against the control arm. */
typedef struct fw_exp_row {
    int ok;                   /* 0 when the test is undefined (n < 2, no variance, no units) */
    fw_stat_result abs;       /* absolute difference treatment - control (delta method, Welch) */
    fw_stat_result rel;       /* lift treatment / control - 1, log-ratio interval (fw_stat_lift);
                                 delta, ci and p NaN when undefined (too sparse a control) */
    int cuped;                /* 1 when cuped_abs and cuped_rel hold the CUPED-adjusted tests */
    fw_stat_result cuped_abs; /* CUPED-adjusted absolute difference; control/treatment adjusted */
    fw_stat_result cuped_rel; /* CUPED-adjusted lift, as rel */
    double theta;             /* CUPED coefficient */
    double mde;               /* minimum detectable |difference| of the primary test at 80% power,
                                 in the metric's unit */
    double mde_rel;           /* mde / control (NaN unless control > 0) */
    double p;                 /* the primary p: the absolute difference's, CUPED's when applied */
    double p_holm, p_bh;      /* adjusted over the arm's metrics */
    double p_seq;             /* sequential p over the daily looks (fw_stat_seq_p) */
} fw_exp_row;

typedef struct fw_exp_table {
    uint32_t n_arms;
    int have_pre;             /* CUPED applied: a pre-period exists and the unit is the user */
    uint32_t groups;          /* learner groups per arm the tests take as units; 1: the units */
    uint32_t days;            /* experiment-period days analysed: this is look number `days` */
    uint32_t planned;         /* looks planned: the experiment period's days */
    double alpha;             /* the tests' level */
    double srm_chi2[FW_MAX_ARMS], srm_p[FW_MAX_ARMS];  /* per layer: units per arm vs weights */
    fw_exp_row row[FW_MAX_ARMS][FW_EM__COUNT];   /* by arm; a layer's control row is unused */
    fw_exp_moments mom[FW_MAX_ARMS][FW_EM__COUNT];   /* by arm (controls too), this look's */
} fw_exp_table;

/* The power at which fw_exp_row.mde is computed. */
#define FW_EXPERIMENT_MDE_POWER 0.8

/* Analyses the aggregates so far (look number `days` of the experiment period): every arm
 * against its layer's control. prev (NULL at the first look; may alias out) is the previous
 * look's table, whose p_seq the sequential test carries on; the looks planned are the
 * scenario's experiment-period days (days - pre_days). FW_ERR_NOMEM. Deterministic. */
fw_err fw_experiment_analyse(const fw_scenario *s, const fw_assignment *a, const fw_user_aggs *g,
                             int have_pre, uint32_t days, const fw_exp_table *prev,
                             fw_exp_table *out);

/* The snapshot of a table (issue 21, flywheel/snap.h): every field, one function for both
 * directions. The driver's latest look is what the next look's sequential p carries on
 * (fw_experiment_analyse's prev); the recorder's copy is what /experiment holds. Loading, an
 * arm count above FW_MAX_ARMS fails s. */
void fw_exp_table_snap(fw_exp_table *t, fw_snap *s);

/* "user", "cluster" or "creator". */
const char *fw_experiment_unit_name(int unit);

/* 1 when metric is tested for s's unit (user-side metrics for user and cluster units,
 * creator-side ones for creator units). */
int fw_experiment_metric_applies(const fw_scenario *s, int metric);

/* A fraction as a signed percentage ("+1.25%") in buf, "n/a" when it is not finite. */
void fw_experiment_pct(char *buf, size_t n, double v);

/* Every metric over the whole population of units, whatever their arms: sum of the
 * numerator / sum of the denominator over the experiment period so far (NaN where the metric
 * does not apply or the denominator is 0). The value a counterfactual run -- everyone on one
 * arm -- reports, so the global treatment effect is value(treatment) - value(control). */
void fw_experiment_values(const fw_scenario *s, const fw_assignment *a, const fw_user_aggs *g,
                          double out[FW_EM__COUNT]);

/* Prints the table researchers read at the end of a run. */
void fw_experiment_print(const fw_scenario *s, const fw_assignment *a, const fw_exp_table *t,
                         FILE *f);

#endif
