/* The learning recommender: multi-channel recall, multi-task ranking trained online from
 * the event log, and re-ranking. It sees only what the platform logs.
 *
 * Recall channels (each a quota of engine.rec, 0 = off), in this order, de-duplicated and
 * filtered against what the user was served (the seen Bloom filters):
 *   social   recent notes of followed creators (most recently followed first);
 *   hot      the arm's trending pool;
 *   content  the per-topic trending pools and recent notes of the topics whose learned
 *            vectors best match the user's learned vector;
 *   cf       co-engagement neighbours (rebuilt each day end) of the user's recent opens;
 *   graph    short walks user -> opened note -> another opener -> their opened note,
 *            ranked by visits (Pixie-style);
 *   fresh    the newest notes that are still cold (fewer than cold_impressions impressions).
 * Ranking: p(open) per impression and p(like | open) ... p(follow | open), each a logistic
 * regression over FW_REC_FEATURES; score = sum of rank_* weights times the unconditional
 * probabilities, the four per-open heads evaluated only for the candidates whose bounds say
 * they can reach the page (rank_prepare, cand_bound, cap_select_capped in capsel.h:
 * exact, same pages). Re-ranking: greedy fill under per-creator and per-topic caps with a
 * freshness bonus; explore_slots reserved for the best cold candidates; ad slots left empty.
 *
 * Learned state lives in learners (rec_learn): one per cell under per-arm isolation, each
 * trained on its own cell's users' events and read by its own cell's requests (forked from
 * learner 0 when users are placed in cells), else one for every cell. Per-user state is one
 * copy: a user is in one cell.
 *
 * Invariants:
 *  - requests read only state frozen since the last barrier plus their own user's seen
 *    filters; every pseudo-random choice (walks) is a hash of (user, tick, walk, step);
 *  - training and ring updates happen in fw_rec_log in event order, so the learned state is
 *    a function of the event sequence alone (no threads, no clock);
 *  - ties everywhere break on (score desc, id asc). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aigc_int.h"
#include "engine_int.h"
#include "flywheel/mem.h"
#include "safety_int.h"
#include "rank.h"
#include "rec_int.h"
#include "shop_int.h"
#include "pools.h"
#include "privacy_int.h"
#include "flywheel/privacy.h"

/* Ranking features of a (user, note) pair. X(ENUM). */
#define FW_REC_FEATURES(X) \
    X(BIAS) X(EMB) X(NOTE_CTR) X(NOTE_TASK) X(CREATOR_CTR) X(USER_CTR) X(FOLLOWED) X(AGE) X(SHOP)
typedef enum {
#define FW_RF_ENUM(e) FW_RF_##e,
    FW_REC_FEATURES(FW_RF_ENUM)
#undef FW_RF_ENUM
    FW_RF__COUNT
} fw_rec_feature;

enum { FW_NF_CTR = 0, FW_NF_TASK = 1, FW_NF_CREATOR_CTR = 1 + FW_TASK__COUNT, FW_NF = 8 };

#define FW_REC_MAX_TOPICS 1024   /* the recommender keeps per-topic scores on the stack */
#define FW_REC_OPENERS 8
#define FW_REC_TOPIC_RECENT 64
#define FW_REC_PAIR_WINDOW 8     /* recent opens per user paired at day end */
#define FW_REC_WALK_BATCH 16     /* graph walks advanced side by side (their misses overlap) */
#define FW_TK_SHARD 256         /* tick mode: samples per shard of the heads' SGD */
#define FW_TK_BUCKETS 256       /* tick mode: buckets of user rows, of note rows */
#define FW_TK_BLOCK 16          /* tick mode: neighbouring rows per bucket block */
#define FW_TK_ROW_CAP 64.0      /* tick mode: most samples' worth of steps a row takes in a tick */
#define FW_REC_QSTEP 16          /* steps of the sigmoid's bounds (cand_bound) per unit of z */
#define FW_REC_QTAB (16 * FW_REC_QSTEP + 1)   /* ... down to z = -16 */

/* A cell's own recommender state: per-topic pools of the notes with the most decayed
 * engagement under the cell's trending weights, best first: tpool[t * topic_pool + k] for
 * k < tpool_n[t]; refreshed at each tick's end after the trending pools. NULL arrays for a
 * cell that does not run the recommender. */
typedef struct rec_cell {
    uint32_t *tpool, *tpool_prev, *tpool_n, *tpool_prev_n;
    double *tpool_score;
} rec_cell;

/* A note's block in a learner: all that the ranking loop reads of a candidate but its
 * residual vector, in one 64-byte aligned cache line (issue 22; the notes' metadata, their
 * counts and their rows were three lines, often four). 32 bytes more per note and learner
 * than the feature rows alone. Kept equal to its sources at every barrier's end:
 *  - row: the note's cached features (FW_NF_*), written by note_row_update at each tick's
 *    end for the notes with events in it, and by on_publish (its creator's rate);
 *  - creator, topic, format, created_tick: e->notes[n], which never changes once published
 *    (set by on_publish, for the catalog's notes at creation and each note published);
 *  - imp: e->counts' impressions of the note, which only the core's apply_events changes:
 *    rec_log counts the same impressions (those fw_event_ok accepts) in the same log call,
 *    and each tick's end copies them again for the notes with events (k_rows). A log call
 *    that fails after rec_log (a later module out of memory) leaves the two apart until that
 *    tick's end, as it leaves rec's training ahead of the core's counts;
 *  - forks copy learner 0's blocks whole. */
typedef struct rec_nblk {
    float row[FW_NF];
    uint32_t creator, imp;
    int32_t created_tick;
    uint16_t topic;
    uint8_t format, pad_;
    uint32_t spare_[4];
} __attribute__((aligned(64))) rec_nblk;

_Static_assert(sizeof(rec_nblk) == 64, "a note's block is one cache line");

/* One learner: the learned state that serves a cell and learns from its users' logs. Under
 * per-arm isolation every cell has its own (forked from cell 0's when users are placed in
 * cells); under shared isolation there is one, learning from every cell.
 *  - Embeddings: a note's vector is its topic's plus its format's plus its own residual,
 *    so a note nobody has seen already has the content vector of its tags.
 *  - Ranking: one logistic regression per task over FW_REC_FEATURES, trained online, with
 *    the smoothing priors (event totals) and creators' rates its users' logs give.
 *  - Graph: per-note ring of recent openers; co-engagement neighbours (CSR, nb_k per note,
 *    the most any of its cells reads) rebuilt at each day's end.
 *  - Per-note feature rows (FW_NF floats), recomputed at each tick's end for the notes with
 *    events in it, in the note's block (rec_nblk) with what else the ranking reads of it: a
 *    candidate is two cache lines (its block, its residual vector), no dependent loads. */
typedef struct rec_learn {
    fw_rec_cfg cfg;                   /* its cell's training knobs (lr, emb_lr, l2, neg_sample, dim) */
    uint32_t dim;                     /* its embeddings' length (cfg.dim) */
    float *topic_vec;                 /* [n_topics * dim] */
    float *format_vec;                /* [2 * dim] */
    float *note_vec;                  /* [cap_notes * dim] residuals, 64-byte aligned (resize_aligned) */
    double mf_bias;
    double w[FW_TASK__COUNT][FW_RF__COUNT];
    uint64_t total[FW_EV__COUNT];     /* events of each type logged: smoothing priors */
    uint32_t *creator_counts;         /* [n_users * 2]: impressions, opens of the creator's notes */
    uint32_t *openers, *openers_total; /* [cap_notes * FW_REC_OPENERS], [cap_notes] */
    uint32_t *openers_day;            /* [cap_notes * FW_REC_OPENERS] the day of each, when r->retain */
    uint32_t nb_k, nb_notes;          /* neighbours kept per note; notes [0, nb_notes) have them */
    uint32_t *nb_off, *nb;
    fw_model_stats stats[FW_TASK__COUNT], last[FW_TASK__COUNT];
    struct rec_nblk *blk;             /* [cap_notes] 64-byte aligned (resize_aligned) */
} rec_learn;

/* The recommender. Everything here changes only in barrier calls, but for user_arm, which a
 * request writes for its own user. Per-user state -- the user's vector (learned from what
 * they open: logistic matrix factorisation on impressions), their counts and their ring of
 * recent opens -- is one copy whatever the isolation: a user is in one cell. */
typedef struct fw_rec {
    uint32_t ustride;            /* the longest learner's dim: a user's vector holds that many
                                    floats, of which their learner reads its own dim */
    uint32_t n_learn;
    rec_learn *learn;            /* [n_learn] */
    rec_cell *cell;              /* [n_arms] */
    float *user_vec;             /* [n_users * ustride] */
    uint32_t *user_counts;            /* [n_users * 2]: impressions, opens seen by the user */
    uint8_t *user_arm;                /* [n_users] the cell of the user's latest feed request:
                                         whether the SHOP feature may read their purchases */
    uint32_t hist_cap;                /* the most opens any cell remembers (engine.rec.history) */
    uint32_t *hist, *hist_total;      /* [n_users * hist_cap], [n_users]: recent opens */
    int retain;                       /* some cell has engine.privacy.retention_days (privacy.c) */
    uint32_t *hist_day;               /* [n_users * hist_cap] the day of each open, when retain */
    uint32_t *topic_recent;           /* [n_topics * FW_REC_TOPIC_RECENT] */
    uint64_t *topic_total;            /* [n_topics] */
    /* Users who opened something today (CF rebuild input), each once. */
    uint32_t *day_users, n_day_users, cap_day_users;
    uint32_t *day_mark;               /* [n_users]: day_seq + 1 of the last mark */
    uint32_t day_seq;                 /* days ended so far: marks count days so, not by their number
                                         (a warm-up's, issue 18, start at 2^32 - W while r->day is 0) */
    uint32_t day;
    /* The notes with events in the current tick (their feature rows are refreshed at its end). */
    uint32_t *nf_mark;                /* [cap_notes]: nf_epoch when listed in nf_touched */
    uint32_t *nf_touched, n_nf_touched, cap_nf_touched, nf_epoch;
    struct priors *pri;               /* [n_learn] scratch of fw_rec_log */
    struct rec_group *grp;            /* fw_rec_log's scratch: the tick's groups (issue 22) */
    size_t cap_grp;
    uint32_t *lg, *lg_off;            /* fw_rec_log's scratch: the groups by learner, in event order
                                         (lg_off [n_learn + 1]: each learner's first) */
    uint64_t *lg_trained;             /* [n_learn] samples each learner's pass trained */
    size_t cap_lg;
    /* Tick-mode training's scratch (engine.rec.train_mode tick, tick_train), grown as needed;
     * the engine frees them. tk_ucnt [n_users] and tk_ncnt [cap_tk_ncnt] stay zero between ticks. */
    struct tk_sample *tk;             /* the tick's samples of tick-mode learners, by learner, in event order */
    float *tk_du;                     /* [n * 2 * ustride] each sample's user step, then its note
                                         step's gradient part, before emb_lr */
    struct tk_shard *tk_sh;           /* the shards, by learner */
    double *tk_acc;                   /* [shards * (topics + 2) * ustride] content steps per shard */
    uint32_t *tk_cnt;                 /* [shards * (topics + 2)] samples per content row per shard */
    uint32_t *tk_ub, *tk_nb;          /* sample indices by user bucket, by note bucket (tk_bucket) */
    uint32_t *tk_uoff, *tk_noff;      /* [FW_TK_BUCKETS + 1] the buckets' starts; tk_uoff has
                                         max(n_learn, FW_TK_BUCKETS) + 1, first each learner's next sample */
    uint32_t *tk_lsh;                 /* [n_learn + 1] each learner's shards */
    uint32_t *tk_ucnt, *tk_ncnt;      /* samples per user, per note of the bucket being applied */
    size_t cap_tk, cap_tk_du, cap_tk_sh, cap_tk_acc, cap_tk_cnt, cap_tk_ub, cap_tk_nb, cap_tk_ncnt;
    int any_tick;                     /* some learner trains in tick mode */
} fw_rec;

/* A group of the tick's log: an impression (or a lone event) and the events that follow it
 * for the same (user, note), ev[i, j); what training needs of it, filled by k_groups. */
typedef struct rec_group {
    uint32_t i, j;
    uint32_t got;            /* a bit per event type among ev[i + 1, j) */
    uint8_t personal, train, followed;
    uint32_t learner;        /* the user's learner (personal groups; the fields below: train groups) */
    double weight;           /* the sample's weight (negative sampling) */
    double age, shop;        /* the age and shop features (features()) */
    float row[FW_NF];        /* the note's cached row in the learner, as of the tick's start */
} rec_group;

/* Tick mode (tick_train): a sample and a shard of the heads' SGD. */
typedef struct tk_sample {
    uint32_t grp, learner;
} tk_sample;

typedef struct tk_shard {
    uint32_t learner, b, end;                          /* samples [b, end) of r->tk */
    double w[FW_TASK__COUNT][FW_RF__COUNT], mf_bias;   /* after the shard's SGD */
    fw_model_stats stats[FW_TASK__COUNT];              /* its progressive validation */
} tk_shard;

typedef struct rec_log_job {
    const fw_engine *e;
    const fw_rec *r;
    const fw_event *ev;
    rec_group *grp;
} rec_log_job;

/* A candidate of a request (rank_prepare): its logits (z[k] for the heads in mask) and what
 * scaling its score needs. */
typedef struct cand_eval {
    uint32_t id, mask;
    double z[FW_TASK__COUNT], p_open, safety_w;
    int fresh, cold;
} cand_eval;

/* A thread's scratch for requests. */
typedef struct rec_ctx {
    uint32_t *cset_key, *cset_stamp, cset_mask;   /* followed creators of the request (stamped as the id set) */
    /* The request's candidate ids (recall's de-duplication): open addressing, an entry
     * (stamp << 32 | id) is in the set when its stamp is ids_stamp. Sized for 8 times the
     * candidates a request can hold (the sum of the recall quotas): 64 KiB at the
     * benchmark's quotas, where the rank ctx's set (sized for the baseline's samples, keys
     * and stamps apart: 256 KiB) missed the cache on about every probe at 1M notes; a load
     * under 1/8 keeps the probe loop's exit predictable (at 2 times, the collisions cost
     * more than the misses saved). Issue 22. */
    uint64_t *ids;
    uint32_t ids_mask, ids_stamp;
    uint32_t look_left;     /* ids recall may still offer the id set this request (recall_begin) */
    uint32_t *walk;         /* [walk_cap] notes visited by random walks */
    uint32_t walk_cap;
    float *uvec;            /* [dim] */
    uint8_t *exact;         /* [cand_cap] 1: the request's score of the candidate is exact, 0: a bound */
    uint32_t *cand_creator, *open;   /* [cand_cap] the re-rank's list (fw_cap_list) */
    uint16_t *cand_topic;            /* [cand_cap] */
    cand_eval *ce;   /* [cand_cap] the ranking's first pass (rank_prepare) */
    double *lb;             /* [cand_cap] scratch: lower bounds of the scores */
    double *sel;            /* [cand_cap] scratch of fw_kth_largest */
    double qtab[FW_REC_QTAB];   /* qtab[j] >= the serving sigmoid of any z <= -j / FW_REC_QSTEP (cand_bound) */
} rec_ctx;

static fw_rec *R_of(const fw_engine *e) { return fw_mod(e, FW_MOD_REC); }

/* The learner serving user u in a cell. */
static inline rec_learn *L_of(const fw_rec *r, const fw_engine *e, uint32_t cell, uint32_t u)
{
    return &r->learn[fw_learner(e, cell, u)];
}

/* How many of a user's recent opens their cell remembers (engine.rec.history), of have. */
static inline uint32_t hist_have(const fw_engine *e, const fw_rec *r, uint32_t u)
{
    uint32_t tot = r->hist_total[u], h = fw_min_u32(r->hist_cap, fw_cfg(e, fw_user_cell(e, u))->rec.history);
    return tot < h ? tot : h;
}

static const char *const task_names[] = {
#define TASK_NAME(e, name, doc) name,
    FW_REC_TASKS(TASK_NAME)
#undef TASK_NAME
};
static const char *const task_docs[] = {
#define TASK_DOC(e, name, doc) doc,
    FW_REC_TASKS(TASK_DOC)
#undef TASK_DOC
};

const char *fw_rec_task_name(fw_rec_task t)
{
    return (unsigned)t < FW_TASK__COUNT ? task_names[t] : "unknown";
}

const char *fw_rec_task_doc(fw_rec_task t)
{
    return (unsigned)t < FW_TASK__COUNT ? task_docs[t] : "unknown";
}

/* ---- helpers ----------------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* A deterministic "random" number in [0, n) for (a, b, c, d). */
static inline uint32_t pick(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint32_t n)
{
    uint64_t h = mix64(a * UINT64_C(0x9e3779b97f4a7c15) ^ mix64(b + (c << 20) + (d << 40)));
    return (uint32_t)(((h >> 32) * (uint64_t)n) >> 32);
}

static inline double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* Small deterministic initial values so that the factorisation can start (zero vectors
 * have zero gradients). */
static float init_value(uint64_t kind, uint64_t i, uint32_t d)
{
    uint64_t h = mix64(kind * UINT64_C(0x632be59bd9b4e019) + i * 131 + d);
    return (float)(((double)(h >> 11) / 9007199254740992.0 - 0.5) * 0.2);
}

static inline float dotf(const float *a, const float *b, uint32_t n)
{
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (uint32_t d = 0; d < n; d++)
        s += a[d] * b[d];
    return s;
}


/* ---- lifetime ---------------------------------------------------------------------- */

static int rec_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    (void)cat;
    for (uint32_t a = 0; a < n_cells; a++)
        if (fw_engine_cfg_learns(&cfgs[a]))
            return 1;
    return 0;
}

/* fw_resize's (new elements zero), but the array starts on a cache line: a note's block is
 * one line, and so is its residual vector when dim is 16. The engine frees it (free). */
static int resize_aligned(void *field, size_t old_n, size_t n, size_t size)
{
    void *x;
    memcpy(&x, field, sizeof x);
    size_t bytes = ((n ? n : 1) * size + 63) / 64 * 64, keep = (old_n < n ? old_n : n) * size;
    unsigned char *y = aligned_alloc(64, bytes);
    if (!y)
        return -1;
    fw_mem_huge(y, bytes);
    memcpy(y, x, keep);
    memset(y + keep, 0, bytes - keep);
    free(x);
    memcpy(field, &y, sizeof y);
    return 0;
}

