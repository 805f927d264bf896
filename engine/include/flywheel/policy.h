/* The policy plug-in ABI: a researcher's feed ranker or advertiser's bidding agent, built as a
 * shared object. A ranker serves the feed of the arms that set engine.feed.algorithm: plugin
 * (engine.feed.plugin: PATH.so, engine.feed.plugin_args: "..."); a bidder bids for campaigns
 * of the arms that set engine.ads.bidder: plugin (engine.ads.bidder_plugin, bidder_args,
 * bidder_campaigns) -- see "Bidders" below.
 * Owns: the types and the one entry point a plug-in exports; nothing at run time.
 * Borrows: flywheel/engine.h's event type (fw_event).
 * Never touches: anything in the engine; a plug-in sees only what this header hands it.
 *
 * A plug-in exports one function, fw_ranker_plugin (FW_RANKER_SYMBOL), returning a static
 * table whose abi_version is FW_POLICY_ABI_VERSION. The engine dlopens the file once per arm
 * that uses it and creates one instance per arm (cell): create(args, env) -> state.
 *
 * What a request hands the plug-in: the user, the cell, the tick, the page size, and the
 * candidates the built-in baseline feed recalls for that request (recent notes of followed
 * creators, the arm's trending pool, the fresh pool, after the served filter), each with every
 * feature the built-in ranker scores with (followed, decayed engagement, age) and the logged
 * counts a learner needs, and, with engine.feed.plugin_vectors, the recommender's learned user
 * and note vectors. The plug-in answers with a score per candidate (the engine takes
 * the best by score desc, id asc and places the arm's ad slots) or with the page itself.
 *
 * Threads and ownership -- the contract a plug-in must keep:
 *  - rank() is called concurrently from several threads, each with its own ctx (from
 *    ctx_create, one per engine thread context and instance); never two at once for one
 *    user. During requests the state is read-only: rank() may write only its ctx and the
 *    request's output arrays. A ranker that learns does so in observe() and end_day().
 *  - create, destroy, ctx_create, ctx_destroy, observe and end_day run alone for their
 *    instance (barriers), in an order that does not depend on the thread count. Different
 *    instances -- other arms, other learner groups, or the side runs of --replicates and
 *    experiment.counterfactual, which go on threads of their own -- may be called at the same
 *    time: an instance must share no mutable state with another.
 *  - Every pointer handed to a plug-in (args, env, the request and its arrays, the batch) is
 *    borrowed for the call only; the plug-in frees what it allocated, in destroy/ctx_destroy.
 *  - Randomness comes only from the request's stream (fw_policy_next): it is keyed by the run's
 *    seed, the cell, the user, the tick and the user's request count, so results are
 *    identical for any number of threads. A plug-in must not use rand(), time, the thread id,
 *    global mutable state, or its own threads; it must not call exit, print to stdout, or
 *    keep pointers past a call.
 *  - Days and ticks: day d's absolute ticks are d * ticks_per_day .. d * ticks_per_day +
 *    ticks_per_day - 1. With a warm-up (world.warmup_days W) the W days before day 0 are
 *    served like any day, with every user on the control cell (only the control's instances
 *    rank, bid and observe): their ticks are negative and end_day is handed (uint32_t)-k for
 *    the day k days before day 0, so (int32_t)day runs -W .. -1, then 0, 1, ...;
 *    fw_tick_day (flywheel/engine.h) gives an absolute tick's day, rounded down. Nothing
 *    else marks the warm-up: it is history a plug-in learns from like any day, and what it
 *    keys by day or tick must take numbers below 0 (unsigned casts and C's % do not).
 *  - Failure: create returns NULL with why filled (the run is refused before it starts, exit
 *    2); rank, observe or end_day returning a negative value, and a page with an id that is
 *    not a candidate, a note twice, the wrong length, or a non-finite score, fail the run
 *    (exit 1) with the plug-in, the request and the fault named; the days already finished
 *    stay in the partial result file. */
