/* The unfollow part (issue 18): followers who stop following a creator whose notes they keep
 * passing over (behaviour.unfollow_rate, unfollow_open_keep; the rule and its grounds in
 * model/living.c).
 * Owns: each user's disinterest in the creators they follow (only those they have passed over
 * since their last open), the per-thread scan positions and streams. Borrows: the world's follow
 * graph (blanks edges, lowers follower counts at barriers), the users' run follows.
 * Never touches: follows (the feed makes them, the reach part applies them).
 *  - In a session (after every other part's browse step), the user's records since the last
 *    scan are read: each feed impression (an FW_EV_IMPRESSION with neither FW_EV_SEARCH nor
 *    FW_EV_AD) of a note whose creator the user follows as of the tick's start, opened when an
 *    open of the note follows before the user's next impression. An open scales the user's
 *    disinterest in the creator by unfollow_open_keep; a note passed over raises it and is a
 *    chance to unfollow (stream FW_RNG_UNFOLLOW of the user and tick), once per creator and
 *    tick: an FW_RECORD_UNFOLLOW record goes into the tick's log and the disinterest is
 *    forgotten. The live cell's knobs apply, so each arm's users follow its rule.
 *  - At the barrier the engine drops the edges of the log's unfollows (after its follows: the
 *    user followed the creator at the tick's start, so the feed made no follow of them in the
 *    tick), and this part drops them from the world (fw_users_unfollow) and counts them.
 *  - At a day's close every creator's follower count in the world is checked against the
 *    engine's (they must agree: both apply the same follows and unfollows).
 * The session step writes only its user's rows; the barrier reads the log in its order:
 * identical for any thread count. */
#include <stdlib.h>
#include <string.h>

#include "driver/part.h"
#include "flywheel/market.h"
#include "model/living.h"
#include "model/rng.h"

#define UNFOLLOW_COUNTERS(X)                                                                       \
    X(followed_impressions, "impressions", "feed impressions of notes by creators the viewer follows") \
    X(followed_passed, "impressions", "of those, notes the viewer did not open (each raises the disinterest)") \
    X(unfollows, "follows", "follows undone (behaviour.unfollow_rate), by the follower's arm")

FW_DECLARE_COUNTERS(UNFOLLOW_COUNTERS);

static const fw_rate_desc rates[] = {
    {"unfollows_per_passed", "unfollows", "followed_passed", 1.0, "unfollows/impression",
     "unfollows / notes of followed creators passed over"},
};

/* A user's disinterest in one creator they follow. */
typedef struct grudge {
    uint32_t creator;   /* user id */
    float d;
} grudge;

typedef struct grudges {
    grudge *v;
    uint32_t n, cap;
} grudges;

typedef struct unfollow_state {
    grudges *of;        /* [n_users] */
    size_t *scanned;    /* [n_threads]: the thread's records read so far (this user's tick) */
    gsl_rng **rng;      /* [n_threads]: FW_RNG_UNFOLLOW, sought per (user, tick) */
} unfollow_state;

static int unfollow_active(const fw_sim *S)
{
    for (uint32_t c = 0; c < S->n_cells; c++)
        if (S->model[c].cfg.unfollow_rate > 0.0)
            return 1;
    return 0;
}

static fw_err unfollow_create(fw_sim *S, fw_part_inst *p)
{
    unfollow_state *st = p->state;
    if (!(st->of = fw_sim_calloc(S, S->w.n_users, sizeof *st->of)) ||
        !(st->scanned = fw_sim_calloc(S, (size_t)S->n_threads, sizeof *st->scanned)) ||
        !(st->rng = fw_sim_thread_rngs(S, FW_RNG_UNFOLLOW)))
        return FW_ERR_NOMEM;
    return FW_OK;
}

static void unfollow_destroy(fw_sim *S, fw_part_inst *p)
{
    unfollow_state *st = p->state;
    for (uint32_t u = 0; st->of && u < S->w.n_users; u++)
        free(st->of[u].v);
}

static void unfollow_user_tick(fw_session *ss, fw_part_inst *p)
{
    unfollow_state *st = p->state;
    st->scanned[ss->slot] = ss->rec_begin;
    fw_rng_seek(st->rng[ss->slot], ss->seed, FW_RNG_UNFOLLOW, ss->user, (uint32_t)ss->tick);
}

/* The user's disinterest in creator cu, added (at 0) when absent; NULL when out of memory. */
static grudge *grudge_of(grudges *g, uint32_t cu)
{
    for (uint32_t k = 0; k < g->n; k++)
        if (g->v[k].creator == cu)
            return &g->v[k];
    if (g->n == g->cap) {
        uint32_t cap = g->cap ? 2 * g->cap : 4;
        grudge *v = realloc(g->v, cap * sizeof *v);
        if (!v)
            return NULL;
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n] = (grudge){.creator = cu, .d = 0.0f};
    return &g->v[g->n++];
}

static void grudge_drop(grudges *g, grudge *x)
{
    *x = g->v[--g->n];
}

/* Whether the impression at rec[k] was opened: an open of its note before the user's next
 * impression (records up to end). */
static int opened(const fw_recbuf *b, size_t k, size_t end)
{
    uint32_t note = b->v[k].u.ev.note;
    for (size_t j = k + 1; j < end; j++) {
        const fw_record *r = &b->v[j];
        if (r->kind != FW_RECORD_EVENT)
            continue;
        if (FW_EV_TYPE(r->u.ev.type) == FW_EV_IMPRESSION)
            return 0;
        if (r->u.ev.type == FW_EV_OPEN && r->u.ev.note == note)
            return 1;
    }
    return 0;
}