static fw_err rec_grow_notes(fw_engine *e, void *state, uint32_t old_cap, uint32_t cap)
{
    (void)e;
    fw_rec *r = state;
    size_t o = old_cap, n = cap;
    for (uint32_t l = 0; l < r->n_learn; l++) {
        rec_learn *L = &r->learn[l];
        if (resize_aligned(&L->note_vec, o * L->dim, n * L->dim, sizeof *L->note_vec) ||
            fw_resize(&L->openers, o * FW_REC_OPENERS, n * FW_REC_OPENERS, sizeof *L->openers) ||
            fw_resize(&L->openers_total, o, n, sizeof *L->openers_total) ||
            resize_aligned(&L->blk, o, n, sizeof *L->blk) ||
            (r->retain && fw_resize(&L->openers_day, o * FW_REC_OPENERS, n * FW_REC_OPENERS, sizeof *L->openers_day)))
            return FW_ERR_NOMEM;
    }
    if (fw_resize(&r->nf_mark, o, n, sizeof *r->nf_mark))
        return FW_ERR_NOMEM;
    return FW_OK;
}

typedef struct priors {
    double ctr;                      /* opens per impression */
    double per_open[FW_TASK__COUNT]; /* task events per open (OPEN: interactions per open) */
} priors;

static void on_publish(const fw_engine *e, fw_rec *r, uint32_t id);
static void refresh_topic_pools(const fw_engine *e, fw_rec *r, uint32_t cell, int rebuild);

static fw_err rec_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    (void)cat;
    if (e->n_topics > FW_REC_MAX_TOPICS)
        return FW_ERR_INVAL;
    fw_rec *r = *state;
    r->n_learn = e->n_learn;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        r->hist_cap = fw_max_u32(r->hist_cap, fw_cfg(e, a)->rec.history);
        r->retain |= fw_cfg(e, a)->privacy.retention_days > 0;
    }
    /* Learner l serves cell l (or every cell, l = 0): its dim is that cell's (an arm may set
     * it only under per-arm isolation). */
    for (uint32_t l = 0; l < r->n_learn; l++)
        r->ustride = fw_max_u32(r->ustride, fw_cfg(e, fw_learner_cell(e, l))->rec.dim);
    uint32_t D = r->ustride, U = e->n_users, T = e->n_topics ? e->n_topics : 1;
    if (!fw_alloc(e, &r->cell, e->n_arms, sizeof *r->cell) || !fw_alloc(e, &r->learn, r->n_learn, sizeof *r->learn) ||
        !fw_alloc(e, &r->pri, r->n_learn, sizeof *r->pri) ||
        !fw_alloc(e, &r->user_vec, (size_t)U * D, sizeof *r->user_vec) ||
        !fw_alloc(e, &r->user_counts, 2 * (size_t)U, sizeof *r->user_counts) ||
        !fw_alloc(e, &r->user_arm, U, sizeof *r->user_arm) ||
        !fw_alloc(e, &r->hist, (size_t)U * r->hist_cap, sizeof *r->hist) ||
        !fw_alloc(e, &r->hist_total, U, sizeof *r->hist_total) ||
        !fw_alloc(e, &r->topic_recent, (size_t)T * FW_REC_TOPIC_RECENT, sizeof *r->topic_recent) ||
        !fw_alloc(e, &r->topic_total, T, sizeof *r->topic_total) ||
        !fw_alloc(e, &r->day_mark, U, sizeof *r->day_mark) ||
        !fw_alloc(e, &r->hist_day, r->retain ? (size_t)U * r->hist_cap : 0, sizeof *r->hist_day) ||
        /* These grow or are replaced; the engine frees whatever they hold. */
        !fw_alloc(e, &r->day_users, 0, sizeof *r->day_users) ||
        !fw_alloc(e, &r->nf_touched, 0, sizeof *r->nf_touched) || !fw_alloc(e, &r->nf_mark, 0, sizeof *r->nf_mark) ||
        !fw_alloc(e, &r->grp, 0, sizeof *r->grp) || !fw_alloc(e, &r->tk, 0, sizeof *r->tk) ||
        !fw_alloc(e, &r->lg, 0, sizeof *r->lg) || !fw_alloc(e, &r->lg_off, (size_t)r->n_learn + 1, sizeof *r->lg_off) ||
        !fw_alloc(e, &r->lg_trained, r->n_learn, sizeof *r->lg_trained) ||
        !fw_alloc(e, &r->tk_du, 0, sizeof *r->tk_du) || !fw_alloc(e, &r->tk_sh, 0, sizeof *r->tk_sh) ||
        !fw_alloc(e, &r->tk_acc, 0, sizeof *r->tk_acc) || !fw_alloc(e, &r->tk_cnt, 0, sizeof *r->tk_cnt) ||
        !fw_alloc(e, &r->tk_ub, 0, sizeof *r->tk_ub) || !fw_alloc(e, &r->tk_nb, 0, sizeof *r->tk_nb) ||
        !fw_alloc(e, &r->tk_ncnt, 0, sizeof *r->tk_ncnt) ||
        !fw_alloc(e, &r->tk_uoff, (size_t)fw_max_u32(r->n_learn, FW_TK_BUCKETS) + 1, sizeof *r->tk_uoff) ||
        !fw_alloc(e, &r->tk_noff, FW_TK_BUCKETS + 1, sizeof *r->tk_noff) ||
        !fw_alloc(e, &r->tk_lsh, (size_t)r->n_learn + 1, sizeof *r->tk_lsh))
        return FW_ERR_NOMEM;
    for (uint32_t l = 0; l < r->n_learn; l++) {
        rec_learn *L = &r->learn[l];
        L->cfg = fw_cfg(e, fw_learner_cell(e, l))->rec;   /* (or every cell's: the shared l = 0) */
        L->dim = L->cfg.dim;
        r->any_tick |= L->cfg.train_mode == FW_TRAIN_TICK;
        for (uint32_t a = 0; a < e->n_arms; a++)
            if (fw_learner_serves(e, l, a))
                L->nb_k = fw_max_u32(L->nb_k, fw_cfg(e, a)->rec.neighbours);
        if (!fw_alloc(e, &L->topic_vec, (size_t)T * L->dim, sizeof *L->topic_vec) ||
            !fw_alloc(e, &L->format_vec, 2 * (size_t)L->dim, sizeof *L->format_vec) ||
            !fw_alloc(e, &L->creator_counts, 2 * (size_t)U, sizeof *L->creator_counts) ||
            !fw_alloc(e, &L->nb_off, 1, sizeof *L->nb_off) || !fw_alloc(e, &L->nb, 0, sizeof *L->nb) ||
            !fw_alloc(e, &L->note_vec, 0, sizeof *L->note_vec) || !fw_alloc(e, &L->openers, 0, sizeof *L->openers) ||
            !fw_alloc(e, &L->openers_total, 0, sizeof *L->openers_total) || !fw_alloc(e, &L->blk, 0, sizeof *L->blk) ||
            !fw_alloc(e, &L->openers_day, 0, sizeof *L->openers_day))
            return FW_ERR_NOMEM;
    }
    if (r->any_tick && !fw_alloc(e, &r->tk_ucnt, U, sizeof *r->tk_ucnt))
        return FW_ERR_NOMEM;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        if (fw_cfg(e, a)->feed.algorithm != FW_FEED_REC)
            continue;
        rec_cell *rc = &r->cell[a];
        uint32_t K = fw_cfg(e, a)->rec.topic_pool;
        if (!fw_alloc(e, &rc->tpool, (size_t)T * K, sizeof *rc->tpool) ||
            !fw_alloc(e, &rc->tpool_prev, (size_t)T * K, sizeof *rc->tpool_prev) ||
            !fw_alloc(e, &rc->tpool_n, T, sizeof *rc->tpool_n) ||
            !fw_alloc(e, &rc->tpool_prev_n, T, sizeof *rc->tpool_prev_n) ||
            !fw_alloc(e, &rc->tpool_score, (size_t)T * K, sizeof *rc->tpool_score))
            return FW_ERR_NOMEM;
    }
    for (uint32_t u = 0; u < U; u++)
        for (uint32_t d = 0; d < D; d++)
            r->user_vec[(size_t)u * D + d] = init_value(1, u, d);
    for (uint32_t l = 0; l < r->n_learn; l++) {
        rec_learn *L = &r->learn[l];
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t d = 0; d < L->dim; d++)
                L->topic_vec[(size_t)t * L->dim + d] = init_value(2, t, d);
        /* Start the open model at "an average note for an average user". */
        L->w[FW_TASK_OPEN][FW_RF_BIAS] = -2.5;
        for (int k = FW_TASK_LIKE; k < FW_TASK__COUNT; k++)
            L->w[k][FW_RF_BIAS] = k == FW_TASK_FOLLOW ? -6.0 : -4.0;
    }
    fw_err rc = rec_grow_notes(e, r, 0, e->cap_notes);
    if (rc != FW_OK)
        return rc;
    /* The catalog's notes, as if published one by one; topic pools as of the first tick. */
    for (uint32_t id = 0; id < e->n_notes; id++)
        on_publish(e, r, id);
    for (uint32_t a = 0; a < e->n_arms; a++)
        if (r->cell[a].tpool)
            refresh_topic_pools(e, r, a, 1);
    return FW_OK;
}

static fw_err rec_check_note(const fw_engine *e, const fw_note_info *note)
{
    return note->topic < e->n_topics ? FW_OK : FW_ERR_INVAL;
}

static void rec_ctx_destroy(void *ctx)
{
    rec_ctx *c = ctx;
    if (!c)
        return;
    free(c->walk);
    free(c->uvec);
    free(c->cset_key);
    free(c->cset_stamp);
    free(c->ids);
    free(c->exact);
    free(c->cand_creator);
    free(c->open);
    free(c->cand_topic);
    free(c->ce);
    free(c->lb);
    free(c->sel);
    free(c);
}

static fw_err rec_ctx_create(const fw_engine *e, const void *state, void **ctx)
{
    const fw_rec *r = state;
    rec_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return FW_ERR_NOMEM;
    *ctx = c;
    size_t cap = fw_max_u32(e->cand_cap, 1);
    uint64_t quotas = 0;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        const fw_rec_cfg *q = &fw_cfg(e, a)->rec;
        c->walk_cap = fw_max_u32(c->walk_cap, q->walks * 3);
        uint64_t sum = (uint64_t)q->social + q->hot + q->content + q->cf + q->graph + q->fresh;
        quotas = sum > quotas ? sum : quotas;
    }
    uint64_t ids_size = 64;
    while (ids_size < 8 * quotas + 2)
        ids_size *= 2;
    if (!(c->walk = calloc(fw_max_u32(c->walk_cap, 1), sizeof *c->walk)) ||
        !(c->uvec = calloc(r->ustride, sizeof *c->uvec)) ||
        !(c->cset_key = calloc(64, sizeof *c->cset_key)) ||
        !(c->cset_stamp = calloc(64, sizeof *c->cset_stamp)) ||
        !(c->ids = calloc(ids_size, sizeof *c->ids)) ||
        !(c->exact = calloc(cap, sizeof *c->exact)) || !(c->cand_creator = calloc(cap, sizeof *c->cand_creator)) ||
        !(c->open = calloc(cap, sizeof *c->open)) || !(c->cand_topic = calloc(cap, sizeof *c->cand_topic)) ||
        !(c->ce = calloc(cap, sizeof *c->ce)) || !(c->lb = calloc(cap, sizeof *c->lb)) ||
        !(c->sel = calloc(cap, sizeof *c->sel)))
        return FW_ERR_NOMEM;
    c->cset_mask = 63;
    c->ids_mask = (uint32_t)(ids_size - 1);
    /* e^(j/S) less 0.1% (S = FW_REC_QSTEP): far below any libm's exp error, so a lower bound
     * of what expf gives for an argument >= j / S; the sigmoid's rounding then keeps qtab[j]
     * above it. Steps of 1/16 (they were 1/4): a bound at most 6.5% over the head's q, not 28%,
     * so fewer candidates need their heads evaluated (issue 22). */
    for (uint32_t j = 0; j < FW_REC_QTAB; j++)
        c->qtab[j] = 1.0 / (1.0 + 0.999 * exp((double)j / FW_REC_QSTEP));
    return FW_OK;
}

/* Candidates one request of a cell may hold: the social channel reads as many followed
 * creators' notes as the baseline, and the channels' quotas bound the rest. */
static uint32_t rec_cand_need(const fw_engine_cfg *cfg)
{
    const fw_feed_cfg *f = &cfg->feed;
    const fw_rec_cfg *q = &cfg->rec;
    uint32_t samples = fw_max_u32(f->sample_trending + f->sample_fresh,
                                  q->social + q->hot + q->content + q->cf + q->graph + q->fresh);
    samples = fw_max_u32(samples, 2 * q->walks);   /* graph recall ranks its visits in ctx order */
    return f->follow_max_creators * f->follow_recent + samples + 1;
}

/* ---- pools ------------------------------------------------------------------------- */

static void on_publish(const fw_engine *e, fw_rec *r, uint32_t id)
{
    const fw_note_info *ni = &e->notes[id];
    for (uint32_t l = 0; l < r->n_learn; l++) {   /* the block's metadata (rec_nblk) */
        rec_nblk *b = &r->learn[l].blk[id];
        b->creator = ni->creator;
        b->topic = ni->topic;
        b->format = ni->format;
        b->created_tick = ni->created_tick;
        b->imp = e->counts[(size_t)id * FW_EV__COUNT + FW_EV_IMPRESSION];
    }
    uint32_t t = ni->topic;
    if (t >= e->n_topics)
        return;
    r->topic_recent[(size_t)t * FW_REC_TOPIC_RECENT + r->topic_total[t] % FW_REC_TOPIC_RECENT] = id;
    r->topic_total[t]++;
    /* A new note has no events: its row is the priors' (0) but its creator's record. */
    for (uint32_t l = 0; l < r->n_learn; l++) {
        rec_learn *L = &r->learn[l];
        L->blk[id].row[FW_NF_CREATOR_CTR] = 0.0f;
        const uint32_t *cc = &L->creator_counts[2 * (size_t)e->notes[id].creator];
        double p0 = (L->total[FW_EV_OPEN] + 1.0) / (L->total[FW_EV_IMPRESSION] + 12.0);
        double v = (cc[1] + 20 * p0) / (cc[0] + 20) / p0 - 1.0;
        L->blk[id].row[FW_NF_CREATOR_CTR] = (float)(v > 5.0 ? 5.0 : v);
    }
}

static fw_err rec_publish(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t id, const fw_publication *p)
{
    (void)ctx;
    (void)p;
    on_publish(e, state, id);
    return FW_OK;
}

/* Same scheme as the trending pool: the old members not touched since, plus the touched
 * notes, give the new top-K of each topic. rebuild: offer every note instead. */
static void refresh_topic_pools(const fw_engine *e, fw_rec *r, uint32_t cell, int rebuild)
{
    rec_cell *st = &r->cell[cell];
    const double *trend = fw_pools_scores(e, cell);
    uint32_t T = e->n_topics, K = fw_cfg(e, cell)->rec.topic_pool, n_touched;
    const uint32_t *touched = fw_pools_touched(e, &n_touched);
    memcpy(st->tpool_prev, st->tpool, (size_t)T * K * sizeof *st->tpool);
    memcpy(st->tpool_prev_n, st->tpool_n, (size_t)T * sizeof *st->tpool_n);
    memset(st->tpool_n, 0, (size_t)T * sizeof *st->tpool_n);
    uint32_t n_src = rebuild ? e->n_notes : n_touched;
    for (uint32_t k = 0; k < n_src; k++) {
        uint32_t n = rebuild ? k : touched[k];
        uint32_t t = e->notes[n].topic;
        if (t < T && trend[n] > 0.0)
            fw_topk_offer(st->tpool + (size_t)t * K, st->tpool_score + (size_t)t * K, &st->tpool_n[t], K, n,
                          trend[n]);
    }
    if (!rebuild)
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t k = 0; k < st->tpool_prev_n[t]; k++) {
                uint32_t n = st->tpool_prev[(size_t)t * K + k];
                if (!fw_pools_was_touched(e, n) && trend[n] > 0.0)
                    fw_topk_offer(st->tpool + (size_t)t * K, st->tpool_score + (size_t)t * K, &st->tpool_n[t],
                                  K, n, trend[n]);
            }
    for (uint32_t t = 0; t < T; t++)
        fw_topk_sort(st->tpool + (size_t)t * K, st->tpool_score + (size_t)t * K, st->tpool_n[t]);
}

/* ---- features ---------------------------------------------------------------------- */

/* Smoothed rate of k in n relative to the prior p0: (k + a p0) / (n + a) / p0 - 1. */
static inline double lift(double k, double n, double p0)
{
    enum { A = 20 };
    double v = (k + A * p0) / (n + A) / p0 - 1.0;
    return v > 5.0 ? 5.0 : v;
}

static priors get_priors(const rec_learn *r)
{
    priors p;
    double imp = (double)r->total[FW_EV_IMPRESSION], op = (double)r->total[FW_EV_OPEN];
    p.ctr = (op + 1.0) / (imp + 12.0);
    double inter = (double)(r->total[FW_EV_LIKE] + r->total[FW_EV_SAVE] + r->total[FW_EV_COMMENT]);
    p.per_open[FW_TASK_OPEN] = (inter + 1.0) / (op + 20.0);
    p.per_open[FW_TASK_LIKE] = (r->total[FW_EV_LIKE] + 1.0) / (op + 40.0);
    p.per_open[FW_TASK_SAVE] = (r->total[FW_EV_SAVE] + 1.0) / (op + 80.0);
    p.per_open[FW_TASK_COMMENT] = (r->total[FW_EV_COMMENT] + 1.0) / (op + 160.0);
    p.per_open[FW_TASK_FOLLOW] = (r->total[FW_EV_FOLLOW] + 1.0) / (op + 400.0);
    return p;
}

static const uint32_t task_event[FW_TASK__COUNT] = {FW_EV_OPEN, FW_EV_LIKE, FW_EV_SAVE,
                                                    FW_EV_COMMENT, FW_EV_FOLLOW};

/* A note's cached features (FW_NF_*) in a learner, as of the last tick barrier. */
static inline const float *note_row(const rec_learn *r, uint32_t n)
{
    return r->blk[n].row;
}

/* Recomputes note n's cached features in learner r from its counts, its creator's and the
 * priors. The note's engagement counts are the platform's public counters (every arm's). */
