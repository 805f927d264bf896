/* Private to the engine: the core (catalog, counts, follows, cells, served filters), the
 * module interface every capability implements, and small helpers every module may use.
 * Owns: nothing beyond the declarations.  Borrows: nothing.
 * Never touches: a module's own state -- each module keeps it behind an opaque struct in its
 * .c file and offers what others may read through its private header (pools.h, rank.h,
 * shop_int.h, rec_int.h).
 *
 * The shape: engine.c owns the core and loops over the static table of modules
 * (FW_ENGINE_MODULES) in every hook; a module a scenario switches off (wanted() false) has
 * no state and costs nothing. The table order is the barrier order, and it matters:
 *   search  first: publishing indexes a note before anything else sees it, and an index that
 *           cannot take it leaves the engine as it was (the note is withdrawn);
 *   pools   before rec: a tick's end refreshes the trending pools the recommender's topic
 *           pools are cut from;
 *   privacy after pools, before rec: its day end forgets expired user signals and releases
 *           the DP trending counts before the recommender pairs histories and rebuilds its
 *           topic pools from them;
 *   ads     before shop and rec before shop: the ads' pCTR and the recommender train on the
 *           shop profiles the tick's requests saw, before the shop applies the tick's events;
 *   bidder  after ads: a bidder plug-in observes its wins with what the ads billed for them,
 *           and the conversions the ads attributed;
 *   rec     before the core: it trains on the follow lists the requests saw;
 *   safety  after publishing (the core's, before every tick end): it scores the tick's new
 *           notes and decides its reviews at its tick end; requests read its states;
 *   aigc, media (issue 20): anywhere after search; the detector flags a note at publication,
 *           requests read the flags; the media pipeline holds notes before publication
 *           (fw_media_step), so it never sees a published one;
 *   live    (issue 19) after shop, before plugin: its orders go through the shop's order path
 *           (fw_live_buy calls it), and it counts a live order as paid from the shop's
 *           ORDER_PAID notice; it has no log kind of its own;
 *   plugin  last: a ranker plug-in observes the tick's events after every built-in learner,
 *           and its tick end reports a request's fault once every module has ended the tick.
 * After every module has logged, the core applies the tick's note events (counts, follows). */
#ifndef FLYWHEEL_ENGINE_INT_H
#define FLYWHEEL_ENGINE_INT_H

#include <math.h>
#include <string.h>
#include <time.h>

#include "flywheel/engine.h"
#include "flywheel/record.h"
#include "flywheel/snap.h"

/* Most configurations (cells) one engine serves. */
#define FW_MAX_ENGINE_ARMS 256


typedef struct fw_u32vec {
    uint32_t *v;
    uint32_t n, cap;
} fw_u32vec;

/* ---- the module interface ----------------------------------------------------------- */

/* The capability table, in barrier order (see above). X(ENUM, name). */
#define FW_ENGINE_MODULES(X) \
    X(SEARCH, search)        \
    X(POOLS, pools)          \
    X(PRIVACY, privacy)      \
    X(ADS, ads)              \
    X(BIDDER, bidder)        \
    X(REC, rec)              \
    X(SHOP, shop)            \
    X(FEED, feed)            \
    X(MARKET, market)        \
    X(NOTIFY, notify)        \
    X(SAFETY, safety)        \
    X(AIGC, aigc)            \
    X(MEDIA, media)          \
    X(LIVE, live)            \
    X(PLUGIN, plugin)

typedef enum fw_module_id {
#define FW_MOD_ENUM(e, name) FW_MOD_##e,
    FW_ENGINE_MODULES(FW_MOD_ENUM)
#undef FW_MOD_ENUM
    FW_MOD__COUNT
} fw_module_id;

/* Something one module tells the others during a tick, delivered at the tick's end (after
 * every module's end_tick), in the order posted. */
