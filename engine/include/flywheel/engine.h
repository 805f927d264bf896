/* The seam between the simulated world and the platform: everything sim/ may call.
 * Owns: the engine's own view of the platform -- note metadata as published, logged
 * engagement, follow lists, feed pools, what each user has been served -- and the
 * latency histograms of every call.
 * Borrows: the fw_catalog passed to fw_engine_create only during that call (copied).
 * Never touches: the world's hidden truth (interests, true quality), files (but for loading
 * the ranker plug-ins an arm names, flywheel/policy.h), threads, or randomness (a plug-in
 * gets a stream keyed by fw_catalog.seed). Given the same sequence of calls it returns the
 * same results.
 *
 * Threading contract (the engine has no locks and no OpenMP): between barrier calls
 * (fw_engine_log, fw_engine_publish, fw_engine_end_tick, fw_engine_end_day and each
 * capability's own barrier calls) any number of threads may make requests (fw_feed_page,
 * fw_search_page, fw_shop_request, ...) concurrently, each with its own fw_engine_ctx, as
 * long as no two concurrent requests are for the same user. A request writes only state that
 * belongs to its user (what that user has been served, their ad frequency caps). Barrier
 * calls must run alone.
 *
 * Inside, the engine is a core (the catalog, engagement counts, follow lists, cells) and one
 * module per capability -- trending pools, the baseline feed, the recommender, search, the
 * shop, ads, the marketplace -- that the core calls through one table in every barrier. */
#ifndef FLYWHEEL_ENGINE_H
#define FLYWHEEL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/engine_cfg.h"
#include "flywheel/err.h"
#include "flywheel/latency.h"

#define FW_NONE UINT32_MAX

/* Text as the platform sees it: a note carries up to FW_NOTE_TERMS term ids (title, tags,
 * body; FW_NONE-padded, repeats count as term frequency), a query up to FW_QUERY_TERMS. Term
 * ids index the world's vocabulary of fw_catalog.n_terms words. */
#define FW_NOTE_TERMS 16
/* A product's title: FW_PRODUCT_TERMS term ids of the same vocabulary (FW_NONE padded). */
#define FW_PRODUCT_TERMS 6
#define FW_QUERY_TERMS 6

typedef enum fw_format { FW_FORMAT_IMAGE = 0, FW_FORMAT_VIDEO = 1 } fw_format;

/* What the platform can see of a note when it is published. */
/* The day of an absolute tick, rounded down: ticks before 0 (the initial catalog's, a
 * warm-up's) fall on days below 0. */
static inline int32_t fw_tick_day(int32_t tick, uint32_t ticks_per_day)
{
    return tick >= 0 ? tick / (int32_t)ticks_per_day
                     : -(int32_t)((-(int64_t)tick + ticks_per_day - 1) / ticks_per_day);
}

/* The ticks a note may be created at: |created_tick| <= FW_TICK_BOUND, so that the age of a
 * note at any tick of a run, a difference of two such ticks, fits an int32 (the longest run
 * the scenario allows, history, warm-up and days at 1,440 ticks a day, is about 11M ticks).
 * The engine refuses another (a catalog's, a publication's, a snapshot's note). */
#define FW_TICK_BOUND (INT32_C(1) << 30)

typedef struct fw_note_info {
    uint32_t creator;       /* user id of the author */
    uint16_t topic;         /* the note's topic tag */
    uint8_t format;         /* fw_format */
    int32_t created_tick;   /* absolute tick (day * ticks_per_day + tick); < 0 before day 0;
                               within FW_TICK_BOUND */
} fw_note_info;

/* The most a product may cost: 10^15 cents (10^13 CNY). The shop counts money in int64 cents;
 * with prices below this, a price times a quantity is checked once per order and the books
 * that sum orders are bounded by the value of the orders ever placed (fw_shop_place_orders). */
#define FW_PRICE_MAX_CENTS INT64_C(1000000000000000)

/* A product as the shop sells it (see flywheel/shop.h). Categories are topics. */
typedef struct fw_product_info {
    uint32_t brand;
    uint16_t category;      /* < n_topics */
    int64_t price_cents;    /* in [1, FW_PRICE_MAX_CENTS] */
    uint32_t stock;         /* units on sale at the start */
} fw_product_info;