static void note_row_update(const fw_engine *e, rec_learn *r, const priors *p, uint32_t n)
{
    const uint32_t *c = &e->counts[(size_t)n * FW_EV__COUNT];
    const uint32_t *cc = &r->creator_counts[2 * (size_t)e->notes[n].creator];
    rec_nblk *b = &r->blk[n];
    float *row = b->row;
    b->imp = c[FW_EV_IMPRESSION];   /* as rec_log left it: a copy, not a new value */
    row[FW_NF_CTR] = (float)lift(c[FW_EV_OPEN], c[FW_EV_IMPRESSION], p->ctr);
    row[FW_NF_TASK + FW_TASK_OPEN] =
        (float)lift((double)c[FW_EV_LIKE] + c[FW_EV_SAVE] + c[FW_EV_COMMENT], c[FW_EV_OPEN], p->per_open[FW_TASK_OPEN]);
    for (int k = FW_TASK_LIKE; k < FW_TASK__COUNT; k++)
        row[FW_NF_TASK + k] = (float)lift(c[task_event[k]], c[FW_EV_OPEN], p->per_open[k]);
    row[FW_NF_CREATOR_CTR] = (float)lift(cc[1], cc[0], p->ctr);
}

/* The parts of group G's features that no step of the tick's training changes (the note's
 * row, its age, the user's shop share): computed for every sample in parallel (k_groups),
 * so that the serial SGD reads them from the group instead of the note's rows. */
static inline void features_fixed(const fw_engine *e, const rec_learn *L, uint32_t u, uint32_t n, int32_t tick,
                                  rec_group *G)
{
    const fw_rec *r = R_of(e);
    memcpy(G->row, note_row(L, n), sizeof G->row);
    double age = (double)(tick - e->notes[n].created_tick) / e->ticks_per_day;
    if (age < 0.0)
        age = 0.0;
    G->age = age / (1.0 + age);
    /* The unified profile: what the user shops for, when their arm lets the feed see it. */
    G->shop = fw_cfg(e, r->user_arm[u])->shop.profile == FW_PROFILE_UNIFIED ? fw_shop_tx_share(e, u, e->notes[n].topic)
                                                                           : 0.0;
}

/* Fills x[FW_RF__COUNT] for group G's sample (user u) with task OPEN's NOTE_TASK feature;
 * emb is the embedding score. The note's part comes from its cached row: exactly what
 * requests since the last barrier saw. */
static inline void features(const fw_engine *e, const priors *p, const rec_group *G, uint32_t u, double emb, double *x)
{
    const fw_rec *r = R_of(e);
    x[FW_RF_BIAS] = 1.0;
    x[FW_RF_EMB] = emb;
    x[FW_RF_NOTE_CTR] = G->row[FW_NF_CTR];
    x[FW_RF_NOTE_TASK] = G->row[FW_NF_TASK + FW_TASK_OPEN];
    x[FW_RF_CREATOR_CTR] = G->row[FW_NF_CREATOR_CTR];
    x[FW_RF_USER_CTR] = lift(r->user_counts[2 * (size_t)u + 1], r->user_counts[2 * (size_t)u], p->ctr);
    x[FW_RF_FOLLOWED] = G->followed ? 1.0 : 0.0;
    x[FW_RF_AGE] = G->age;
    x[FW_RF_SHOP] = G->shop;
}

static inline double wdot(const double *w, const double *x)
{
    double s = 0.0;
    for (int f = 0; f < FW_RF__COUNT; f++)
        s += w[f] * x[f];
    return s;
}

static inline const float *note_content(const rec_learn *L, uint32_t D, const fw_note_info *ni, uint32_t which)
{
    return which == 0 ? L->topic_vec + (size_t)ni->topic * D : L->format_vec + (size_t)ni->format * D;
}

/* The embedding score of (u, n) in learner L: p_u . (topic + format + residual). */
static inline double emb_score(const fw_engine *e, const rec_learn *L, const float *pu, uint32_t n)
{
    const fw_note_info *ni = &e->notes[n];
    uint32_t D = L->dim;
    return (double)dotf(pu, note_content(L, D, ni, 0), D) + dotf(pu, note_content(L, D, ni, 1), D) +
           dotf(pu, L->note_vec + (size_t)n * D, D);
}

uint32_t fw_rec_vec_dim(const fw_engine *e, uint32_t cell, uint32_t u)
{
    const fw_rec *r = R_of(e);
    return r ? L_of(r, e, cell, u)->dim : 0;
}

uint32_t fw_rec_learner_dim(const fw_engine *e, uint32_t learner)
{
    const fw_rec *r = R_of(e);
    return r && learner < r->n_learn ? r->learn[learner].dim : 0;
}

uint32_t fw_rec_max_dim(const fw_engine *e)
{
    const fw_rec *r = R_of(e);
    return r ? r->ustride : 0;
}

uint32_t fw_engine_request_rows(fw_engine *e, void **base, size_t *size, uint32_t max)
{
    fw_rec *r = R_of(e);
    if (!r || max == 0 || e->n_users == 0)
        return 0;
    base[0] = r->user_arm;   /* rec_request writes it; features (training) reads it */
    size[0] = sizeof *r->user_arm;
    return 1;
}

const float *fw_rec_user_vec(const fw_engine *e, uint32_t cell, uint32_t u)
{
    (void)cell;   /* one vector per user, of which their learner reads its own dim */
    const fw_rec *r = R_of(e);
    return r ? r->user_vec + (size_t)u * r->ustride : NULL;
}

void fw_rec_note_vec(const fw_engine *e, uint32_t cell, uint32_t u, uint32_t n, float *out)
{
    const fw_rec *r = R_of(e);
    const rec_learn *L = L_of(r, e, cell, u);
    const fw_note_info *ni = &e->notes[n];
    uint32_t D = L->dim;
    const float *qt = note_content(L, D, ni, 0), *qf = note_content(L, D, ni, 1), *qn = L->note_vec + (size_t)n * D;
    for (uint32_t d = 0; d < D; d++)
        out[d] = qt[d] + qf[d] + qn[d];
}

static int follows_creator(const fw_engine *e, uint32_t u, uint32_t cr)
{
    const fw_u32vec *fl = &e->follows[u];
    for (uint32_t k = 0; k < fl->n; k++)
        if (fl->v[k] == cr)
            return 1;
    return 0;
}

/* ---- training ---------------------------------------------------------------------- */

/* One SGD step of a ranking head's weights w on (x, y), counting its progressive validation
 * (the prediction before the step) into s. */
static void sgd_head(const fw_rec_cfg *cf, double *w, fw_model_stats *s, const double *x, double y, double weight)
{
    double p = sigmoid(wdot(w, x));
    double pc = p < 1e-12 ? 1e-12 : (p > 1.0 - 1e-12 ? 1.0 - 1e-12 : p);
    s->samples++;
    s->weight += weight;
    s->log_loss += -weight * (y > 0.5 ? log(pc) : log(1.0 - pc));
    s->predicted += weight * p;
    s->observed += weight * y;
    double g = weight * (p - y);
    for (int f = 0; f < FW_RF__COUNT; f++)
        w[f] -= cf->lr * (g * x[f] + (f == FW_RF_BIAS ? 0.0 : cf->l2 * w[f]));
}

static void sgd_task(rec_learn *r, int task, const double *x, double y, double weight)
{
    sgd_head(&r->cfg, r->w[task], &r->stats[task], x, y, weight);
}

/* Logistic matrix factorisation step on (u, n, opened) in learner L, whose user vector pu,
 * residual qn and content vectors qt, qf have the dot products dt, df, dn with pu. */
static void sgd_mf(rec_learn *L, float *pu, float *qn, float *qt, float *qf, float dt, float df, float dn, double y,
                   double weight)
{
    uint32_t D = L->dim;
    double s = L->mf_bias + dt + df + dn;
    double g = weight * (sigmoid(s) - y), lr = L->cfg.emb_lr, l2 = L->cfg.l2;
    L->mf_bias -= lr * g;
    for (uint32_t d = 0; d < D; d++) {
        float q = qt[d] + qf[d] + qn[d], p = pu[d];
        pu[d] -= (float)(lr * (g * q + l2 * p));
        qn[d] -= (float)(lr * (g * p + l2 * qn[d]));
        /* Shared content vectors move more slowly: thousands of notes pull on them. */
        qt[d] -= (float)(0.1 * lr * g * p);
        qf[d] -= (float)(0.01 * lr * g * p);
    }
}

static inline uint64_t neg_key(uint32_t u, uint32_t n, int32_t tick)
{
    return mix64(((uint64_t)u << 32 | n) ^ mix64((uint64_t)(uint32_t)tick));
}

/* One impression with its outcomes (group G of user u and note n: its labels, weight,
 * follow and fixed features precomputed by k_groups): train every model of learner L on it.
 * The three dot products are taken once: the open head's step between the embedding score
 * and the factorisation's step changes neither the vectors nor mf_bias, so both read the
 * same products, summed in the same orders as when each took them itself. */
static void train_group(fw_engine *e, rec_learn *L, const priors *p, const rec_group *G, uint32_t u, uint32_t n,
                        uint64_t *trained)
{
    fw_rec *r = R_of(e);
    uint32_t got = G->got, D = L->dim;
    double y_open = got >> FW_EV_OPEN & 1u ? 1.0 : 0.0;
    const fw_note_info *ni = &e->notes[n];
    float *pu = r->user_vec + (size_t)u * r->ustride, *qn = L->note_vec + (size_t)n * D;
    float *qt = L->topic_vec + (size_t)ni->topic * D, *qf = L->format_vec + (size_t)ni->format * D;
    float dt = dotf(pu, qt, D), df = dotf(pu, qf, D), dn = dotf(pu, qn, D);
    double x[FW_RF__COUNT];
    features(e, p, G, u, (double)dt + df + dn, x);   /* emb_score's sum */
    sgd_task(L, FW_TASK_OPEN, x, y_open, G->weight);
    sgd_mf(L, pu, qn, qt, qf, dt, df, dn, y_open, G->weight);
    (*trained)++;
    if (y_open == 0.0)
        return;
    for (int k = FW_TASK_LIKE; k < FW_TASK__COUNT; k++) {
        if (k == FW_TASK_FOLLOW && G->followed)
            continue;   /* cannot follow again: not a sample of the follow model */
        x[FW_RF_NOTE_TASK] = G->row[FW_NF_TASK + k];
        sgd_task(L, k, x, got >> task_event[k] & 1u ? 1.0 : 0.0, 1.0);
    }
}

