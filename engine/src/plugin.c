/* The ranker plug-in (engine.feed.algorithm: plugin; the ABI is flywheel/policy.h): the
 * baseline's recall, a researcher's ranker loaded with dlopen, and the engine's own checks of
 * what it answers.
 *
 * Invariants:
 *  - Instances follow the engine's learned states: under per-arm isolation one per learner
 *    (cell x learner group, fw_learner) of a cell with algorithm plugin, observing only its
 *    learner's users, so that groups of an arm learn independently as the statistics assume;
 *    under shared isolation one per such cell, observing everyone. Every other slot has none.
 *    The plug-in's code stays mapped until destroy, after every ctx.
 *  - A request writes only its user's rows (req_seq, the fault slots) and its ctx, as every
 *    feed request does; `faulted` is the one word several requests may write, atomically, and
 *    only to say "look at the fault slots". The barrier (end_tick) reports the fault of the
 *    lowest user id, so the message does not depend on the thread count either.
 *  - A faulty answer serves nothing (an empty page, nothing remembered as served) and fails
 *    the run at the tick's end; a plug-in's page is never trusted: every id must be one of
 *    the request's candidates (its id set from recall), once, and the length exact.
 *  - Randomness: each request's stream is keyed by (seed, cell, user, tick, the user's
 *    request count), all fixed by the simulation, never by the thread. */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "feed_int.h"
#include "flywheel/policy.h"
#include "plugin_int.h"
#include "pools.h"
#include "safety_int.h"
#include "rec_int.h"

typedef struct inst {
    void *dl;
    const fw_ranker_table *api;
    void *state;
    char *label;            /* "NAME (PATH)" for messages */
} inst;

enum fault_kind { FAULT_NONE = 0, FAULT_RC, FAULT_UNKNOWN, FAULT_DUP, FAULT_LENGTH, FAULT_SCORE };

typedef struct plugin_state {
    inst *in;               /* [n_inst] */
    uint32_t n_inst;        /* n_learn under per-arm isolation, else n_arms */
    uint32_t *req_seq;      /* [n_users] feed requests each user made: the streams' counter */
    uint8_t *fault;         /* [n_users] the first fault of the user's requests this tick */
    int32_t *fault_tick;    /* [n_users] */
    uint32_t *fault_a, *fault_b;   /* [n_users] what the message needs */
    atomic_uint faulted;
    fw_event *ev;           /* observe's batch scratch */
    fw_policy_cand *ev_cand;
    size_t cap_ev, cap_ev_cand;
    float *ev_uvec, *ev_nvec;   /* [n_ev * vec_dim] each, with engine.feed.plugin_vectors */
    size_t cap_ev_uvec, cap_ev_nvec;
    uint32_t *vec_dim;      /* [n_inst] each instance's vec_dim (0: none) */
    int32_t next_tick;      /* the tick after the last one ended (a batch with no events) */
} plugin_state;

typedef void (*ctx_fini_fn)(void *);

typedef struct plugin_ctx {
    uint32_t n;
    void **pctx;            /* [n] each instance's per-thread scratch */
    ctx_fini_fn *fini;      /* [n] and how to free it */
    fw_policy_cand *cand;   /* [cand_cap] */
    double *score;          /* [cand_cap] */
    float *cvec;            /* [cand_cap * the longest vec_dim] candidates' learned vectors */
    uint32_t page[FW_PAGE_SLOTS];
} plugin_ctx;

void fw_plugin_shown_path(char *buf, size_t cap, const char *path)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && k + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f)
            k += (size_t)snprintf(buf + k, cap - k, "\\x%02x", *p);
        else
            buf[k++] = (char)*p;
    }
    buf[k] = '\0';
}