/* What the platform knows when it starts: users, creators' notes, who follows whom, the
 * shop's catalog. */
typedef struct fw_catalog {
    uint32_t n_users;
    uint32_t n_topics;
    uint32_t ticks_per_day;
    uint32_t n_notes;
    const fw_note_info *notes;       /* [n_notes], in publication order */
    const uint64_t *follow_offsets;  /* [n_users + 1]: CSR offsets into follows (64-bit: a
                                        catalog may hold more than 2^32 follows) */
    const uint32_t *follows;         /* creators (user ids) each user follows */
    /* Producer-side experiments: when not NULL, [n_users] the configuration (arm) under
     * which each creator's notes are scored, whoever views them; recall still follows the
     * viewer's arm. NULL: every note is scored under the viewer's arm. */
    const uint8_t *producer_arm;
    /* Search: the vocabulary size and each note's terms ([n_notes * FW_NOTE_TERMS]); with
     * note_terms NULL nothing is indexed until notes are published with text. */
    uint32_t n_terms;
    const uint32_t *note_terms;
    /* The shop (flywheel/shop.h): brands, products ([n_products]) and, when not NULL, the
     * product each note shows ([n_notes], FW_NONE for none): the recogniser's input, see
     * fw_shop_attach. With n_products 0 the shop sells nothing. */
    uint32_t n_brands, n_products;
    const fw_product_info *products;
    const uint32_t *note_products;
    /* Products' titles ([n_products * FW_PRODUCT_TERMS] words of the vocabulary, FW_NONE
     * padded), or NULL: blended search results then match no title and fall back to the
     * best seller of the query's category (engine.search.product_match). */
    const uint32_t *product_terms;
    /* Ads (flywheel/ads.h): the campaigns ([n_campaigns], struct fw_campaign_info), or none. */
    uint32_t n_campaigns;
    const struct fw_campaign_info *campaigns;
    /* A/B cells. user_cell, when not NULL, is [n_users] the cell (configuration) each user is
     * in: it serves their requests and their logs belong to it. NULL: every user is in cell 0
     * until fw_engine_set_user_cells places them (an experiment's pre-period).
     * isolation (fw_isolation): FW_ISOLATION_PER_ARM gives every cell its own learned state --
     * the recommender's note and content embeddings, ranking models and co-engagement
     * neighbours, search's query intents, the ads' pCTR model and campaign rates -- trained on
     * its own users' logs only; FW_ISOLATION_SHARED (0) keeps one of each, learning from every
     * cell. Per-user state (a user's vector, history, caps) is one copy: a user is in one cell.
     * budget_split nonzero splits every campaign's daily budget and pacing state across the
     * cells by cell_share ([n_arms] traffic shares summing to 1; NULL: equal shares) once users
     * are placed in cells (until then cell 0 holds every budget); 0 keeps one budget. */
    const uint8_t *user_cell;
    uint32_t isolation;
    uint32_t budget_split;
    const double *cell_share;
    /* Under per-arm isolation: independent learned states per cell (0 or 1: one; at most
     * FW_MAX_LEARNERS_PER_CELL). With L > 1, user_bucket ([n_users], each < L) says which of
     * its cell's L learners serves and learns from each user, once users are placed in cells
     * (before, every user is in the one learner the placement copies). Each learner then
     * trains on its bucket's logs only, so the randomness of each learning path varies
     * between buckets of one arm and a test over buckets (clusters) can measure it. Ignored
     * (must be 0 or 1) under shared isolation. */
    uint32_t learners_per_cell;
    const uint8_t *user_bucket;
    /* The key of the random streams the engine hands to ranker plug-ins (flywheel/policy.h;
     * the simulator: the scenario seed). The engine itself draws nothing. */
    uint64_t seed;
    /* Privacy (engine.privacy, flywheel/privacy.h): when not NULL, [n_users] nonzero for a user
     * who opted out of personalisation -- their feed is the cell's popular notes, and their
     * events train no personalised model (user vectors, ranking models, histories, co-engagement);
     * they still count in the platform's aggregates (trending, totals). NULL: nobody. */
    const uint8_t *optout;
    /* Room to make at creation for notes published later, beyond n_notes (a hint: capacity
     * only, it changes no result; past it the note arrays grow by half). 0: none. */
    uint32_t reserve_notes;
    /* 1: follow_offsets and follows outlive the engine and are never written after
     * fw_engine_create; the engine then reads each user's day-0 list in place, copying a list
     * only when a follow or an unfollow first changes it, instead of copying the whole graph
     * (without self-follows; with any, it copies). 0: the engine keeps its own copy. */
    int follows_kept;
} fw_catalog;