static fw_err mark_day_user(fw_rec *r, uint32_t u)
{
    if (r->day_mark[u] == r->day_seq + 1)
        return FW_OK;
    if (r->n_day_users == r->cap_day_users) {
        uint32_t cap = r->cap_day_users ? 2 * r->cap_day_users : 1024;
        uint32_t *v = realloc(r->day_users, (size_t)cap * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        r->day_users = v;
        r->cap_day_users = cap;
    }
    r->day_mark[u] = r->day_seq + 1;
    r->day_users[r->n_day_users++] = u;
    return FW_OK;
}

/* Issue 22: what a group's training needs that no training step changes -- its labels, its
 * negative sampling, whether the user follows the note's creator (follows change only in the
 * core's apply_events, after every module's log) -- computed for groups [b, end) in parallel,
 * each writing only its own entry. */
static void k_groups(void *arg, size_t b, size_t end, int slot)
{
    const rec_log_job *j = arg;
    const fw_engine *e = j->e;
    const fw_event *ev = j->ev;
    (void)slot;
    for (size_t g = b; g < end; g++) {
        rec_group *G = &j->grp[g];
        const fw_event *x = &ev[G->i];
        int valid = x->note < e->n_notes && x->user < e->n_users;
        /* Search impressions are not feed samples: a result page shows what was asked for. */
        /* A user who opted out of personalisation trains no personalised model (privacy.c). */
        G->personal = valid && !fw_privacy_opted_out(e, x->user);
        G->train = 0;
        if (!G->personal)
            continue;
        G->learner = fw_user_learner(e, x->user);   /* whose pass takes the group (rec_train_pass) */
        if (x->type != FW_EV_IMPRESSION)
            continue;
        uint32_t got = 0;
        for (uint32_t k = G->i + 1; k < G->j; k++)
            if (FW_EV_TYPE(ev[k].type) < FW_EV__COUNT)
                got |= 1u << FW_EV_TYPE(ev[k].type);
        G->got = got;
        G->weight = 1.0;
        uint32_t ns = j->r->learn[fw_user_learner(e, x->user)].cfg.neg_sample;
        if (!(got >> FW_EV_OPEN & 1u) && ns > 1) {
            if (neg_key(x->user, x->note, x->tick) % ns != 0)
                continue;
            G->weight = ns;
        }
        G->train = 1;
        G->followed = (uint8_t)follows_creator(e, x->user, e->notes[x->note].creator);
        features_fixed(e, &j->r->learn[G->learner], x->user, x->note, x->tick, G);
    }
}

/* ---- training, tick mode (engine.rec.train_mode tick; issue 22) ---------------------
 * A tick-mode learner trains on the tick's samples as one delayed-update batch, computed in
 * parallel, whose result does not depend on how many threads compute it:
 *  1. shards (k_tk_shards, parallel): the learner's samples, in event order, cut into shards
 *     of FW_TK_SHARD (boundaries fixed by the sample count alone). Every sample is evaluated
 *     against the embeddings and the user counts as they were at the tick's start; inside a
 *     shard the five heads and mf_bias run plain online SGD from their tick-start values.
 *     A sample records its user step and its note step; a shard its heads, its
 *     progressive validation and its content rows' summed steps.
 *  2. heads (tk_heads, serial, 46 numbers a shard): each becomes the average of its shards'
 *     results weighted by their samples, summed in shard order: parameter averaging
 *     (Zinkevich, Weimer, Smola & Li 2010, "Parallelized stochastic gradient descent").
 *     Each shard's SGD is online SGD on 256 samples, as stable as online at any number of
 *     users; a sum of the shards' moves (the linear scaling rule of Goyal et al. 2017) would
 *     take a step hundreds of times larger at 1M users, far past where that rule holds.
 *  3. rows (one parallel loop, each row owned by one work item): a topic or format row sums
 *     its shards' steps in shard order (tk_content_row); a note or user row applies its
 *     samples' steps, recorded in step 1 from the tick-start vectors, in event order
 *     (tk_row_bucket; buckets of rows by id). A row with n samples in the tick takes each step scaled by
 *     min(1, cap / n), cap = FW_TK_ROW_CAP / the row's rate factor (topics 0.1, formats
 *     0.01): n delayed steps on one row are one gradient step of n times the rate on the
 *     mean, stable while emb_lr n |p|^2 / 4 < 2 (the logistic loss's curvature is at most
 *     1/4); the cap keeps a hot note's or a topic's step at 64 x emb_lr on its mean.
 * Unlike Hogwild! (Recht et al. 2011), whose racing updates make results depend on the
 * schedule, every sum here runs in an order fixed by the event log: the same bits on any
 * number of threads. The results differ from online's: a row's second sample in a tick does
 * not see the first's step. */
typedef struct tk_job {
    const fw_engine *e;
    fw_rec *r;
    const fw_event *ev;
} tk_job;

/* Step 1 for one shard; acc, cnt: its content rows' summed steps and sample counts. */
static void tk_shard_train(const tk_job *j, tk_shard *out, double *acc, uint32_t *cnt)
{
    tk_shard own = *out, *sh = &own;   /* on the stack: no line shared with the next shard's */
    const fw_engine *e = j->e;
    fw_rec *r = j->r;
    rec_learn *L = &r->learn[sh->learner];
    uint32_t D = L->dim, S = r->ustride, T = e->n_topics;
    double l2 = L->cfg.l2;
    memcpy(sh->w, L->w, sizeof sh->w);
    sh->mf_bias = L->mf_bias;
    memset(sh->stats, 0, sizeof sh->stats);
    memset(acc, 0, (size_t)(T + 2) * S * sizeof *acc);
    memset(cnt, 0, (size_t)(T + 2) * sizeof *cnt);
    for (uint32_t i = sh->b; i < sh->end; i++) {
        const rec_group *G = &r->grp[r->tk[i].grp];
        const fw_event *x = &j->ev[G->i];
        uint32_t u = x->user, n = x->note;
        const fw_note_info *ni = &e->notes[n];
        const float *pu = r->user_vec + (size_t)u * S, *qn = L->note_vec + (size_t)n * D;
        const float *qt = note_content(L, D, ni, 0), *qf = note_content(L, D, ni, 1);
        double emb = emb_score(e, L, pu, n), y = G->got >> FW_EV_OPEN & 1u ? 1.0 : 0.0, xf[FW_RF__COUNT];
        features(e, &r->pri[sh->learner], G, u, emb, xf);
        sgd_head(&L->cfg, sh->w[FW_TASK_OPEN], &sh->stats[FW_TASK_OPEN], xf, y, G->weight);
        double g = G->weight * (sigmoid(sh->mf_bias + emb) - y);
        sh->mf_bias -= L->cfg.emb_lr * g;
        float *du = r->tk_du + (size_t)i * 2 * S, *dq = du + S;
        double *at = acc + (size_t)ni->topic * S, *af = acc + (size_t)(T + ni->format) * S;
        for (uint32_t d = 0; d < D; d++) {
            float q = qt[d] + qf[d] + qn[d];
            du[d] = (float)(g * q + l2 * pu[d]);
            dq[d] = (float)(g * pu[d]);
            at[d] += g * pu[d];
            af[d] += g * pu[d];
        }
        cnt[ni->topic]++;
        cnt[T + ni->format]++;
        if (y == 0.0)
            continue;
        for (int k = FW_TASK_LIKE; k < FW_TASK__COUNT; k++) {
            if (k == FW_TASK_FOLLOW && G->followed)
                continue;   /* as train_group */
            xf[FW_RF_NOTE_TASK] = note_row(L, n)[FW_NF_TASK + k];
            sgd_head(&L->cfg, sh->w[k], &sh->stats[k], xf, G->got >> task_event[k] & 1u ? 1.0 : 0.0, 1.0);
        }
    }
    *out = own;
}

static void k_tk_shards(void *arg, size_t b, size_t end, int slot)
{
    const tk_job *j = arg;
    (void)slot;
    size_t C = (size_t)j->e->n_topics + 2;
    for (size_t s = b; s < end; s++)
        tk_shard_train(j, &j->r->tk_sh[s], j->r->tk_acc + s * C * j->r->ustride, j->r->tk_cnt + s * C);
}

static void stats_add(fw_model_stats *t, const fw_model_stats *a)
{
    t->samples += a->samples;
    t->weight += a->weight;
    t->log_loss += a->log_loss;
    t->predicted += a->predicted;
    t->observed += a->observed;
}

/* Step 2 for learner l. */
static void tk_heads(fw_rec *r, uint32_t l)
{
    rec_learn *L = &r->learn[l];
    double dw[FW_TASK__COUNT][FW_RF__COUNT] = {{0.0}}, n_k[FW_TASK__COUNT] = {0.0}, dm = 0.0;
    for (uint32_t s = r->tk_lsh[l]; s < r->tk_lsh[l + 1]; s++) {
        const tk_shard *sh = &r->tk_sh[s];
        for (int k = 0; k < FW_TASK__COUNT; k++) {
            double n = (double)sh->stats[k].samples;
            n_k[k] += n;
            for (int f = 0; f < FW_RF__COUNT; f++)
                dw[k][f] += n * (sh->w[k][f] - L->w[k][f]);
            stats_add(&L->stats[k], &sh->stats[k]);
        }
        dm += (double)sh->stats[FW_TASK_OPEN].samples * (sh->mf_bias - L->mf_bias);
    }
    for (int k = 0; k < FW_TASK__COUNT; k++)
        for (int f = 0; n_k[k] > 0.0 && f < FW_RF__COUNT; f++)
            L->w[k][f] += dw[k][f] / n_k[k];
    if (n_k[FW_TASK_OPEN] > 0.0)
        L->mf_bias += dm / n_k[FW_TASK_OPEN];
}

/* The step scale of a row with n samples in the tick and rate factor f (step 3). */
static inline double tk_scale(double n, double f)
{
    return n * f > FW_TK_ROW_CAP ? FW_TK_ROW_CAP / (n * f) : 1.0;
}

/* Step 3's content row it = l * (T + 2) + c: learner l's topic c < T or format c - T. */
static void tk_content_row(const tk_job *j, size_t it)
{
    const fw_rec *r = j->r;
    size_t T = j->e->n_topics, C = T + 2, S = r->ustride;
    uint32_t l = (uint32_t)(it / C), c = (uint32_t)(it % C);
    rec_learn *L = &r->learn[l];
    double sum[128] = {0.0}, n = 0.0, f = c < T ? 0.1 : 0.01;   /* sgd_mf's factors; dim <= 128 */
    for (uint32_t s = r->tk_lsh[l]; s < r->tk_lsh[l + 1]; s++) {
        const double *a = r->tk_acc + ((size_t)s * C + c) * S;
        n += r->tk_cnt[(size_t)s * C + c];
        for (uint32_t d = 0; d < L->dim; d++)
            sum[d] += a[d];
    }
    if (n == 0.0)
        return;
    float *v = c < T ? L->topic_vec + (size_t)c * L->dim : L->format_vec + (size_t)(c - T) * L->dim;
    double step = f * L->cfg.emb_lr * tk_scale(n, f);
    for (uint32_t d = 0; d < L->dim; d++)
        v[d] -= (float)(step * sum[d]);
}

/* The row bucket of id: blocks of FW_TK_BLOCK neighbouring rows stay together (no two
 * buckets write one cache line of rows). */
static inline uint32_t tk_bucket_of(uint32_t id) { return id / FW_TK_BLOCK % FW_TK_BUCKETS; }

/* Step 3's note rows (users 0) or user rows (1) of bucket q: its samples, by learner, in
 * event order; runs of one learner are counted per row, applied, and their counts cleared. */
static void tk_row_bucket(const tk_job *j, size_t q, int users)
{
    fw_rec *r = j->r;
    const uint32_t *off = users ? r->tk_uoff : r->tk_noff, *ix = users ? r->tk_ub : r->tk_nb;
    uint32_t *cnt = users ? r->tk_ucnt : r->tk_ncnt;
    size_t S = r->ustride;
    for (uint32_t k0 = off[q], k1; k0 < off[q + 1]; k0 = k1) {
        uint32_t l = r->tk[ix[k0]].learner;
        for (k1 = k0; k1 < off[q + 1] && r->tk[ix[k1]].learner == l; k1++) {
            const fw_event *x = &j->ev[r->grp[r->tk[ix[k1]].grp].i];
            cnt[users ? x->user : x->note]++;
        }
        const rec_learn *L = &r->learn[l];
        uint32_t D = L->dim;
        double lr = L->cfg.emb_lr, l2 = L->cfg.l2;
        for (uint32_t k = k0; k < k1; k++) {
            const fw_event *x = &j->ev[r->grp[r->tk[ix[k]].grp].i];
            float *pu = r->user_vec + (size_t)x->user * S, *qn = L->note_vec + (size_t)x->note * D;
            double step = lr * tk_scale(cnt[users ? x->user : x->note], 1.0);
            if (users) {
                const float *du = r->tk_du + (size_t)ix[k] * 2 * S;
                for (uint32_t d = 0; d < D; d++)
                    pu[d] -= (float)(step * du[d]);
            } else {
                const float *dq = r->tk_du + (size_t)ix[k] * 2 * S + S;
                for (uint32_t d = 0; d < D; d++)
                    qn[d] -= (float)(step * (dq[d] + l2 * qn[d]));
            }
        }
        for (uint32_t k = k0; k < k1; k++) {
            const fw_event *x = &j->ev[r->grp[r->tk[ix[k]].grp].i];
            cnt[users ? x->user : x->note] = 0;
        }
    }
}

/* Step 3, every row at once: items [0, B) the note buckets, [B, 2B) the user buckets, then
 * the content rows. None reads what another writes: the steps recorded in step 1 read the
 * tick-start vectors. */
static void k_tk_rows(void *arg, size_t b, size_t end, int slot)
{
    const tk_job *j = arg;
    (void)slot;
    for (size_t it = b; it < end; it++) {
        if (it < 2 * FW_TK_BUCKETS)
            tk_row_bucket(j, it % FW_TK_BUCKETS, it >= FW_TK_BUCKETS);
        else
            tk_content_row(j, it - 2 * FW_TK_BUCKETS);
    }
}

/* Counting sort of the n samples into FW_TK_BUCKETS buckets by user (users) or note id:
 * stable, so each bucket keeps the samples' order (by learner, then event order). */
static void tk_bucket(const fw_rec *r, const fw_event *ev, uint32_t n, int users, uint32_t *off, uint32_t *ix)
{
    memset(off, 0, (FW_TK_BUCKETS + 1) * sizeof *off);
    for (uint32_t i = 0; i < n; i++) {
        const fw_event *x = &ev[r->grp[r->tk[i].grp].i];
        off[tk_bucket_of(users ? x->user : x->note) + 1]++;
    }
    for (uint32_t q = 0; q < FW_TK_BUCKETS; q++)
        off[q + 1] += off[q];
    uint32_t at[FW_TK_BUCKETS];
    memcpy(at, off, sizeof at);
    for (uint32_t i = 0; i < n; i++) {
        const fw_event *x = &ev[r->grp[r->tk[i].grp].i];
        ix[at[tk_bucket_of(users ? x->user : x->note)]++] = i;
    }
}

/* The tick's samples of tick-mode learners into r->tk (by learner, in event order) and
 * their shards; *n_out samples. */
static fw_err tk_collect(const fw_engine *e, fw_rec *r, const fw_event *ev, size_t n_grp, uint32_t *n_out)
{
    uint32_t nl = r->n_learn, n = 0, n_sh = 0;
    uint32_t *cnt = r->tk_lsh;   /* first the samples per learner, then the shard offsets */
    memset(cnt, 0, ((size_t)nl + 1) * sizeof *cnt);
    for (size_t g = 0; g < n_grp; g++) {
        uint32_t lx = fw_user_learner(e, ev[r->grp[g].i].user);
        if (r->grp[g].train && r->learn[lx].cfg.train_mode == FW_TRAIN_TICK)
            cnt[lx]++, n++;
    }
    for (uint32_t l = 0; l < nl; l++)
        n_sh += (cnt[l] + FW_TK_SHARD - 1) / FW_TK_SHARD;
    size_t C = (size_t)e->n_topics + 2, S = r->ustride;
    if (fw_grow((void **)&r->tk, &r->cap_tk, n, sizeof *r->tk, 1024) ||
        fw_grow((void **)&r->tk_du, &r->cap_tk_du, (size_t)n * 2 * S, sizeof *r->tk_du, 1024) ||
        fw_grow((void **)&r->tk_ub, &r->cap_tk_ub, n, sizeof *r->tk_ub, 1024) ||
        fw_grow((void **)&r->tk_nb, &r->cap_tk_nb, n, sizeof *r->tk_nb, 1024) ||
        fw_grow((void **)&r->tk_sh, &r->cap_tk_sh, n_sh, sizeof *r->tk_sh, 16) ||
        fw_grow((void **)&r->tk_acc, &r->cap_tk_acc, n_sh * C * S, sizeof *r->tk_acc, 1024) ||
        fw_grow((void **)&r->tk_cnt, &r->cap_tk_cnt, n_sh * C, sizeof *r->tk_cnt, 1024))
        return FW_ERR_NOMEM;
    size_t old = r->cap_tk_ncnt;
    if (fw_grow((void **)&r->tk_ncnt, &r->cap_tk_ncnt, e->cap_notes, sizeof *r->tk_ncnt, 1024))
        return FW_ERR_NOMEM;
    memset(r->tk_ncnt + old, 0, (r->cap_tk_ncnt - old) * sizeof *r->tk_ncnt);
    uint32_t *next = r->tk_uoff, at = 0, sh = 0;   /* scratch: each learner's next sample */
    for (uint32_t l = 0; l < nl; l++) {
        uint32_t m = cnt[l];
        next[l] = at;
        cnt[l] = sh;
        for (uint32_t b = 0; b < m; b += FW_TK_SHARD)
            r->tk_sh[sh++] = (tk_shard){.learner = l, .b = at + b, .end = at + fw_min_u32(b + FW_TK_SHARD, m)};
        at += m;
    }
    cnt[nl] = sh;
    for (size_t g = 0; g < n_grp; g++) {
        uint32_t lx = fw_user_learner(e, ev[r->grp[g].i].user);
        if (r->grp[g].train && r->learn[lx].cfg.train_mode == FW_TRAIN_TICK)
            r->tk[next[lx]++] = (tk_sample){.grp = (uint32_t)g, .learner = lx};
    }
    *n_out = n;
    return FW_OK;
}

/* Tick-mode training of the tick's groups (see above); counts the samples into *trained. */
static fw_err tick_train(fw_engine *e, fw_rec *r, const fw_event *ev, size_t n_grp, uint64_t *trained)
{
    uint32_t n;
    fw_err err = tk_collect(e, r, ev, n_grp, &n);
    if (err != FW_OK || n == 0)
        return err;
    tk_job j = {.e = e, .r = r, .ev = ev};
    fw_par(e, r->tk_lsh[r->n_learn], 1, k_tk_shards, &j);
    for (uint32_t l = 0; l < r->n_learn; l++)
        tk_heads(r, l);
    tk_bucket(r, ev, n, 0, r->tk_noff, r->tk_nb);
    tk_bucket(r, ev, n, 1, r->tk_uoff, r->tk_ub);
    fw_par(e, 2 * FW_TK_BUCKETS + (size_t)r->n_learn * (e->n_topics + 2), 4, k_tk_rows, &j);
    *trained += n;
    return FW_OK;
}

/* ---- the log's serial part (rec_log) -------------------------------------------------
 * Two passes over the tick's groups, each in event order, that touch disjoint state and so
 * run side by side (fw_par2; one after the other on one thread):
 *  - training (rec_train_pass): every online learner's SGD steps, and the users' counts,
 *    which the next sample's user feature reads (a user's earlier events in the tick count);
 *  - counting (rec_count_pass): the learners' totals (read only at the next tick: priors),
 *    the touched notes, creators' counts, impressions in learner 0's blocks (copied to the
 *    others afterwards, in parallel: k_imp_copy), the users' recent opens and the notes'
 *    openers (read by requests and at the day's end), the day's users.
 * Neither reads what the other writes, so each ends as the one loop that did both left it. */
typedef struct rec_serial_job {
    fw_engine *e;
    fw_rec *r;
    const fw_event *ev;
    size_t n_grp;
    uint64_t trained;
    fw_err err;   /* the counting pass's (out of memory) */
} rec_serial_job;

/* The online SGD of learner l (its groups in event order, r->lg), with its users' counts: a
 * learner's models, note residuals, content vectors and users' rows and counts are its own
 * (a user is in one learner), so the learners' passes run side by side and every state sees
 * the same steps in the same order as in one pass over the tick (issue 22: the learners'
 * chains were one serial pass, the largest serial step of the barrier at 16 threads). */
static void rec_train_pass(rec_serial_job *j, uint32_t l)
{
    fw_engine *e = j->e;
    fw_rec *r = j->r;
    const fw_event *ev = j->ev;
    const uint32_t *lg = r->lg + r->lg_off[l];
    size_t n = r->lg_off[l + 1] - r->lg_off[l];
    rec_learn *L = &r->learn[l];
    int online = L->cfg.train_mode == FW_TRAIN_ONLINE;
    uint64_t trained = 0;
    enum { TRAIN_AHEAD = 4 };   /* groups: the pass waits on each sample's rows */
    for (size_t q = 0; q < n; q++) {
        const rec_group *G = &r->grp[lg[q]];
        const fw_event *x = &ev[G->i];
        if (q + TRAIN_AHEAD < n && r->grp[lg[q + TRAIN_AHEAD]].train) {   /* its rows: random lines */
            const fw_event *z = &ev[r->grp[lg[q + TRAIN_AHEAD]].i];
            __builtin_prefetch(r->user_vec + (size_t)z->user * r->ustride);
            __builtin_prefetch(L->note_vec + (size_t)z->note * L->dim);
            __builtin_prefetch(&r->user_counts[2 * (size_t)z->user]);
        }
        if (G->train && online)
            train_group(e, L, &r->pri[l], G, x->user, x->note, &trained);
        for (size_t k = G->i; k < G->j; k++) {
            const fw_event *y = &ev[k];
            if (!fw_event_ok(e, y))   /* the same events the core applies */
                continue;
            uint32_t type = FW_EV_TYPE(y->type);
            if (type == FW_EV_IMPRESSION)
                r->user_counts[2 * (size_t)y->user]++;
            else if (type == FW_EV_OPEN)
                r->user_counts[2 * (size_t)y->user + 1]++;
        }
    }
    r->lg_trained[l] = trained;
}

static fw_err count_events(rec_serial_job *j)
{
    fw_engine *e = j->e;
    fw_rec *r = j->r;
    const fw_event *ev = j->ev;
    for (size_t g = 0; g < j->n_grp; g++) {
        const rec_group *G = &r->grp[g];
        int personal = G->personal;
        for (size_t k = G->i; k < G->j; k++) {
            const fw_event *y = &ev[k];
            if (!fw_event_ok(e, y))   /* the same events the core applies */
                continue;
            uint32_t type = FW_EV_TYPE(y->type), cr = e->notes[y->note].creator;
            rec_learn *L = &r->learn[fw_user_learner(e, y->user)];
            L->total[type]++;
            if (r->nf_mark[y->note] != r->nf_epoch + 1) {
                if (r->n_nf_touched == r->cap_nf_touched) {
                    uint32_t cap = r->cap_nf_touched ? 2 * r->cap_nf_touched : 1024;
                    uint32_t *v = realloc(r->nf_touched, (size_t)cap * sizeof *v);
                    if (!v)
                        return FW_ERR_NOMEM;
                    r->nf_touched = v;
                    r->cap_nf_touched = cap;
                }
                r->nf_mark[y->note] = r->nf_epoch + 1;
                r->nf_touched[r->n_nf_touched++] = y->note;
            }
            if (type == FW_EV_IMPRESSION) {
                L->creator_counts[2 * (size_t)cr]++;
                r->learn[0].blk[y->note].imp++;   /* the core's count (rec_nblk) */
            } else if (type == FW_EV_OPEN) {
                L->creator_counts[2 * (size_t)cr + 1]++;
                if (!personal)
                    continue;
                uint32_t u = y->user;
                size_t hs = (size_t)u * r->hist_cap + r->hist_total[u] % r->hist_cap;
                r->hist[hs] = y->note;
                r->hist_total[u]++;
                size_t os = (size_t)y->note * FW_REC_OPENERS + L->openers_total[y->note] % FW_REC_OPENERS;
                L->openers[os] = u;
                L->openers_total[y->note]++;
                if (r->retain) {   /* the open's own day: r->day is 0 on a warm-up's first */
                    uint32_t d = (uint32_t)fw_tick_day(y->tick, e->ticks_per_day);
                    r->hist_day[hs] = d;
                    L->openers_day[os] = d;
                }
                if (mark_day_user(r, u) != FW_OK)
                    return FW_ERR_NOMEM;
            }
        }
    }
    return FW_OK;
}

static void rec_count_pass(void *arg)
{
    rec_serial_job *j = arg;
    j->err = count_events(j);
}

/* Item 0 the counts (count_events), item 1 + l learner l's SGD (rec_train_pass): the
 * passes read nothing another writes. */
static void k_passes(void *arg, size_t b, size_t end, int slot)
{
    (void)slot;
    for (size_t it = b; it < end; it++)
        if (it == 0)
            rec_count_pass(arg);
        else
            rec_train_pass(arg, (uint32_t)(it - 1));
}

/* The tick's personal groups by learner, each learner's in event order (a counting sort). */
static fw_err group_learners(fw_rec *r, size_t n_grp)
{
    if (fw_grow((void **)&r->lg, &r->cap_lg, n_grp, sizeof *r->lg, 1024))
        return FW_ERR_NOMEM;
    memset(r->lg_off, 0, ((size_t)r->n_learn + 1) * sizeof *r->lg_off);
    for (size_t g = 0; g < n_grp; g++)
        if (r->grp[g].personal)
            r->lg_off[r->grp[g].learner + 1]++;
    for (uint32_t l = 0; l < r->n_learn; l++)
        r->lg_off[l + 1] += r->lg_off[l];
    for (size_t g = 0; g < n_grp; g++)   /* lg_off[l] walks to learner l's end, then is restored */
        if (r->grp[g].personal)
            r->lg[r->lg_off[r->grp[g].learner]++] = (uint32_t)g;
    for (uint32_t l = r->n_learn; l > 0; l--)
        r->lg_off[l] = r->lg_off[l - 1];
    r->lg_off[0] = 0;
    return FW_OK;
}

/* Issue 22: the feature rows of touched notes [b, e) in every learner. */
typedef struct rows_job {
    const fw_engine *e;
    fw_rec *r;
} rows_job;

/* Learner 0's impressions of the touched notes [b, e) into every other learner's blocks. */
static void k_imp_copy(void *arg, size_t b, size_t end, int slot)
{
    rows_job *j = arg;
    (void)slot;
    for (size_t k = b; k < end; k++) {
        uint32_t n = j->r->nf_touched[k], imp = j->r->learn[0].blk[n].imp;
        for (uint32_t l = 1; l < j->r->n_learn; l++)
            j->r->learn[l].blk[n].imp = imp;
    }
}

static fw_err rec_log(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_log *l)
{
    int64_t t0 = fw_now_ns();
    fw_rec *r = state;
    uint64_t trained = 0;
    for (uint32_t k = 0; k < r->n_learn; k++)
        r->pri[k] = get_priors(&r->learn[k]);
    /* Each user's events train the learner of their cell. An impression and the note events
     * that follow it for the same (user, note) form a group: the sample and its labels. The core applies the tick's note counts after every
     * module has logged, so note features are those the ranker saw when it served the tick.
     * The groups' fixed parts come first, in parallel (k_groups); then each learner's SGD
     * steps in event order (rec_train_pass), the learners side by side and beside the counts
     * (rec_count_pass): the learned state is the serial one. */
    const fw_event *ev = l->ev;
    size_t n = l->n_ev, i = 0, n_grp = 0;
    if (fw_grow((void **)&r->grp, &r->cap_grp, n, sizeof *r->grp, 1024))   /* a group per event at most */
        return FW_ERR_NOMEM;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && FW_EV_TYPE(ev[j].type) != FW_EV_IMPRESSION && ev[j].user == ev[i].user &&
               ev[j].note == ev[i].note)
            j++;
        r->grp[n_grp++] = (rec_group){.i = (uint32_t)i, .j = (uint32_t)j};
        i = j;
    }
    rec_log_job job = {.e = e, .r = r, .ev = ev, .grp = r->grp};
    fw_par(e, n_grp, 1024, k_groups, &job);
    if (r->any_tick) {   /* before the counts below: it reads them as of the tick's start */
        fw_err err = tick_train(e, r, ev, n_grp, &trained);
        if (err != FW_OK)
            return err;
    }
    if (group_learners(r, n_grp) != FW_OK)
        return FW_ERR_NOMEM;
    rec_serial_job sj = {.e = e, .r = r, .ev = ev, .n_grp = n_grp, .err = FW_OK};
    fw_par(e, (size_t)r->n_learn + 1, 1, k_passes, &sj);
    if (sj.err != FW_OK)
        return sj.err;
    for (uint32_t k = 0; k < r->n_learn; k++)
        sj.trained += r->lg_trained[k];
    /* The other learners' copies of the impressions learner 0's blocks counted (rec_nblk). */
    if (r->n_learn > 1) {
        rows_job cj = {.e = e, .r = r};
        fw_par(e, r->n_nf_touched, 2048, k_imp_copy, &cj);
    }
    trained += sj.trained;
    ctx->work[FW_WORK_TRAINED] += trained;
    fw_hist_record(&ctx->lat[FW_STAGE_TRAIN], fw_now_ns() - t0);
    return FW_OK;
}