#ifndef FLYWHEEL_POLICY_H
#define FLYWHEEL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/engine.h"

/* Raised whenever a type or a function of the table changes shape. */
#define FW_POLICY_ABI_VERSION 2u

/* The symbol a ranker plug-in exports. */
#define FW_RANKER_SYMBOL "fw_ranker_plugin"

/* What the plug-in serves: given to create. Values of the arm (cell) the instance serves. */
typedef struct fw_policy_env {
    uint32_t abi_version;       /* FW_POLICY_ABI_VERSION */
    uint32_t cell, n_cells;     /* the instance's cell, of n_cells the engine serves */
    uint32_t n_users, n_topics, ticks_per_day;
    uint32_t page_size;         /* engine.feed.page_size: positions a page has, ad slots included */
    uint32_t organic_slots;     /* positions not reserved for ads: the most a page can ask for */
    uint32_t max_candidates;    /* the most candidates one request can hand over */
    uint64_t seed;              /* the run's key (the scenario seed) */
    /* The arm's built-in ranking knobs (engine.feed), for a plug-in that starts from the
     * baseline: score = (trending > 0 ? w_trending * log1p(trending) : 0) + w_follow if
     * followed + w_fresh if age_ticks < fresh_age_ticks, times exp2(-age_ticks /
     * recency_half_life_ticks). */
    double w_follow, w_trending, w_fresh;
    double fresh_age_ticks, recency_half_life_ticks;
    /* engine.feed.plugin_vectors: 1 gives the length of the learned vectors requests and
     * batches carry (the recommender's engine.rec.dim of this instance's learner); 0: none. */
    uint32_t vec_dim;
} fw_policy_env;

/* One recalled candidate and what the platform knows of it at the request. */
typedef struct fw_policy_cand {
    uint32_t note;              /* the note id: what a page holds */
    uint32_t creator;           /* its author's user id */
    uint16_t topic;
    uint8_t format;             /* fw_format */
    uint8_t followed;           /* in a request: recalled from the followed creators' recent
                                   notes (the built-in ranker's follow bonus); in a batch: the
                                   user follows the creator */
    int32_t age_ticks;          /* ticks since publication, >= 0 */
    uint32_t creator_followers;
    double trending;            /* the arm's decayed engagement of the note at this tick */
    uint32_t impressions, opens, likes, saves, comments, follows;   /* logged so far */
} fw_policy_cand;

/* A keyed random stream (SplitMix64 over a counter): a pure function of its key, which the
 * engine sets per request. */
typedef struct fw_policy_stream {
    uint64_t key, n;
} fw_policy_stream;

