/* The follow-back part (issue 18): a small creator follows back a creator who has just
 * followed them (behaviour.follow_back), the run-time form of the day-0 graph's reciprocity
 * among small accounts (world.follow_reciprocity; the rule and its grounds in model/world.c,
 * follow_growth).
 * Owns: the follow-backs decided at one barrier and not yet logged, its stream. Borrows: the
 * world's follow graph (adds edges, raises follower counts at barriers), the users' run
 * follows. Never touches: sessions (it draws nothing there) or the follows the feed makes.
 *  - At a barrier (after the engine, the reach part and the unfollow part have applied the
 *    tick's log), each follow of the log (an FW_EV_FOLLOW: user a follows the note's creator
 *    b; or a suggested follow, an FW_RECORD_FOLLOW tagged FW_FOLLOW_SUGGESTED, which the
 *    suggest part adds to the world after this part, so it counts here as one follower more
 *    for b, and is no chance when a followed b from the feed in the same tick: that follow
 *    was the chance) is a chance of a follow-back when, as in the generator's rule, a is a
 *    creator (only creators are followed), b is still on the platform (p_active above 0:
 *    leavers are at 0), b has no more followers than follows, and b does not follow a. Each
 *    chance draws a coin from FW_RNG_FOLLOW_BACK (entity a, day = tick; a's follows of the log
 *    in its order), whatever the knob, so arms share the draws; it succeeds with the
 *    behaviour.follow_back of b's live cell (b is the one who acts), and the follow-back (an
 *    FW_RECORD_FOLLOW of user b and creator a, tagged FW_FOLLOW_BACK) waits for the next tick:
 *    b answers a notification, not the same instant.
 *  - At the next barrier, before the engine's log, the waiting follow-backs go to the end of
 *    the tick's log; the engine adds them to its follow lists and follower counts (a follow
 *    already made, say from b's feed in that tick, changes nothing), and after the log this part
 *    adds the same ones to the world (new_follows, n_followers) and counts them by b's arm. No
 *    log holds an unfollow of a follow-back's pair: b did not follow a at the tick's start.
 *  - At a day's close every creator's follower count in the world is checked against the
 *    engine's (both apply the same follows, follow-backs and unfollows).
 * Everything happens at barriers, in the log's order (users in id order): identical for any
 * thread count. Follow-backs decided at the run's last tick are never logged. */
#include <stdlib.h>

#include "driver/part.h"
#include "flywheel/market.h"
#include "model/rng.h"

#define FOLLOWBACK_COUNTERS(X)                                                                     \
    X(follow_back_chances, "follows",                                                             \
      "follows of a small creator by a creator it does not follow (chances of a follow-back), by the " \
      "followed creator's arm")                                                                    \
    X(follow_backs, "follows", "follow-backs made (behaviour.follow_back), by the arm of the one who follows back")

FW_DECLARE_COUNTERS(FOLLOWBACK_COUNTERS);

static const fw_rate_desc rates[] = {
    {"follow_back_rate", "follow_backs", "follow_back_chances", 1.0, "1", "follow-backs / chances of a follow-back"},
};

typedef struct followback_state {
    fw_recbuf waiting;   /* follow-backs decided at the last barrier */
    gsl_rng *rng;        /* FW_RNG_FOLLOW_BACK, sought per (new follower, tick) */
} followback_state;

static int followback_active(const fw_sim *S)
{
    for (uint32_t c = 0; c < S->n_cells; c++)
        if (S->model[c].cfg.follow_back > 0.0)
            return 1;
    return 0;
}

static fw_err followback_create(fw_sim *S, fw_part_inst *p)
{
    followback_state *st = p->state;
    return (st->rng = fw_sim_rng(S, FW_RNG_FOLLOW_BACK)) ? FW_OK : FW_ERR_NOMEM;
}

static void followback_destroy(fw_sim *S, fw_part_inst *p)
{
    (void)S;
    followback_state *st = p->state;
    free(st->waiting.v);
}

/* Whether creator b, just followed by a, may follow a back (the generator's rule); pending: the
 * follow is not in the world's counts yet (1) or is (0). */
static int may_follow_back(const fw_sim *S, uint32_t a, uint32_t b, uint32_t pending)
{
    const fw_world *w = &S->w;
    return a != b && w->creator_of[a] >= 0 && w->p_active[b] > 0.0f &&
           w->n_followers[b] + pending <= fw_users_n_follows(w, &S->us, b) && !fw_users_follows(w, &S->us, b, a);
}

/* The new follow at r, a of creator b: a note's follow (in the world already) or a suggested
 * follow (parts/suggest.c: pending, unless a followed b from the feed in the same tick, which
 * was the chance). 0 when r is neither. */
static int new_follow(const fw_sim *S, const fw_record *r, uint32_t *a, uint32_t *b, uint32_t *pending)
{
    if (r->kind == FW_RECORD_EVENT && r->u.ev.type == FW_EV_FOLLOW) {
        *a = r->u.ev.user;
        *b = S->w.note_info[r->u.ev.note].creator;
        *pending = 0;
        return 1;
    }
    if (r->kind != FW_RECORD_FOLLOW || r->aux != FW_FOLLOW_SUGGESTED)
        return 0;
    *a = r->u.follow.user;
    *b = r->u.follow.creator;
    *pending = 1;
    return !fw_users_follows(&S->w, &S->us, *a, *b);
}