fw_err fw_plugin_open(const char *path, const char *kind, const char *knob, const char *symbol, void **dl_out,
                      void **sym_out, char *why, size_t cap)
{
    char shown[512], local[4096];
    fw_plugin_shown_path(shown, sizeof shown, path ? path : "");
    if (!path || !*path) {
        snprintf(why, cap, "no %s plug-in named (%s is empty)", kind, knob);
        return FW_ERR_INVAL;
    }
    /* A bare name would make dlopen search the library path; the knob names a file. */
    const char *p = path;
    if (!strchr(path, '/')) {
        if ((size_t)snprintf(local, sizeof local, "./%s", path) >= sizeof local) {
            snprintf(why, cap, "%s: the path is too long", shown);
            return FW_ERR_IO;
        }
        p = local;
    }
    struct stat st;
    if (stat(p, &st) != 0) {
        snprintf(why, cap, "%s: cannot read the %s plug-in: %s", shown, kind, strerror(errno));
        return FW_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, cap, "%s: the %s plug-in is not a regular file", shown, kind);
        return FW_ERR_IO;
    }
    dlerror();
    void *dl = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *d = dlerror();
        snprintf(why, cap, "%s: cannot load the %s plug-in: %s", shown, kind, d ? d : "dlopen failed");
        return FW_ERR_IO;
    }
    dlerror();
    void *sym = dlsym(dl, symbol);
    if (!sym) {
        snprintf(why, cap,
                 "%s: the %s plug-in has no symbol %s (a plug-in exports %s, see flywheel/policy.h)",
                 shown, kind, symbol, symbol);
        dlclose(dl);
        return FW_ERR_NOTFOUND;
    }
    *dl_out = dl;
    *sym_out = sym;
    return FW_OK;
}

const char *fw_plugin_missing(int create, int destroy, int call, const char *call_name, int ctx_create,
                              int ctx_destroy)
{
    if (!create)
        return "create";
    if (!destroy)
        return "destroy";
    if (!call)
        return call_name;
    if (!ctx_create != !ctx_destroy)
        return ctx_create ? "ctx_destroy (it has ctx_create)" : "ctx_create (it has ctx_destroy)";
    return NULL;
}

fw_err fw_plugin_check_table(void *dl, const char *path, const char *kind, const char *symbol, int present,
                             uint32_t abi, const char *missing, char *why, size_t cap)
{
    char shown[512];
    fw_plugin_shown_path(shown, sizeof shown, path);
    if (!present)
        snprintf(why, cap, "%s: %s() returned no table", shown, symbol);
    else if (abi != FW_POLICY_ABI_VERSION)
        snprintf(why, cap,
                 "%s: the %s plug-in was built for policy ABI version %u; this flywheel loads version %u: "
                 "rebuild it against this flywheel/policy.h",
                 shown, kind, abi, FW_POLICY_ABI_VERSION);
    else if (missing)
        snprintf(why, cap, "%s: the %s plug-in's table (%s) has no %s function", shown, kind, symbol, missing);
    else
        return FW_OK;
    dlclose(dl);
    return FW_ERR_INVAL;
}

fw_err fw_plugin_started(int created, const char *path, const char *kind, const char *said, const char *name,
                         void **dl, char **label, char *why, size_t cap)
{
    char shown[512];
    fw_plugin_shown_path(shown, sizeof shown, path);
    if (!created) {
        char s2[512];
        fw_plugin_shown_path(s2, sizeof s2, said);
        snprintf(why, cap, "%s: the %s plug-in refused to start: %s", shown, kind, s2[0] ? s2 : "(it gave no reason)");
        dlclose(*dl);
        *dl = NULL;
        return FW_ERR_INVAL;
    }
    size_t n = strlen(shown) + 64;
    if ((*label = malloc(n)))
        snprintf(*label, n, "'%.40s' (%s)", name ? name : "?", shown);
    return *label ? FW_OK : FW_ERR_NOMEM;
}

