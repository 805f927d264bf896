/* The reach part: what notes and creators reach in the feed.
 *  - Barrier (in the tick's user order): what creators receive (impressions, reads,
 *    interactions, new followers, in the per-user counts), the follows users made (the
 *    world's follower counts, each user's follow list), and each arm's feed exposure: the
 *    notes shown and the impressions per creator; and the notes' visible like counts. A creator's follower count is read and
 *    grown in that one pass, so an impression counts as a new creator's by the followers the
 *    creator had at that point of the log.
 *  - Day end: per arm, the coverage of published notes and the Gini of impressions over
 *    creators, as integer counters (exact for any thread count).
 * Draws nothing. */
#include <stdlib.h>
#include <string.h>

#include "driver/clock.h"
#include "driver/part.h"

#define REACH_COUNTERS(X)                                                                      \
    X(notes_shown, "notes", "distinct notes the arm's users were shown on the day")            \
    X(notes_live, "notes", "notes published by the day's end (coverage denominator)")          \
    X(small_creator_impressions, "notes",                                                      \
      "impressions of notes whose creator had fewer than 10 followers (new creators)")         \
    X(gini_num, "1", "numerator of the Gini of the arm's impressions over all creators: "      \
      "2 sum_i i x_(i) - (n + 1) sum x, x sorted ascending")                                   \
    X(gini_den, "1", "denominator of that Gini: n sum x")

FW_DECLARE_COUNTERS(REACH_COUNTERS);

static const fw_rate_desc rates[] = {
    {"coverage", "notes_shown", "notes_live", 1.0, "1", "share of published notes shown at least once"},
    {"creator_gini", "gini_num", "gini_den", 1.0, "1",
     "Gini of impressions over creators (0 = equal, 1 = one creator gets all)"},
    {"new_creator_share", "small_creator_impressions", "impressions", 1.0, "1",
     "share of impressions on creators with fewer than 10 followers"},
};

typedef struct reach_state {
    /* Per-arm exposure of the day: notes shown (bitmap) and impressions per creator. */
    uint64_t *shown;             /* [n_arms * shown_words] */
    size_t shown_words;
    uint32_t *creator_impr;      /* [n_arms * n_creators] */
    uint32_t *gini_scratch;      /* [n_creators] */
    uint32_t *cu;                /* [cap_cu] the barrier's scratch: each record's creator */
    size_t cap_cu;
    uint64_t *small;             /* [threads * n_cells] the barrier's per-part counts */
} reach_state;

/* A new day's exposure. */
static fw_err reach_day_start(fw_sim *S, fw_part_inst *p)
{
    reach_state *st = p->state;
    /* Both are NULL in a world without notes or creators (memset of NULL is undefined). */
    if (st->shown)
        memset(st->shown, 0, (size_t)S->n_arms * st->shown_words * sizeof *st->shown);
    if (st->creator_impr)
        memset(st->creator_impr, 0, (size_t)S->n_arms * S->w.n_creators * sizeof *st->creator_impr);
    return FW_OK;
}

/* Room in the exposure bitmap for note ids below n_notes. */
static fw_err shown_reserve(fw_sim *S, reach_state *st, size_t n_notes)
{
    size_t words = (n_notes + 63) / 64;
    if (words <= st->shown_words)
        return FW_OK;
    words += words / 4 + 16;
    uint64_t *b = calloc((size_t)S->n_arms * words, sizeof *b);
    if (!b)
        return FW_ERR_NOMEM;
    for (uint32_t a = 0; a < S->n_arms && st->shown; a++)
        memcpy(&b[(size_t)a * words], &st->shown[(size_t)a * st->shown_words], st->shown_words * sizeof *b);
    free(st->shown);
    st->shown = b;
    st->shown_words = words;
    return FW_OK;
}

/* The barrier's pass, cut so that it runs in parallel with the same results. A creator's
 * follower count is read (a new creator's impressions) and grown (follows) in log order, so
 * the events are dealt to parts by creator (blocks of 64 ids round-robin, one part per
 * thread), each walking the log for its creators' events in order: per creator the same
 * sequence. What a part writes is its creators' (counts, received, follower counts), its
 * notes' (each note has one creator: likes), bits of the exposure map (words shared with
 * other creators' notes: an atomic OR, which commutes) and its own per-cell counts, summed
 * after. The users' follow lists grow after, in log order, in one pass over the follows. */
typedef struct reach_job {
    fw_sim *S;
    fw_part_inst *p;
    const fw_record *rec;
    size_t n;
    uint32_t n_part;
} reach_job;

/* Each event's creator (FW_NONE: not an event). */
static void k_reach_creators(void *arg, size_t b, size_t end, int slot)
{
    const reach_job *j = arg;
    reach_state *st = j->p->state;
    (void)slot;
    for (size_t k = b; k < end; k++)
        st->cu[k] = j->rec[k].kind == FW_RECORD_EVENT ? j->S->w.note_info[j->rec[k].u.ev.note].creator : FW_NONE;
}