/* Engine stages whose latency is measured. X(ENUM, "name", "what is timed"). */
#define FW_STAGES(X)                                                               \
    X(FEED, "feed", "a whole feed request")                                        \
    X(FEED_RECALL, "feed_recall", "candidate generation of a feed request")       \
    X(FEED_RANK, "feed_rank", "scoring, de-duplication and top-k of a feed request") \
    X(FEED_RERANK, "feed_rerank", "rec: re-ranking (caps, exploration, ad slots) of a feed request") \
    X(RECALL_SOCIAL, "recall_social", "rec: the social recall channel")                   \
    X(RECALL_HOT, "recall_hot", "rec: the trending recall channel")                       \
    X(RECALL_CONTENT, "recall_content", "rec: the content (learned profile) recall channel") \
    X(RECALL_CF, "recall_cf", "rec: the item-to-item recall channel")                     \
    X(RECALL_GRAPH, "recall_graph", "rec: the random-walk recall channel")                \
    X(RECALL_FRESH, "recall_fresh", "rec: the cold-start recall channel")                 \
    X(TRAIN, "train", "rec: online training on one tick's event log (part of log)")       \
    X(SEARCH, "search", "a whole search request")                                         \
    X(SEARCH_PARSE, "search_parse", "search: query parsing and intent prediction")        \
    X(SEARCH_RETRIEVE, "search_retrieve", "search: postings traversal (BM25) and intent candidates") \
    X(SEARCH_RANK, "search_rank", "search: blended ranking and top-k")                    \
    X(SEARCH_LEARN, "search_learn", "search: learning query intents from one tick's clicks") \
    X(SHOP, "shop", "a whole shop-tab request (profile, best sellers, page)")             \
    X(SHOP_CHECKOUT, "shop_checkout", "placing one tick's orders (stock, payment)")       \
    X(SHOP_LIFECYCLE, "shop_lifecycle", "advancing orders at a tick's end (retries, shipping, refunds)") \
    X(ADS, "ads", "an ad auction for a request's slots (eligibility, scoring, pricing)") \
    X(LOG, "log", "applying one tick's log: every kind of record, in every capability") \
    X(PUBLISH, "publish", "publishing one note: search index, pools, product card, sponsored task") \
    X(END_TICK, "end_tick", "every capability's tick end: pools, orders' lifecycle, ads pacing, notices") \
    X(END_DAY, "end_day", "end-of-day maintenance")                                      \
    X(LIVE, "live", "live selling: one tick's joins, session ends and viewer counts, or one batch of live orders")

typedef enum fw_stage {
#define FW_STAGE_ENUM(e, name, doc) FW_STAGE_##e,
    FW_STAGES(FW_STAGE_ENUM)
#undef FW_STAGE_ENUM
    FW_STAGE__COUNT
} fw_stage;

const char *fw_stage_name(fw_stage s);
const char *fw_stage_doc(fw_stage s);

/* Work the engine did, counted per calling ctx: deterministic for a given sequence of calls
 * (unlike latency), so a change that makes the engine do more work shows up exactly.
 * X(ENUM, "name", "what is counted"). */