typedef enum fw_notice_kind {
    FW_NOTICE_ORDER_PAID = 0,   /* an order's payment went through */
} fw_notice_kind;

typedef struct fw_notice {
    uint32_t kind;              /* fw_notice_kind */
    uint32_t order, user, product, brand;
    int32_t tick;
    int64_t value_cents;
} fw_notice;

/* One capability. Every hook may be NULL. State is the module's opaque per-engine struct
 * (per-cell state inside it); ctx its per-thread scratch. Hooks marked "barrier" run alone. */
/* A tick's log as the modules read it (fw_engine_log builds it once per barrier): the records
 * in the caller's order, the note events copied into one compact array (the hot kind: every
 * learner reads it, and at 16 bytes an event is a third of a record), and every kind's records
 * as a slice, in order. A module reads only its kinds' slices and writes outcomes through
 * them; nothing scans the whole log. */
typedef struct fw_log {
    fw_record *rec;
    const uint32_t *idx;        /* record indices grouped by kind; NULL: rec is one kind */
    size_t off[FW_RECORD__COUNT + 1];   /* kind k: positions off[k] .. off[k + 1) */
    const fw_event *ev;         /* the note events, in order */
    size_t n_ev;
} fw_log;

/* The number of records of kind k, and the j-th of them. */
static inline size_t fw_log_n(const fw_log *l, fw_record_kind k) { return l->off[k + 1] - l->off[k]; }
static inline fw_record *fw_log_at(const fw_log *l, fw_record_kind k, size_t j)
{
    size_t i = l->off[k] + j;
    return &l->rec[l->idx ? l->idx[i] : i];
}

/* A log of n records that are all of kind k (rec need not be tagged), for the per-kind entry
 * points that predate fw_engine_log. Not for note events (they need the compact array). */
static inline fw_log fw_log_of(fw_record *rec, size_t n, fw_record_kind k)
{
    fw_log l = {.rec = rec};
    for (int i = k + 1; i <= FW_RECORD__COUNT; i++)
        l.off[i] = n;
    return l;
}

typedef struct fw_engine_module {
    const char *name;
    /* Bytes of the module's state: the core allocates it zeroed before create and frees it
     * after destroy and after the arrays the module allocated with fw_alloc. */
    size_t state_size;
    /* Whether the module runs at all for this catalog and these cells (NULL: always). */
    int (*wanted)(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells);
    /* After the core holds the catalog's notes and follows, with *state allocated. destroy
     * frees what fw_alloc does not (arrays inside arrays that move); it runs, and fw_alloc's
     * arrays are freed, even when create failed half-way. */
    fw_err (*create)(fw_engine *e, const fw_catalog *cat, void **state);
    void (*destroy)(fw_engine *e, void *state);
    fw_err (*ctx_create)(const fw_engine *e, const void *state, void **ctx);
    void (*ctx_destroy)(void *ctx);
    /* FW_ERR_INVAL when the module cannot take a note like this (before anything changes). */
    fw_err (*check_note)(const fw_engine *e, const fw_note_info *note);
    /* Barrier: every per-note array grows from old_cap to cap notes (before a note id >=
     * old_cap exists). */
    fw_err (*grow_notes)(fw_engine *e, void *state, uint32_t old_cap, uint32_t cap);
    /* Barrier: note id was published (the core holds it already). */
    fw_err (*publish)(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t id, const fw_publication *p);
    /* Barrier: the tick's records, in the simulator's user order; a module reads the kinds
     * it serves and writes their outcome fields. FW_ERR_INVAL: some records were skipped
     * (the rest applied); another error stops the call. */
    fw_err (*log)(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_log *log);
    fw_err (*end_tick)(fw_engine *e, void *state, fw_engine_ctx *ctx, int32_t tick);
    fw_err (*notice)(fw_engine *e, void *state, const fw_notice *notice, size_t n);
    /* Barrier: the day's end; writes the module's day series into series (n_series values). */
    fw_err (*end_day)(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series);
    /* Barrier: users were placed in cells (fw_engine_set_user_cells): under per-arm isolation
     * copy learner 0's state into every other learner, with a budget split re-split budgets. */
    fw_err (*fork)(fw_engine *e, void *state);
    /* Bytes of state kept per cell beyond the first (fw_engine_cell_state_bytes). */
    size_t (*cell_bytes)(const fw_engine *e, const void *state);
    /* Issue 21, state snapshots (flywheel/snap.h): every transfer of what the module's next
     * day depends on, one function for both directions. Loading, the state is a freshly
     * created one of the same scenario (the catalog's notes; every per-note array already
     * grown to the snapshot's cap_notes), and the hook overwrites all that a day changes;
     * check runs after it. NULL: the module cannot be snapshot and a resumed run that
     * uses it re-simulates its finished days instead. */
    void (*snap)(fw_engine *e, void *state, fw_snap *s);
    /* The module's invariants, recomputed: FW_OK or FW_ERR_INTERNAL with why. */
    fw_err (*check)(const fw_engine *e, const void *state, char *why, size_t cap);
    const char *series_doc;
    const fw_series_desc *series;
    uint32_t n_series;
    /* Feed algorithms: the engine.feed.algorithm value served (read only where feed is
     * set), the candidates one request of a cell may hold, and the request itself (t_start:
     * when the request began). */
    int algorithm;
    uint32_t (*cand_need)(const fw_engine_cfg *cfg);
    uint32_t (*feed)(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_feed_req *req, uint32_t *out,
                     uint32_t cap, int64_t t_start);
} fw_engine_module;

