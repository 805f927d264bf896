/* The follow-suggestion part (issue 18): a platform's "creators you may like", from which a
 * user sometimes follows one (behaviour.suggest_follow), so that a run's graph also grows by
 * the mechanisms that grew the day-0 graph (model/world.c, follow_growth), not by engagement
 * alone.
 * Owns: the candidate urn (cumulative follower weights of the creators still present,
 * rebuilt at every barrier), the present creators' list and their interests as unit vectors
 * (taken at the day's start), the per-thread streams. Borrows: the world's follow graph (adds
 * edges, raises follower counts at barriers), the users' run follows and interests. Never
 * touches: the feed's follows, follow-backs (the followback part's records are told apart by
 * their aux tag, FW_FOLLOW_BACK against this part's FW_FOLLOW_SUGGESTED; that part reads this
 * part's records too, as chances of a follow-back, like the feed's follows).
 *
 * The rule, and why. Platforms suggest accounts to follow (Twitter's "Who to Follow" creates
 * millions of follows a day: Gupta et al. 2013, WWW), and such recommenders mostly walk the
 * graph (friends of friends), which recommends accounts in proportion to their followers: Su,
 * Sharma & Goel (2016, WWW, "The effect of recommendations on network structure") found that
 * after Twitter introduced its suggestions every account gained followers but the most
 * followed gained more than the rest (rich get richer). So the suggestions here are drawn as the
 * generator draws a follow's candidates, which keeps the run's growth the day-0 graph's:
 *  - preferential attachment (Price 1976; Barabasi & Albert 1999): a candidate is a creator
 *    still on the platform (p_active above 0) drawn in proportion to followers + 1, or, with
 *    probability world.follow_uniform, uniformly among them (discovery that ignores
 *    popularity; Dorogovtsev, Mendes & Samukhin 2000);
 *  - interest homophily (Papadopoulos et al. 2012, Nature 489): the user is shown
 *    world.follow_choices candidates and follows the one whose interests are nearest theirs
 *    (cosine of the interest vectors, in the generator's integer form).
 * A platform does not suggest the user themself or a creator they follow: a candidate that is
 * either is drawn again (at most 16 times; a slot that finds none is left empty). No knob sets
 * the shape of the follower distribution: as before day 0, the tail is what growth does.
 * behaviour.suggest_follow is the chance that a session ends with a follow of one suggested
 * creator: per session, because suggestions are shown in the app, so a user who comes back more
 * often sees more of them. The live cell's knob applies (arm scope, by the follower's arm: the
 * suggestions are shown to them and the follow is theirs), and the counters go to the
 * follower's assigned cell.
 *
 * Where it acts:
 *  - At a day's start the present creators, their unit interest vectors and their sum are
 *    taken (arrivals and leavers change at a day's close; interests drift in sessions, so a
 *    session must not read another user's row); at the day's start and every tick's end the
 *    cumulative weights (followers + 1 of present creators, 0 of the others) are rebuilt.
 *  - In a session (after every other part's browse step) the user draws a coin from
 *    FW_RNG_SUGGEST (entity user, day = tick), whatever the knob, so arms share the draws; when
 *    it is under suggest_follow, the candidates and the pick, from the same stream, and an
 *    FW_RECORD_FOLLOW (aux FW_FOLLOW_SUGGESTED) goes into the tick's log. The session reads
 *    only the part's barrier-built arrays, the user's own rows and follow list: identical for
 *    any thread count.
 *  - At the barrier the engine applies it with the other follows (a follow already made in
 *    that tick, say from the feed, changes nothing); after the log this part adds the same
 *    ones to the world (new_follows, n_followers), the per-user follows the A/B tests read,
 *    and its counters, in the log's order.
 *  - At a day's close every creator's follower count in the world is checked against the
 *    engine's.
 * A creator's suggested follow of a small creator is a chance of a follow-back (the followback
 * part, as in the generator's reciprocity). Not done: the suggestions know nothing the platform
 * learnt (no friends-of-friends walk: the urn stands for its degree bias). */
#include <stdlib.h>