/* Loads and checks a ranker plug-in; on success *dl and *api are set. */
static fw_err load(const char *path, void **dl_out, const fw_ranker_table **api_out, char *why, size_t cap)
{
    void *dl, *sym;
    fw_err rc = fw_plugin_open(path, "ranker", "engine.feed.plugin", FW_RANKER_SYMBOL, &dl, &sym, why, cap);
    if (rc != FW_OK)
        return rc;
    fw_ranker_entry entry;
    memcpy(&entry, &sym, sizeof entry);   /* POSIX: a dlsym'd function */
    const fw_ranker_table *api = entry();
    const char *missing = api ? fw_plugin_missing(api->create != NULL, api->destroy != NULL, api->rank != NULL, "rank",
                                                  api->ctx_create != NULL, api->ctx_destroy != NULL)
                              : NULL;
    rc = fw_plugin_check_table(dl, path, "ranker", FW_RANKER_SYMBOL, api != NULL, api ? api->abi_version : 0, missing,
                               why, cap);
    if (rc != FW_OK)
        return rc;
    *dl_out = dl;
    *api_out = api;
    return FW_OK;
}

static fw_policy_env env_of(const fw_engine_cfg *cfg, uint32_t cell, uint32_t n_cells, uint32_t n_users,
                            uint32_t n_topics, uint32_t tpd, uint64_t seed, uint32_t max_cand)
{
    const fw_feed_cfg *f = &cfg->feed;
    double hours_per_tick = 24.0 / tpd;   /* as fw_engine_create computes a cell's ticks */
    fw_policy_env env = {
        .abi_version = FW_POLICY_ABI_VERSION, .cell = cell, .n_cells = n_cells, .n_users = n_users,
        .n_topics = n_topics, .ticks_per_day = tpd, .page_size = f->page_size,
        .organic_slots = fw_feed_organic_slots(f, f->page_size), .max_candidates = max_cand, .seed = seed,
        .w_follow = f->w_follow, .w_trending = f->w_trending, .w_fresh = f->w_fresh,
        .fresh_age_ticks = f->fresh_age_h / hours_per_tick,
        .recency_half_life_ticks = f->recency_half_life_h / hours_per_tick};
    return env;
}

/* Loads cfg's plug-in and creates an instance; on failure why says what, naming the file. */
static fw_err open_inst(const fw_engine_cfg *cfg, const fw_policy_env *env, inst *in, char *why, size_t cap)
{
    const char *path = cfg->feed.plugin;
    fw_err rc = load(path, &in->dl, &in->api, why, cap);
    if (rc != FW_OK)
        return rc;
    char said[512] = "";
    in->state = in->api->create(cfg->feed.plugin_args ? cfg->feed.plugin_args : "", env, said, sizeof said);
    said[sizeof said - 1] = '\0';
    rc = fw_plugin_started(in->state != NULL, path, "ranker", said, in->api->name, &in->dl, &in->label, why, cap);
    if (!in->state)
        in->api = NULL;
    return rc;
}

static void close_inst(inst *in)
{
    if (in->api && in->state)
        in->api->destroy(in->state);
    if (in->dl)
        dlclose(in->dl);
    free(in->label);
    memset(in, 0, sizeof *in);
}

fw_err fw_policy_check_ranker(const fw_engine_cfg *cfg, uint32_t n_users, uint32_t n_topics, uint32_t ticks_per_day,
                              uint64_t seed, char *why, size_t cap)
{
    if (!cfg || cfg->feed.algorithm != FW_FEED_PLUGIN || ticks_per_day == 0) {
        snprintf(why, cap, "engine.feed.algorithm is not plugin");
        return FW_ERR_INVAL;
    }
    fw_policy_env env = env_of(cfg, 0, 1, n_users, n_topics, ticks_per_day, seed, fw_feed_cand_need(cfg));
    env.vec_dim = cfg->feed.plugin_vectors ? cfg->rec.dim : 0;   /* what the engine will hand over */
    inst in = {0};
    fw_err rc = open_inst(cfg, &env, &in, why, cap);
    close_inst(&in);
    return rc;
}

/* ---- the module ------------------------------------------------------------------------- */

/* One instance per slot (engine_int.h): per learner under per-arm isolation, else per cell. */
static int plugin_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    (void)cat;
    for (uint32_t a = 0; a < n_cells; a++)
        if (cfgs[a].feed.algorithm == FW_FEED_PLUGIN)
            return 1;
    return 0;
}