/* A module's day series from an X-macro list X(name, unit, doc): the enum SER_<name>
 * (SER__COUNT of them) and the descriptors module_series[]; FW_MODULE_SERIES(doc) fills
 * the module's series fields with them. */
#define FW_SERIES_ENUM_(name, unit, doc) SER_##name,
#define FW_SERIES_DESC_(name, unit, doc) {#name, unit, doc},
#define FW_DECLARE_SERIES(LIST)                  \
    enum { LIST(FW_SERIES_ENUM_) SER__COUNT };     \
    static const fw_series_desc module_series[] = {LIST(FW_SERIES_DESC_)}
#define FW_MODULE_SERIES(doc) .series_doc = doc, .series = module_series, .n_series = SER__COUNT

#define FW_MOD_EXTERN(e, name) extern const fw_engine_module fw_##name##_module;
FW_ENGINE_MODULES(FW_MOD_EXTERN)
#undef FW_MOD_EXTERN

/* ---- the core ------------------------------------------------------------------------- */

/* One cell: a combination of arms, served with its own configuration. */
typedef struct fw_cell {
    fw_engine_cfg cfg;
    double fresh_age_ticks, recency_half_life_ticks;   /* engine.feed knobs in ticks */
    uint32_t seen_half;     /* served ids per seen generation = seen_window */
    uint32_t seen_words;    /* 64-bit words per generation (a power of two) */
    uint32_t feed_module;   /* the module serving the cell's feed algorithm */
} fw_cell;

/* Per-thread candidate scratch shared by the feed algorithms (rank.h). */
typedef struct fw_rank_ctx {
    uint32_t *set_key, *set_stamp, set_mask, stamp;   /* open-addressing id set */
    uint32_t *cand;         /* [cand_cap] candidates of the last request, recall order */
    uint8_t *cand_follow;   /* [cand_cap] */
    double *cand_score;     /* [cand_cap] */
    uint32_t *order;        /* [cand_cap] ranked ids */
    double *order_score;    /* [cand_cap] */
    uint32_t n_cand;
    /* The last feed request's ranked notes and their scores (views of the arrays above, set by
     * the feed algorithm; n_scored 0 before the first or when it ranked nothing):
     * fw_engine_ctx_score reads them. */
    const uint32_t *scored_id;
    const double *scored;
    uint32_t n_scored;
} fw_rank_ctx;