#define FW_WORK_COUNTERS(X)                                                                   \
    X(FEED_REQUESTS, "feed_requests", "feed requests served")                                 \
    X(RECALLED, "candidates_recalled", "candidates looked at by recall, before de-duplication") \
    X(SCORED, "candidates_scored", "candidates scored by the ranker")                         \
    X(SERVED, "notes_served", "notes returned in feed pages")                                 \
    X(EVENTS, "events_logged", "events applied by fw_engine_log")                             \
    X(POOL_OFFERS, "pool_offers", "notes offered to trending-pool refreshes")                 \
    X(REC_SOCIAL, "recalled_social", "rec: candidates added by the social channel")           \
    X(REC_HOT, "recalled_hot", "rec: candidates added by the trending channel")               \
    X(REC_CONTENT, "recalled_content", "rec: candidates added by the content channel")        \
    X(REC_CF, "recalled_cf", "rec: candidates added by the item-to-item channel")             \
    X(REC_GRAPH, "recalled_graph", "rec: candidates added by the random-walk channel")        \
    X(REC_FRESH, "recalled_fresh", "rec: candidates added by the cold-start channel")         \
    X(WALK_STEPS, "walk_steps", "rec: random-walk steps taken")                               \
    X(REC_EXACT, "scored_exactly", "rec: candidates the ranker scored with every head (the rest only bounded)") \
    X(TRAINED, "samples_trained", "rec: training samples (impressions and opens) applied")   \
    X(CF_PAIRS, "cf_pairs", "rec: co-engagement pairs counted at day ends")                   \
    X(SEARCHES, "searches", "search requests served")                                         \
    X(POSTINGS, "postings_traversed", "search: postings read while scoring BM25")             \
    X(SEARCH_CANDIDATES, "search_candidates", "search: candidates ranked")                    \
    X(SEARCH_CLICKS, "search_clicks_learned", "search: clicks learned from")                  \
    X(SHOP_REQUESTS, "shop_requests", "shop-tab requests served")                             \
    X(SHOP_SCANNED, "shop_products_scanned", "shop: best-seller entries looked at for pages")   \
    X(ORDERS_PLACED, "orders_placed", "shop: order requests handled (duplicates included)")     \
    X(ORDERS_ADVANCED, "orders_advanced", "shop: open orders looked at by lifecycle steps")                     \
    X(AUCTIONS, "auctions_run", "ads: auctions run")                                          \
    X(AD_BIDDERS, "ad_bidders", "ads: campaigns that entered auctions")

typedef enum fw_work {
#define FW_WORK_ENUM(e, name, doc) FW_WORK_##e,
    FW_WORK_COUNTERS(FW_WORK_ENUM)
#undef FW_WORK_ENUM
    FW_WORK__COUNT
} fw_work;

const char *fw_work_name(fw_work w);
const char *fw_work_doc(fw_work w);

/* Logged events, in the order the platform would receive them. */
typedef enum fw_event_type {
    FW_EV_IMPRESSION = 0,   /* the note was on screen */
    FW_EV_OPEN,             /* cover clicked: the note was read */
    FW_EV_LIKE,
    FW_EV_SAVE,
    FW_EV_COMMENT,
    FW_EV_FOLLOW,           /* user followed the note's creator */
    FW_EV__COUNT
} fw_event_type;

typedef struct fw_event {
    uint32_t user;
    uint32_t note;
    int32_t tick;
    uint32_t type;          /* fw_event_type, possibly | FW_EV_SEARCH, | FW_EV_AD */
} fw_event;

/* OR'd into fw_event.type: the event happened on a search result page. It counts as
 * engagement like any other, but the feed recommender does not train on it (the surfaces
 * differ). FW_EV_TYPE(t) is the fw_event_type. */
#define FW_EV_SEARCH 0x100u
/* OR'd into a like, save or comment: it was given to an ad's creative right after the ad was
 * opened (ads are notes). It counts as the creative's engagement like any other, and the ads'
 * pCTR model learns from it (per campaign: the user's latest click on a campaign showing that
 * creative); the feed recommender does not train on it. Never on another event type. */
#define FW_EV_AD 0x200u
#define FW_EV_TYPE(t) ((t) & 0xffu)

/* What the recommender's ranking models predict. X(ENUM, "name", "what is predicted"). */
#define FW_REC_TASKS(X)                                        \
    X(OPEN, "open", "an open (cover click) per impression")    \
    X(LIKE, "like", "a like per open")                         \
    X(SAVE, "save", "a save per open")                         \
    X(COMMENT, "comment", "a comment per open")                \
    X(FOLLOW, "follow", "a follow of the creator per open")

typedef enum fw_rec_task {
#define FW_REC_TASK_ENUM(e, name, doc) FW_TASK_##e,
    FW_REC_TASKS(FW_REC_TASK_ENUM)
#undef FW_REC_TASK_ENUM
    FW_TASK__COUNT
} fw_rec_task;