static fw_err plugin_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    plugin_state *P = *state;
    uint32_t n = e->n_users;
    (void)cat;
    if (e->producer_arm) {   /* notes scored under their creator's arm: a plug-in cannot honour it */
        snprintf(e->why, sizeof e->why, "plugin: a ranker plug-in cannot serve a producer-side experiment");
        return FW_ERR_INVAL;
    }
    P->n_inst = fw_n_slots(e);
    if (!fw_alloc(e, &P->in, P->n_inst, sizeof *P->in) || !fw_alloc(e, &P->vec_dim, P->n_inst, sizeof *P->vec_dim) || !fw_alloc(e, &P->req_seq, n, sizeof *P->req_seq) ||
        !fw_alloc(e, &P->fault, n, sizeof *P->fault) || !fw_alloc(e, &P->fault_tick, n, sizeof *P->fault_tick) ||
        !fw_alloc(e, &P->fault_a, n, sizeof *P->fault_a) || !fw_alloc(e, &P->fault_b, n, sizeof *P->fault_b))
        return FW_ERR_NOMEM;
    atomic_init(&P->faulted, 0);
    for (uint32_t i = 0; i < P->n_inst; i++) {
        uint32_t a = fw_slot_cell(e, i);
        const fw_engine_cfg *cfg = &e->cell[a].cfg;
        if (cfg->feed.algorithm != FW_FEED_PLUGIN)
            continue;
        fw_policy_env env = env_of(cfg, a, e->n_arms, e->n_users, e->n_topics, e->ticks_per_day, e->seed, e->cand_cap);
        env.vec_dim = P->vec_dim[i] = cfg->feed.plugin_vectors ? fw_rec_learner_dim(e, fw_slot_learner(e, i)) : 0;
        char why[512];
        fw_err rc = open_inst(cfg, &env, &P->in[i], why, sizeof why);
        if (rc != FW_OK) {
            snprintf(e->why, sizeof e->why, "plugin: %s", why);
            return rc;
        }
    }
    return FW_OK;
}

static void plugin_destroy(fw_engine *e, void *state)
{
    plugin_state *P = state;
    (void)e;
    for (uint32_t i = 0; P->in && i < P->n_inst; i++)
        close_inst(&P->in[i]);
    free(P->ev);
    free(P->ev_cand);
    free(P->ev_uvec);
    free(P->ev_nvec);
}

static void plugin_ctx_destroy(void *ctx)
{
    plugin_ctx *X = ctx;
    if (!X)
        return;
    for (uint32_t a = 0; X->pctx && a < X->n; a++)
        if (X->pctx[a] && X->fini[a])
            X->fini[a](X->pctx[a]);
    free(X->pctx);
    free(X->fini);
    free(X->cand);
    free(X->score);
    free(X->cvec);
    free(X);
}

static fw_err plugin_ctx_create(const fw_engine *e, const void *state, void **ctx)
{
    const plugin_state *P = state;
    plugin_ctx *X = calloc(1, sizeof *X);
    if (!X)
        return FW_ERR_NOMEM;
    *ctx = X;   /* fw_engine_ctx_destroy frees it whatever happens next */
    size_t cap = e->cand_cap ? e->cand_cap : 1;
    X->n = P->n_inst;
    if (!(X->pctx = calloc(X->n, sizeof *X->pctx)) || !(X->fini = calloc(X->n, sizeof *X->fini)) ||
        !(X->cand = calloc(cap, sizeof *X->cand)) || !(X->score = calloc(cap, sizeof *X->score)) ||
        !(X->cvec = calloc(cap * (fw_rec_max_dim(e) ? fw_rec_max_dim(e) : 1), sizeof *X->cvec)))
        return FW_ERR_NOMEM;
    for (uint32_t a = 0; a < X->n; a++) {
        const inst *in = &P->in[a];
        if (!in->api || !in->api->ctx_create)
            continue;
        if (!(X->pctx[a] = in->api->ctx_create(in->state)))
            return FW_ERR_NOMEM;
        X->fini[a] = in->api->ctx_destroy;
    }
    return FW_OK;
}