/* Issue 22: the feature rows of touched notes [b, e) in every learner. */
static void k_rows(void *arg, size_t b, size_t end, int slot)
{
    rows_job *j = arg;
    (void)slot;
    for (uint32_t l = 0; l < j->r->n_learn; l++) {
        rec_learn *L = &j->r->learn[l];
        priors p = get_priors(L);   /* the totals do not change at the tick's end */
        for (size_t k = b; k < end; k++)
            note_row_update(j->e, L, &p, j->r->nf_touched[k]);
    }
}

/* The tick's end, after the trending module's: each recommender cell's topic pools, then the
 * feature rows of the notes with events in the tick. */
static fw_err rec_end_tick(fw_engine *e, void *state, fw_engine_ctx *ctx, int32_t tick)
{
    (void)ctx;
    fw_rec *r = state;
    for (uint32_t a = 0; a < e->n_arms; a++)
        if (r->cell[a].tpool)   /* a DP release (privacy.c) changed every score: recut all */
            refresh_topic_pools(e, r, a, fw_privacy_released_at(e, a, tick));
    /* Issue 22: each touched note's rows in every learner, notes in parallel (each writes only
     * its own rows). */
    rows_job j = {.e = e, .r = r};
    fw_par(e, r->n_nf_touched, 2048, k_rows, &j);
    r->n_nf_touched = 0;
    if (++r->nf_epoch == UINT32_MAX) {   /* marks hold epoch + 1: clear them once */
        memset(r->nf_mark, 0, (size_t)e->cap_notes * sizeof *r->nf_mark);
        r->nf_epoch = 0;
    }
    return FW_OK;
}

/* ---- day end: co-engagement neighbours --------------------------------------------- */

/* LSD radix sort of 64-bit keys by 16-bit digits, skipping digits every key shares.
 * Hand-written because neither libc nor GSL has a radix sort, and qsort with a comparator
 * is several times slower on the tens of millions of pairs a 1M-user day produces. */
static int radix_sort_u64(uint64_t *a, size_t n)
{
    uint64_t *b = malloc((n ? n : 1) * sizeof *b);
    size_t *cnt = malloc(65536 * sizeof *cnt);
    if (!b || !cnt) {
        free(b);
        free(cnt);
        return -1;
    }
    for (int shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(a[i] >> shift) & 0xffff]++;
        if (n && cnt[(a[0] >> shift) & 0xffff] == n)
            continue;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[cnt[(a[i] >> shift) & 0xffff]++] = a[i];
        memcpy(a, b, n * sizeof *a);
    }
    free(b);
    free(cnt);
    return 0;
}

/* Issue 22: the rebuild's two loops run in parallel through fw_par. Pairs: each of the day's
 * users writes its pairs into its own span (sized by the bound have * (have - 1)), compacted in
 * day-user order afterwards, so the pair array is the serial one. Scores: the sorted pairs cut
 * into pieces at note boundaries (each note's pairs whole in one piece); a note's count (pass
 * 0) and neighbours (pass 1) land at positions fixed by the note alone. Per-slot top-k scratch. */
typedef struct nb_job {
    const fw_engine *e;
    const fw_rec *r;
    uint32_t l, dp_window;
    const fw_dp_pairs *dp;
    const double *dp_pop;
    uint64_t *pairs;
    const size_t *span;          /* [n_day_users + 1] each user's span in pairs (the bound) */
    size_t *got;                 /* [n_day_users] pairs each user wrote */
    size_t m, *piece;            /* [n_pieces + 1] piece starts in the sorted pairs */
    int pass;
    uint32_t K, *off, *nb;
    uint32_t *best;              /* [n_slots * K] */
    double *best_s;              /* [n_slots * K] */
} nb_job;

/* The day user's opens paired (at most FW_REC_PAIR_WINDOW of those their cell remembers). */
static uint32_t pair_window(const fw_engine *e, const fw_rec *r, uint32_t u)
{
    uint32_t have = hist_have(e, r, u);
    return have > FW_REC_PAIR_WINDOW ? FW_REC_PAIR_WINDOW : have;
}

static void k_pairs(void *arg, size_t b, size_t end, int slot)
{
    nb_job *j = arg;
    const fw_rec *r = j->r;
    (void)slot;
    for (size_t k = b; k < end; k++) {
        uint32_t u = r->day_users[k], tot = r->hist_total[u];
        uint64_t *pairs = j->pairs + j->span[k];
        size_t m = 0;
        j->got[k] = 0;
        if (fw_user_learner(j->e, u) != j->l)
            continue;
        uint32_t have = pair_window(j->e, r, u);
        const uint32_t *h = r->hist + (size_t)u * r->hist_cap;
        if (!j->dp->exact) {
            if (!j->dp->release)
                continue;
            uint32_t d[FW_REC_PAIR_WINDOW], nd = 0;   /* distinct notes, newest first */
            for (uint32_t i = 0; i < have && nd < j->dp_window; i++) {
                uint32_t a = h[(tot - 1 - i) % r->hist_cap], dup = 0;
                for (uint32_t k2 = 0; k2 < nd && !dup; k2++)
                    dup = d[k2] == a;
                if (!dup)
                    d[nd++] = a;
            }
            for (uint32_t i = 0; i < nd; i++)
                for (uint32_t i2 = i + 1; i2 < nd; i2++) {
                    pairs[m++] = (uint64_t)d[i] << 32 | d[i2];
                    pairs[m++] = (uint64_t)d[i2] << 32 | d[i];
                }
        } else {
            for (uint32_t i = 0; i < have; i++)
                for (uint32_t i2 = 0; i2 < have; i2++) {
                    uint32_t a = h[(tot - 1 - i) % r->hist_cap], c = h[(tot - 1 - i2) % r->hist_cap];
                    if (i != i2 && a != c)
                        pairs[m++] = (uint64_t)a << 32 | c;
                }
        }
        j->got[k] = m;
    }
}

/* Pieces [b, end) of the sorted pairs: each note's neighbours, counted (pass 0: off[a + 1])
 * or written (pass 1: nb + off[a]). */
static void k_score(void *arg, size_t b, size_t end, int slot)
{
    nb_job *j = arg;
    const fw_engine *e = j->e;
    const fw_dp_pairs *dp = j->dp;
    const uint64_t *pairs = j->pairs;
    uint32_t K = j->K, *best = j->best + (size_t)slot * K;
    double *best_s = j->best_s + (size_t)slot * K;
    for (size_t p = b; p < end; p++) {
        size_t i = j->piece[p], stop = j->piece[p + 1];
        while (i < stop) {
            uint32_t a = (uint32_t)(pairs[i] >> 32), nbest = 0;
            double oa = e->counts[(size_t)a * FW_EV__COUNT + FW_EV_OPEN] + 1.0;
            while (i < stop && (uint32_t)(pairs[i] >> 32) == a) {
                uint32_t c = (uint32_t)pairs[i];
                size_t i2 = i;
                while (i2 < stop && pairs[i2] == pairs[i])
                    i2++;
                double oc = e->counts[(size_t)c * FW_EV__COUNT + FW_EV_OPEN] + 1.0;
                double sim = (double)(i2 - i) / sqrt(oa * oc);
                if (j->dp_pop) {
                    uint64_t key = a < c ? (uint64_t)a << 32 | c : (uint64_t)c << 32 | a;
                    double cnt = (double)(i2 - i) +
                                 fw_privacy_noise(dp->mechanism, dp->scale, dp->seed, dp->cell, dp->day, FW_DP_AGG_COENG, key);
                    sim = cnt > dp->threshold ? cnt / sqrt((j->dp_pop[a] + 1.0) * (j->dp_pop[c] + 1.0)) : 0.0;
                }
                if (sim > 0.0)
                    fw_topk_offer(best, best_s, &nbest, K, c, sim);
                i = i2;
            }
            if (j->pass == 0) {
                j->off[a + 1] = nbest;
            } else {
                fw_topk_sort(best, best_s, nbest);
                memcpy(j->nb + j->off[a], best, nbest * sizeof *j->nb);
            }
        }
    }
}

/* Learner l's co-engagement neighbours, rebuilt from its users active today. Pairs (a, b),
 * a != b, among the last FW_REC_PAIR_WINDOW opens of each (of those their cell remembers);
 * similarity = co-openers / sqrt(opens a * opens b); keep the best nb_k. */
static fw_err rebuild_neighbours(fw_engine *e, fw_rec *r, uint32_t l, fw_engine_ctx *ctx, uint32_t day)
{
    rec_learn *L = &r->learn[l];
    /* engine.privacy.dp: the co-engagement counts are released with noise (privacy.c argues
     * the sensitivity): each user pairs at most dp.window distinct notes, each unordered pair
     * once; a pair's noisy count must clear the threshold; similarity normalises by the
     * released trending scores instead of the exact open counts. */
    fw_dp_pairs dp = fw_privacy_pairs(e, l, day);   /* not r->day: 0 on a warm-up's first day */
    uint32_t nd = r->n_day_users, slots = e->n_par_slots > 1 ? (uint32_t)e->n_par_slots : 1;
    nb_job j = {.e = e, .r = r, .l = l, .dp_window = fw_min_u32(dp.window, FW_REC_PAIR_WINDOW), .dp = &dp,
                .dp_pop = dp.exact ? NULL : fw_pools_scores(e, fw_learner_cell(e, l)), .K = L->nb_k};
    size_t *span = malloc(((size_t)nd + 1) * sizeof *span);
    j.got = malloc(((size_t)nd + 1) * sizeof *j.got);
    fw_err rc = FW_ERR_NOMEM;
    uint32_t K = L->nb_k, N = e->n_notes;
    j.off = calloc((size_t)N + 1, sizeof *j.off);
    j.best_s = malloc((size_t)slots * K * sizeof *j.best_s);
    j.best = malloc((size_t)slots * K * sizeof *j.best);
    if (!span || !j.got || !j.off || !j.best_s || !j.best)
        goto out;
    span[0] = 0;
    for (uint32_t k = 0; k < nd; k++) {
        uint32_t have = fw_user_learner(e, r->day_users[k]) == l ? pair_window(e, r, r->day_users[k]) : 0;
        span[k + 1] = span[k] + (size_t)have * (have - (have > 0));
    }
    j.span = span;
    if (!(j.pairs = malloc((span[nd] ? span[nd] : 1) * sizeof *j.pairs)))
        goto out;
    fw_par(e, nd, 256, k_pairs, &j);
    size_t m = 0;
    for (uint32_t k = 0; k < nd; k++) {   /* compacted in day-user order: the serial array */
        memmove(j.pairs + m, j.pairs + span[k], j.got[k] * sizeof *j.pairs);
        m += j.got[k];
    }
    j.m = m;
    ctx->work[FW_WORK_CF_PAIRS] += m;
    if (radix_sort_u64(j.pairs, m))
        goto out;
    /* Pieces of about 1024 pairs, each moved up to the next note boundary (some end empty). */
    size_t n_pieces = m / 1024 + 1;
    if (!(j.piece = malloc((n_pieces + 1) * sizeof *j.piece)))
        goto out;
    for (size_t p = 0; p <= n_pieces; p++) {
        size_t at = p == n_pieces ? m : p * (m / n_pieces);
        if (p > 0 && at < j.piece[p - 1])
            at = j.piece[p - 1];
        while (at > 0 && at < m && (j.pairs[at] >> 32) == (j.pairs[at - 1] >> 32))
            at++;
        j.piece[p] = at;
    }
    /* Two passes over the sorted pairs: count the neighbours kept per note, then fill. */
    for (j.pass = 0; j.pass < 2; j.pass++) {
        fw_par(e, n_pieces, 16, k_score, &j);
        if (j.pass == 0) {
            for (uint32_t a = 0; a < N; a++)
                j.off[a + 1] += j.off[a];
            if (!(j.nb = malloc((j.off[N] ? j.off[N] : 1) * sizeof *j.nb)))
                goto out;
        }
    }
    free(L->nb_off);
    free(L->nb);
    L->nb_off = j.off;
    L->nb = j.nb;
    L->nb_notes = N;
    j.off = NULL;
    j.nb = NULL;
    rc = FW_OK;
out:
    free(span);
    free(j.got);
    free(j.pairs);
    free(j.piece);
    free(j.off);
    free(j.nb);
    free(j.best_s);
    free(j.best);
    return rc;
}

static fw_err rec_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)series;
    fw_rec *r = state;
    fw_err rc = FW_OK;
    for (uint32_t l = 0; l < r->n_learn; l++) {
        rec_learn *L = &r->learn[l];
        memcpy(L->last, L->stats, sizeof L->last);
        memset(L->stats, 0, sizeof L->stats);
        if (rc == FW_OK)
            rc = rebuild_neighbours(e, r, l, ctx, day);
    }
    r->n_day_users = 0;
    r->day = day + 1;
    r->day_seq++;
    return rc;
}

/* ---- the retention window (engine.privacy.retention_days) ------------------------------ */

/* An open of day d0 by a user whose cell keeps N days is forgotten at the end of day d when
 * d - d0 >= N: it served the N days after its own. What "forget" means for each kind of
 * per-user state:
 *  - recent opens (CF, walks) and the per-note opener lists (walks) name the user and the note:
 *    the entries are erased (the rings compacted), exactly;
 *  - the user's vector and counts are a learned summary of every signal since they were
 *    started, and SGD cannot take one signal back out; they are reset to their initial values
 *    every N days instead (staggered by a hash of the user so the platform does not cold-start
 *    everyone on one day), so no value in them was learned from a signal older than N days;
 *  - shared models (ranking weights, note and topic vectors, totals, creator counts, trending)
 *    are aggregates over every user, not a user's profile: kept, as platforms keep models
 *    trained on expired data (exact unlearning is out of scope);
 *  - what a user was served (the seen filters) is kept: it is the platform's own history,
 *    needed not to repeat itself, and already bounded by engine.feed.seen_window. */
/* Whether an entry of day `at` is still inside an N-day window at the end of `day`. Days are
 * signed here: a warm-up's (issue 18) are 2^32 - W .., before day 0. */
static int retained(uint32_t at, uint32_t N, uint32_t day)
{
    return (int64_t)(int32_t)at + N > (int64_t)(int32_t)day;
}

void fw_rec_forget(fw_engine *e, uint32_t day, uint64_t *forgotten, uint64_t *reset)
{
    fw_rec *r = R_of(e);
    if (!r || !r->retain)
        return;
    uint32_t keep[256], cap = r->hist_cap;
    for (uint32_t u = 0; u < e->n_users; u++) {
        uint32_t N = fw_privacy_retention(e, fw_user_cell(e, u));
        if (N == 0)
            continue;
        uint32_t tot = r->hist_total[u], have = fw_min_u32(tot, cap), live = 0;
        uint32_t *h = r->hist + (size_t)u * cap, *hd = r->hist_day + (size_t)u * cap;
        while (live < have && retained(hd[(tot - 1 - live) % cap], N, day))
            live++;
        if (live < have) {
            /* Compact the live entries to a ring of total = live (oldest first), zero the rest. */
            uint32_t kd[256];
            for (uint32_t k = 0; k < live; k++) {
                keep[k] = h[(tot - live + k) % cap];
                kd[k] = hd[(tot - live + k) % cap];
            }
            memset(h, 0, cap * sizeof *h);
            memset(hd, 0, cap * sizeof *hd);
            memcpy(h, keep, live * sizeof *h);
            memcpy(hd, kd, live * sizeof *hd);
            *forgotten += have - live;
            r->hist_total[u] = live;
        }
        int64_t phase = ((int64_t)(int32_t)day + 1 + (int64_t)(mix64(u ^ UINT64_C(0x7265746e)) % N)) % N;
        if (phase == 0) {   /* every N days, across a warm-up's too (% is 0 on multiples below 0 as well) */
            for (uint32_t d = 0; d < r->ustride; d++)
                r->user_vec[(size_t)u * r->ustride + d] = init_value(1, u, d);
            r->user_counts[2 * (size_t)u] = r->user_counts[2 * (size_t)u + 1] = 0;
            (*reset)++;
        }
    }
    for (uint32_t l = 0; l < r->n_learn; l++) {
        rec_learn *L = &r->learn[l];
        for (uint32_t n = 0; n < e->n_notes; n++) {
            uint32_t tot = L->openers_total[n], have = fw_min_u32(tot, FW_REC_OPENERS), nk = 0;
            uint32_t *o = L->openers + (size_t)n * FW_REC_OPENERS, *od = L->openers_day + (size_t)n * FW_REC_OPENERS;
            uint32_t ko[FW_REC_OPENERS], kd[FW_REC_OPENERS];
            for (uint32_t k = 0; k < have; k++) {   /* oldest first */
                uint32_t s = (tot - have + k) % FW_REC_OPENERS;
                uint32_t N = fw_privacy_retention(e, fw_user_cell(e, o[s]));
                if (N == 0 || retained(od[s], N, day)) {
                    ko[nk] = o[s];
                    kd[nk++] = od[s];
                }
            }
            if (nk == have)
                continue;
            memset(o, 0, FW_REC_OPENERS * sizeof *o);
            memset(od, 0, FW_REC_OPENERS * sizeof *od);
            memcpy(o, ko, nk * sizeof *o);
            memcpy(od, kd, nk * sizeof *od);
            *forgotten += have - nk;
            L->openers_total[n] = nk;
        }
    }
}