const char *fw_rec_task_name(fw_rec_task t);
const char *fw_rec_task_doc(fw_rec_task t);

/* Progressive validation of a ranking model over one day: each training sample is first
 * predicted with the model as it stood, then learned from. Sums, so days can be pooled. */
typedef struct fw_model_stats {
    uint64_t samples;
    double log_loss;    /* sum of -log likelihood (weighted by negative sampling) */
    double weight;      /* sum of sample weights (log_loss / weight = mean log loss) */
    double predicted;   /* sum of weight * predicted probability */
    double observed;    /* sum of weight * label */
} fw_model_stats;

typedef struct fw_feed_req {
    uint32_t user;
    uint32_t arm;           /* which engine configuration serves this user */
    int32_t tick;           /* absolute tick of the request */
} fw_feed_req;

typedef struct fw_engine fw_engine;
typedef struct fw_engine_ctx fw_engine_ctx;

/* Creates an engine from the catalog (copied) with one configuration per experiment arm
 * (cfgs[0..n_arms), copied; their string knobs are read during this call only; 1 <= n_arms
 * <= 256). An arm with engine.feed.algorithm plugin loads its ranker plug-in here, one with
 * engine.ads.bidder plugin its bidder (flywheel/policy.h): FW_ERR_IO, FW_ERR_NOTFOUND or
 * FW_ERR_INVAL when it cannot, with fw_policy_check_ranker / _bidder saying why. With the recommender (some arm's algorithm
 * is rec) n_topics must be at most 1024 and every note's topic below n_topics. Returns NULL
 * and sets *err (FW_ERR_NOMEM, FW_ERR_INVAL) on failure. */
fw_engine *fw_engine_create(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_arms,
                            fw_err *err);
/* The same, with why[0..cap) saying what failed when more is known than *err ("" if not):
 * a knob out of range, a plug-in that refused its instance. */
fw_engine *fw_engine_create_why(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_arms,
                                fw_err *err, char *why, size_t cap);
void fw_engine_destroy(fw_engine *e);

/* A per-thread workspace: scratch memory for requests and one latency histogram per
 * stage. Create one per calling thread; NULL when out of memory. */
fw_engine_ctx *fw_engine_ctx_create(const fw_engine *e);
void fw_engine_ctx_destroy(fw_engine_ctx *ctx);

/* The latency histogram of a stage (nanoseconds) recorded through ctx since its last
 * reset; and the reset, which also zeroes the work counters. */
const fw_hist *fw_engine_ctx_latency(const fw_engine_ctx *ctx, fw_stage s);
void fw_engine_ctx_reset_latency(fw_engine_ctx *ctx);

/* Work counted through ctx since its last reset (fw_engine_ctx_reset_latency resets it
 * too). */
uint64_t fw_engine_ctx_work(const fw_engine_ctx *ctx, fw_work w);

/* Serves a feed page: writes up to cap note ids to out (best first) and returns how many.
 * Notes served are remembered as seen by the user. Deterministic given the engine state. */
uint32_t fw_feed_request(fw_engine *e, fw_engine_ctx *ctx, const fw_feed_req *req,
                         uint32_t *out, uint32_t cap);

/* A slot of a finished page, as the platform renders it: a note, or an ad (its creative is a
 * note), or an ad slot no campaign won. */
/* A search page's product result (engine.search.product_slot) is a slot with note and
 * campaign FW_NONE and card the product; an ad slot left empty has card FW_NONE too. */
typedef struct fw_slot {
    uint32_t note;          /* the note shown; FW_NONE: an ad slot left empty, or a product result */
    uint32_t campaign;      /* the ad's campaign; FW_NONE: an organic note */
    int64_t price_cents;    /* an ad's price per billable unit (flywheel/ads.h) */
    uint32_t card;          /* the product card shown on an organic note (flywheel/shop.h), or FW_NONE */
    int64_t min_bid_cents;  /* an ad's minimum bid to win its slot (fw_ad_fill) */
} fw_slot;

/* Serves a finished feed page: the ranking of fw_feed_request, its reserved ad slots sold by
 * the ads' auction (flywheel/ads.h; left empty when no campaign wins, or without campaigns),
 * and every organic note's product card. Writes up to min(cap, FW_PAGE_SLOTS) slots and
 * returns how many. Concurrency and determinism as fw_feed_request; the auction writes only
 * the user's own frequency caps. */