static uint64_t stream_key(uint64_t seed, uint32_t cell, uint32_t u, int32_t tick, uint32_t seq)
{
    uint64_t k = fw_mix64(seed ^ UINT64_C(0x706c7567696e2d72));   /* "plugin-r": this purpose */
    k = fw_mix64(k ^ ((uint64_t)cell << 32 | u));
    return fw_mix64(k ^ ((uint64_t)(uint32_t)tick << 32 | seq));
}

/* Keeps the user's first fault of the tick for the barrier. */
static void fault(plugin_state *P, uint32_t u, int32_t tick, int kind, uint32_t a, uint32_t b)
{
    if (!P->fault[u]) {
        P->fault[u] = (uint8_t)kind;
        P->fault_tick[u] = tick;
        P->fault_a[u] = a;
        P->fault_b[u] = b;
    }
    atomic_store_explicit(&P->faulted, 1u, memory_order_relaxed);
}

/* Candidate id as a request at tick sees it (tr, decay: the cell's trending scores). */
static inline void describe(const fw_engine *e, fw_policy_cand *q, uint32_t id, uint8_t followed, int32_t tick,
                            const double *tr, double decay)
{
    const fw_note_info *ni = &e->notes[id];
    const uint32_t *cnt = &e->counts[(size_t)id * FW_EV__COUNT];
    int64_t age = (int64_t)tick - ni->created_tick;
    *q = (fw_policy_cand){
        .note = id, .creator = ni->creator, .topic = ni->topic, .format = ni->format, .followed = followed,
        .age_ticks = age < 0 ? 0 : age > INT32_MAX ? INT32_MAX : (int32_t)age,
        .creator_followers = e->followers[ni->creator], .trending = tr[id] * decay,
        .impressions = cnt[FW_EV_IMPRESSION], .opens = cnt[FW_EV_OPEN], .likes = cnt[FW_EV_LIKE],
        .saves = cnt[FW_EV_SAVE], .comments = cnt[FW_EV_COMMENT], .follows = cnt[FW_EV_FOLLOW]};
}

/* Whether u follows creator (the barrier's view). */
static int follows(const fw_engine *e, uint32_t u, uint32_t creator)
{
    const fw_u32vec *fl = &e->follows[u];
    for (uint32_t k = 0; k < fl->n; k++)
        if (fl->v[k] == creator)
            return 1;
    return 0;
}