/* Whether the user unfollowed cu earlier in this tick (records from begin to end). */
static int unfollowed_this_tick(const fw_recbuf *b, size_t begin, size_t end, uint32_t cu)
{
    for (size_t j = begin; j < end; j++)
        if (b->v[j].kind == FW_RECORD_UNFOLLOW && b->v[j].u.unfollow.creator == cu)
            return 1;
    return 0;
}

/* A note of followed creator cu passed over: the disinterest grows, and maybe the user
 * unfollows (a record of the tick). 0, or -1 when out of memory. */
static int passed_over(fw_session *ss, unfollow_state *st, uint32_t cu)
{
    const fw_behaviour_cfg *c = &ss->m->cfg;
    grudges *g = &st->of[ss->user];
    if (unfollowed_this_tick(ss->rec, ss->rec_begin, ss->rec->n, cu))
        return 0;
    grudge *x = grudge_of(g, cu);
    if (!x)
        return -1;
    double pu;
    x->d = (float)fw_unfollow_ignored(x->d, c->unfollow_rate, &pu);
    if (!(gsl_rng_uniform(st->rng[ss->slot]) < pu))
        return 0;
    grudge_drop(g, x);
    fw_record r = {.kind = FW_RECORD_UNFOLLOW, .u.unfollow = {.user = ss->user, .creator = cu, .tick = ss->tick}};
    return fw_recbuf_push(ss->rec, &r);
}

static int unfollow_browse(fw_session *ss, fw_part_inst *p)
{
    unfollow_state *st = p->state;
    const fw_behaviour_cfg *c = &ss->m->cfg;
    size_t end = ss->rec->n;
    uint32_t u = ss->user;
    if (!(c->unfollow_rate > 0.0)) {
        st->scanned[ss->slot] = end;
        return 0;
    }
    for (size_t k = st->scanned[ss->slot]; k < end; k++) {
        const fw_record *r = &ss->rec->v[k];
        if (r->kind != FW_RECORD_EVENT || r->u.ev.type != FW_EV_IMPRESSION)
            continue;
        uint32_t cu = ss->w->note_info[r->u.ev.note].creator;
        if (cu == u || !fw_users_follows(ss->w, ss->us, u, cu))
            continue;
        ss->row[p->base + C_followed_impressions]++;
        if (opened(ss->rec, k, end)) {
            grudges *g = &st->of[u];
            for (uint32_t j = 0; j < g->n; j++)
                if (g->v[j].creator == cu) {
                    g->v[j].d = (float)fw_unfollow_opened(g->v[j].d, c->unfollow_open_keep);
                    if (g->v[j].d == 0.0f)
                        grudge_drop(g, &g->v[j]);
                    break;
                }
            continue;
        }
        ss->row[p->base + C_followed_passed]++;
        if (passed_over(ss, st, cu))
            return -1;
    }
    st->scanned[ss->slot] = ss->rec->n;
    return 0;
}

/* The log's unfollows, out of the world's graph. */
static fw_err unfollow_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_UNFOLLOW)
            continue;
        uint32_t u = rec[k].u.unfollow.user;
        int r = fw_users_unfollow(&S->w, &S->us, u, rec[k].u.unfollow.creator);
        if (r < 0)
            return FW_ERR_NOMEM;
        if (r)
            fw_sim_row(S, u)[p->base + C_unfollows]++;
    }
    return FW_OK;
}

static fw_err unfollow_day_close(fw_sim *S, fw_part_inst *p)
{
    (void)p;
    return fw_sim_check_followers(S);
}

static void unfollow_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * S->n_counters + p->base];
        fprintf(out, "  %-12s unfollows: %.1f a day (%.0f followed creators' notes shown a day, %.0f passed over)\n",
                S->sc->arms[a].name, c[C_unfollows] / days, c[C_followed_impressions] / days,
                c[C_followed_passed] / days);
    }
}

/* Users' grudges, a chunk of users at a time: their lengths in one array, then each non-empty
 * list (grudge is two 32-bit fields: no padding), held against creators (distinct: at most
 * n_creators; a grudge's creator is only compared, never an index). Skipped: scanned (set at
 * every user's tick) and the streams (sought per (user, tick)). */
#define SNAP_CHUNK 4096u
_Static_assert(sizeof(grudge) == 8, "grudge travels whole: it must hold no padding");

static void unfollow_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    unfollow_state *st = p->state;
    const fw_world *w = &S->w;
    uint32_t len[SNAP_CHUNK];
    for (uint32_t at = 0; at < w->n_users && !fw_snap_failed(s); at += SNAP_CHUNK) {
        uint32_t k = w->n_users - at < SNAP_CHUNK ? w->n_users - at : SNAP_CHUNK;
        for (uint32_t i = 0; i < k; i++)
            len[i] = st->of[at + i].n;
        fw_snap_array(s, len, k, sizeof *len);
        for (uint32_t i = 0; i < k && !fw_snap_failed(s); i++) {
            grudges *g = &st->of[at + i];
            if (len[i] == 0)
                continue;
            fw_snap_vec32(s, (void **)&g->v, &g->n, &g->cap, sizeof *g->v, w->n_creators);
            if (fw_snap_loading(s) && !fw_snap_failed(s) && g->n != len[i])
                fw_snap_fail(s, "user %u holds %u grudges, %u said", at + i, g->n, len[i]);
        }
    }
}

const fw_part fw_unfollow_part = {
    .name = "unfollow",
    FW_PART_COUNTERS_AND_RATES,
    .active = unfollow_active,
    .state_size = sizeof(unfollow_state),
    .create = unfollow_create,
    .destroy = unfollow_destroy,
    .user_tick = unfollow_user_tick,
    .session_browse = unfollow_browse,
    .after_log = unfollow_after_log,
    .day_close = unfollow_day_close,
    .summary = unfollow_summary,
    .snap = unfollow_snap,
};