static inline uint64_t fw_policy_next(fw_policy_stream *s)
{
    uint64_t x = s->key + ++s->n * UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* A uniform double in [0, 1) from the stream. */
static inline double fw_policy_uniform(fw_policy_stream *s)
{
    return (double)(fw_policy_next(s) >> 11) * 0x1p-53;
}

/* What rank() returns. Negative: the plug-in failed (the run fails). */
#define FW_RANK_SCORES 0        /* score[0..n_cand) written */
#define FW_RANK_PAGE 1          /* page[0..n_page) written, best first */

/* One feed request. */
typedef struct fw_rank_request {
    uint32_t user, cell;
    int32_t tick;               /* absolute tick (day * ticks_per_day + tick of the day) */
    uint32_t page_size;         /* organic notes wanted: a page answer holds exactly
                                   min(page_size, n_cand) distinct candidates */
    uint32_t n_cand;
    const fw_policy_cand *cand; /* [n_cand], in recall order */
    fw_policy_stream rng;       /* this request's own stream */
    double *score;              /* [n_cand]: FW_RANK_SCORES answers here (finite values) */
    uint32_t *page;             /* [page_size]: FW_RANK_PAGE answers here (note ids) */
    uint32_t n_page;            /* FW_RANK_PAGE: how many written */
    /* With engine.feed.plugin_vectors (env vec_dim > 0; else 0 and NULL): the learned vectors
     * of the recommender's learner serving this user, as of the last barrier -- the user's
     * ([vec_dim]) and each candidate's ([n_cand * vec_dim], candidate i at i * vec_dim: its
     * topic's, format's and own residual vectors summed), so that user_vec . cand_vec is the
     * built-in recommender's embedding score of the pair. */
    uint32_t vec_dim;
    const float *user_vec;
    const float *cand_vec;
} fw_rank_request;

/* A tick's logged note events (impression, open, like, save, comment, follow; type may carry
 * FW_EV_SEARCH, and a like, save or comment FW_EV_AD), in the order the platform applies them. Under experiment.isolation per_arm
 * (the default) only the instance's cell's users' events, else every user's. cand[i]
 * describes event i's note for event i's user as a request at this barrier would (the
 * tick's own events not yet counted), so a learner can pair features with outcomes. */
typedef struct fw_policy_batch {
    uint32_t cell;
    int32_t tick;
    size_t n_events;
    const fw_event *events;         /* [n_events] */
    const fw_policy_cand *cand;     /* [n_events] */
    /* With engine.feed.plugin_vectors: event i's user's and note's learned vectors at i *
     * vec_dim ([n_events * vec_dim] each), as the recommender holds them once it has trained
     * on this tick's events (it observes before the plug-in) -- the vectors the next
     * requests will see. */
    uint32_t vec_dim;
    const float *user_vec;
    const float *cand_vec;
} fw_policy_batch;

/* The table a plug-in exports. Entries marked optional may be NULL. */
typedef struct fw_ranker_table {
    uint32_t abi_version;       /* FW_POLICY_ABI_VERSION */
    const char *name;           /* short, for messages */
    /* Makes an instance from engine.feed.plugin_args (never NULL, "" when unset). NULL with
     * why[0..cap) filled when the arguments are wrong or memory is short. */
    void *(*create)(const char *args, const fw_policy_env *env, char *why, size_t cap);
    void (*destroy)(void *state);
    /* optional: per-thread scratch; NULL from ctx_create means out of memory. */
    void *(*ctx_create)(void *state);
    void (*ctx_destroy)(void *ctx);
    /* Ranks one request (see fw_rank_request); FW_RANK_SCORES, FW_RANK_PAGE or < 0. */
    int (*rank)(const void *state, void *ctx, fw_rank_request *req);
    /* optional: the tick's events, once per barrier; < 0 fails the run. */
    int (*observe)(void *state, const fw_policy_batch *batch);
    /* optional: the day's end (day 0 first, or a warm-up's first: see Days and ticks); < 0
     * fails the run. */
    int (*end_day)(void *state, uint32_t day);
} fw_ranker_table;

typedef const fw_ranker_table *(*fw_ranker_entry)(void);

/* For plug-in authors: FW_RANKER_EXPORT const fw_ranker_table *fw_ranker_plugin(void) {...} */
#define FW_RANKER_EXPORT __attribute__((visibility("default")))

/* ---- for hosts (the simulator, embedders) ------------------------------------------- */

/* Loads the plug-in that cfg names (cfg->feed.algorithm must be plugin), checks its ABI and
 * table, creates an instance with cfg->feed.plugin_args for the given world and destroys it:
 * what fw_engine_create would do, before the world exists. FW_OK, or FW_ERR_IO (the file
 * cannot be read or loaded), FW_ERR_NOTFOUND (no FW_RANKER_SYMBOL), FW_ERR_INVAL (wrong ABI
 * version, an incomplete table, create refused its arguments) with why[0..cap) saying what,
 * naming the file. */
fw_err fw_policy_check_ranker(const fw_engine_cfg *cfg, uint32_t n_users, uint32_t n_topics,
                              uint32_t ticks_per_day, uint64_t seed, char *why, size_t cap);

/* ---- Bidders ---------------------------------------------------------------------------
 *
 * A bidder plug-in exports fw_bidder_plugin (FW_BIDDER_SYMBOL) returning a static
 * fw_bidder_table whose abi_version is FW_POLICY_ABI_VERSION. It bids, auction by auction,
 * for the campaigns engine.ads.bidder_campaigns names (campaigns 0 .. N-1 of the world; 0 =
 * every campaign), in place of their fixed bid and of the platform's pacing
 * (engine.ads.pacing does not touch them; the budget still does: a campaign whose budget left
 * today cannot pay its max bid leaves the day's auctions). One instance per budget: per arm
 * under experiment.budget_split (each arm's share of the campaigns' budgets is its own),
 * else one for the run (the arms must then agree on the bidder knobs).
 *
 * The same contract as a ranker's holds (threads, ownership, randomness, failure; see the
 * top of this header), with bid() in the place of rank(): called concurrently with its own
 * ctx, reading the state only; learning happens in observe() and end_day(). A bid is in
 * cents per billable unit of the campaign's objective (per thousand impressions for CPM, per
 * click for CPC, per conversion for CPA), in [0, max_bid_cents]: 0 stays out of the auction.
 * A negative, non-finite or larger bid, or bid() returning < 0, fails the run (exit 1)
 * naming the plug-in, the campaign, the auction and the fault. The auction ranks by bid x
 * quality (1 for CPM, the platform's pCTR for CPC, pCTR x pCVR for CPA) and charges by the
 * arm's engine.ads.pay_rule, never above the bid. */

/* The symbol a bidder plug-in exports. */
#define FW_BIDDER_SYMBOL "fw_bidder_plugin"

/* Campaign objectives (the values of fw_bidder_campaign.objective). */
#define FW_BID_OBJ_CPM 0u       /* billed per thousand impressions */
#define FW_BID_OBJ_CPC 1u       /* per click */
#define FW_BID_OBJ_CPA 2u       /* per attributed conversion */

/* One campaign a bidder bids for, as the world made it. */
typedef struct fw_bidder_campaign {
    uint32_t id;                /* the world's campaign id: what requests and outcomes name */
    uint32_t brand, objective;  /* objective: FW_BID_OBJ_* */
    double max_bid_cents;       /* the campaign's bid: the most a bid may be */
    double daily_budget_cents;  /* the whole daily budget (an arm's share: fw_bid_status) */
    uint32_t target_topic;      /* the audience's topic, FW_NONE (UINT32_MAX): everyone */
    uint32_t creative_topic;    /* the ad note's topic */
} fw_bidder_campaign;

/* What a bidder serves: given to create. */
typedef struct fw_bidder_env {
    uint32_t abi_version;       /* FW_POLICY_ABI_VERSION */
    uint32_t cell, n_cells;     /* the budget the instance bids with: the arm under a budget split, else 0 of 1 */
    uint32_t ticks_per_day, n_topics;
    uint32_t pay_rule;          /* the arm's engine.ads.pay_rule: 0 gsp, 1 vcg, 2 first price */
    double reserve_cpm_cents;   /* the arm's reserve, per thousand impressions */
    uint64_t seed;              /* the run's key */
    uint32_t n_campaigns;       /* the campaigns it bids for */
    const fw_bidder_campaign *campaigns;   /* [n_campaigns], borrowed for create only */
} fw_bidder_env;

/* One auction a campaign enters: the user, the slot and what the platform estimates. */
typedef struct fw_bid_request {
    uint32_t campaign;          /* the world's campaign id */
    uint32_t index;             /* its position in the env's campaigns */
    uint32_t user, cell;        /* cell: the user's arm */
    int32_t tick;               /* absolute tick */
    uint32_t tick_of_day;       /* 0 .. ticks_per_day - 1 */
    uint32_t context_topic;     /* the search query's intent; FW_NONE in the feed */
    uint32_t n_slots;           /* ad slots this auction sells (the feed page's reserved slots) */
    uint32_t topic_match;       /* 1: the creative's topic is the context's or one the user engages with */
    uint32_t user_ad_impressions, user_ad_clicks;   /* the user's ad history, every campaign */
    double p_ctr, p_cvr;        /* the platform's pCTR for this user and campaign, and pCVR per click */
    double budget_cents;        /* today's budget of the campaign in this instance's cell */
    double spent_today_cents;   /* spent of it so far today (as of the last barrier) */
    fw_policy_stream rng;       /* this auction's own stream */
} fw_bid_request;

/* What a bidder learns at a barrier. */
#define FW_BID_WIN 0u           /* an ad impression it won and the user saw */
#define FW_BID_CLICK 1u         /* a click on it */
#define FW_BID_CONVERSION 2u    /* a paid order attributed to it */

typedef struct fw_bid_outcome {
    uint32_t type;              /* FW_BID_* */
    uint32_t campaign, index, user;
    int32_t tick;               /* when it happened (a conversion: when the order was paid) */
    double price_cents;         /* win, click: the auction's price per billable unit */
    double billed_cents;        /* what the campaign was charged for this outcome (0 when its
                                   objective does not bill it, or the budget was spent) */
    double value_cents;         /* conversion: the order's value; else 0 */
} fw_bid_outcome;

/* A campaign's books at the barrier, in the instance's cell. */
typedef struct fw_bid_status {
    double budget_cents, spent_today_cents;
    uint32_t throttled;         /* out of today's auctions: its budget left cannot pay its max bid */
} fw_bid_status;

/* The outcomes of a barrier: the tick's wins and clicks, in the order the platform applies
 * them, and the conversions attributed since the last batch (orders are paid after the
 * tick's end: they arrive at the next barrier, or at the day's end before end_day). The
 * day's-end batch has the day's last tick again, holds only such conversions, and its status
 * is already the next day's (nothing spent). */
typedef struct fw_bid_batch {
    uint32_t cell;
    int32_t tick;
    size_t n;
    const fw_bid_outcome *out;          /* [n] */
    const fw_bid_status *status;        /* [env n_campaigns] after the barrier's charges */
} fw_bid_batch;

typedef struct fw_bidder_table {
    uint32_t abi_version;       /* FW_POLICY_ABI_VERSION */
    const char *name;
    /* Makes an instance from engine.ads.bidder_args ("" when unset). NULL with why filled. */
    void *(*create)(const char *args, const fw_bidder_env *env, char *why, size_t cap);
    void (*destroy)(void *state);
    void *(*ctx_create)(void *state);   /* optional, with ctx_destroy */
    void (*ctx_destroy)(void *ctx);
    /* One auction: writes *bid_cents (see above) and returns 0, or < 0 (the run fails). */
    int (*bid)(const void *state, void *ctx, const fw_bid_request *req, double *bid_cents);
    /* optional: the barrier's outcomes (every barrier, also with none); < 0 fails the run. */
    int (*observe)(void *state, const fw_bid_batch *batch);
    /* optional: the day's end (day 0 first, or a warm-up's first: see Days and ticks); < 0
     * fails the run. */
    int (*end_day)(void *state, uint32_t day);
} fw_bidder_table;

typedef const fw_bidder_table *(*fw_bidder_entry)(void);

#define FW_BIDDER_EXPORT __attribute__((visibility("default")))

/* Loads the bidder plug-in cfg names (cfg->ads.bidder must be plugin), checks its ABI and
 * table and has it check cfg->ads.bidder_args, all before the world exists: create() is called
 * once with n_campaigns 0 and campaigns NULL (a plug-in must accept that: it is the argument
 * check) and the instance destroyed at once. FW_OK, or FW_ERR_IO (cannot read or load),
 * FW_ERR_NOTFOUND (no FW_BIDDER_SYMBOL), FW_ERR_INVAL (wrong ABI version, an incomplete table,
 * create refused its arguments) with why naming the file and saying what. */
fw_err fw_policy_check_bidder(const fw_engine_cfg *cfg, uint32_t n_topics, uint32_t ticks_per_day, uint64_t seed,
                              char *why, size_t cap);

#endif