/* ---- a request --------------------------------------------------------------------- */

/* The request's followed creators, in a set stamped like the request's id set. */
static void cset_build(const fw_engine *e, rec_ctx *c, uint32_t stamp, uint32_t u)
{
    const fw_u32vec *fl = &e->follows[u];
    uint32_t need = 2 * fl->n + 2, size = c->cset_mask + 1;
    if (size < need) {
        while (size < need)
            size *= 2;
        uint32_t *k = realloc(c->cset_key, (size_t)size * sizeof *k);
        if (k)
            c->cset_key = k;
        uint32_t *s = k ? realloc(c->cset_stamp, (size_t)size * sizeof *s) : NULL;
        if (!s) {   /* keep the old table; cset_has falls back to a scan */
            c->cset_mask = UINT32_MAX;
            return;
        }
        c->cset_stamp = s;
        memset(s, 0, (size_t)size * sizeof *s);
        c->cset_mask = size - 1;
    }
    for (uint32_t k = 0; k < fl->n; k++) {
        uint32_t i = fw_hash_u32(fl->v[k]) & c->cset_mask;
        while (c->cset_stamp[i] == stamp && c->cset_key[i] != fl->v[k])
            i = (i + 1) & c->cset_mask;
        c->cset_stamp[i] = stamp;
        c->cset_key[i] = fl->v[k];
    }
}

static inline int cset_has(const fw_engine *e, const rec_ctx *c, uint32_t stamp, uint32_t u, uint32_t cr)
{
    if (c->cset_mask == UINT32_MAX)
        return follows_creator(e, u, cr);
    uint32_t i = fw_hash_u32(cr) & c->cset_mask;
    while (c->cset_stamp[i] == stamp) {
        if (c->cset_key[i] == cr)
            return 1;
        i = (i + 1) & c->cset_mask;
    }
    return 0;
}

/* Offers ids[0..m), in order, to the request's candidates until quota of them are added;
 * returns how many were added and sets *taken to how many were offered. An id is added when
 * new and not served before. The id set first (recall channels overlap: a duplicate costs one
 * probe, not the seen filter's ten), but filled only with candidates, so it never holds more
 * than them; the same candidates as testing the seen filter first. Branches, not selects: the
 * outcomes are predictable enough, and a select makes the next id's slot in cand wait on this
 * one's probes (tried: slower). The request's constants (the filters, the id set, the stamp)
 * in locals: read through e and rx, the loop reloaded them for every id, as its stores into
 * the set and cand might alias them (issue 22). */
static uint32_t add_run(const fw_engine *e, fw_rank_ctx *c, rec_ctx *rx, uint32_t cell, uint32_t u,
                        const uint32_t *ids, uint32_t m, uint32_t quota, uint32_t *n, uint32_t *taken)
{
    const fw_seen_ref seen = fw_seen_ref_of(e, cell, u);
    const int both = seen.both;
    uint64_t *set = rx->ids;
    uint32_t *cand = c->cand;
    const uint64_t stamp = rx->ids_stamp;
    const uint32_t mask = rx->ids_mask, n_notes = e->n_notes;
    const int safety = fw_mod(e, FW_MOD_SAFETY) != NULL;
    uint32_t added = 0, i = 0, nc = *n;
    m = fw_min_u32(m, rx->look_left);   /* the request's budget (recall_begin) */
    for (; i < m && added < quota; i++) {
        uint32_t id = ids[i];
        if (id >= n_notes)
            continue;
        /* The served filters first: in a warm world most ids looked at were served (64% of
         * those the default scenario's warm-up looked at, 4% already candidates), and the
         * filters are in cache (recall_begin) where the set is a probe of L2. Tested without
         * branches on the probes (rank.h) for a user whose two generations are live -- one
         * served seen_window notes or more, where served and new ids mix and the early exits
         * mispredict -- and with them for the others, whose ids are mostly new (there the
         * branch-free test cost the cold day's recall 7-12%). The same answer either way. */
        if (both ? fw_seen_ref_has_dense(seen, id) : fw_seen_ref_has(seen, id))
            continue;
        uint64_t want = stamp << 32 | id, at;
        uint32_t slot = fw_hash_u32(id) & mask;
        while ((at = set[slot]) >> 32 == stamp && at != want)
            slot = (slot + 1) & mask;
        if (at == want || (safety && fw_safety_weight(e, cell, u, id) == 0.0))
            continue;
        set[slot] = want;
        cand[nc++] = id;
        added++;
    }
    rx->look_left -= i;
    *n = nc;
    *taken = i;
    return added;
}

enum {
    RECALL_CHUNK = 64,
    RECALL_LOOK_PER_QUOTA = 32,   /* recall_begin's budget of ids offered: per candidate wanted */
    RECALL_LOOK_FLOOR = 1024      /* ... plus this many */
};

/* The newest ring entries k0 .. k0 + m - 1, newest first, into out[m]. */
static void ring_newest(const uint32_t *v, uint32_t cap, uint64_t total, uint32_t k0, uint32_t m, uint32_t *out)
{
    for (uint32_t k = 0; k < m; k++)
        out[k] = v[(total - 1 - (k0 + k)) % cap];
}

/* add_run over the newest have entries of a ring (newest first). */
static uint32_t add_ring(const fw_engine *e, fw_rank_ctx *c, rec_ctx *rx, uint32_t cell, uint32_t u,
                         const uint32_t *v, uint32_t cap, uint64_t total, uint32_t have, uint32_t quota, uint32_t *n,
                         uint32_t *taken)
{
    uint32_t buf[RECALL_CHUNK], added = 0, k = 0;
    while (k < have && added < quota) {
        uint32_t m = fw_min_u32(RECALL_CHUNK, have - k), got;
        ring_newest(v, cap, total, k, m, buf);
        added += add_run(e, c, rx, cell, u, buf, m, quota - added, n, &got);
        k += got;
        if (got < m)
            break;
    }
    *taken = k;
    return added;
}

/* Empties the request's id set (rx->ids), sets the request's budget of ids offered to it and
 * starts fetching u's seen filters, which every candidate recall looks at probes.
 *
 * The budget bounds recall's per-id work (a set probe and a seen-filter test) at
 * RECALL_LOOK_PER_QUOTA times the candidates wanted (the quotas' sum) plus
 * RECALL_LOOK_FLOOR, whatever the pools' sizes: for worst-case latency. Without it, a user
 * whose filters say "seen" to nearly everything (a heavy reader, or a saturated filter's
 * false positives) makes every channel walk its whole pools (n_trending up to 100,000,
 * content_topics x (topic_pool + the topics' recent rings), the whole fresh ring) for
 * nothing. The ids offered are counted: each is within the channels' work counter
 * candidates_recalled. The floor lets a small quota still skip a long run of seen notes (a
 * user served 100 trending notes one a page, test_edge_many_seen_notes). Issue 22: the
 * benchmark's requests offer about 1.5 ids per candidate wanted (1,170 for 768; the budget is
 * 25,600), so it never binds there; the tests' scenarios give the same results with it. */
static void recall_begin(const fw_engine *e, rec_ctx *rx, uint32_t cell, uint32_t u)
{
    const fw_rec_cfg *rc = &fw_cfg(e, cell)->rec;
    uint64_t want = (uint64_t)rc->social + rc->hot + rc->content + rc->cf + rc->graph + rc->fresh;
    want = want * RECALL_LOOK_PER_QUOTA + RECALL_LOOK_FLOOR;
    rx->look_left = want < UINT32_MAX ? (uint32_t)want : UINT32_MAX;
    if (++rx->ids_stamp == 0) {   /* wrapped: really clear once every 2^32 requests */
        memset(rx->ids, 0, ((size_t)rx->ids_mask + 1) * sizeof *rx->ids);
        rx->ids_stamp = 1;
    }
    const uint64_t *s = e->seen[u];
    if (!s)
        return;
    uint32_t words = e->cell[cell].seen_words * ((e->seen_fill[u] & FW_SEEN_BOTH) ? 2 : 1);
    for (uint32_t w = 0; w < words; w += 8)
        __builtin_prefetch(s + w);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint32_t channel_social(const fw_engine *e, fw_rank_ctx *c, rec_ctx *rx, uint32_t cell, uint32_t u, uint32_t quota,
                               uint32_t *n, uint64_t *looked)
{
    const fw_feed_cfg *f = &fw_cfg(e, cell)->feed;
    const fw_u32vec *fl = &e->follows[u];
    uint32_t added = 0, n_cr = fl->n < f->follow_max_creators ? fl->n : f->follow_max_creators, got;
    /* Every creator's ring is a cache miss or two at scale: start them all first. */
    for (uint32_t k = 0; k < n_cr; k++)
        fw_pools_recent_prefetch(e, fl->v[fl->n - 1 - k]);
    for (uint32_t k = 0; k < n_cr && added < quota; k++) {
        fw_ring recent = fw_pools_recent(e, fl->v[fl->n - 1 - k]);
        uint32_t have = fw_min_u32(fw_ring_have(&recent), f->follow_recent);
        *looked += have;
        added += add_ring(e, c, rx, cell, u, recent.v, recent.cap, recent.total, have, quota - added, n, &got);
    }
    return added;
}

static uint32_t channel_hot(const fw_engine *e, fw_rank_ctx *c, rec_ctx *rx, uint32_t cell, uint32_t u, uint32_t quota,
                            uint32_t *n, uint64_t *looked)
{
    uint32_t n_pool, p;
    const uint32_t *pool = fw_pools_trending(e, cell, &n_pool);
    uint32_t added = add_run(e, c, rx, cell, u, pool, n_pool, quota, n, &p);
    *looked += p;
    return added;
}

static uint32_t channel_content(const fw_engine *e, fw_rank_ctx *c, rec_ctx *rx, uint32_t cell, uint32_t u,
                                const double *ut, uint32_t quota, uint32_t *n, uint64_t *looked)
{
    const fw_rec *r = R_of(e);
    const rec_cell *st = &r->cell[cell];
    uint32_t T = e->n_topics, nt = fw_cfg(e, cell)->rec.content_topics, K = fw_cfg(e, cell)->rec.topic_pool;
    if (nt > T)
        nt = T;
    uint32_t top[64];
    double top_s[64];
    uint32_t ntop = 0;
    for (uint32_t t = 0; t < T; t++)
        fw_topk_offer(top, top_s, &ntop, nt, t, ut[t]);
    fw_topk_sort(top, top_s, ntop);
    uint32_t added = 0;
    for (uint32_t i = 0; i < ntop && added < quota; i++) {
        uint32_t t = top[i], share = (quota - added) / (ntop - i), got = 0;
        /* Half from the topic's most engaging notes, the rest from its newest. */
        uint32_t half = (share + 1) / 2, k;
        got = add_run(e, c, rx, cell, u, st->tpool + (size_t)t * K, st->tpool_n[t], half, n, &k);
        *looked += k;
        uint64_t tot = r->topic_total[t];
        uint32_t have = tot < FW_REC_TOPIC_RECENT ? (uint32_t)tot : FW_REC_TOPIC_RECENT;
        if (got < share)
            got += add_ring(e, c, rx, cell, u, r->topic_recent + (size_t)t * FW_REC_TOPIC_RECENT, FW_REC_TOPIC_RECENT,
                            tot, have, share - got, n, &k);
        else
            k = 0;
        *looked += k;
        added += got;
    }
    return added;
}

static uint32_t channel_cf(const fw_engine *e, fw_rank_ctx *c, rec_ctx *rx, uint32_t cell, uint32_t u, uint32_t quota,
                           uint32_t *n, uint64_t *looked)
{
    const fw_rec *r = R_of(e);
    const rec_learn *L = L_of(r, e, cell, u);
    uint32_t tot = r->hist_total[u], have = hist_have(e, r, u), added = 0;
    uint32_t K = fw_cfg(e, cell)->rec.neighbours;   /* the best K of the learner's nb_k */
    const uint32_t *h = r->hist + (size_t)u * r->hist_cap;
    /* Two dependent cache misses an open at scale (its offsets, then its neighbours): the
     * offsets of every open first, then the lists, so that they overlap. */
    for (uint32_t i = 0; i < have; i++) {
        uint32_t a = h[(tot - 1 - i) % r->hist_cap];
        if (a < L->nb_notes)
            __builtin_prefetch(&L->nb_off[a]);
    }
    for (uint32_t i = 0; i < have; i++) {
        uint32_t a = h[(tot - 1 - i) % r->hist_cap];
        if (a < L->nb_notes)
            __builtin_prefetch(L->nb + L->nb_off[a]);
    }
    for (uint32_t i = 0; i < have && added < quota; i++) {
        uint32_t a = r->hist[(size_t)u * r->hist_cap + (tot - 1 - i) % r->hist_cap];
        if (a >= L->nb_notes)
            continue;
        uint32_t end = fw_min_u32(L->nb_off[a + 1], L->nb_off[a] + K), got;
        added += add_run(e, c, rx, cell, u, L->nb + L->nb_off[a], end - L->nb_off[a], quota - added, n, &got);
        *looked += got;
    }
    return added;
}

/* Walks w0 .. w0 + nb - 1 of channel_graph, appending their visits to rx->walk[nv..);
 * returns the new nv. Each walk: one of u's recent opens -> one of its recent openers v ->
 * one of v's recent opens (visited) -> again once more. */
static uint32_t walk_batch(const fw_engine *e, const fw_rec *r, const rec_learn *L, rec_ctx *rx, uint32_t u,
                           int32_t tick, uint32_t w0, uint32_t nb, uint32_t tot, uint32_t have, uint32_t nv,
                           uint64_t *steps)
{
    uint32_t note[FW_REC_WALK_BATCH], v[FW_REC_WALK_BATCH], live[FW_REC_WALK_BATCH], n_live = nb;
    for (uint32_t b = 0; b < nb; b++) {
        note[b] = r->hist[(size_t)u * r->hist_cap + (tot - 1 - pick(u, (uint32_t)tick, w0 + b, 0, have)) % r->hist_cap];
        live[b] = b;
        __builtin_prefetch(&L->openers_total[note[b]]);
        __builtin_prefetch(&L->openers[(size_t)note[b] * FW_REC_OPENERS]);
    }
    for (uint32_t s = 1; s <= 2 && n_live; s++) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < n_live; i++) {   /* to one of the note's recent openers */
            uint32_t b = live[i], ot = L->openers_total[note[b]], oh = ot < FW_REC_OPENERS ? ot : FW_REC_OPENERS;
            if (oh == 0)
                continue;
            v[b] = L->openers[(size_t)note[b] * FW_REC_OPENERS + pick(u, (uint32_t)tick, w0 + b, 2 * s, oh)];
            __builtin_prefetch(&r->hist_total[v[b]]);
            __builtin_prefetch(&e->user_cell[v[b]]);
            __builtin_prefetch(&r->hist[(size_t)v[b] * r->hist_cap]);
            live[k++] = b;
        }
        n_live = k;
        k = 0;
        for (uint32_t i = 0; i < n_live; i++) {   /* to one of the opener's remembered opens */
            uint32_t b = live[i], vt = r->hist_total[v[b]], vh = hist_have(e, r, v[b]);
            (*steps)++;
            if (v[b] == u || vh == 0)
                continue;
            /* Any slot of the ring when their cell remembers all it holds, else one of its
             * newest vh. */
            uint32_t j = pick(u, (uint32_t)tick, w0 + b, 2 * s + 1, vh);
            int whole = vh == (vt < r->hist_cap ? vt : r->hist_cap);
            note[b] = r->hist[(size_t)v[b] * r->hist_cap + (whole ? j : (vt - 1 - j) % r->hist_cap)];
            rx->walk[nv++] = note[b];
            __builtin_prefetch(&L->openers_total[note[b]]);
            __builtin_prefetch(&L->openers[(size_t)note[b] * FW_REC_OPENERS]);
            live[k++] = b;
        }
        n_live = k;
    }
    return nv;
}

static uint32_t channel_graph(const fw_engine *e, fw_rank_ctx *c, rec_ctx *rx, uint32_t cell, uint32_t u,
                              int32_t tick, uint32_t quota, uint32_t *n, uint64_t *steps)
{
    const fw_rec *r = R_of(e);
    const rec_learn *L = L_of(r, e, cell, u);
    uint32_t tot = r->hist_total[u], have = hist_have(e, r, u);
    if (have == 0 || quota == 0)
        return 0;
    uint32_t walks = fw_cfg(e, cell)->rec.walks, nv = 0;
    /* The walks advance a batch at a time, a step of every walk in turn, so that their
     * cache misses overlap: each walk's picks are keyed by (user, tick, walk, step), so it
     * visits what it visits alone; only the order of rx->walk differs, which the sort below
     * undoes. walk_cap >= 3 walks >= 2 walks: every visit fits. */
    for (uint32_t w0 = 0; w0 < walks && nv + 2 <= rx->walk_cap; w0 += FW_REC_WALK_BATCH) {
        uint32_t nb = fw_min_u32(FW_REC_WALK_BATCH, walks - w0);
        if (nv + 2 * nb > rx->walk_cap)   /* cannot happen (see above); stay in bounds */
            nb = (rx->walk_cap - nv) / 2;
        nv = walk_batch(e, r, L, rx, u, tick, w0, nb, tot, have, nv, steps);
    }
    /* Most visited first (ties: lower id); walk ids sorted, so runs are visit counts. Up to
     * 64 visits (the default walks make at most 32) an insertion sort, cheaper than qsort's
     * calls; the same order (ids are totally ordered). */
    if (nv > 64)
        qsort(rx->walk, nv, sizeof *rx->walk, cmp_u32);
    for (uint32_t i = 1; i < nv && nv <= 64; i++) {
        uint32_t x = rx->walk[i], j = i;
        for (; j > 0 && rx->walk[j - 1] > x; j--)
            rx->walk[j] = rx->walk[j - 1];
        rx->walk[j] = x;
    }
    /* The runs into c->order by count, ids ascending within a count: up to 64 visits by a
     * stable insertion (runs come in id order), cheaper than the heap's offers and pops; the
     * same order. */
    uint32_t m = 0;
    for (uint32_t i = 0; i < nv;) {
        uint32_t j = i, id = rx->walk[i];
        while (j < nv && rx->walk[j] == id)
            j++;
        double cnt = (double)(j - i);
        i = j;
        if (nv > 64) {
            fw_topk_offer(c->order, c->order_score, &m, nv, id, cnt);
            continue;
        }
        uint32_t at = m++;
        for (; at > 0 && c->order_score[at - 1] < cnt; at--) {
            c->order[at] = c->order[at - 1];
            c->order_score[at] = c->order_score[at - 1];
        }
        c->order[at] = id;
        c->order_score[at] = cnt;
    }
    if (nv > 64)
        fw_topk_sort(c->order, c->order_score, m);
    uint32_t taken;
    return add_run(e, c, rx, cell, u, c->order, m, quota, n, &taken);
}