static uint32_t plugin_request(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_feed_req *req,
                               uint32_t *out, uint32_t cap, int64_t t_start)
{
    plugin_state *P = state;
    plugin_ctx *X = ctx->mod[FW_MOD_PLUGIN];
    fw_rank_ctx *c = &ctx->rank;
    uint32_t cell = req->arm, u = req->user;
    const fw_feed_cfg *f = &e->cell[cell].cfg.feed;
    uint32_t ii = fw_slot_of(e, cell, u);
    const inst *in = &P->in[ii];

    uint64_t looked;
    uint32_t n = fw_feed_recall(e, c, req, &looked);
    c->n_cand = n;
    fw_plant_wait(e, FW_STAGE_FEED_RECALL);
    int64_t t_recall = fw_now_ns();

    /* What the built-in ranker sees of each candidate, and the logged counts. */
    double decay = fw_pools_decay_at(e, cell, req->tick);
    const double *tr = fw_pools_scores(e, cell);
    for (uint32_t i = 0; i < n; i++)
        describe(e, &X->cand[i], c->cand[i], c->cand_follow[i], req->tick, tr, decay);
    uint32_t k = fw_feed_organic_slots(f, cap), want = fw_min_u32(k, n), n_top = 0;
    fw_rank_request r = {.user = u, .cell = cell, .tick = req->tick, .page_size = k, .n_cand = n,
                         .cand = X->cand, .score = X->score, .page = X->page,
                         .rng = {.key = stream_key(e->seed, cell, u, req->tick, P->req_seq[u]++)}};
    uint32_t D = P->vec_dim[ii];
    if (D) {   /* the recommender's learned vectors, as of the last barrier */
        for (uint32_t i = 0; i < n; i++)
            fw_rec_note_vec(e, cell, u, c->cand[i], X->cvec + (size_t)i * D);
        r.vec_dim = D;
        r.user_vec = fw_rec_user_vec(e, cell, u);
        r.cand_vec = X->cvec;
    }
    int rc = in->api->rank(in->state, X->pctx[ii], &r);
    int bad = 0;
    if (rc == FW_RANK_SCORES) {
        for (uint32_t i = 0; i < n && !bad; i++) {
            if (!isfinite(X->score[i]))
                fault(P, u, req->tick, FAULT_SCORE, c->cand[i], i), bad = 1;
            else
                fw_topk_offer(c->order, c->cand_score, &n_top, k, c->cand[i],
                              fw_safety_scale(X->score[i], fw_safety_w(e, cell, u, c->cand[i])));
        }
        if (!bad) {
            fw_topk_sort(c->order, c->cand_score, n_top);
            c->scored_id = c->cand;   /* the plug-in's score of every candidate */
            c->scored = X->score;
            c->n_scored = n;
        }
    } else if (rc == FW_RANK_PAGE) {
        if (r.n_page != want)
            fault(P, u, req->tick, FAULT_LENGTH, r.n_page, want), bad = 1;
        for (uint32_t j = 0; j < want && !bad; j++) {
            uint32_t id = X->page[j];
            if (!fw_rank_set_has(c, id))
                fault(P, u, req->tick, FAULT_UNKNOWN, id, n), bad = 1;
            for (uint32_t i = 0; i < j && !bad; i++)
                if (c->order[i] == id)
                    fault(P, u, req->tick, FAULT_DUP, id, j), bad = 1;
            c->order[j] = id;
        }
        n_top = want;
    } else {
        fault(P, u, req->tick, FAULT_RC, (uint32_t)rc, 0);
        bad = 1;
    }
    uint32_t len = bad ? 0 : fw_feed_place_slots(f, c->order, n_top, out, cap);
    fw_plant_wait(e, FW_STAGE_FEED_RANK);

    len = fw_seen_add_page(e, cell, u, out, len);
    fw_feed_count(ctx, looked, n, out, len);
    int64_t t_end = fw_now_ns();
    fw_hist_record(&ctx->lat[FW_STAGE_FEED_RECALL], t_recall - t_start);
    fw_hist_record(&ctx->lat[FW_STAGE_FEED_RANK], t_end - t_recall);
    fw_hist_record(&ctx->lat[FW_STAGE_FEED], t_end - t_start);
    return len;
}

/* Barrier: every instance observes its cell's share of the tick's note events. */
static fw_err plugin_log(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_log *l)
{
    plugin_state *P = state;
    (void)ctx;
    for (uint32_t i = 0; i < P->n_inst; i++) {
        const inst *in = &P->in[i];
        uint32_t a = fw_slot_cell(e, i);
        if (!in->api || !in->api->observe)
            continue;
        if (fw_grow((void **)&P->ev, &P->cap_ev, l->n_ev, sizeof *P->ev, 1024) ||
            fw_grow((void **)&P->ev_cand, &P->cap_ev_cand, l->n_ev, sizeof *P->ev_cand, 1024))
            return FW_ERR_NOMEM;
        int32_t tick = l->n_ev ? l->ev[0].tick : P->next_tick;
        double decay = fw_pools_decay_at(e, a, tick);
        const double *tr = fw_pools_scores(e, a);
        uint32_t D = P->vec_dim[i];
        if (D && (fw_grow((void **)&P->ev_uvec, &P->cap_ev_uvec, l->n_ev * D, sizeof *P->ev_uvec, 1024) ||
                  fw_grow((void **)&P->ev_nvec, &P->cap_ev_nvec, l->n_ev * D, sizeof *P->ev_nvec, 1024)))
            return FW_ERR_NOMEM;
        size_t m = 0;
        for (size_t k = 0; k < l->n_ev; k++) {
            const fw_event *x = &l->ev[k];
            if (!fw_event_ok(e, x) || (e->n_learn != 1 && fw_user_learner(e, x->user) != i))
                continue;
            P->ev[m] = *x;
            describe(e, &P->ev_cand[m], x->note, (uint8_t)follows(e, x->user, e->notes[x->note].creator), x->tick, tr,
                     decay);
            if (D) {
                uint32_t cell = fw_user_cell(e, x->user);
                memcpy(P->ev_uvec + m * D, fw_rec_user_vec(e, cell, x->user), D * sizeof *P->ev_uvec);
                fw_rec_note_vec(e, cell, x->user, x->note, P->ev_nvec + m * D);
            }
            m++;
        }
        fw_policy_batch b = {.cell = a, .tick = tick, .n_events = m, .events = P->ev, .cand = P->ev_cand,
                             .vec_dim = D, .user_vec = D ? P->ev_uvec : NULL, .cand_vec = D ? P->ev_nvec : NULL};
        int rc = in->api->observe(in->state, &b);
        if (rc < 0) {
            snprintf(e->why, sizeof e->why, "plugin %s (cell %u): observe of tick %d returned %d", in->label, a,
                     b.tick, rc);
            return FW_ERR_PLUGIN;
        }
    }
    return FW_OK;
}