#define FW_PAGE_SLOTS 128
uint32_t fw_feed_page(fw_engine *e, fw_engine_ctx *ctx, const fw_feed_req *req, fw_slot *out,
                      uint32_t cap);

/* Barrier calls. fw_engine_log (flywheel/record.h) applies a tick's records of every kind;
 * fw_engine_log_events is the same for note events alone (engagement counters, trending
 * scores, follows), in the order given. fw_engine_publish appends a note and writes its id
 * (ids are dense, in publication order). fw_engine_end_tick runs every capability's tick end
 * (the trending pools as of tick, the shop's orders -- FW_ERR_NOMEM when its change log
 * cannot grow --, the ads' pacing) and then delivers what capabilities told each other during
 * the tick (a paid order reaches the ads' attribution). fw_engine_end_day runs end-of-day
 * maintenance for day (the recommender's co-engagement rebuild: FW_ERR_NOMEM when it cannot
 * allocate, the old neighbours are kept), records every capability's day series
 * (fw_engine_series) and checks every capability's invariants (FW_ERR_INTERNAL,
 * fw_engine_error says which). */
fw_err fw_engine_log_events(fw_engine *e, fw_engine_ctx *ctx, const fw_event *ev, size_t n);
fw_err fw_engine_publish(fw_engine *e, fw_engine_ctx *ctx, const fw_note_info *note,
                         uint32_t *id);
fw_err fw_engine_end_tick(fw_engine *e, fw_engine_ctx *ctx, int32_t tick);
fw_err fw_engine_end_day(fw_engine *e, fw_engine_ctx *ctx, uint32_t day);

/* Issue 21, state snapshots (flywheel/snap.h). fw_engine_can_snap: whether every capability
 * that is on can save and load its state (0: their names, comma-separated, into missing).
 * fw_engine_snap saves the engine's state into a writer, or loads it from a reader into an
 * engine just created from the same catalog and configuration; at a day's end, between
 * days. Loading checks every capability's invariants after reading. FW_OK; FW_ERR_IO (a
 * write failed) or FW_ERR_PARSE (the snapshot is not one this engine can load), with
 * fw_engine_error saying why. */
struct fw_snap;
int fw_engine_can_snap(const fw_engine *e, char *missing, size_t len);
fw_err fw_engine_snap(fw_engine *e, struct fw_snap *s);

/* Per-user state a request writes for its own user that a barrier call reads for any user,
 * for a caller that serves users' requests in several processes (each holding a replica of
 * the engine, as the simulator's MPI ranks do) and must copy each user's element to the other
 * processes before the barrier: up to max arrays, base[k][u * size[k]] being user u's
 * element; returns how many (today at most one: the recommender's cell of each user's latest
 * feed request, whose training reads it for the SHOP feature). Everything else a request
 * writes (served filters, ad frequency caps) is read only by the same user's later
 * requests. Valid for the engine's life. */
uint32_t fw_engine_request_rows(fw_engine *e, void **base, size_t *size, uint32_t max);

/* What the last barrier call that failed with FW_ERR_INTERNAL or FW_ERR_NOMEM found ("shop:
 * order 12 was paid 2 times"); "" when none failed. */
const char *fw_engine_error(const fw_engine *e);

/* The day series of the engine's capabilities (the shop's books, the ads', the
 * marketplace's): group k of fw_engine_n_series_groups, as of the last fw_engine_end_day
 * (values all 0 before the first day end), in the engine's own order. A capability a
 * scenario switches off has no group. FW_ERR_INVAL for k out of range. */
typedef struct fw_series_desc {
    const char *name, *unit, *doc;
} fw_series_desc;

typedef struct fw_series_group {
    const char *name;        /* the capability: "shop", "ads", "market" */
    const char *doc;
    uint32_t n;
    const fw_series_desc *series;   /* [n] */
    const int64_t *values;          /* [n] */
} fw_series_group;

uint32_t fw_engine_n_series_groups(const fw_engine *e);
fw_err fw_engine_series(const fw_engine *e, uint32_t k, fw_series_group *out);