#include "driver/part.h"
#include "flywheel/market.h"
#include "model/rng.h"

#define SUGGEST_COUNTERS(X)                                                                        \
    X(suggest_sessions, "sessions", "sessions shown follow suggestions (at least one creator to suggest)")  \
    X(suggested_follows, "follows", "follows of a suggested creator (behaviour.suggest_follow), by the follower's arm") \
    X(suggested_match_micro, "1e-6",                                                               \
      "sum over suggested follows of the cosine of the follower's and the creator's interests, in millionths") \
    X(uniform_match_micro, "1e-6",                                                                 \
      "sum over suggested follows of the mean cosine of the follower's interests with a creator drawn uniformly, " \
      "in millionths (the homophily's baseline)")

FW_DECLARE_COUNTERS(SUGGEST_COUNTERS);

static const fw_rate_desc rates[] = {
    {"suggest_follow_rate", "suggested_follows", "suggest_sessions", 1.0, "1",
     "suggested follows / sessions shown suggestions"},
    {"suggested_interest_match", "suggested_match_micro", "suggested_follows", 1e-6, "1",
     "mean interest cosine of follower and suggested creator followed"},
    {"uniform_interest_match", "uniform_match_micro", "suggested_follows", 1e-6, "1",
     "mean interest cosine of the same followers with a uniformly drawn creator"},
};

/* Tries to draw one candidate that may be suggested. */
#define SUGGEST_TRIES 16

typedef struct suggest_state {
    uint64_t *cum;        /* [n_creators + 1]: cum[c + 1] - cum[c] = followers + 1, 0 if gone */
    uint32_t *present;    /* [n_creators]: the present creators' indexes, ascending */
    uint32_t n_present;
    uint8_t *unit;        /* [n_creators * n_topics]: interests as unit vectors (day start) */
    uint64_t *unit_sum;   /* [n_topics]: the present creators' unit vectors summed */
    uint8_t **user_unit;  /* [n_threads][n_topics]: the session user's unit vector */
    gsl_rng **rng;        /* [n_threads]: FW_RNG_SUGGEST, sought per (user, tick) */
} suggest_state;

static int suggest_active(const fw_sim *S)
{
    for (uint32_t c = 0; c < S->n_cells; c++)
        if (S->model[c].cfg.suggest_follow > 0.0)
            return 1;
    return 0;
}

static fw_err suggest_create(fw_sim *S, fw_part_inst *p)
{
    suggest_state *st = p->state;
    size_t nc = S->w.n_creators, T = S->w.n_topics;
    if (!(st->cum = fw_sim_calloc(S, nc + 1, sizeof *st->cum)) ||
        !(st->present = fw_sim_calloc(S, nc ? nc : 1, sizeof *st->present)) ||
        !(st->unit = fw_sim_calloc(S, nc * T + 1, 1)) || !(st->unit_sum = fw_sim_calloc(S, T + 1, sizeof *st->unit_sum)) ||
        !(st->user_unit = fw_sim_calloc(S, (size_t)S->n_threads, sizeof *st->user_unit)) ||
        !(st->rng = fw_sim_thread_rngs(S, FW_RNG_SUGGEST)))
        return FW_ERR_NOMEM;
    for (int k = 0; k < S->n_threads; k++)
        if (!(st->user_unit[k] = fw_sim_calloc(S, T + 1, 1)))
            return FW_ERR_NOMEM;
    return FW_OK;
}

/* The urn: each present creator's followers + 1, cumulated in creator order. */
static void rebuild_weights(const fw_sim *S, suggest_state *st)
{
    const fw_world *w = &S->w;
    for (uint32_t c = 0; c < w->n_creators; c++) {
        uint32_t cu = w->creator_user[c];
        st->cum[c + 1] = st->cum[c] + (w->p_active[cu] > 0.0f ? (uint64_t)w->n_followers[cu] + 1 : 0);
    }
}