/* seen_fill's fields. The second generation is allocated at the first rotation, so a user
 * served fewer than seen_window notes so far holds one generation (an empty filter answers
 * no, so the answers are those of two): half the memory for most users of a short run. */
#define FW_SEEN_BOTH (UINT32_C(1) << 30)
#define FW_SEEN_FILL (FW_SEEN_BOTH - 1)

struct fw_engine {
    uint32_t n_users, n_topics, ticks_per_day, n_arms;
    uint64_t seed;          /* fw_catalog.seed: the key of plug-ins' random streams */
    fw_cell *cell;          /* [n_arms] */

    uint32_t n_notes, cap_notes;
    fw_note_info *notes;    /* [cap_notes] */
    uint32_t *counts;       /* [cap_notes * FW_EV__COUNT] logged events per note */

    fw_u32vec *follows;     /* [n_users] creators followed, in follow order; a list is a
                               slice of follow_arena (the catalog's day-0 follows) until a
                               follow or an unfollow first changes it (own_follows): the
                               arena is never written */
    const uint32_t *follow_arena;   /* [n_follow_arena]: the catalog's own (follows_kept)
                                       or the engine's copy (arena_owned) */
    uint64_t n_follow_arena;
    int arena_owned;
    uint32_t *followers;    /* [n_users] followers: the catalog's graph plus follows logged */
    uint8_t *producer_arm;  /* [n_users] or NULL: see fw_catalog */
    /* Cells (fw_catalog): each user's cell, the isolation of learned state and the budget
     * split. n_learn learned states: n_buckets per cell under per-arm isolation, else one. */
    uint8_t *user_cell;     /* [n_users] */
    int placed;             /* users were placed in cells (catalog or fw_engine_set_user_cells) */
    uint32_t n_learn;
    uint32_t n_buckets;     /* learners per cell under per-arm isolation (fw_catalog.learners_per_cell) */
    uint8_t *user_bucket;   /* [n_users] each user's learner within their cell, or NULL (all 0) */
    uint32_t budget_split;
    double *cell_share;     /* [n_arms] */

    /* What each user has been served: two Bloom filters ("generations") per user,
     * allocated on the user's first request. New ids go into the current generation;
     * when it holds seen_window ids the older one is cleared and becomes current, so the
     * last seen_window..2*seen_window served notes are remembered (false positives, ~2%,
     * only skip a note). Platforms dedupe feeds this way; a ring of ids would forget within a
     * day of heavy scrolling and re-serve the same trending notes. */
    uint64_t **seen;        /* [n_users] -> [seen_words], or [2 * seen_words] once FW_SEEN_BOTH */
    uint32_t *seen_fill;    /* [n_users]: ids in the current generation (FW_SEEN_FILL); bit 31
                               = which generation is current; FW_SEEN_BOTH: the second exists */

    void *mod[FW_MOD__COUNT];        /* each module's state; NULL: switched off */
    uint8_t on[FW_MOD__COUNT];       /* wanted: a module's state exists once created */
    void **owned;           /* fields whose arrays the engine frees (fw_alloc) */
    size_t n_owned, cap_owned;
    int64_t *series[FW_MOD__COUNT];  /* each module's day series as of the last day end */

    fw_notice *notices;     /* posted this tick, delivered at its end */
    size_t n_notices, cap_notices;

    fw_event *log_ev;       /* fw_engine_log's scratch: the tick's note events, compact */
    uint32_t *log_idx;      /* and its records grouped by kind */
    size_t cap_log_ev, cap_log_idx;

    int64_t plant_ns[FW_STAGE__COUNT];   /* fw_engine_plant_delay: busy wait per call */
    fw_engine_par_for par;  /* fw_engine_set_par: the host's parallel loop, or NULL (serial) */
    int n_par_slots;        /* slots it passes: [0, n_par_slots); 1 when serial */
    uint32_t cand_cap;      /* most candidates one request can recall */
    int sigfigs;
    char why[1024];         /* the last barrier failure, for fw_engine_error */
};