/* Places every user in a cell (user_cell[n_users], as in fw_catalog), e.g. when an
 * experiment's pre-period ends: from now on a user's logs train their cell's learned state and
 * spend their cell's share of the budgets. Under per-arm isolation every cell's learned state
 * starts as a copy of cell 0's (the models the pre-period trained), and with a budget split
 * every cell's pacing state as cell 0's, its budgets as its share. A barrier call, between
 * days (budgets spent today are not moved). FW_ERR_INVAL for a cell out of range (nothing
 * changed); FW_ERR_NOMEM when a copy cannot be made (the engine must not be used further). */
fw_err fw_engine_set_user_cells(fw_engine *e, const uint8_t *user_cell);

/* Bytes held by the learned state of every cell beyond the first (per-arm isolation and
 * budget split): what isolation costs in memory. */
size_t fw_engine_cell_state_bytes(const fw_engine *e);

/* Replaces the producer arms ([n_users], as in fw_catalog; the engine must have been
 * created with producer arms). A barrier call, e.g. when an experiment's pre-period ends.
 * FW_ERR_INVAL when the engine has none or an arm is out of range (nothing changed). */
fw_err fw_engine_set_producer_arms(fw_engine *e, const uint8_t *producer_arm);

/* The candidates the last fw_feed_request through ctx scored (after de-duplication and the
 * seen filter), in recall order, and how many (*n). Valid until ctx's next request; for
 * oracle measurements in the simulator and for tests. */
const uint32_t *fw_engine_ctx_candidates(const fw_engine_ctx *ctx, uint32_t *n);

/* The score the last fw_feed_request through ctx ranked note by -- the baseline feed's
 * trending/follow/fresh score, the recommender's weighted sum of its task models, a ranker
 * plug-in's scores (none when it answers with a page) -- or NaN
 * when that request did not score it (an exploration pick scored by another rule is still
 * found; a note it never recalled is not; the recommender scores exactly only the candidates
 * that could reach its page -- every note it serves -- and leaves NaN for the others). Valid until ctx's next request; a linear search
 * over the request's candidates, for logging a sampled user's pages. */
double fw_engine_ctx_score(const fw_engine_ctx *ctx, uint32_t note);

/* True when note is in user's served filters under arm's configuration (what the seen filter
 * of a feed request would skip). Reads only that user's state: safe in concurrent requests
 * for other users and from the thread serving this one. */
int fw_feed_was_served(const fw_engine *e, uint32_t user, uint32_t arm, uint32_t note);

/* True when the engine runs the learning recommender (some arm uses algorithm rec). */
int fw_engine_has_rec(const fw_engine *e);

/* The ranking model's progressive-validation statistics for task over the day most recently
 * ended by fw_engine_end_day (all zero before the first, or without the recommender). */
fw_model_stats fw_engine_model_stats(const fw_engine *e, fw_rec_task task);

/* A test hook for benchmark checks (`flywheel bench`): adds a busy wait of ns nanoseconds
 * to every call of stage s, which must be FW_STAGE_FEED_RECALL, FW_STAGE_FEED_RANK,
 * FW_STAGE_LOG or FW_STAGE_END_TICK. Changes timings only, never results or work counters.
 * A barrier call; FW_ERR_INVAL for another stage or ns < 0. */
fw_err fw_engine_plant_delay(fw_engine *e, fw_stage s, int64_t ns);

/* Issue 22: the barrier's work in parallel. The engine has no threads of its own; a host
 * that has them hands it a parallel loop: pf(n, grain, kernel, arg) must call
 * kernel(arg, begin, end, slot) over chunks [begin, end) (of grain, a hint: any size
 * will do) that cover [0, n) exactly once, in any order and on any threads, with slot in [0, n_slots) distinct among the calls
 * running at once, and return when every chunk is done. The engine runs through it the parts
 * of its barrier calls that split into independent pieces (the recommender's training
 * features and note feature rows, the co-engagement rebuild at day end); each piece writes
 * only its own outputs and merges in a fixed order, so the engine's state after every call
 * is bit-identical whatever pf, n_slots and the chunks' schedule (serial SGD steps stay in
 * event order). pf NULL or n_slots < 1: serial (the default). Per-slot scratch is allocated
 * by the barrier call that needs it (FW_ERR_NOMEM there). A barrier call; returns FW_OK. */