/* Barrier: a request's fault fails the run here, the lowest user id's named. */
static fw_err plugin_end_tick(fw_engine *e, void *state, fw_engine_ctx *ctx, int32_t tick)
{
    plugin_state *P = state;
    (void)ctx;
    P->next_tick = tick + 1;
    if (!atomic_load_explicit(&P->faulted, memory_order_relaxed))
        return FW_OK;
    for (uint32_t u = 0; u < e->n_users; u++) {
        if (!P->fault[u])
            continue;
        uint32_t cell = fw_user_cell(e, u), a = P->fault_a[u], b = P->fault_b[u];
        uint32_t ii = fw_slot_of(e, cell, u);
        const char *label = P->in[ii].label ? P->in[ii].label : "?";
        int32_t t = P->fault_tick[u], tpd = (int32_t)e->ticks_per_day;
        char what[200];
        switch (P->fault[u]) {
        case FAULT_RC: snprintf(what, sizeof what, "rank returned %d", (int)a); break;
        case FAULT_UNKNOWN:
            snprintf(what, sizeof what, "the page holds note %u, which is not one of the request's %u candidates", a, b);
            break;
        case FAULT_DUP: snprintf(what, sizeof what, "the page holds note %u twice (again at position %u)", a, b); break;
        case FAULT_LENGTH:
            snprintf(what, sizeof what, "the page holds %u notes; expected %u (the page size or every candidate)", a, b);
            break;
        default: snprintf(what, sizeof what, "candidate %u (note %u) has a score that is NaN or infinite", b, a); break;
        }
        snprintf(e->why, sizeof e->why, "plugin %s: feed request of user %u (cell %u) at tick %d (day %d, tick %d): %s",
                 label, u, cell, t, fw_tick_day(t, (uint32_t)tpd), t - fw_tick_day(t, (uint32_t)tpd) * tpd, what);
        return FW_ERR_PLUGIN;
    }
    return FW_OK;
}

static fw_err plugin_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    plugin_state *P = state;
    (void)ctx;
    (void)series;
    for (uint32_t i = 0; i < P->n_inst; i++) {
        const inst *in = &P->in[i];
        int rc;
        if (in->api && in->api->end_day && (rc = in->api->end_day(in->state, day)) < 0) {
            snprintf(e->why, sizeof e->why, "plugin %s (cell %u): end_day of day %d returned %d", in->label,
                     fw_slot_cell(e, i), (int32_t)day, rc);   /* a warm-up's days are below 0 */
            return FW_ERR_PLUGIN;
        }
    }
    return FW_OK;
}

const fw_engine_module fw_plugin_module = {
    .name = "plugin",
    .state_size = sizeof(plugin_state),
    .wanted = plugin_wanted,
    .create = plugin_create,
    .destroy = plugin_destroy,
    .ctx_create = plugin_ctx_create,
    .ctx_destroy = plugin_ctx_destroy,
    .log = plugin_log,
    .end_tick = plugin_end_tick,
    .end_day = plugin_end_day,
    .algorithm = FW_FEED_PLUGIN,
    .cand_need = fw_feed_cand_need,
    .feed = plugin_request,
};
