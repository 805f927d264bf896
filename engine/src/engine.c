/* The engine's core: the catalog, engagement counts, follow lists, cells and served filters,
 * and the loop over the capability table (engine_int.h) in every barrier call.
 *
 * Invariants:
 *  - notes[0..n_notes) are in publication order; ids never change; every per-note array,
 *    the core's and every module's, has cap_notes entries (grow_notes grows them together).
 *  - State written by requests is per user (served filters, a module's per-user rows);
 *    everything else changes only in barrier calls, so concurrent requests read a frozen view.
 *  - Modules run in table order in every barrier call; the core applies the tick's note
 *    events after every module has logged them; notices posted during a tick are delivered
 *    after every module's end_tick, in the order posted.
 *  - Every call is timed into the caller's ctx, never into shared state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "flywheel/mem.h"
#include "rank.h"
#include "privacy_int.h"

/* The capability table, in barrier order (engine_int.h says why the order matters). */
static const fw_engine_module *const modules[FW_MOD__COUNT] = {
#define FW_MOD_ROW(e, name) &fw_##name##_module,
    FW_ENGINE_MODULES(FW_MOD_ROW)
#undef FW_MOD_ROW
};

/* Each module that is on, in table order. */
#define FOR_EACH_MODULE(e, m) \
    for (uint32_t m = 0; m < FW_MOD__COUNT; m++) \
        if ((e)->mod[m])

static const char *const stage_names[] = {
#define STAGE_NAME(e, name, doc) name,
    FW_STAGES(STAGE_NAME)
#undef STAGE_NAME
};
static const char *const stage_docs[] = {
#define STAGE_DOC(e, name, doc) doc,
    FW_STAGES(STAGE_DOC)
#undef STAGE_DOC
};

const char *fw_stage_name(fw_stage s)
{
    return (unsigned)s < FW_STAGE__COUNT ? stage_names[s] : "unknown";
}

const char *fw_stage_doc(fw_stage s)
{
    return (unsigned)s < FW_STAGE__COUNT ? stage_docs[s] : "unknown";
}

static const char *const work_names[] = {
#define WORK_NAME(e, name, doc) name,
    FW_WORK_COUNTERS(WORK_NAME)
#undef WORK_NAME
};
static const char *const work_docs[] = {
#define WORK_DOC(e, name, doc) doc,
    FW_WORK_COUNTERS(WORK_DOC)
#undef WORK_DOC
};

const char *fw_work_name(fw_work w)
{
    return (unsigned)w < FW_WORK__COUNT ? work_names[w] : "unknown";
}

const char *fw_work_doc(fw_work w)
{
    return (unsigned)w < FW_WORK__COUNT ? work_docs[w] : "unknown";
}

/* ---- helpers ------------------------------------------------------------------------- */