static uint32_t channel_fresh(const fw_engine *e, fw_rank_ctx *c, rec_ctx *rx, uint32_t cell, uint32_t u, uint32_t quota,
                              uint32_t *n, uint64_t *looked)
{
    const fw_engine_cfg *cf = fw_cfg(e, cell);
    fw_ring fresh = fw_pools_fresh(e);
    uint32_t have = fw_min_u32(fw_ring_have(&fresh), cf->feed.n_fresh);
    uint32_t cold = cf->rec.cold_impressions, added = 0, p = 0, buf[RECALL_CHUNK], pos[RECALL_CHUNK];
    while (p < have && added < quota) {   /* the cold ones of a chunk of the ring at a time */
        uint32_t m = 0, got;
        for (; p < have && m < RECALL_CHUNK; p++) {
            uint32_t id = fw_ring_newest(&fresh, p);
            if (e->counts[(size_t)id * FW_EV__COUNT + FW_EV_IMPRESSION] < cold) {
                buf[m] = id;
                pos[m++] = p;
            }
        }
        added += add_run(e, c, rx, cell, u, buf, m, quota - added, n, &got);
        if (added >= quota && got > 0)   /* looked at up to the one that filled the quota */
            p = pos[got - 1] + 1;
        if (rx->look_left == 0)   /* the request's budget is spent (recall_begin) */
            break;
    }
    *looked += p;
    return added;
}

/* ---- ranking one request's candidates ------------------------------------------------ */

/* What ranking one request reads for every candidate (rank_req_setup completes it). */
typedef struct rank_req {
    const fw_engine *e;
    const rec_learn *L;
    const fw_cell *cl;
    const fw_rec_cfg *rc;
    const rec_ctx *rx;
    const float *pu;
    const double *ut, *uf, *shop_t;
    const uint8_t *aigc_flags;   /* issue 20: flagged, undeclared notes down-ranked (aigc_int.h) */
    double aigc_mult;
    double wt[FW_TASK__COUNT], base[FW_TASK__COUNT];
    double wz[FW_RF__COUNT][FW_TASK__COUNT];   /* L->w transposed: a feature's weight in every head */
    uint32_t heads;              /* bit k: head k is evaluated (k = OPEN, or its rank_* weight is not 0) */
    uint32_t cell, u, D, stamp;
    int32_t tick;
    int lazy;                    /* engine.rec.scoring lazy, and the bound of cand_bound holds: the heads may be skipped */
} rank_req;

static void rank_req_setup(rank_req *q, double x_user)
{
    q->heads = 1u << FW_TASK_OPEN;
    for (int k = 0; k < FW_TASK__COUNT; k++) {
        q->base[k] = q->L->w[k][FW_RF_BIAS] + q->L->w[k][FW_RF_USER_CTR] * x_user;
        for (int f = 0; f < FW_RF__COUNT; f++)
            q->wz[f][k] = q->L->w[k][f];
        q->heads |= (uint32_t)(q->wt[k] != 0.0) << k;
    }
    q->aigc_flags = fw_aigc_downrank_flags(q->e, q->cell, &q->aigc_mult);
    q->lazy = q->rc->scoring == FW_SCORING_LAZY && 1.0 + q->rc->fresh_boost >= 0.0 && q->aigc_mult >= 0.0;
    for (int k = 0; k < FW_TASK__COUNT; k++)
        q->lazy &= q->wt[k] >= 0.0;
}

/* The serving sigmoid: a float exponential (the models' inputs are far coarser than float). */
static inline double sigmoidf_rank(double z)
{
    return 1.0 / (1.0 + (double)expf((float)-z));
}

/* The candidate's features and every head's logit (p(open): rank_prepare's second loop).
 * Inlined in the ranking loop. */
__attribute__((always_inline)) static inline void cand_open(const rank_req *q, uint32_t id, cand_eval *ce)
{
    const fw_engine *e = q->e;
    const rec_nblk *ni = &q->L->blk[id];   /* the note's metadata and features: one line */
    const float *row = ni->row;
    double emb = q->ut[ni->topic] + q->uf[ni->format] + dotf(q->pu, q->L->note_vec + (size_t)id * q->D, q->D);
    int followed = cset_has(e, q->rx, q->stamp, q->u, ni->creator);
    double age = (double)(q->tick - ni->created_tick) / e->ticks_per_day;
    if (age < 0.0)
        age = 0.0;
    age = age / (1.0 + age);
    ce->id = id;
    ce->mask = q->heads & ~((uint32_t)followed << FW_TASK_FOLLOW);   /* no follow head for a followed creator */
    /* Every head's logit, the heads side by side (lanes of one vector: each head's sum in
     * the same order as on its own, so the same bits); those not in the mask are not read. */
    double ctr = row[FW_NF_CTR], cr = row[FW_NF_CREATOR_CTR], shop = q->shop_t[ni->topic];
#pragma omp simd
    for (int k = 0; k < FW_TASK__COUNT; k++)
        ce->z[k] = q->base[k] + q->wz[FW_RF_EMB][k] * emb + q->wz[FW_RF_NOTE_CTR][k] * ctr +
                   q->wz[FW_RF_NOTE_TASK][k] * row[FW_NF_TASK + k] + q->wz[FW_RF_CREATOR_CTR][k] * cr +
                   q->wz[FW_RF_FOLLOWED][k] * followed + q->wz[FW_RF_AGE][k] * age + q->wz[FW_RF_SHOP][k] * shop;
    ce->fresh = (double)(q->tick - ni->created_tick) < q->cl->fresh_age_ticks;
    ce->safety_w = fw_safety_w(e, q->cell, q->u, id);
}

/* The score's scaling: the freshness bonus, moderation's down-rank, the AIGC down-rank. */
static inline double cand_scale(const rank_req *q, const cand_eval *ce, double s)
{
    if (ce->fresh)
        s *= 1.0 + q->rc->fresh_boost;
    s = fw_safety_scale(s, ce->safety_w);   /* moderation's down-rank */
    return fw_aigc_score(q->aigc_flags, q->aigc_mult, ce->id, s);
}

/* The exact score: sum of rank_* weights times the unconditional probabilities. */
static inline double cand_full(const rank_req *q, const cand_eval *ce)
{
    double s = q->wt[FW_TASK_OPEN] * ce->p_open;
    for (int k = FW_TASK_OPEN + 1; k < FW_TASK__COUNT; k++)
        if (ce->mask >> k & 1)
            s += q->wt[k] * ce->p_open * sigmoidf_rank(ce->z[k]);
    return cand_scale(q, ce, s);
}

/* An upper bound of cand_full's result as the machine rounds it, without the per-open heads'
 * exponentials and divisions; +inf when none is known. Why it holds (q->lazy: every rank_*
 * weight, 1 + fresh_boost and the AIGC multiplier >= 0):
 *  - each head's q = 1 / (1 + expf(-z)) is at most rx->qtab[j] for j / S <= -z (S =
 *    FW_REC_QSTEP, a power of two: nz * S is exact, so j = (int)(nz * S) is its floor): the
 *    float argument of expf rounds to >= j / S (a float), expf is faithful (glibc: < 1 ulp),
 *    so expf >= 0.999 e^(j/S), and 1 + x and 1 / x round monotonically, as qtab[j] was computed;
 *  - the bound repeats cand_full's operations in the same order with qtab[j] (or 1) in place
 *    of q, on nonnegative operands (weights >= 0, p_open in [0, 1]): IEEE rounding is
 *    monotone, so every partial sum, then the scaling by nonnegative factors, stays >= the
 *    exact one. A negative safety weight (none today) gives +inf and a NaN logit NaN: never
 *    skipped (every NaN score is exact), and a finite bound is a finite score's. */
static inline double cand_bound(const rank_req *q, const cand_eval *ce)
{
    if (!(ce->safety_w >= 0.0))
        return INFINITY;
    double s = q->wt[FW_TASK_OPEN] * ce->p_open;
    for (int k = FW_TASK_OPEN + 1; k < FW_TASK__COUNT; k++) {
        if (!(ce->mask >> k & 1))
            continue;
        double nz = -ce->z[k], qb = 1.0;
        if (nz != nz)
            return NAN;
        if (nz >= 0.0)
            qb = q->rx->qtab[nz >= (double)(FW_REC_QTAB - 1) / FW_REC_QSTEP ? FW_REC_QTAB - 1
                                                                            : (int)(nz * FW_REC_QSTEP)];
        s += q->wt[k] * ce->p_open * qb;
    }
    return cand_scale(q, ce, s);
}

/* Scores exactly every candidate that has only a bound (exact[i] == 0), from its first
 * pass (ce[i]): the same computation, so the same bits as in the ranking loop. */
static void rank_finish(const rank_req *q, const cand_eval *ce, double *score, uint8_t *exact, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!exact[i]) {
            score[i] = cand_full(q, &ce[i]);
            exact[i] = 1;
        }
}

/* The re-rank's selection (capsel.h), scoring an entry exactly by cand_full of its first
 * pass: expanded here, inlined as when it lived in this file. */
#define CAP_SCORE(l, i) cand_full((const rank_req *)(l)->ctx, (const cand_eval *)(l)->item + (i))
#include "capsel.h"

/* The ranking's first pass: every candidate's features, logits and p(open) into rx->ce, its
 * creator and topic (for the re-rank), and an upper bound of its score (cand_bound) into
 * c->cand_score. Returns a threshold no candidate below which can be among the k_win best:
 * the k_win-th largest lower bound wt_open p(open) (scaled: the other heads only add
 * nonnegative terms, and rounding is monotone), so k_win candidates score at least it;
 * -inf when that is not known (no laziness, a NaN, fewer than k_win candidates). */
static double rank_prepare(const rank_req *q, fw_rank_ctx *c, rec_ctx *rx, uint32_t n, uint32_t k_win)
{
    const rec_learn *L = q->L;
    enum { AHEAD = 8 };
    int known = q->lazy && k_win > 0 && n > k_win;
    for (uint32_t i = 0; i < n; i++) {
        if (i + AHEAD < n) {   /* the block: one line; the residual: one unless dim > 16 */
            uint32_t ahead = c->cand[i + AHEAD];
            __builtin_prefetch(&L->blk[ahead]);
            __builtin_prefetch(L->note_vec + (size_t)ahead * q->D);
            __builtin_prefetch(L->note_vec + (size_t)ahead * q->D + q->D - 1);
        }
        uint32_t id = c->cand[i];
        cand_eval *ce = &rx->ce[i];
        const rec_nblk *b = &L->blk[id];   /* b->imp is e->counts' impressions (rec_nblk) */
        ce->cold = b->imp < q->rc->cold_impressions;
        rx->cand_creator[i] = b->creator;
        rx->cand_topic[i] = b->topic;
        cand_open(q, id, ce);
    }
    /* p(open) of every candidate in a loop of its own: the exponentials and divisions of
     * different candidates overlap there, where in the gathering loop each waited on its
     * candidate's reads. The same operations on the same logits: the same bits. */
    for (uint32_t i = 0; i < n; i++)
        rx->ce[i].p_open = sigmoidf_rank(rx->ce[i].z[FW_TASK_OPEN]);
    for (uint32_t i = 0; i < n; i++) {
        cand_eval *ce = &rx->ce[i];
        c->cand_score[i] = q->lazy ? cand_bound(q, ce) : INFINITY;
        rx->lb[i] = ce->safety_w >= 0.0 ? cand_scale(q, ce, q->wt[FW_TASK_OPEN] * ce->p_open) : -INFINITY;
        known &= c->cand_score[i] == c->cand_score[i] && rx->lb[i] == rx->lb[i];
    }
    return known ? fw_kth_largest(rx->lb, rx->sel, n, k_win) : -INFINITY;
}