static void k_reach_parts(void *arg, size_t b, size_t end, int slot)
{
    const reach_job *j = arg;
    fw_sim *S = j->S;
    reach_state *st = j->p->state;
    uint32_t *const *got = fw_sim_aggs(S);   /* what creators receive, this period */
    (void)slot;
    for (size_t part = b; part < end; part++) {
        uint64_t *small = &st->small[part * S->n_cells];
        memset(small, 0, S->n_cells * sizeof *small);
        for (size_t k = 0; k < j->n; k++) {
            uint32_t cu = st->cu[k];
            if (cu == FW_NONE || (cu >> 6) % j->n_part != part)
                continue;
            const fw_event *x = &j->rec[k].u.ev;
            if (FW_EV_TYPE(x->type) == FW_EV_LIKE)
                S->w.note_likes[x->note]++;   /* the visible count (social proof reads it): ads' too */
            if (x->type & (FW_EV_SEARCH | FW_EV_AD))
                continue;   /* search and ad engagement: for the engine, not the feed's exposure or creators' counts */
            if (x->type == FW_EV_IMPRESSION) {
                uint32_t cell = S->cell_of[x->user];
                if (S->w.n_followers[cu] < 10)
                    small[cell]++;
                int32_t ci = S->w.creator_of[cu];
                for (uint32_t l = 0; l < S->asg.n_layers; l++) {
                    uint32_t a = S->asg.cell_arm[cell][l];
                    __atomic_fetch_or(&st->shown[(size_t)a * st->shown_words + x->note / 64], UINT64_C(1) << (x->note % 64),
                                      __ATOMIC_RELAXED);
                    if (ci >= 0)
                        st->creator_impr[(size_t)a * S->w.n_creators + (uint32_t)ci]++;
                }
            }
            switch (x->type) {
            case FW_EV_IMPRESSION: got[FW_UM_impressions_received][cu]++; break;
            case FW_EV_OPEN: got[FW_UM_opens_received][cu]++; break;
            case FW_EV_FOLLOW: got[FW_UM_follows_received][cu]++; break;
            default: got[FW_UM_interactions_received][cu]++; break;
            }
            if (x->type == FW_EV_FOLLOW)
                S->w.n_followers[cu]++;
        }
    }
}

static fw_err reach_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    reach_state *st = p->state;
    if (shown_reserve(S, st, S->w.n_notes) != FW_OK)
        return FW_ERR_NOMEM;
    reach_job j = {.S = S, .p = p, .rec = rec, .n = n, .n_part = S->n_threads > 1 ? (uint32_t)S->n_threads : 1};
    if (n > st->cap_cu) {
        uint32_t *v = realloc(st->cu, n * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        st->cu = v;
        st->cap_cu = n;
    }
    if (!st->small && !(st->small = calloc((size_t)j.n_part * S->n_cells, sizeof *st->small)))
        return FW_ERR_NOMEM;
    fw_par_for(n, 4096, k_reach_creators, &j);
    fw_par_for(j.n_part, 1, k_reach_parts, &j);
    for (uint32_t part = 0; part < j.n_part; part++)
        for (uint32_t c = 0; c < S->n_cells; c++)
            S->th[0].counters[(size_t)c * S->n_counters + p->base + C_small_creator_impressions] +=
                st->small[(size_t)part * S->n_cells + c];
    for (size_t k = 0; k < n; k++)
        if (rec[k].kind == FW_RECORD_EVENT && rec[k].u.ev.type == FW_EV_FOLLOW &&
            fw_u32list_push(&S->us.new_follows[rec[k].u.ev.user], st->cu[k]))
            return FW_ERR_NOMEM;
    return FW_OK;
}

static int cmp_u32_asc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Per-arm coverage and creator concentration of the day. The Gini of x over n creators is
 * (2 sum_i i x_(i) - (n + 1) sum x) / (n sum x), i = 1..n ascending. */
static fw_err reach_day_end(fw_sim *S, fw_part_inst *p, uint64_t *day)
{
    reach_state *st = p->state;
    uint32_t nc = S->w.n_creators;
    for (uint32_t a = 0; a < S->n_arms; a++) {
        uint64_t *c = &day[(size_t)a * S->n_counters + p->base];
        uint64_t shown = 0;
        for (size_t k = 0; k < st->shown_words; k++)
            shown += (uint64_t)__builtin_popcountll(st->shown[(size_t)a * st->shown_words + k]);
        c[C_notes_shown] = shown;
        c[C_notes_live] = S->w.n_notes;
        memcpy(st->gini_scratch, &st->creator_impr[(size_t)a * nc], (size_t)nc * sizeof *st->gini_scratch);
        qsort(st->gini_scratch, nc, sizeof *st->gini_scratch, cmp_u32_asc);
        uint64_t sum = 0, weighted = 0;
        for (uint32_t i = 0; i < nc; i++) {
            sum += st->gini_scratch[i];
            weighted += (uint64_t)(i + 1) * st->gini_scratch[i];
        }
        c[C_gini_num] = 2 * weighted - ((uint64_t)nc + 1) * sum;
        c[C_gini_den] = (uint64_t)nc * sum;
    }
    return FW_OK;
}

static void reach_destroy(fw_sim *S, fw_part_inst *p)
{
    (void)S;
    reach_state *st = p->state;
    free(st->shown);   /* grows with the notes; the rest is the run's */
    free(st->cu);
    free(st->small);
}

static fw_err reach_create(fw_sim *S, fw_part_inst *p)
{
    reach_state *st = p->state;
    if (!(st->creator_impr = fw_sim_calloc(S, (size_t)S->n_arms * S->w.n_creators, sizeof *st->creator_impr)) ||
        !(st->gini_scratch = fw_sim_calloc(S, S->w.n_creators, sizeof *st->gini_scratch)))
        return FW_ERR_NOMEM;
    return shown_reserve(S, st, S->w.n_notes);
}

const fw_part fw_reach_part = {
    .name = "reach",
    FW_PART_COUNTERS_AND_RATES,
    .state_size = sizeof(reach_state),
    .create = reach_create,
    .destroy = reach_destroy,
    .day_start = reach_day_start,
    .after_log = reach_after_log,
    .day_end = reach_day_end,
    /* Nothing across days: the exposure (shown, creator_impr) starts afresh at every day's
     * start, gini_scratch is scratch, shown_words only room; what reach writes elsewhere
     * (likes, follower counts, follows, per-user counts) is the world's, the users' and the
     * aggregates'. */
    .snap = fw_part_no_state,
};