typedef void (*fw_engine_kernel)(void *arg, size_t begin, size_t end, int slot);
typedef void (*fw_engine_par_for)(size_t n, size_t grain, fw_engine_kernel kernel, void *arg);
fw_err fw_engine_set_par(fw_engine *e, fw_engine_par_for pf, int n_slots);

/* ---- search ------------------------------------------------------------------------- */

typedef struct fw_search_req {
    uint32_t user;
    uint32_t arm;           /* which engine configuration serves this user */
    int32_t tick;
    uint32_t n_terms;       /* <= FW_QUERY_TERMS */
    uint32_t terms[FW_QUERY_TERMS];
} fw_search_req;

/* Serves a search result page: up to min(cap, engine.search.page_size) note ids, best first;
 * returns how many (0: no result). Concurrency as fw_feed_request (writes no shared state).
 * Deterministic given the engine state. */
uint32_t fw_search_request(fw_engine *e, fw_engine_ctx *ctx, const fw_search_req *q, uint32_t *out,
                           uint32_t cap);

/* A click on a search result: the query and the note opened. */
typedef struct fw_search_click {
    uint32_t user, note;
    int32_t tick;
    uint32_t n_terms;
    uint32_t terms[FW_QUERY_TERMS];
} fw_search_click;

/* Barrier call: learns query intents (which topics each term's clicks lead to) from clicks,
 * in the order given. FW_ERR_INVAL for a bad note or user (skipped; the rest learned). */
fw_err fw_engine_log_search(fw_engine *e, fw_engine_ctx *ctx, const fw_search_click *c, size_t n);

/* Serves a finished search page: when the ranking of fw_search_request has results and the
 * platform sells ads, slot 0 is the ad slot at the top (sold for the topic the engine reads
 * in the query: its learned intent; FW_NONE note and campaign when no campaign wins), then
 * the results with their product cards. With engine.search.product_slot k > 0, a product
 * result (note and campaign FW_NONE, card the product: engine.search.product_match -- the
 * in-stock product whose title best matches the query, or the best seller in stock of the
 * query's topic) sits before the k-th result, or last, when the shop has one; on a full page
 * it takes the last result's place. cap must leave room for the ad slot. Concurrency and determinism
 * as fw_search_request. */
uint32_t fw_search_page(fw_engine *e, fw_engine_ctx *ctx, const fw_search_req *q, fw_slot *out,
                        uint32_t cap);

/* A note as its creator publishes it: what the platform sees of it, its text (terms
 * [FW_NOTE_TERMS], or NULL: indexed for search from the next request on), the product its
 * pictures show (the card recogniser's input, FW_NONE: none; see fw_shop_attach) and the
 * marketplace task it delivers (FW_NONE: none; see fw_market_deliver). */
typedef struct fw_publication {
    fw_note_info info;
    const uint32_t *terms;
    uint32_t product;
    uint32_t task;
    /* AI-generated notes (flywheel/aigc.h): declared is the creator's own AIGC declaration
     * (the platform sees it); ai_generated is the truth, read only by the detector stand-in
     * (engine.aigc.detector), which flags notes from it at the configured recall and
     * precision. Zero-initialised publications are human notes, undeclared. */
    uint8_t declared;
    uint8_t ai_generated;
} fw_publication;

/* Barrier call: publishes p and writes its id. FW_ERR_INVAL for a bad creator or topic, or a
 * product or task the shop or marketplace refuses (the note is published then; the error
 * says the delivery or card failed); FW_ERR_NOMEM when it cannot be held (nothing published).
 * fw_engine_publish is this with no text, product or task. */
fw_err fw_engine_publish_note(fw_engine *e, fw_engine_ctx *ctx, const fw_publication *p, uint32_t *id);

/* The engine's learned P(topic | query) for q (dist[n_topics], summing to 1 when it knows any
 * of the terms; all 0 otherwise). Returns the confidence in [0, 1). For tests and reports. */
double fw_search_intent(const fw_engine *e, const fw_search_req *q, double *dist);

/* Read-only accessors for reports and tests. */
uint32_t fw_engine_n_notes(const fw_engine *e);
uint64_t fw_engine_note_count(const fw_engine *e, uint32_t note, fw_event_type type);

#endif
