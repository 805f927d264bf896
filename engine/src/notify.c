/* The notify module: the daily digest of followed creators' notes (flywheel/notify.h).
 * State: the notes published today in publish order, and yesterday's grouped by creator
 * (a counting sort at the day's end: pool[first[c] .. first[c + 1]) are creator c's, in
 * publish order). A digest is computed per request from the user's follow list, so it sees
 * the follows and engagement counts as of the last barrier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "safety_int.h"
#include "flywheel/notify.h"

#define NOTIFY_DAY_SERIES(X)                                                                    \
    X(digest_pool, "notes", "notes published on the day: the pool of the next day's digests")  \
    X(digest_creators, "creators", "creators with a note in that pool")

FW_DECLARE_SERIES(NOTIFY_DAY_SERIES);

typedef struct fw_notify {
    fw_u32vec today;        /* notes published today */
    uint32_t *pool;         /* [cap_pool]: yesterday's, grouped by creator */
    uint32_t n_pool, cap_pool;
    uint32_t *first;        /* [n_users + 1] */
} fw_notify;

static int notify_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    (void)cat;
    for (uint32_t c = 0; c < n_cells; c++)
        if (cfgs[c].notify.digest_size > 0)
            return 1;
    return 0;
}

static fw_err notify_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    (void)cat;
    fw_notify *s = *state;
    /* today.v and pool grow with realloc; the engine frees whatever they hold. */
    if (!fw_alloc(e, &s->first, (size_t)e->n_users + 1, sizeof *s->first) ||
        !fw_alloc(e, &s->today.v, 0, sizeof *s->today.v) || !fw_alloc(e, &s->pool, 0, sizeof *s->pool))
        return FW_ERR_NOMEM;
    return FW_OK;
}

static fw_err notify_publish(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t id, const fw_publication *p)
{
    (void)e;
    (void)ctx;
    (void)p;
    fw_notify *s = state;
    return fw_u32vec_push(&s->today, id) ? FW_ERR_NOMEM : FW_OK;
}

/* Today's notes become tomorrow's pool, grouped by creator. */
static fw_err notify_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)ctx;
    (void)day;
    fw_notify *s = state;
    uint32_t n = s->today.n, nu = e->n_users;
    if (n > s->cap_pool) {
        uint32_t *v = realloc(s->pool, (size_t)n * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        s->pool = v;
        s->cap_pool = n;
    }
    memset(s->first, 0, ((size_t)nu + 1) * sizeof *s->first);
    for (uint32_t k = 0; k < n; k++)
        s->first[e->notes[s->today.v[k]].creator + 1]++;
    int64_t creators = 0;
    for (uint32_t c = 0; c < nu; c++) {
        creators += s->first[c + 1] > 0;
        s->first[c + 1] += s->first[c];
    }
    for (uint32_t k = 0; k < n; k++) {
        uint32_t note = s->today.v[k], c = e->notes[note].creator;
        s->pool[s->first[c]++] = note;
    }
    /* The fill moved each start to the next creator's: shift back. */
    memmove(&s->first[1], &s->first[0], (size_t)nu * sizeof *s->first);
    s->first[0] = 0;
    s->n_pool = n;
    s->today.n = 0;
    series[SER_digest_pool] = n;
    series[SER_digest_creators] = creators;
    return FW_OK;
}

static double open_rate(const fw_engine *e, uint32_t note)
{
    const uint32_t *c = &e->counts[(size_t)note * FW_EV__COUNT];
    return (c[FW_EV_OPEN] + 1.0) / (c[FW_EV_IMPRESSION] + 10.0);
}