static fw_err suggest_day_start(fw_sim *S, fw_part_inst *p)
{
    suggest_state *st = p->state;
    const fw_world *w = &S->w;
    uint32_t T = w->n_topics;
    st->n_present = 0;
    for (uint32_t t = 0; t < T; t++)
        st->unit_sum[t] = 0;
    for (uint32_t c = 0; c < w->n_creators; c++) {
        uint32_t cu = w->creator_user[c];
        uint8_t *v = &st->unit[(size_t)c * T];
        fw_world_unit_vector(&w->interest[(size_t)cu * T], T, v);
        if (!(w->p_active[cu] > 0.0f))
            continue;
        st->present[st->n_present++] = c;
        for (uint32_t t = 0; t < T; t++)
            st->unit_sum[t] += v[t];
    }
    rebuild_weights(S, st);
    return FW_OK;
}

static fw_err suggest_tick_end(fw_sim *S, fw_part_inst *p)
{
    rebuild_weights(S, p->state);
    return FW_OK;
}

static void suggest_user_tick(fw_session *ss, fw_part_inst *p)
{
    suggest_state *st = p->state;
    fw_rng_seek(st->rng[ss->slot], ss->seed, FW_RNG_SUGGEST, ss->user, (uint32_t)ss->tick);
}

/* 64 random bits. */
static uint64_t draw64(gsl_rng *r)
{
    uint64_t hi = gsl_rng_get(r);
    return hi << 32 | gsl_rng_get(r);
}

/* A position in [0, n) from 64 random bits x (multiply-shift; bias below n / 2^64). */
static uint64_t below(uint64_t x, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

/* One candidate (a creator index): uniformly among the present creators with probability
 * p_uniform, else from the urn (the creator whose weight holds a uniform point of the total). */
static uint32_t draw_candidate(const suggest_state *st, uint32_t nc, gsl_rng *r, double p_uniform)
{
    if (gsl_rng_uniform(r) < p_uniform)
        return st->present[below(draw64(r), st->n_present)];
    uint64_t at = below(draw64(r), st->cum[nc]);
    uint32_t lo = 0, hi = nc - 1;   /* the first c with cum[c + 1] > at */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (st->cum[mid + 1] > at)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Whether the session's user already chose creator cu from a suggestion this tick. */
static int chosen_this_tick(const fw_session *ss, uint32_t cu)
{
    for (size_t k = ss->rec_begin; k < ss->rec->n; k++) {
        const fw_record *r = &ss->rec->v[k];
        if (r->kind == FW_RECORD_FOLLOW && r->u.follow.creator == cu)
            return 1;
    }
    return 0;
}

/* Whether creator index c may be suggested to the session's user. */
static int may_suggest(const fw_session *ss, uint32_t c)
{
    uint32_t cu = ss->w->creator_user[c];
    return cu != ss->user && !fw_users_follows(ss->w, ss->us, ss->user, cu) && !chosen_this_tick(ss, cu);
}

/* The suggestions and the one the user follows (its user id), or FW_NONE when there is none
 * to suggest: of follow_choices candidates, the one nearest the user's interests (the first
 * among equals). */
static uint32_t pick(fw_session *ss, const suggest_state *st, gsl_rng *r)
{
    const fw_world *w = ss->w;
    const fw_world_cfg *wc = &ss->S->sc->world;
    uint32_t T = w->n_topics, choices = wc->follow_choices, best = FW_NONE, best_cos = 0;
    const uint8_t *me = st->user_unit[ss->slot];
    fw_world_unit_vector(&w->interest[(size_t)ss->user * T], T, st->user_unit[ss->slot]);
    for (uint32_t j = 0; j < choices; j++)
        for (int attempt = 0; attempt < SUGGEST_TRIES; attempt++) {
            uint32_t c = draw_candidate(st, w->n_creators, r, wc->follow_uniform);
            if (!may_suggest(ss, c))
                continue;
            uint32_t cos = fw_world_unit_cos(me, &st->unit[(size_t)c * T], T);
            if (best == FW_NONE || cos > best_cos) {
                best = c;
                best_cos = cos;
            }
            break;
        }
    return best == FW_NONE ? FW_NONE : w->creator_user[best];
}

static int suggest_browse(fw_session *ss, fw_part_inst *p)
{
    suggest_state *st = p->state;
    gsl_rng *r = st->rng[ss->slot];
    if (st->n_present == 0 || st->cum[ss->w->n_creators] == 0)
        return 0;
    ss->row[p->base + C_suggest_sessions]++;
    if (!(gsl_rng_uniform(r) < ss->m->cfg.suggest_follow))
        return 0;
    uint32_t cu = pick(ss, st, r);
    if (cu == FW_NONE)
        return 0;
    fw_record rec = {.kind = FW_RECORD_FOLLOW,
                     .aux = FW_FOLLOW_SUGGESTED,
                     .u.follow = {.user = ss->user, .creator = cu, .tick = ss->tick}};
    return fw_recbuf_push(ss->rec, &rec);
}

/* The homophily's measure of one suggested follow (u of creator index c): the cosine of their
 * interests and the mean cosine of u's with the present creators', in millionths. */
static void count_match(fw_sim *S, const suggest_state *st, uint64_t *row, uint32_t u, uint32_t c)
{
    uint32_t T = S->w.n_topics;
    uint8_t *me = st->user_unit[0];
    fw_world_unit_vector(&S->w.interest[(size_t)u * T], T, me);
    double scale = 1e6 / (255.0 * 255.0), sum = 0.0;
    for (uint32_t t = 0; t < T; t++)
        sum += (double)me[t] * (double)st->unit_sum[t];
    row[C_suggested_match_micro] += (uint64_t)(fw_world_unit_cos(me, &st->unit[(size_t)c * T], T) * scale + 0.5);
    row[C_uniform_match_micro] += (uint64_t)(sum / st->n_present * scale + 0.5);
}

/* The log's suggested follows, into the world's graph, the per-user counts and the counters. */
static fw_err suggest_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    suggest_state *st = p->state;
    uint32_t *const *agg = fw_sim_aggs(S);
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_FOLLOW || rec[k].aux != FW_FOLLOW_SUGGESTED)
            continue;
        uint32_t u = rec[k].u.follow.user, cu = rec[k].u.follow.creator;
        if (fw_users_follows(&S->w, &S->us, u, cu))
            continue;   /* followed from the feed in the same tick */
        if (fw_u32list_push(&S->us.new_follows[u], cu))
            return FW_ERR_NOMEM;
        S->w.n_followers[cu]++;
        agg[FW_UM_follows][u]++;
        agg[FW_UM_follows_received][cu]++;
        uint64_t *row = fw_sim_row(S, u) + p->base;
        row[C_suggested_follows]++;
        count_match(S, st, row, u, (uint32_t)S->w.creator_of[cu]);
    }
    return FW_OK;
}