int fw_grow(void **v, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    void *p = realloc(*v, c * size);
    if (!p)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

void *fw_alloc(fw_engine *e, void *field, size_t n, size_t size)
{
    void *x = NULL;
    if (e->n_owned == e->cap_owned) {
        size_t cap = e->cap_owned ? 2 * e->cap_owned : 64;
        void **v = realloc(e->owned, cap * sizeof *v);
        if (v) {
            e->owned = v;
            e->cap_owned = cap;
        }
    }
    if (e->n_owned < e->cap_owned && (x = calloc(n ? n : 1, size))) {
        e->owned[e->n_owned++] = field;
        fw_mem_huge(x, n * size);
    }
    memcpy(field, &x, sizeof x);   /* field is a T *; object pointers share one representation */
    return x;
}

int fw_resize(void *field, size_t old_n, size_t n, size_t size)
{
    void *x;
    memcpy(&x, field, sizeof x);
    unsigned char *y = realloc(x, (n ? n : 1) * size);
    if (!y)
        return -1;
    fw_mem_huge(y, n * size);   /* before the new elements are first touched */
    if (n > old_n)
        memset(y + old_n * size, 0, (n - old_n) * size);
    memcpy(field, &y, sizeof y);
    return 0;
}

/* Frees every fw_alloc array, newest first. */
static void free_owned(fw_engine *e)
{
    while (e->n_owned > 0) {
        void *x;
        memcpy(&x, e->owned[--e->n_owned], sizeof x);
        free(x);
    }
    free(e->owned);
}

/* Whether follow list v is (still) a slice of the engine's follow arena. */
static int in_arena(const fw_engine *e, const uint32_t *v)
{
    uintptr_t p = (uintptr_t)v, a = (uintptr_t)e->follow_arena;
    return v && p >= a && p < a + e->n_follow_arena * sizeof *e->follow_arena;
}

/* Whether the catalog's follows hold a self-follow (skipped, so that its lists are not the
 * catalog's slices); FW_ERR_INVAL when an offset or a creator is out of range. */
static fw_err check_follows(const fw_engine *e, const fw_catalog *cat, int *self)
{
    uint64_t total = cat->follow_offsets[e->n_users];
    *self = 0;
    for (uint32_t u = 0; u < e->n_users; u++) {
        uint64_t lo = cat->follow_offsets[u], hi = cat->follow_offsets[u + 1];
        if (hi < lo || hi - lo > UINT32_MAX / 2 || hi > total)
            return FW_ERR_INVAL;
        for (uint64_t k = lo; k < hi; k++) {
            if (cat->follows[k] >= e->n_users)
                return FW_ERR_INVAL;
            *self |= cat->follows[k] == u;
        }
    }
    return FW_OK;
}

/* The catalog's day-0 follows as each user's list, a slice of one block that is never
 * written: the catalog's own when it keeps them (follows_kept) and has no self-follow, else
 * the engine's copy without the self-follows (one allocation, not one a user); the creators
 * gain their followers. */
static fw_err take_follows(fw_engine *e, const fw_catalog *cat)
{
    int self;
    fw_err rc = check_follows(e, cat, &self);
    if (rc != FW_OK)
        return rc;
    uint64_t total = cat->follow_offsets[e->n_users], at = 0;
    uint32_t *copy = NULL;
    if (!cat->follows_kept || self) {
        if (total > SIZE_MAX / sizeof *copy || (total && !(copy = malloc((size_t)total * sizeof *copy))))
            return FW_ERR_NOMEM;
        e->arena_owned = 1;
    }
    e->follow_arena = e->arena_owned ? copy : cat->follows;
    e->n_follow_arena = total;
    for (uint32_t u = 0; u < e->n_users; u++) {
        fw_u32vec *fl = &e->follows[u];
        uint64_t lo = cat->follow_offsets[u], hi = cat->follow_offsets[u + 1];
        const uint32_t *v = e->arena_owned ? copy + at : cat->follows + lo;
        for (uint64_t k = lo; k < hi; k++) {
            uint32_t c = cat->follows[k];
            if (c == u)
                continue;
            if (e->arena_owned)
                copy[at + fl->n] = c;
            fl->n++;
            e->followers[c]++;
        }
        /* Read-only: own_follows copies a list out before anything writes to it. */
        fl->v = fl->n ? (uint32_t *)(uintptr_t)v : NULL;
        fl->cap = fl->n;
        at += fl->n;
    }
    return FW_OK;
}

/* Makes follow list fl the engine's own before it is written, with room for cap (>= n):
 * a slice of the arena is copied out. 0, or -1 out of memory. */
static int own_follows(const fw_engine *e, fw_u32vec *fl, uint32_t cap)
{
    if (!in_arena(e, fl->v))
        return 0;
    uint32_t *v = malloc((size_t)cap * sizeof *v);
    if (!v)
        return -1;
    memcpy(v, fl->v, (size_t)fl->n * sizeof *v);
    fl->v = v;
    fl->cap = cap;
    return 0;
}

int fw_u32vec_push(fw_u32vec *v, uint32_t x)
{
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 4;
        uint32_t *p = realloc(v->v, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

/* Grows the core's per-note arrays and every module's from cap_notes to cap (> cap_notes). */
static fw_err resize_notes(fw_engine *e, uint32_t cap)
{
    uint32_t old = e->cap_notes;
    fw_note_info *notes = realloc(e->notes, (size_t)cap * sizeof *notes);
    if (!notes)
        return FW_ERR_NOMEM;
    e->notes = notes;
    uint32_t *counts = realloc(e->counts, (size_t)cap * FW_EV__COUNT * sizeof *counts);
    if (!counts)
        return FW_ERR_NOMEM;
    e->counts = counts;
    memset(counts + (size_t)old * FW_EV__COUNT, 0, (size_t)(cap - old) * FW_EV__COUNT * sizeof *counts);
    FOR_EACH_MODULE(e, m)
        if (modules[m]->grow_notes) {
            fw_err rc = modules[m]->grow_notes(e, e->mod[m], old, cap);
            if (rc != FW_OK)
                return rc;
        }
    e->cap_notes = cap;
    return FW_OK;
}

/* Makes room for need notes in the core's per-note arrays and every module's. */
static fw_err grow_notes(fw_engine *e, uint32_t need)
{
    if (need <= e->cap_notes)
        return FW_OK;
    uint32_t old = e->cap_notes;
    return resize_notes(e, fw_max_u32(need, old + old / 2 + 1024));
}

_Static_assert(FW_SNAP_TICK_BOUND == FW_TICK_BOUND, "a snapshot's ticks are bounded as the engine's notes");

/* FW_OK when every module that is on can take the note. */
static fw_err check_note(const fw_engine *e, const fw_note_info *note)
{
    if (note->creator >= e->n_users || note->format > FW_FORMAT_VIDEO || note->created_tick < -FW_TICK_BOUND ||
        note->created_tick > FW_TICK_BOUND)
        return FW_ERR_INVAL;
    for (uint32_t m = 0; m < FW_MOD__COUNT; m++)
        if (e->on[m] && modules[m]->check_note && modules[m]->check_note(e, note) != FW_OK)
            return FW_ERR_INVAL;
    return FW_OK;
}

/* ---- lifetime ------------------------------------------------------------------------ */

fw_engine *fw_engine_create(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_arms,
                            fw_err *err)
{
    return fw_engine_create_why(cat, cfgs, n_arms, err, NULL, 0);
}

fw_engine *fw_engine_create_why(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_arms, fw_err *err,
                                char *why_out, size_t why_cap)
{
    if (why_out && why_cap)
        why_out[0] = '\0';
    if (!cat || !cfgs || n_arms == 0 || n_arms > FW_MAX_ENGINE_ARMS || cat->n_users == 0 ||
        cat->ticks_per_day == 0) {
        *err = FW_ERR_INVAL;
        return NULL;
    }
    char why[256];
    for (uint32_t a = 0; a < n_arms; a++)
        if (fw_engine_cfg_check(&cfgs[a], why, sizeof why) != FW_OK) {
            if (why_out && why_cap)
                snprintf(why_out, why_cap, "arm %u: %s", a, why);
            *err = FW_ERR_RANGE;
            return NULL;
        }
    fw_err rc = FW_ERR_NOMEM;
    fw_engine *e = calloc(1, sizeof *e);
    if (!e)
        goto fail;
    e->n_users = cat->n_users;
    e->n_topics = cat->n_topics;
    e->seed = cat->seed;
    e->ticks_per_day = cat->ticks_per_day;
    e->n_arms = n_arms;
    if (!(e->cell = calloc(n_arms, sizeof *e->cell)))
        goto fail;
    uint8_t *on = e->on;
    for (uint32_t m = 0; m < FW_MOD__COUNT; m++)
        on[m] = !modules[m]->wanted || modules[m]->wanted(cat, cfgs, n_arms);
    double hours_per_tick = 24.0 / cat->ticks_per_day;
    for (uint32_t a = 0; a < n_arms; a++) {
        fw_cell *cl = &e->cell[a];
        const fw_feed_cfg *f = &cfgs[a].feed;
        cl->cfg = cfgs[a];
        cl->recency_half_life_ticks = f->recency_half_life_h / hours_per_tick;
        cl->fresh_age_ticks = f->fresh_age_h / hours_per_tick;
        /* Each generation holds seen_window ids, so at least the last seen_window served
         * notes are remembered. 8 bits per id with 5 probes: about 2% false positives. */
        cl->seen_half = f->seen_window;
        cl->seen_words = 1;
        while ((uint64_t)cl->seen_words * 64 < (uint64_t)cl->seen_half * 8)
            cl->seen_words *= 2;
        cl->feed_module = FW_MOD__COUNT;
        for (uint32_t m = 0; m < FW_MOD__COUNT; m++)
            if (on[m] && modules[m]->feed && modules[m]->algorithm == (int)f->algorithm)
                cl->feed_module = m;
        if (cl->feed_module == FW_MOD__COUNT) {
            rc = FW_ERR_INVAL;
            goto fail;
        }
        e->cand_cap = fw_max_u32(e->cand_cap, modules[cl->feed_module]->cand_need(&cfgs[a]));
        if (cfgs[a].latency_sigfigs > (uint32_t)e->sigfigs)
            e->sigfigs = (int)cfgs[a].latency_sigfigs;
    }
    if (!(e->follows = calloc(e->n_users, sizeof *e->follows)) ||
        !(e->followers = calloc(e->n_users, sizeof *e->followers)) ||
        !(e->seen = calloc(e->n_users, sizeof *e->seen)) ||
        !(e->seen_fill = calloc(e->n_users, sizeof *e->seen_fill)))
        goto fail;
    if (!(e->user_cell = calloc(e->n_users, 1)) || !(e->cell_share = calloc(n_arms, sizeof *e->cell_share)))
        goto fail;
    e->n_buckets = cat->learners_per_cell > 1 ? cat->learners_per_cell : 1;
    if (e->n_buckets > 1 && (cat->isolation != FW_ISOLATION_PER_ARM || !cat->user_bucket ||
                             e->n_buckets > FW_MAX_LEARNERS_PER_CELL)) {
        rc = FW_ERR_INVAL;
        goto fail;
    }
    e->n_learn = cat->isolation == FW_ISOLATION_PER_ARM ? n_arms * e->n_buckets : 1;
    if (e->n_learn == 1)
        e->n_buckets = 1;
    if (e->n_buckets > 1) {
        if (!(e->user_bucket = malloc(e->n_users ? e->n_users : 1)))
            goto fail;
        memcpy(e->user_bucket, cat->user_bucket, e->n_users);
        rc = FW_ERR_INVAL;
        for (uint32_t u = 0; u < e->n_users; u++)
            if (e->user_bucket[u] >= e->n_buckets)
                goto fail;
        rc = FW_ERR_NOMEM;
    }
    e->budget_split = cat->budget_split != 0 && n_arms > 1;
    for (uint32_t a = 0; a < n_arms; a++)
        e->cell_share[a] = cat->cell_share ? cat->cell_share[a] : 1.0 / n_arms;
    if (cat->user_cell) {
        memcpy(e->user_cell, cat->user_cell, e->n_users);
        e->placed = 1;
        rc = FW_ERR_INVAL;
        for (uint32_t u = 0; u < e->n_users; u++)
            if (e->user_cell[u] >= n_arms)
                goto fail;
        rc = FW_ERR_NOMEM;
    }
    if (cat->isolation >= FW_ISOLATION__COUNT) {
        rc = FW_ERR_INVAL;
        goto fail;
    }
    if (cat->producer_arm) {
        if (!(e->producer_arm = malloc(e->n_users)))
            goto fail;
        memcpy(e->producer_arm, cat->producer_arm, e->n_users);
        rc = FW_ERR_INVAL;
        for (uint32_t u = 0; u < e->n_users; u++)
            if (e->producer_arm[u] >= n_arms)
                goto fail;
        rc = FW_ERR_NOMEM;
    }
    /* The catalog: notes (the modules grow with the core from their creation on), follows. */
    if ((rc = grow_notes(e, cat->n_notes + (cat->reserve_notes < UINT32_MAX - cat->n_notes ? cat->reserve_notes : 0))) != FW_OK)
        goto fail;
    for (uint32_t i = 0; i < cat->n_notes; i++) {
        if ((rc = check_note(e, &cat->notes[i])) != FW_OK)
            goto fail;
        e->notes[i] = cat->notes[i];
        e->n_notes = i + 1;
    }
    rc = FW_ERR_NOMEM;
    if (cat->follow_offsets && (rc = take_follows(e, cat)) != FW_OK)
        goto fail;
    /* The capabilities, in table order: each takes the catalog as it is now. */
    for (uint32_t m = 0; m < FW_MOD__COUNT; m++) {
        if (!on[m])
            continue;
        void *st = NULL;
        rc = FW_ERR_NOMEM;
        if (modules[m]->state_size && !(st = calloc(1, modules[m]->state_size)))
            goto fail;
        rc = modules[m]->create ? modules[m]->create(e, cat, &st) : FW_OK;
        e->mod[m] = st;   /* freed by fw_engine_destroy, also after a failed create */
        if (rc != FW_OK)
            goto fail;
        if (!st) {   /* a module that is on has a state, even an empty one */
            rc = FW_ERR_INTERNAL;
            goto fail;
        }
        rc = FW_ERR_NOMEM;
        if (modules[m]->n_series &&
            !(e->series[m] = calloc(modules[m]->n_series, sizeof *e->series[m])))
            goto fail;
    }
    return e;
fail:
    if (e && why_out && why_cap)
        snprintf(why_out, why_cap, "%s", e->why);
    fw_engine_destroy(e);
    *err = rc;
    return NULL;
}

void fw_engine_destroy(fw_engine *e)
{
    if (!e)
        return;
    for (uint32_t m = FW_MOD__COUNT; m-- > 0;)
        if (e->mod[m] && modules[m]->destroy)
            modules[m]->destroy(e, e->mod[m]);
    free_owned(e);   /* arrays inside the modules' states: before the states */
    for (uint32_t m = FW_MOD__COUNT; m-- > 0;) {
        if (modules[m]->state_size)
            free(e->mod[m]);
        free(e->series[m]);
    }
    free(e->cell);
    free(e->notes);
    free(e->counts);
    if (e->follows)
        for (uint32_t u = 0; u < e->n_users; u++)
            if (!in_arena(e, e->follows[u].v))
                free(e->follows[u].v);
    free(e->follows);
    if (e->arena_owned)
        free((void *)(uintptr_t)e->follow_arena);
    free(e->followers);
    free(e->producer_arm);
    free(e->user_cell);
    free(e->user_bucket);
    free(e->cell_share);
    if (e->seen)
        for (uint32_t u = 0; u < e->n_users; u++)
            free(e->seen[u]);
    free(e->seen);
    free(e->seen_fill);
    free(e->notices);
    free(e->log_ev);
    free(e->log_idx);
    free(e);
}

fw_engine_ctx *fw_engine_ctx_create(const fw_engine *e)
{
    fw_engine_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        /* 1 ns .. 100 s covers every call we time. */
        if (fw_hist_init(&c->lat[s], 1, INT64_C(100000000000), e->sigfigs) != FW_OK)
            goto fail;
    if (fw_rank_ctx_init(&c->rank, e->cand_cap) != FW_OK)
        goto fail;
    FOR_EACH_MODULE(e, m)
        if (modules[m]->ctx_create && modules[m]->ctx_create(e, e->mod[m], &c->mod[m]) != FW_OK)
            goto fail;
    return c;
fail:
    fw_engine_ctx_destroy(c);
    return NULL;
}

void fw_engine_ctx_destroy(fw_engine_ctx *c)
{
    if (!c)
        return;
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        fw_hist_fini(&c->lat[s]);
    fw_rank_ctx_fini(&c->rank);
    for (uint32_t m = 0; m < FW_MOD__COUNT; m++)
        if (c->mod[m] && modules[m]->ctx_destroy)
            modules[m]->ctx_destroy(c->mod[m]);
    free(c);
}

const fw_hist *fw_engine_ctx_latency(const fw_engine_ctx *c, fw_stage s)
{
    return &c->lat[s];
}

void fw_engine_ctx_reset_latency(fw_engine_ctx *c)
{
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        fw_hist_reset(&c->lat[s]);
    memset(c->work, 0, sizeof c->work);
}

uint64_t fw_engine_ctx_work(const fw_engine_ctx *c, fw_work w)
{
    return (unsigned)w < FW_WORK__COUNT ? c->work[w] : 0;
}

const uint32_t *fw_engine_ctx_candidates(const fw_engine_ctx *c, uint32_t *n)
{
    *n = c->rank.n_cand;
    return c->rank.cand;
}

/* ---- requests -------------------------------------------------------------------------- */

uint32_t fw_feed_request(fw_engine *e, fw_engine_ctx *ctx, const fw_feed_req *req, uint32_t *out,
                         uint32_t cap)
{
    int64_t t_start = fw_now_ns();
    if (req->user >= e->n_users || req->arm >= e->n_arms)
        return 0;
    uint32_t m = e->cell[req->arm].feed_module;
    ctx->rank.n_scored = 0;
    if (fw_privacy_opted_out(e, req->user))   /* world.optout_share: no personalisation */
        return fw_privacy_feed(e, ctx, req, out, cap, t_start);
    return modules[m]->feed(e, e->mod[m], ctx, req, out, cap, t_start);
}

double fw_engine_ctx_score(const fw_engine_ctx *ctx, uint32_t note)
{
    const fw_rank_ctx *c = &ctx->rank;
    for (uint32_t i = 0; i < c->n_scored; i++)
        if (c->scored_id[i] == note)
            return c->scored[i];
    return NAN;
}

int fw_feed_was_served(const fw_engine *e, uint32_t user, uint32_t arm, uint32_t note)
{
    if (user >= e->n_users || arm >= e->n_arms)
        return 0;
    return fw_seen_has(e, arm, user, note);
}

/* ---- barrier calls ----------------------------------------------------------------------- */

fw_err fw_engine_reserve_notices(fw_engine *e, size_t extra)
{
    return fw_grow((void **)&e->notices, &e->cap_notices, e->n_notices + extra, sizeof *e->notices, 64)
               ? FW_ERR_NOMEM
               : FW_OK;
}

fw_err fw_engine_post(fw_engine *e, const fw_notice *n)
{
    if (fw_engine_reserve_notices(e, 1) != FW_OK)
        return FW_ERR_NOMEM;
    e->notices[e->n_notices++] = *n;
    return FW_OK;
}

/* user follows creator c (user ids in range): appended to the follow list, one more follower;
 * nothing when c is the user or already followed. -1 out of memory. */
static int follow_add(fw_engine *e, uint32_t user, uint32_t c)
{
    fw_u32vec *fl = &e->follows[user];
    if (c == user)
        return 0;
    for (uint32_t k = 0; k < fl->n; k++)
        if (fl->v[k] == c)
            return 0;
    if (own_follows(e, fl, 2 * fl->n) || fw_u32vec_push(fl, c))
        return -1;
    e->followers[c]++;
    return 0;
}

/* The core's part of a tick's log: engagement counts, follow lists and follower counts. */
static fw_err apply_events(fw_engine *e, fw_engine_ctx *ctx, const fw_log *l)
{
    fw_err rc = FW_OK;
    uint64_t events = 0;
    for (size_t i = 0; i < l->n_ev; i++) {
        events++;
        const fw_event *x = &l->ev[i];
        if (!fw_event_ok(e, x)) {
            rc = FW_ERR_INVAL;
            continue;
        }
        uint32_t type = FW_EV_TYPE(x->type);
        e->counts[(size_t)x->note * FW_EV__COUNT + type]++;
        if (type == FW_EV_FOLLOW && follow_add(e, x->user, e->notes[x->note].creator))
            return FW_ERR_NOMEM;
    }
    ctx->work[FW_WORK_EVENTS] += events;
    return rc;
}

/* The core's follow records (follow-backs): as a note's follow, without the note. */
static fw_err apply_follows(fw_engine *e, const fw_log *l)
{
    fw_err rc = FW_OK;
    for (size_t i = 0, n = fw_log_n(l, FW_RECORD_FOLLOW); i < n; i++) {
        const fw_record *r = fw_log_at(l, FW_RECORD_FOLLOW, i);
        uint32_t u = r->u.follow.user, c = r->u.follow.creator;
        if (u >= e->n_users || c >= e->n_users)
            rc = FW_ERR_INVAL;
        else if (follow_add(e, u, c))
            return FW_ERR_NOMEM;
    }
    return rc;
}

/* The core's unfollows: the creator leaves the user's follow list (the others keep their
 * order) and loses a follower; an unfollow of a creator the user does not follow changes
 * nothing. */
static fw_err apply_unfollows(fw_engine *e, const fw_log *l)
{
    fw_err rc = FW_OK;
    for (size_t i = 0, n = fw_log_n(l, FW_RECORD_UNFOLLOW); i < n; i++) {
        const fw_record *r = fw_log_at(l, FW_RECORD_UNFOLLOW, i);
        uint32_t u = r->u.unfollow.user, c = r->u.unfollow.creator;
        if (u >= e->n_users || c >= e->n_users) {
            rc = FW_ERR_INVAL;
            continue;
        }
        fw_u32vec *fl = &e->follows[u];
        for (uint32_t k = 0; k < fl->n; k++)
            if (fl->v[k] == c) {
                if (own_follows(e, fl, fl->cap))
                    return FW_ERR_NOMEM;
                memmove(&fl->v[k], &fl->v[k + 1], (size_t)(fl->n - k - 1) * sizeof *fl->v);
                fl->n--;
                e->followers[c]--;
                break;
            }
    }
    return rc;
}

/* Whether a module hook that failed with r wrote e->why itself: an internal error or a plug-in's
 * say what broke, and FW_ERR_RANGE that a book would pass what its integers count (ads, shop). */
static int wrote_why(fw_err r)
{
    return r == FW_ERR_INTERNAL || r == FW_ERR_PLUGIN || r == FW_ERR_RANGE;
}

/* Every module's part of the tick's log, then the core's. */
static fw_err run_log(fw_engine *e, fw_engine_ctx *ctx, const fw_log *l, fw_err rc, int64_t t0)
{
    FOR_EACH_MODULE(e, m)
        if (modules[m]->log) {
            fw_err r = modules[m]->log(e, e->mod[m], ctx, l);
            if (r == FW_ERR_INVAL)
                rc = r;
            else if (r != FW_OK) {
                if (!wrote_why(r))
                    snprintf(e->why, sizeof e->why, "%s: cannot apply the tick's log: %s", modules[m]->name,
                             fw_err_str(r));
                return r;
            }
        }
    fw_err r = apply_events(e, ctx, l);
    if (r == FW_OK || r == FW_ERR_INVAL) {
        fw_err rf = apply_follows(e, l);
        r = rf == FW_ERR_NOMEM || r == FW_OK ? rf : r;
    }
    if (r == FW_OK || r == FW_ERR_INVAL) {
        fw_err ru = apply_unfollows(e, l);   /* NOMEM: copying a day-0 list out (own_follows) */
        r = ru == FW_ERR_NOMEM || r == FW_OK ? ru : r;
    }
    if (r != FW_OK && r != FW_ERR_INVAL) {
        snprintf(e->why, sizeof e->why, "cannot apply the tick's note events: %s", fw_err_str(r));
        return r;
    }
    fw_plant_wait(e, FW_STAGE_LOG);
    fw_hist_record(&ctx->lat[FW_STAGE_LOG], fw_now_ns() - t0);
    return r != FW_OK ? r : rc;
}

fw_err fw_engine_log(fw_engine *e, fw_engine_ctx *ctx, fw_record *rec, size_t n)
{
    /* One pass groups the records by kind (a counting sort keeps each kind in order) and
     * copies the note events out; records of an unknown kind are skipped. */
    int64_t t0 = fw_now_ns();
    if (n > UINT32_MAX)
        return FW_ERR_INVAL;
    fw_log l = {.rec = rec};
    size_t count[FW_RECORD__COUNT] = {0}, n_ev = 0;
    fw_err rc = FW_OK;
    for (size_t i = 0; i < n; i++)
        if (rec[i].kind < FW_RECORD__COUNT)
            count[rec[i].kind]++;
        else
            rc = FW_ERR_INVAL;
    for (int k = 0; k < FW_RECORD__COUNT; k++)
        l.off[k + 1] = l.off[k] + (k == FW_RECORD_EVENT ? 0 : count[k]);
    if (fw_grow((void **)&e->log_ev, &e->cap_log_ev, count[FW_RECORD_EVENT], sizeof *e->log_ev, 1024) ||
        fw_grow((void **)&e->log_idx, &e->cap_log_idx, l.off[FW_RECORD__COUNT], sizeof *e->log_idx, 1024)) {
        snprintf(e->why, sizeof e->why, "cannot index the tick's log: %s", fw_err_str(FW_ERR_NOMEM));
        return FW_ERR_NOMEM;
    }
    size_t at[FW_RECORD__COUNT];
    memcpy(at, l.off, sizeof at);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = rec[i].kind;
        if (k == FW_RECORD_EVENT)
            e->log_ev[n_ev++] = rec[i].u.ev;
        else if (k < FW_RECORD__COUNT)
            e->log_idx[at[k]++] = (uint32_t)i;
    }
    l.idx = e->log_idx;
    l.ev = e->log_ev;
    l.n_ev = n_ev;
    return run_log(e, ctx, &l, rc, t0);
}

fw_err fw_engine_log_events(fw_engine *e, fw_engine_ctx *ctx, const fw_event *ev, size_t n)
{
    fw_log l = {.ev = ev, .n_ev = n};
    return run_log(e, ctx, &l, FW_OK, fw_now_ns());
}

fw_err fw_engine_publish_note(fw_engine *e, fw_engine_ctx *ctx, const fw_publication *p, uint32_t *id)
{
    int64_t t0 = fw_now_ns();
    fw_err rc = check_note(e, &p->info);
    if (rc != FW_OK)
        return rc;
    if ((rc = grow_notes(e, e->n_notes + 1)) != FW_OK)
        return rc;
    uint32_t k = e->n_notes++;
    e->notes[k] = p->info;
    /* The first module to take the note (search: its index) either takes it whole or changes
     * nothing, so the note can still be withdrawn; after that a failure leaves it published. */
    int first = 1;
    FOR_EACH_MODULE(e, m)
        if (modules[m]->publish) {
            if ((rc = modules[m]->publish(e, e->mod[m], ctx, k, p)) != FW_OK) {
                if (first)
                    e->n_notes--;
                return rc;
            }
            first = 0;
        }
    *id = k;
    fw_hist_record(&ctx->lat[FW_STAGE_PUBLISH], fw_now_ns() - t0);
    return FW_OK;
}

fw_err fw_engine_publish(fw_engine *e, fw_engine_ctx *ctx, const fw_note_info *note, uint32_t *id)
{
    fw_publication p = {.info = *note, .terms = NULL, .product = FW_NONE, .task = FW_NONE};
    return fw_engine_publish_note(e, ctx, &p, id);
}

fw_err fw_engine_end_tick(fw_engine *e, fw_engine_ctx *ctx, int32_t tick)
{
    int64_t t0 = fw_now_ns();
    fw_err rc = FW_OK;
    FOR_EACH_MODULE(e, m)
        if (modules[m]->end_tick) {
            fw_err r = modules[m]->end_tick(e, e->mod[m], ctx, tick);
            if (r != FW_OK && rc == FW_OK) {
                rc = r;
                if (!wrote_why(r))
                    snprintf(e->why, sizeof e->why, "%s: the tick's end failed: %s", modules[m]->name,
                             fw_err_str(r));
            }
        }
    /* What the capabilities told each other during the tick. */
    FOR_EACH_MODULE(e, m)
        if (modules[m]->notice && e->n_notices) {
            fw_err r = modules[m]->notice(e, e->mod[m], e->notices, e->n_notices);
            if (r != FW_OK && rc == FW_OK) {
                rc = r;
                if (!wrote_why(r))
                    snprintf(e->why, sizeof e->why, "%s: %s", modules[m]->name, fw_err_str(r));
            }
        }
    e->n_notices = 0;
    fw_plant_wait(e, FW_STAGE_END_TICK);
    fw_hist_record(&ctx->lat[FW_STAGE_END_TICK], fw_now_ns() - t0);
    return rc;
}

fw_err fw_engine_end_day(fw_engine *e, fw_engine_ctx *ctx, uint32_t day)
{
    int64_t t0 = fw_now_ns();
    fw_err rc = FW_OK;
    FOR_EACH_MODULE(e, m)
        if (modules[m]->end_day) {
            fw_err r = modules[m]->end_day(e, e->mod[m], ctx, day, e->series[m]);
            if (r != FW_OK && rc == FW_OK) {
                rc = r;
                if (!wrote_why(r))
                    snprintf(e->why, sizeof e->why, "%s: the day's end failed: %s", modules[m]->name,
                             fw_err_str(r));
            }
        }
    char why[200];
    FOR_EACH_MODULE(e, m)
        if (rc == FW_OK && modules[m]->check && (rc = modules[m]->check(e, e->mod[m], why, sizeof why)) != FW_OK)
            snprintf(e->why, sizeof e->why, "%s invariant broken on day %u: %s", modules[m]->name, day, why);
    fw_hist_record(&ctx->lat[FW_STAGE_END_DAY], fw_now_ns() - t0);
    return rc;
}

/* ---- state snapshots (issue 21) --------------------------------------------------------- */

/* The notes: capacity and count first, so that loading grows the per-note arrays of the core
 * and of every module to the snapshot's capacity (the modules' hooks then transfer theirs),
 * then each note field by field (fw_note_info has a padding byte: a copy of its bytes would
 * make equal states write different snapshots). */
static void snap_notes(fw_engine *e, fw_snap *s)
{
    uint32_t cap = e->cap_notes, n = e->n_notes;
    fw_snap_u32(s, &cap);
    fw_snap_u32(s, &n);
    if (fw_snap_loading(s) && !fw_snap_failed(s)) {
        /* The saved engine began as this one: its capacity and catalog only grew since. */
        if (cap < e->cap_notes || n > cap || n < e->n_notes)
            fw_snap_fail(s, "%u notes of %u, this run starts with %u of %u (another scenario?)", n, cap, e->n_notes,
                         e->cap_notes);
        else if (cap > e->cap_notes && resize_notes(e, cap) != FW_OK)
            fw_snap_fail(s, "out of memory for %u notes", cap);
        else
            e->n_notes = n;
    }
    for (uint32_t i = 0; i < e->n_notes && !fw_snap_failed(s); i++) {
        fw_note_info *x = &e->notes[i];
        uint32_t topic = x->topic;
        fw_snap_u32(s, &x->creator);
        fw_snap_u32(s, &topic);
        fw_snap_u8(s, &x->format);
        fw_snap_i32(s, &x->created_tick);   /* bounded by check_note (FW_TICK_BOUND) */
        x->topic = (uint16_t)topic;
        /* Topics index the modules' per-topic arrays; check_note asks every module too. */
        if (fw_snap_loading(s) && !fw_snap_failed(s) &&
            (topic > UINT16_MAX || topic >= fw_max_u32(e->n_topics, 1) || check_note(e, x) != FW_OK))
            fw_snap_fail(s, "note %u (creator %u, topic %u, created at tick %d) is not one this run can take", i,
                         x->creator, topic, x->created_tick);
    }
    fw_snap_array(s, e->counts, (size_t)e->n_notes * FW_EV__COUNT, sizeof *e->counts);
}

/* The follow lists: a list never changed since the catalog stays a slice of the arena (the
 * fresh engine holds the same slice: one byte says so, and no copy is made -- at millions of
 * users the day-0 lists are most of the follows); a changed one is the engine's own. */
static void snap_follows(fw_engine *e, fw_snap *s)
{
    int loading = fw_snap_loading(s);
    fw_snap_array(s, e->followers, e->n_users, sizeof *e->followers);
    for (uint32_t u = 0; u < e->n_users && !fw_snap_failed(s); u++) {
        fw_u32vec *fl = &e->follows[u];
        uint8_t slice = (uint8_t)in_arena(e, fl->v);
        fw_snap_u8(s, &slice);
        if (slice) {
            if (loading && !fw_snap_failed(s) && !in_arena(e, fl->v))
                fw_snap_fail(s, "user %u's follow list is the catalog's there, not here (another scenario?)", u);
            continue;
        }
        if (loading && in_arena(e, fl->v))
            *fl = (fw_u32vec){0};   /* the catalog's slice is never written: read into a list of its own */
        fw_snap_vec32(s, (void **)&fl->v, &fl->n, &fl->cap, sizeof *fl->v, e->n_users);
        for (uint32_t k = 0; loading && k < fl->n && !fw_snap_failed(s); k++)
            if (fl->v[k] >= e->n_users)
                fw_snap_fail(s, "user %u follows user %u of %u", u, fl->v[k], e->n_users);
    }
}

/* The served filters: seen_fill whole, then each served user's generations (one, or two once
 * FW_SEEN_BOTH), of the words of the cell they are served under: their cell, which is the
 * cell of their requests from the snapshot on (the simulator serves a user under their
 * engine cell once placed, everyone under cell 0 before). A user never served (seen_fill 0)
 * has none. */
static void snap_seen(fw_engine *e, fw_snap *s)
{
    int loading = fw_snap_loading(s);
    fw_snap_array(s, e->seen_fill, e->n_users, sizeof *e->seen_fill);
    for (uint32_t u = 0; u < e->n_users && !fw_snap_failed(s); u++) {
        uint32_t f = e->seen_fill[u];
        if (!f)
            continue;
        /* The second generation is current (bit 31) only once it exists. */
        if (loading && (f >> 31) && !(f & FW_SEEN_BOTH)) {
            fw_snap_fail(s, "user %u's served filter state %#x names a generation it has not", u, f);
            break;
        }
        if (!loading && !e->seen[u]) {
            fw_snap_fail(s, "user %u has a served count but no filter (a bug in flywheel)", u);
            break;
        }
        size_t words = (size_t)e->cell[e->user_cell[u]].seen_words * (f & FW_SEEN_BOTH ? 2 : 1);
        size_t n = loading ? 0 : words;   /* loading: no filter yet, fw_snap_vec allocates it */
        fw_snap_vec(s, (void **)&e->seen[u], &n, NULL, sizeof **e->seen, words);
        if (loading && !fw_snap_failed(s) && n != words)
            fw_snap_fail(s, "user %u's served filter has %zu words, %zu expected", u, n, words);
    }
}

/* The core's state. Transferred: the notes, their counts, follows and followers, the cells'
 * placement (fw_engine_set_user_cells at a pre-period's end: user_cell, placed; producer-side,
 * fw_engine_set_producer_arms: producer_arm), the served filters, and every module's day
 * series. Skipped: n_users, n_topics, ticks_per_day, n_arms, seed (checked equal), cell,
 * n_learn, n_buckets, user_bucket, budget_split, cell_share, follow_arena, n_follow_arena,
 * arena_owned, cand_cap, sigfigs (fixed at create); notices (none between days: checked);
 * log_ev, log_idx (a tick's scratch); plant_ns, par, n_par_slots (the host's settings, set
 * after create); mod, on, owned (the modules' own sections); why (a message). */
static void core_snap(fw_engine *e, fw_snap *s)
{
    fw_snap_same_u32(s, e->n_users, "users");
    fw_snap_same_u32(s, e->n_topics, "topics");
    fw_snap_same_u32(s, e->ticks_per_day, "ticks per day");
    fw_snap_same_u32(s, e->n_arms, "cells");
    fw_snap_same_u64(s, e->seed, "the seed");
    if (e->n_notices)
        fw_snap_fail(s, "%zu notices undelivered between days (a bug in flywheel)", e->n_notices);
    snap_notes(e, s);
    snap_follows(e, s);
    uint32_t placed = (uint32_t)e->placed;
    fw_snap_u32(s, &placed);
    e->placed = placed != 0;
    fw_snap_array(s, e->user_cell, e->n_users, 1);
    fw_snap_same_u32(s, e->producer_arm != NULL, "producer-side arms");
    if (e->producer_arm)
        fw_snap_array(s, e->producer_arm, e->n_users, 1);
    for (uint32_t u = 0; fw_snap_loading(s) && u < e->n_users && !fw_snap_failed(s); u++)
        if (e->user_cell[u] >= e->n_arms || (e->producer_arm && e->producer_arm[u] >= e->n_arms))
            fw_snap_fail(s, "user %u is in cell %u of %u", u,
                         e->user_cell[u] >= e->n_arms ? e->user_cell[u] : e->producer_arm[u], e->n_arms);
    snap_seen(e, s);
    FOR_EACH_MODULE(e, m)
        if (e->series[m])
            fw_snap_array(s, e->series[m], modules[m]->n_series, sizeof *e->series[m]);
}

int fw_engine_can_snap(const fw_engine *e, char *missing, size_t len)
{
    int ok = 1;
    size_t at = 0;
    if (len)
        missing[0] = '\0';
    FOR_EACH_MODULE(e, m)
        if (!modules[m]->snap) {
            ok = 0;
            if (len && at < len) {
                int k = snprintf(missing + at, len - at, "%s%s", at ? ", " : "", modules[m]->name);
                at = k < 0 ? len : at + (size_t)k;
            }
        }
    return ok;
}

fw_err fw_engine_snap(fw_engine *e, fw_snap *s)
{
    if (!fw_engine_can_snap(e, NULL, 0)) {
        snprintf(e->why, sizeof e->why, "some capability cannot be snapshot (a bug in flywheel: ask fw_engine_can_snap)");
        return FW_ERR_INTERNAL;
    }
    fw_snap_section(s, "engine");
    core_snap(e, s);
    FOR_EACH_MODULE(e, m)
        if (!fw_snap_failed(s)) {
            fw_snap_section(s, modules[m]->name);
            modules[m]->snap(e, e->mod[m], s);
        }
    if (fw_snap_failed(s)) {
        snprintf(e->why, sizeof e->why, "%s", fw_snap_why(s));
        return fw_snap_loading(s) ? FW_ERR_PARSE : FW_ERR_IO;
    }
    if (!fw_snap_loading(s))
        return FW_OK;
    /* What was read must hold together as after any day: every module's invariants. */
    char why[200];
    FOR_EACH_MODULE(e, m)
        if (modules[m]->check && modules[m]->check(e, e->mod[m], why, sizeof why) != FW_OK) {
            snprintf(e->why, sizeof e->why, "the snapshot's %s state breaks an invariant: %s", modules[m]->name, why);
            return FW_ERR_PARSE;
        }
    return FW_OK;
}

const char *fw_engine_error(const fw_engine *e)
{
    return e->why;
}

/* ---- reports ------------------------------------------------------------------------------ */

uint32_t fw_engine_n_series_groups(const fw_engine *e)
{
    uint32_t n = 0;
    FOR_EACH_MODULE(e, m)
        n += modules[m]->n_series > 0;
    return n;
}

fw_err fw_engine_series(const fw_engine *e, uint32_t k, fw_series_group *out)
{
    FOR_EACH_MODULE(e, m)
        if (modules[m]->n_series > 0 && k-- == 0) {
            const fw_engine_module *md = modules[m];
            *out = (fw_series_group){.name = md->name, .doc = md->series_doc, .n = md->n_series,
                                     .series = md->series, .values = e->series[m]};
            return FW_OK;
        }
    return FW_ERR_INVAL;
}

fw_err fw_engine_set_user_cells(fw_engine *e, const uint8_t *user_cell)
{
    if (!user_cell)
        return FW_ERR_INVAL;
    for (uint32_t u = 0; u < e->n_users; u++)
        if (user_cell[u] >= e->n_arms)
            return FW_ERR_INVAL;
    /* A user's served filter has the geometry of the cell that served them so far (the
     * control's, before placement); under a cell whose engine.feed.seen_window gives another
     * size its bits mean nothing (and the filter is too short to probe), so that cell starts
     * the user with an empty one, as it would serve a new user. */
    for (uint32_t u = 0; u < e->n_users; u++)
        if (e->seen[u] && e->cell[user_cell[u]].seen_words != e->cell[e->user_cell[u]].seen_words) {
            free(e->seen[u]);
            e->seen[u] = NULL;
            e->seen_fill[u] = 0;
        }
    memcpy(e->user_cell, user_cell, e->n_users);
    e->placed = 1;
    FOR_EACH_MODULE(e, m)
        if (modules[m]->fork) {
            fw_err rc = modules[m]->fork(e, e->mod[m]);
            if (rc != FW_OK) {
                snprintf(e->why, sizeof e->why, "%s: cannot copy the learned state per cell: %s",
                         modules[m]->name, fw_err_str(rc));
                return rc;
            }
        }
    return FW_OK;
}

size_t fw_engine_cell_state_bytes(const fw_engine *e)
{
    size_t sum = 0;
    FOR_EACH_MODULE(e, m)
        if (modules[m]->cell_bytes)
            sum += modules[m]->cell_bytes(e, e->mod[m]);
    return sum;
}

fw_err fw_engine_set_producer_arms(fw_engine *e, const uint8_t *producer_arm)
{
    if (!e->producer_arm || !producer_arm)
        return FW_ERR_INVAL;
    for (uint32_t u = 0; u < e->n_users; u++)
        if (producer_arm[u] >= e->n_arms)
            return FW_ERR_INVAL;
    memcpy(e->producer_arm, producer_arm, e->n_users);
    return FW_OK;
}

uint32_t fw_engine_n_notes(const fw_engine *e)
{
    return e->n_notes;
}

uint64_t fw_engine_note_count(const fw_engine *e, uint32_t note, fw_event_type type)
{
    if (note >= e->n_notes || (unsigned)type >= FW_EV__COUNT)
        return 0;
    return e->counts[(size_t)note * FW_EV__COUNT + type];
}

fw_err fw_engine_set_par(fw_engine *e, fw_engine_par_for pf, int n_slots)
{
    if (!pf || n_slots < 1)
        n_slots = 1;
    e->par = n_slots > 1 ? pf : NULL;
    e->n_par_slots = n_slots;
    return FW_OK;
}

fw_err fw_engine_plant_delay(fw_engine *e, fw_stage s, int64_t ns)
{
    if (ns < 0 || (s != FW_STAGE_FEED_RECALL && s != FW_STAGE_FEED_RANK && s != FW_STAGE_LOG &&
                   s != FW_STAGE_END_TICK))
        return FW_ERR_INVAL;
    e->plant_ns[s] = ns;
    return FW_OK;
}