static fw_err followback_before_log(fw_sim *S, fw_part_inst *p, fw_recbuf *log)
{
    (void)S;
    followback_state *st = p->state;
    for (size_t k = 0; k < st->waiting.n; k++)
        if (fw_recbuf_push(log, &st->waiting.v[k]))
            return FW_ERR_NOMEM;
    st->waiting.n = 0;
    return FW_OK;
}

/* The log's follow-backs, into the world's graph and the per-user counts the A/B tests read
 * (the follower's follows, the creator's follows received, as for a follow from the feed). */
static fw_err apply_follow_backs(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    uint32_t *const *agg = fw_sim_aggs(S);
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_FOLLOW || rec[k].aux != FW_FOLLOW_BACK)
            continue;   /* not a follow-back: a suggested follow (parts/suggest.c) */
        uint32_t b = rec[k].u.follow.user, a = rec[k].u.follow.creator;
        if (fw_users_follows(&S->w, &S->us, b, a))
            continue;   /* followed from the feed in the same tick */
        if (fw_u32list_push(&S->us.new_follows[b], a))
            return FW_ERR_NOMEM;
        S->w.n_followers[a]++;
        agg[FW_UM_follows][b]++;
        agg[FW_UM_follows_received][a]++;
        fw_sim_row(S, b)[p->base + C_follow_backs]++;
    }
    return FW_OK;
}

static fw_err followback_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    followback_state *st = p->state;
    fw_err rc = apply_follow_backs(S, p, rec, n);
    uint32_t sought = FW_NONE;
    for (size_t k = 0; k < n && rc == FW_OK; k++) {
        uint32_t a, b, pending;
        if (!new_follow(S, &rec[k], &a, &b, &pending) || !may_follow_back(S, a, b, pending))
            continue;
        fw_sim_row(S, b)[p->base + C_follow_back_chances]++;
        if (a != sought) {
            fw_rng_seek(st->rng, S->sc->seed, FW_RNG_FOLLOW_BACK, a, (uint32_t)S->abs_tick);
            sought = a;
        }
        if (!(gsl_rng_uniform(st->rng) < S->model[fw_sim_live_cell(S, b)].cfg.follow_back))
            continue;
        fw_record r = {.kind = FW_RECORD_FOLLOW, .aux = FW_FOLLOW_BACK, .u.follow = {.user = b, .creator = a, .tick = S->abs_tick}};
        if (fw_recbuf_push(&st->waiting, &r))
            rc = FW_ERR_NOMEM;
    }
    return rc;
}

static fw_err followback_day_close(fw_sim *S, fw_part_inst *p)
{
    (void)p;
    return fw_sim_check_followers(S);
}

static void followback_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days,
                               FILE *out)
{
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * S->n_counters + p->base];
        fprintf(out, "  %-12s follow-backs: %.1f a day (of %.1f chances a day)\n", S->sc->arms[a].name,
                c[C_follow_backs] / days, c[C_follow_back_chances] / days);
    }
}

/* The follow-backs decided at the day's last barrier wait for the next day's first: each as
 * its user, creator and tick (a record's union and padding are indeterminate; the kind and
 * tag are the same for all). Loading, one at a time, so a crafted count fails when the file
 * runs out rather than reserving room for it. Skipped: the stream (sought per follower and
 * tick). */
static void followback_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    followback_state *st = p->state;
    uint32_t n_users = S->w.n_users;
    size_t n = st->waiting.n;
    fw_snap_size(s, &n);
    if (fw_snap_loading(s))
        st->waiting.n = 0;
    for (size_t k = 0; k < n && !fw_snap_failed(s); k++) {
        fw_record r = {.kind = FW_RECORD_FOLLOW, .aux = FW_FOLLOW_BACK};
        if (!fw_snap_loading(s))
            r = st->waiting.v[k];
        fw_snap_index(s, &r.u.follow.user, n_users, n_users);
        fw_snap_index(s, &r.u.follow.creator, n_users, n_users);
        fw_snap_tick(s, &r.u.follow.tick, 0, "a follow-back's follow");
        if (!fw_snap_loading(s) || fw_snap_failed(s))
            continue;
        if (S->w.creator_of[r.u.follow.creator] < 0)
            fw_snap_fail(s, "a follow-back of user %u, no creator", r.u.follow.creator);
        else if (fw_recbuf_push(&st->waiting, &r))
            fw_snap_fail(s, "out of memory for %zu follow-backs", k + 1);
    }
}

const fw_part fw_followback_part = {
    .name = "followback",
    FW_PART_COUNTERS_AND_RATES,
    .active = followback_active,
    .state_size = sizeof(followback_state),
    .create = followback_create,
    .destroy = followback_destroy,
    .before_log = followback_before_log,
    .after_log = followback_after_log,
    .day_close = followback_day_close,
    .summary = followback_summary,
    .snap = followback_snap,
};