struct fw_engine_ctx {
    fw_hist lat[FW_STAGE__COUNT];
    uint64_t work[FW_WORK__COUNT];
    fw_rank_ctx rank;
    uint32_t page[FW_PAGE_SLOTS];     /* a composed page's ranking (page.c) */
    void *mod[FW_MOD__COUNT];       /* each module's per-thread scratch */
};

/* The module's state, NULL when the module is switched off. */
static inline void *fw_mod(const fw_engine *e, fw_module_id m) { return e->mod[m]; }

/* *sum += v for an amount v >= 0 (a book of money summed to check it); 0 when v is negative or
 * the sum would pass int64 (*sum is then not to be used). */
static inline int fw_add_nonneg(int64_t *sum, int64_t v)
{
    return v >= 0 && !__builtin_add_overflow(*sum, v, sum);
}

/* The cell's configuration. */
static inline const fw_engine_cfg *fw_cfg(const fw_engine *e, uint32_t cell) { return &e->cell[cell].cfg; }

/* The cell a user is in: their logs belong to it (fw_catalog.user_cell). */
static inline uint32_t fw_user_cell(const fw_engine *e, uint32_t u) { return e->user_cell[u]; }

/* The learned state (learner) that serves user u in a cell and learns from their logs: under
 * per-arm isolation the cell's own, one of n_buckets (the user's bucket, once users are
 * placed; until then everyone is in learner 0, which the fork copies), else the one shared
 * learner 0. Learner l serves cell l / n_buckets. */
static inline uint32_t fw_learner(const fw_engine *e, uint32_t cell, uint32_t u)
{
    if (e->n_learn == 1)
        return 0;
    return cell * e->n_buckets + (e->placed && e->user_bucket ? e->user_bucket[u] : 0);
}
static inline uint32_t fw_user_learner(const fw_engine *e, uint32_t u) { return fw_learner(e, e->user_cell[u], u); }

/* Whether learner l serves (some users of) cell. */
static inline int fw_learner_serves(const fw_engine *e, uint32_t l, uint32_t cell)
{
    return e->n_learn == 1 || l / e->n_buckets == cell;
}

/* The cell whose configuration learner l trains with (the shared learner: cell 0's). */
static inline uint32_t fw_learner_cell(const fw_engine *e, uint32_t l) { return e->n_learn == 1 ? 0 : l / e->n_buckets; }

/* A slot is a cell's view of a learner, for state kept per (cell, learner) pair: under
 * per-arm isolation the learner itself (each serves one cell), else one slot per cell, all
 * reading the shared learner 0 with their cell's own settings. */
static inline uint32_t fw_n_slots(const fw_engine *e) { return e->n_learn > 1 ? e->n_learn : e->n_arms; }
static inline uint32_t fw_slot_of(const fw_engine *e, uint32_t cell, uint32_t u)
{
    return e->n_learn > 1 ? fw_learner(e, cell, u) : cell;
}
static inline uint32_t fw_slot_learner(const fw_engine *e, uint32_t slot) { return e->n_learn > 1 ? slot : 0; }
static inline uint32_t fw_slot_cell(const fw_engine *e, uint32_t slot)
{
    return e->n_learn > 1 ? fw_learner_cell(e, slot) : slot;
}

/* The cell a creator's work belongs to: their producer arm in producer-side experiments,
 * else the cell they are in as a user. */
static inline uint32_t fw_creator_cell(const fw_engine *e, uint32_t u)
{
    return e->producer_arm ? e->producer_arm[u] : e->user_cell[u];
}

/* Posts a notice for the tick's end (a barrier call). FW_ERR_NOMEM when the queue cannot grow;
 * never after fw_engine_reserve_notices made room for it. */