static uint32_t rec_request(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_feed_req *req,
                            uint32_t *out, uint32_t cap, int64_t t_start)
{
    fw_rec *r = state;
    fw_rank_ctx *c = &ctx->rank;
    rec_ctx *rx = ctx->mod[FW_MOD_REC];
    uint32_t cell = req->arm;
    const fw_cell *cl = &e->cell[cell];
    const fw_rec_cfg *rc = &cl->cfg.rec;
    const fw_feed_cfg *f = &cl->cfg.feed;
    const rec_learn *L = L_of(r, e, cell, req->user);   /* the user's learned state */
    uint32_t u = req->user, D = L->dim, T = e->n_topics;
    fw_rank_set_clear(c);   /* its stamp stamps the request's sets */
    recall_begin(e, rx, cell, u);
    r->user_arm[u] = (uint8_t)cell;   /* the user's own state */

    /* The user's vector against every topic and format: the content part of each note's
     * embedding score, shared by all candidates. */
    const float *pu = r->user_vec + (size_t)u * r->ustride;
    double ut[1024], uf[2];
    for (uint32_t t = 0; t < T; t++)
        ut[t] = dotf(pu, L->topic_vec + (size_t)t * D, D);
    for (uint32_t k = 0; k < 2; k++)
        uf[k] = dotf(pu, L->format_vec + (size_t)k * D, D);
    /* The purchase side of a unified profile, per topic (zero under a separate one). */
    double shop_t[1024];
    memset(shop_t, 0, (size_t)T * sizeof *shop_t);
    if (cl->cfg.shop.profile == FW_PROFILE_UNIFIED)
        fw_shop_tx_shares(e, u, shop_t);

    uint32_t n = 0;
    uint64_t looked = 0, steps = 0;
    int64_t t0 = fw_now_ns(), t1;
#define CHANNEL(stage, counter, call)                                \
    do {                                                             \
        ctx->work[FW_WORK_##counter] += (call);                      \
        t1 = fw_now_ns();                                            \
        fw_hist_record(&ctx->lat[FW_STAGE_##stage], t1 - t0);        \
        t0 = t1;                                                     \
    } while (0)
    if (rc->social)
        CHANNEL(RECALL_SOCIAL, REC_SOCIAL, channel_social(e, c, rx, cell, u, rc->social, &n, &looked));
    if (rc->hot)
        CHANNEL(RECALL_HOT, REC_HOT, channel_hot(e, c, rx, cell, u, rc->hot, &n, &looked));
    if (rc->content)
        CHANNEL(RECALL_CONTENT, REC_CONTENT, channel_content(e, c, rx, cell, u, ut, rc->content, &n, &looked));
    if (rc->cf)
        CHANNEL(RECALL_CF, REC_CF, channel_cf(e, c, rx, cell, u, rc->cf, &n, &looked));
    if (rc->graph)
        CHANNEL(RECALL_GRAPH, REC_GRAPH, channel_graph(e, c, rx, cell, u, req->tick, rc->graph, &n, &steps));
    if (rc->fresh)
        CHANNEL(RECALL_FRESH, REC_FRESH, channel_fresh(e, c, rx, cell, u, rc->fresh, &n, &looked));
#undef CHANNEL
    c->n_cand = n;
    fw_plant_wait(e, FW_STAGE_FEED_RECALL);
    int64_t t_recall = fw_now_ns();

    /* Rank. The features of fw_rec_log's training: the note's from its cached row, the
     * user's folded into a constant per task; a float sigmoid (the models' inputs are far
     * coarser than float). The per-open heads only where they can change the page (rank_lazy). */
    cset_build(e, rx, c->stamp, u);
    priors p = get_priors(L);
    double x_user = lift(r->user_counts[2 * (size_t)u + 1], r->user_counts[2 * (size_t)u], p.ctr);
    rank_req q = {.e = e, .L = L, .cl = cl, .rc = rc, .rx = rx, .pu = pu, .ut = ut, .uf = uf,
                  .shop_t = shop_t, .cell = cell, .u = u, .D = D, .stamp = c->stamp, .tick = req->tick,
                  .wt = {rc->rank_open, rc->rank_like, rc->rank_save, rc->rank_comment, rc->rank_follow}};
    rank_req_setup(&q, x_user);
    uint32_t page = fw_feed_organic_slots(f, cap);   /* places left after the ad slots */
    if (page > 128)
        page = 128;
    /* Enough ranked candidates for the caps to bite; the cold ones kept apart for
     * exploration. */
    uint32_t n_cold_h = 0, k_win = 8 * page;
    uint32_t k_cold = rc->explore_slots < 128 ? rc->explore_slots : 128;
    uint32_t cold_id[128];
    double cold_s[128];
    const uint32_t cold = rc->cold_impressions;
    double top = rank_prepare(&q, c, rx, n, k_win);
    /* Exact scores here only where a bound is not finite (a NaN, or no bound: its score may be
     * NaN, which the re-rank must know of) and for the cold heap (its k_cold best by score,
     * offered in recall order); the re-rank scores those of the rest that can be picked. Not
     * lazy, every bound is +inf: every candidate is scored here. */
    int any_nan = 0;
    for (uint32_t i = 0; i < n; i++) {
        const cand_eval *ce = &rx->ce[i];
        double s = c->cand_score[i];
        int to_cold = ce->cold && k_cold > 0 && (n_cold_h < k_cold || !(s < cold_s[0]));
        rx->exact[i] = 0;
        if (!to_cold && isfinite(s))
            continue;
        s = cand_full(&q, ce);
        c->cand_score[i] = s;
        rx->exact[i] = 1;
        any_nan |= s != s;
        if (ce->cold)
            fw_topk_offer(cold_id, cold_s, &n_cold_h, k_cold, ce->id, s);
    }
    fw_topk_sort(cold_id, cold_s, n_cold_h);
    fw_plant_wait(e, FW_STAGE_FEED_RANK);
    int64_t t_rank = fw_now_ns();

    /* Re-rank (capsel.h): greedy under the caps, the plain scan of all (cap_select_plain)
     * when every score is exact; lazily (cap_select_capped) first on the window of the
     * candidates whose bound reaches top (the k_win best by score are all there), then, when
     * the caps leave the page short -- the best candidates crowd into the user's favourite
     * topics -- on every candidate, then relaxed. The same picks either way (issue 22;
     * test_capsel, test_rec test_lazy_equals_exhaustive, e2e_rec_scoring). Then the best cold
     * candidates replace the lowest-ranked warm notes until explore_slots are cold. */
    fw_cap_page pg;
    pg.n = 0;
    fw_cap_list all = {.id = c->cand, .creator = rx->cand_creator, .topic = rx->cand_topic, .sc = c->cand_score,
                       .m = n, .open = rx->open, .ctx = any_nan || !q.lazy ? NULL : &q, .item = rx->ce,
                       .exact = rx->exact};   /* bounds or exact; the plain scan when not lazy */
    if (any_nan)   /* the scan without bounds */
        rank_finish(&q, rx->ce, c->cand_score, rx->exact, n);
    if (!all.ctx) {
        cap_select_plain(rc, &all, &pg, page, 0);
        if (pg.n < page)
            cap_select_plain(rc, &all, &pg, page, 1);
    } else {
        if (top > -INFINITY)
            cap_select_capped(rc, &all, &pg, page, 0, top);
        if (pg.n < page)
            cap_select_capped(rc, &all, &pg, page, 0, -INFINITY);
        if (pg.n < page)
            cap_select_capped(rc, &all, &pg, page, 1, -INFINITY);
    }
    uint32_t *org = pg.id, n_org = pg.n;
    uint64_t n_exact = 0;   /* each scored once: exact[i] is set where cand_full ran */
    for (uint32_t i = 0; i < n; i++) {   /* the candidates left bounded were not scored */
        n_exact += rx->exact[i] != 0;
        if (!rx->exact[i])
            c->cand_score[i] = NAN;
    }
    ctx->work[FW_WORK_REC_EXACT] += n_exact;
    c->scored_id = c->cand;   /* every candidate's score (NaN: only bounded), in recall order */
    c->scored = c->cand_score;
    c->n_scored = n;
    uint32_t n_cold = 0;
    for (uint32_t k = 0; k < n_org; k++)
        n_cold += L->blk[org[k]].imp < cold;   /* e->counts' impressions (rec_nblk) */
    uint32_t slot = n_org;
    for (uint32_t i = 0; i < n_cold_h && n_cold < rc->explore_slots; i++) {
        int on_page = 0;
        for (uint32_t k = 0; k < n_org; k++)
            on_page |= org[k] == cold_id[i];
        if (on_page)
            continue;
        /* Replace the lowest-ranked warm note still on the page. */
        while (slot > 0 && L->blk[org[slot - 1]].imp < cold)
            slot--;
        if (slot == 0)
            break;
        org[--slot] = cold_id[i];
        n_cold++;
    }
    uint32_t len = fw_feed_place_slots(f, org, n_org, out, cap);
    len = fw_seen_add_page(e, cell, u, out, len);   /* served whole or not at all */
    fw_feed_count(ctx, looked + steps, n, out, len);
    ctx->work[FW_WORK_WALK_STEPS] += steps;
    int64_t t_end = fw_now_ns();
    fw_hist_record(&ctx->lat[FW_STAGE_FEED_RECALL], t_recall - t_start);
    fw_hist_record(&ctx->lat[FW_STAGE_FEED_RANK], t_rank - t_recall);
    fw_hist_record(&ctx->lat[FW_STAGE_FEED_RERANK], t_end - t_rank);
    fw_hist_record(&ctx->lat[FW_STAGE_FEED], t_end - t_start);
    return len;
}

/* ---- accessors ------------------------------------------------------------------------ */

int fw_engine_has_rec(const fw_engine *e)
{
    return R_of(e) != NULL;
}

fw_model_stats fw_engine_model_stats(const fw_engine *e, fw_rec_task task)
{
    /* Sums, so the learners' days pool (one learner: its own). */
    fw_model_stats s = {0};
    const fw_rec *r = R_of(e);
    for (uint32_t l = 0; r && (unsigned)task < FW_TASK__COUNT && l < r->n_learn; l++) {
        const fw_model_stats *x = &r->learn[l].last[task];
        s.samples += x->samples;
        s.log_loss += x->log_loss;
        s.weight += x->weight;
        s.predicted += x->predicted;
        s.observed += x->observed;
    }
    return s;
}

double fw_rec_ctr_prior(const fw_engine *e, uint32_t cell, uint32_t u, double otherwise)
{
    const fw_rec *r = R_of(e);
    if (!r || !fw_engine_cfg_learns(fw_cfg(e, cell)))
        return otherwise;
    const rec_learn *L = L_of(r, e, cell, u);
    return (L->total[FW_EV_OPEN] + 1.0) / (L->total[FW_EV_IMPRESSION] + 12.0);
}

int fw_rec_user_topic(const fw_engine *e, uint32_t cell, uint32_t u, uint32_t t, double *dot)
{
    const fw_rec *r = R_of(e);
    if (!r || t >= e->n_topics || !fw_engine_cfg_learns(fw_cfg(e, cell)))
        return 0;
    const rec_learn *L = L_of(r, e, cell, u);
    const float *pu = r->user_vec + (size_t)u * r->ustride, *pt = L->topic_vec + (size_t)t * L->dim;
    double d = 0.0;
    for (uint32_t k = 0; k < L->dim; k++)
        d += (double)pu[k] * pt[k];
    *dot = d;
    return 1;
}

/* Copies n rows of embeddings of length d0 (from) into rows of length d (to): the first
 * min(d, d0) coordinates, the rest at their initial values (init_value(key, row, k) when key
 * is not 0, else 0). */
static void copy_rows(float *to, uint32_t d, const float *from, uint32_t d0, size_t n, uint32_t key)
{
    if (d == d0) {
        memcpy(to, from, n * d * sizeof *to);
        return;
    }
    uint32_t m = d < d0 ? d : d0;
    for (size_t i = 0; i < n; i++) {
        memcpy(to + i * d, from + i * d0, m * sizeof *to);
        for (uint32_t k = m; k < d; k++)
            to[i * d + k] = key ? init_value(key, (uint32_t)i, k) : 0.0f;
    }
}

/* Users were placed in cells: under per-arm isolation every learner starts as a copy of
 * learner 0 (the pre-period's models), keeping its own cell's training knobs. A learner of
 * another dim keeps the first min(dim, learner 0's) coordinates of every embedding and starts
 * the others where a new model would (its users' vectors hold the stride's coordinates
 * already: the ones learner 0 did not train are still at their initial values). */
static fw_err rec_fork(fw_engine *e, void *state)
{
    fw_rec *r = state;
    const rec_learn *L0 = &r->learn[0];
    size_t T = e->n_topics ? e->n_topics : 1, N = e->cap_notes, U = e->n_users;
    for (uint32_t l = 1; l < r->n_learn; l++) {
        rec_learn *L = &r->learn[l];
        size_t n_nb = L0->nb_off[L0->nb_notes];
        uint32_t *off = malloc(((size_t)L0->nb_notes + 1) * sizeof *off), *nb = malloc((n_nb ? n_nb : 1) * sizeof *nb);
        if (!off || !nb) {
            free(off);
            free(nb);
            return FW_ERR_NOMEM;
        }
        memcpy(off, L0->nb_off, ((size_t)L0->nb_notes + 1) * sizeof *off);
        memcpy(nb, L0->nb, n_nb * sizeof *nb);
        free(L->nb_off);
        free(L->nb);
        L->nb_off = off;
        L->nb = nb;
        L->nb_notes = L0->nb_notes;
        /* Learner 0 keeps as many neighbours as its own cells read; l reads at most its own. */
        copy_rows(L->topic_vec, L->dim, L0->topic_vec, L0->dim, T, 2);
        copy_rows(L->format_vec, L->dim, L0->format_vec, L0->dim, 2, 0);
        copy_rows(L->note_vec, L->dim, L0->note_vec, L0->dim, N, 0);
        memcpy(L->creator_counts, L0->creator_counts, 2 * U * sizeof *L->creator_counts);
        memcpy(L->openers, L0->openers, N * FW_REC_OPENERS * sizeof *L->openers);
        memcpy(L->openers_total, L0->openers_total, N * sizeof *L->openers_total);
        if (r->retain)
            memcpy(L->openers_day, L0->openers_day, N * FW_REC_OPENERS * sizeof *L->openers_day);
        memcpy(L->blk, L0->blk, N * sizeof *L->blk);
        L->mf_bias = L0->mf_bias;
        memcpy(L->w, L0->w, sizeof L->w);
        memcpy(L->total, L0->total, sizeof L->total);
        memset(L->stats, 0, sizeof L->stats);   /* its own progressive validation from now on */
        memset(L->last, 0, sizeof L->last);
    }
    return FW_OK;
}

/* Bytes of the learners beyond the first (the notes as allocated now). */
static size_t rec_cell_bytes(const fw_engine *e, const void *state)
{
    const fw_rec *r = state;
    size_t T = e->n_topics ? e->n_topics : 1, N = e->cap_notes, sum = 0;
    for (uint32_t l = 1; l < r->n_learn; l++) {
        const rec_learn *L = &r->learn[l];
        size_t D = L->dim;
        sum += sizeof *L + (T + 2 + N) * D * sizeof(float) + 2 * (size_t)e->n_users * sizeof(uint32_t) +
               N * (FW_REC_OPENERS + 1) * sizeof(uint32_t) + N * sizeof(rec_nblk) +
               ((size_t)L->nb_notes + 1 + L->nb_off[L->nb_notes]) * sizeof(uint32_t);
    }
    return sum;
}

/* ---- state snapshots (issue 21) ------------------------------------------------------ */

/* The bound of a note id read from a snapshot: n_notes, or 1 before the first note, when the
 * rings of opens and the pools still hold their initial zeros (never read as notes: nothing
 * was opened; and every per-note array has a row 0, fw_resize's minimum). */
static uint32_t snap_note_bound(const fw_engine *e)
{
    return fw_max_u32(e->n_notes, 1);
}

/* Learner l's share of rec_snap. Per-note arrays move their first n_notes rows: the rows after
 * are zero on both sides (nothing writes a note's rows before it is published). */
static void snap_learner(fw_engine *e, const fw_rec *r, uint32_t l, fw_snap *s)
{
    rec_learn *L = &r->learn[l];
    size_t T = e->n_topics ? e->n_topics : 1, N = e->n_notes, D = L->dim;
    fw_snap_same_u32(s, L->dim, "a learner's embedding dim");
    fw_snap_array(s, L->topic_vec, T * D, sizeof *L->topic_vec);
    fw_snap_array(s, L->format_vec, 2 * D, sizeof *L->format_vec);
    fw_snap_array(s, L->note_vec, N * D, sizeof *L->note_vec);
    fw_snap_f64(s, &L->mf_bias);
    fw_snap_array(s, L->w, (size_t)FW_TASK__COUNT * FW_RF__COUNT, sizeof L->w[0][0]);
    fw_snap_array(s, L->total, FW_EV__COUNT, sizeof *L->total);
    fw_snap_array(s, L->creator_counts, 2 * (size_t)e->n_users, sizeof *L->creator_counts);
    fw_snap_indexes(s, L->openers, N * FW_REC_OPENERS, e->n_users, e->n_users);
    fw_snap_array(s, L->openers_total, N, sizeof *L->openers_total);
    if (r->retain)
        fw_snap_array(s, L->openers_day, N * FW_REC_OPENERS, sizeof *L->openers_day);
    fw_snap_array(s, L->stats, FW_TASK__COUNT, sizeof *L->stats);
    fw_snap_array(s, L->last, FW_TASK__COUNT, sizeof *L->last);
    fw_snap_array(s, L->blk, N, sizeof *L->blk);
    /* The neighbours' CSR. Loading, the counts are the arrays' sizes as allocated (what
     * fw_snap_vec grows from), taken before nb_off is overwritten. */
    size_t n_off = (size_t)L->nb_notes + 1, n_nb = L->nb_off[L->nb_notes];
    fw_snap_vec(s, (void **)&L->nb_off, &n_off, NULL, sizeof *L->nb_off, N + 1);
    if (fw_snap_loading(s) && !fw_snap_failed(s)) {
        if (n_off == 0 || L->nb_off[0] != 0) {
            fw_snap_fail(s, "learner %u's neighbour offsets do not start at 0", l);
            return;
        }
        for (size_t a = 1; a < n_off; a++)
            if (L->nb_off[a] < L->nb_off[a - 1]) {
                fw_snap_fail(s, "learner %u's neighbour offsets decrease at note %zu", l, a);
                return;
            }
        L->nb_notes = (uint32_t)(n_off - 1);
    }
    fw_snap_vec(s, (void **)&L->nb, &n_nb, NULL, sizeof *L->nb, L->nb_off[L->nb_notes]);
    if (!fw_snap_loading(s) || fw_snap_failed(s))
        return;
    if (n_nb != L->nb_off[L->nb_notes]) {
        fw_snap_fail(s, "learner %u has %zu neighbours, its offsets say %u", l, n_nb, L->nb_off[L->nb_notes]);
        return;
    }
    for (size_t i = 0; i < n_nb; i++)
        if (L->nb[i] >= e->n_notes) {
            fw_snap_fail(s, "learner %u's neighbour %zu is note %u, of %u", l, i, L->nb[i], e->n_notes);
            return;
        }
    /* A block's metadata copies its note's and its impressions (rec_nblk); the ranking
     * indexes per-topic and per-format arrays with them. */
    for (uint32_t n = 0; n < N; n++) {
        const rec_nblk *b = &L->blk[n];
        const fw_note_info *ni = &e->notes[n];
        if (b->creator != ni->creator || b->topic != ni->topic || b->format != ni->format ||
            b->created_tick != ni->created_tick || b->imp != e->counts[(size_t)n * FW_EV__COUNT + FW_EV_IMPRESSION] ||
            b->topic >= e->n_topics || b->format > FW_FORMAT_VIDEO) {
            fw_snap_fail(s, "learner %u's block of note %u is not the note's", l, n);
            return;
        }
    }
}

/* Everything a day changes that a later day reads: every learner (models, embeddings,
 * totals, creator counts, openers, note blocks, neighbours; no optimiser state beyond the
 * weights: plain SGD), the users' vectors, counts, latest cells and recent opens, the topics'
 * recent notes, the day counters and each recommender cell's topic pools. Not transferred:
 *  - what create fixes from the configuration: n_learn, ustride, hist_cap, retain (checked
 *    equal: the arrays' sizes follow them), each learner's cfg, dim (checked) and nb_k,
 *    any_tick, every array's size but the neighbours';
 *  - a tick's scratch, empty or rewritten before it is read: nf_touched (emptied at each
 *    tick's end), nf_mark and nf_epoch (a mark lists a note only while it equals nf_epoch + 1,
 *    which none does between ticks: a fresh state's zeros mean the same), pri, grp, the tk_*
 *    arrays (tk_ucnt and tk_ncnt are zero between ticks), each cell's tpool_prev,
 *    tpool_prev_n and tpool_score (refresh_topic_pools rewrites them before reading);
 *  - a day's scratch: day_users (emptied at each day's end) and day_mark (a mark lists a user
 *    only while it equals day_seq + 1, which none does between days). */
static void rec_snap(fw_engine *e, void *state, fw_snap *s)
{
    fw_rec *r = state;
    size_t U = e->n_users, T = e->n_topics ? e->n_topics : 1;
    uint32_t nb = snap_note_bound(e);
    fw_snap_same_u32(s, r->n_learn, "the recommender's learners");
    fw_snap_same_u32(s, r->ustride, "the longest embedding dim");
    fw_snap_same_u32(s, r->hist_cap, "the recent opens kept per user");
    fw_snap_same_u32(s, (uint32_t)r->retain, "whether a retention window is set");
    for (uint32_t l = 0; l < r->n_learn; l++)
        snap_learner(e, r, l, s);
    fw_snap_array(s, r->user_vec, U * r->ustride, sizeof *r->user_vec);
    fw_snap_array(s, r->user_counts, 2 * U, sizeof *r->user_counts);
    fw_snap_array(s, r->user_arm, U, sizeof *r->user_arm);
    fw_snap_indexes(s, r->hist, U * r->hist_cap, nb, nb);
    fw_snap_array(s, r->hist_total, U, sizeof *r->hist_total);
    if (r->retain)
        fw_snap_array(s, r->hist_day, U * r->hist_cap, sizeof *r->hist_day);
    fw_snap_indexes(s, r->topic_recent, T * FW_REC_TOPIC_RECENT, nb, nb);
    fw_snap_array(s, r->topic_total, T, sizeof *r->topic_total);
    fw_snap_u32(s, &r->day_seq);
    fw_snap_u32(s, &r->day);
    for (uint32_t a = 0; a < e->n_arms; a++) {
        rec_cell *rc = &r->cell[a];
        if (!rc->tpool)
            continue;
        uint32_t K = fw_cfg(e, a)->rec.topic_pool;
        fw_snap_indexes(s, rc->tpool_n, T, K + 1, K + 1);
        fw_snap_indexes(s, rc->tpool, T * K, nb, nb);
    }
    if (!fw_snap_loading(s) || fw_snap_failed(s))
        return;
    for (uint32_t u = 0; u < e->n_users; u++)   /* the SHOP feature reads the cell's settings */
        if (r->user_arm[u] >= e->n_arms) {
            fw_snap_fail(s, "user %u's latest cell is %u, of %u", u, r->user_arm[u], e->n_arms);
            return;
        }
}

const fw_engine_module fw_rec_module = {
    .name = "rec",
    .wanted = rec_wanted,
    .state_size = sizeof(fw_rec),
    .create = rec_create,
    .ctx_create = rec_ctx_create,
    .ctx_destroy = rec_ctx_destroy,
    .check_note = rec_check_note,
    .grow_notes = rec_grow_notes,
    .publish = rec_publish,
    .log = rec_log,
    .end_tick = rec_end_tick,
    .end_day = rec_end_day,
    .fork = rec_fork,
    .cell_bytes = rec_cell_bytes,
    .snap = rec_snap,
    .algorithm = FW_FEED_REC,
    .cand_need = rec_cand_need,
    .feed = rec_request,
};