uint32_t fw_notify_digest(const fw_engine *e, uint32_t user, uint32_t cell, uint32_t *out, uint32_t cap)
{
    const fw_notify *s = fw_mod(e, FW_MOD_NOTIFY);
    if (!s || user >= e->n_users || cell >= e->n_arms || s->n_pool == 0)
        return 0;
    uint32_t k = fw_cfg(e, cell)->notify.digest_size;
    k = k < cap ? k : cap;
    k = k < FW_NOTIFY_MAX_DIGEST ? k : FW_NOTIFY_MAX_DIGEST;
    double score[FW_NOTIFY_MAX_DIGEST];
    uint32_t n = 0;
    const fw_u32vec *f = &e->follows[user];
    for (uint32_t i = 0; i < f->n && k > 0; i++) {
        uint32_t c = f->v[i];
        for (uint32_t j = s->first[c]; j < s->first[c + 1]; j++) {
            uint32_t note = s->pool[j];
            double w = fw_safety_w(e, cell, user, note);
            if (w == 0.0)
                continue;   /* moderated away */
            double x = fw_safety_scale(open_rate(e, note), w);
            /* Insert into the best k, best first (the newer note first on a tie). */
            uint32_t at = n;
            while (at > 0 && (score[at - 1] < x || (score[at - 1] == x && out[at - 1] < note)))
                at--;
            if (at >= k)
                continue;
            uint32_t last = n < k ? n : k - 1;
            memmove(&score[at + 1], &score[at], (last - at) * sizeof *score);
            memmove(&out[at + 1], &out[at], (last - at) * sizeof *out);
            score[at] = x;
            out[at] = note;
            n = n < k ? n + 1 : k;
        }
    }
    return n;
}

static fw_err notify_check(const fw_engine *e, const void *state, char *why, size_t cap)
{
    const fw_notify *s = state;
    if (s->first[e->n_users] != s->n_pool) {
        snprintf(why, cap, "notify: the pool holds %u notes, its creator index %u", s->n_pool, s->first[e->n_users]);
        return FW_ERR_INTERNAL;
    }
    for (uint32_t c = 0; c < e->n_users; c++)
        for (uint32_t j = s->first[c]; j < s->first[c + 1]; j++)
            if (s->pool[j] >= e->n_notes || e->notes[s->pool[j]].creator != c) {
                snprintf(why, cap, "notify: pool note %u filed under creator %u", s->pool[j], c);
                return FW_ERR_INTERNAL;
            }
    return FW_OK;
}

/* Ids of notes, each below n_notes (a loaded list is read before it is trusted). */
static void check_notes(const fw_engine *e, fw_snap *s, const uint32_t *v, uint32_t n, const char *what)
{
    for (uint32_t k = 0; fw_snap_loading(s) && k < n && !fw_snap_failed(s); k++)
        if (v[k] >= e->n_notes)
            fw_snap_fail(s, "%s holds note %u of %u", what, v[k], e->n_notes);
}

/* Transferred: today's notes (empty between days, as end_day leaves them), the pool and its
 * creator index. Skipped: nothing (the capacities are the loading side's own). The index is
 * checked to bound the pool; notify_check then checks every pool note's creator. */
static void notify_snap(fw_engine *e, void *state, fw_snap *s)
{
    fw_notify *st = state;
    fw_snap_vec32(s, (void **)&st->today.v, &st->today.n, &st->today.cap, sizeof *st->today.v, e->n_notes);
    check_notes(e, s, st->today.v, st->today.n, "today's list");
    fw_snap_vec32(s, (void **)&st->pool, &st->n_pool, &st->cap_pool, sizeof *st->pool, e->n_notes);
    check_notes(e, s, st->pool, st->n_pool, "the pool");
    fw_snap_array(s, st->first, (size_t)e->n_users + 1, sizeof *st->first);
    if (!fw_snap_loading(s) || fw_snap_failed(s))
        return;
    int ok = st->first[0] == 0 && st->first[e->n_users] == st->n_pool;
    for (uint32_t c = 0; c < e->n_users && ok; c++)
        ok = st->first[c] <= st->first[c + 1];
    if (!ok)
        fw_snap_fail(s, "the pool's creator index does not cover its %u notes in order", st->n_pool);
}

const fw_engine_module fw_notify_module = {
    .name = "notify",
    .wanted = notify_wanted,
    .state_size = sizeof(fw_notify),
    .create = notify_create,
    .publish = notify_publish,
    .end_day = notify_end_day,
    .snap = notify_snap,
    .check = notify_check,
    FW_MODULE_SERIES("the daily digests' pool at each day's end"),
};