fw_err fw_engine_post(fw_engine *e, const fw_notice *n);
fw_err fw_engine_reserve_notices(fw_engine *e, size_t extra);

/* The note events the engine applies (the core and every module alike skip the rest). */
static inline int fw_event_ok(const fw_engine *e, const fw_event *x)
{
    uint32_t t = FW_EV_TYPE(x->type);
    return x->note < e->n_notes && x->user < e->n_users && t < FW_EV__COUNT &&
           !(x->type & ~(FW_EV_SEARCH | FW_EV_AD | 0xffu)) &&
           (!(x->type & FW_EV_AD) || t == FW_EV_LIKE || t == FW_EV_SAVE || t == FW_EV_COMMENT);
}

static inline int64_t fw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs kernel over [0, n) in chunks of grain (a hint: the host's loop may cut finer)
 * through the host's parallel loop (fw_engine_set_par), or in one call with slot 0. Kernels write only their own
 * outputs and slot's scratch; callers merge in a fixed order (never by slot). */
static inline void fw_par(const fw_engine *e, size_t n, size_t grain, fw_engine_kernel kernel, void *arg)
{
    if (grain == 0)
        grain = 1;
    if (e->par && e->n_par_slots > 1 && n > 1) {
        e->par(n, grain, kernel, arg);
        return;
    }
    if (n)
        kernel(arg, 0, n, 0);
}

/* Two passes over disjoint state, a(arg) and b(arg), side by side through the host's loop
 * (two items of fw_par), or one after the other when serial: for a barrier loop whose
 * updates split into two sequences that neither reads the other's (docs/ARCHITECTURE.md). */
typedef void (*fw_pass)(void *arg);
typedef struct fw_pass_pair {
    fw_pass a, b;
    void *arg;
} fw_pass_pair;

static inline void fw_pass_pair_kernel(void *arg, size_t b, size_t end, int slot)
{
    const fw_pass_pair *pp = arg;
    (void)slot;
    for (size_t it = b; it < end; it++)
        (it == 0 ? pp->a : pp->b)(pp->arg);
}

static inline void fw_par2(const fw_engine *e, fw_pass a, fw_pass b, void *arg)
{
    fw_pass_pair pp = {.a = a, .b = b, .arg = arg};
    fw_par(e, 2, 1, fw_pass_pair_kernel, &pp);
}

/* The planted delay of stage s (fw_engine_plant_delay), if any. */
static inline void fw_plant_wait(const fw_engine *e, fw_stage s)
{
    if (e->plant_ns[s] > 0) {
        int64_t end = fw_now_ns() + e->plant_ns[s];
        while (fw_now_ns() < end)
            ;
    }
}

static inline uint32_t fw_hash_u32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static inline uint64_t fw_mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static inline uint32_t fw_max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static inline uint32_t fw_min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* Allocates n (at least 1) zeroed items of size bytes into the pointer at field (a member
 * of a module's state, or of an array that never moves) and makes the engine free it at
 * fw_engine_destroy, whatever field then points to (a module may grow it with realloc).
 * Fields are freed in the reverse order of allocation. Returns the array, or NULL when out
 * of memory (field is then NULL and nothing is kept). */
void *fw_alloc(fw_engine *e, void *field, size_t n, size_t size);

/* Resizes the array at field (a T *) from old_n to n items of size bytes, zeroing items
 * old_n .. n; -1 when out of memory (the array is then unchanged). */
int fw_resize(void *field, size_t old_n, size_t n, size_t size);

/* Grows a vector by one; -1 when out of memory. */
int fw_u32vec_push(fw_u32vec *v, uint32_t x);

/* Makes room for need elements of size bytes in *v (capacity *cap, doubling from first);
 * -1 when out of memory (v unchanged). */
int fw_grow(void **v, size_t *cap, size_t need, size_t size, size_t first);

#endif