static fw_err suggest_day_close(fw_sim *S, fw_part_inst *p)
{
    (void)p;
    return fw_sim_check_followers(S);
}

static void suggest_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * S->n_counters + p->base];
        double f = (double)c[C_suggested_follows];
        fprintf(out, "  %-12s suggested follows: %.1f a day (of %.0f sessions a day); interest match %.3f (uniform %.3f)\n",
                S->sc->arms[a].name, f / days, c[C_suggest_sessions] / days,
                f > 0 ? c[C_suggested_match_micro] / f * 1e-6 : 0.0, f > 0 ? c[C_uniform_match_micro] / f * 1e-6 : 0.0);
    }
}

const fw_part fw_suggest_part = {
    .name = "suggest",
    FW_PART_COUNTERS_AND_RATES,
    .active = suggest_active,
    .state_size = sizeof(suggest_state),
    .create = suggest_create,
    .day_start = suggest_day_start,
    .user_tick = suggest_user_tick,
    .session_browse = suggest_browse,
    .after_log = suggest_after_log,
    .tick_end = suggest_tick_end,
    .day_close = suggest_day_close,
    .summary = suggest_summary,
    /* Nothing across days: the present creators, their unit vectors and the urn are taken
     * again at every day's start (the urn at every tick's end too), the user's vector and
     * the streams before every use. */
    .snap = fw_part_no_state,
};
