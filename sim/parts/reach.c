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

static fw_err reach_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    reach_state *st = p->state;
    uint32_t *const *got = fw_sim_aggs(S);   /* what creators receive, this period */
    if (shown_reserve(S, st, S->w.n_notes) != FW_OK)
        return FW_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_EVENT)
            continue;
        const fw_event *x = &rec[k].u.ev;
        if (FW_EV_TYPE(x->type) == FW_EV_LIKE)
            S->w.note_likes[x->note]++;   /* the visible count (social proof reads it): ads' too */
        if (x->type & (FW_EV_SEARCH | FW_EV_AD))
            continue;   /* search and ad engagement: for the engine, not the feed's exposure or creators' counts */
        uint32_t cu = S->w.note_info[x->note].creator;
        if (x->type == FW_EV_IMPRESSION) {
            uint32_t cell = S->cell_of[x->user];
            if (S->w.n_followers[cu] < 10)
                fw_sim_row(S, x->user)[p->base + C_small_creator_impressions]++;
            int32_t ci = S->w.creator_of[cu];
            for (uint32_t l = 0; l < S->asg.n_layers; l++) {
                uint32_t a = S->asg.cell_arm[cell][l];
                st->shown[(size_t)a * st->shown_words + x->note / 64] |= UINT64_C(1) << (x->note % 64);
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
        if (x->type == FW_EV_FOLLOW) {
            if (fw_u32list_push(&S->us.new_follows[x->user], cu))
                return FW_ERR_NOMEM;
            S->w.n_followers[cu]++;
        }
    }
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
