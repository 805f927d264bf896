/* The aigc part: the AIGC tool's effect on notes (parts/aigc.h) and what the day's new notes
 * look like, per arm of their creators.
 *  - Day start, after the notes and the market queued the day's notes: per arm, the
 *    creators and adopters, the day's new notes and AI-generated ones, and homogenisation:
 *    the mean pairwise cosine similarity of the embeddings of the day's new notes of the
 *    arm's creators, over every pair when they are at most HOMOG_PAIRS, else over HOMOG_PAIRS
 *    pairs drawn uniformly (stream AIGC, entity 0xffff0000 + arm, day); likewise among the
 *    AI-generated ones alone. Written as the series /aigc/arms/<arm>/ (one row a day).
 *  - Runs only when some arm adopts the tool (fw_aigc_on): otherwise the result file is as
 *    before. The platform's side (detector, labels, down-rank) is the engine's aigc module,
 *    whose day series are /aigc/days/.
 *  - Barrier: per arm of the viewer, feed impressions and reads of AI-generated notes and
 *    impressions of down-ranked ones (counters under /days/<arm>/).
 *  - A warm-up (world.warmup_days) is history before the tool: nobody adopts then, and its
 *    days push no row; the platform's detector sees the warm-up's human notes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "driver/part.h"
#include "flywheel/aigc.h"
#include "flywheel/market.h"
#include "io/recorder.h"
#include "model/rng.h"
#include "parts/aigc.h"

enum { HOMOG_PAIRS = 4000 };

/* What the arm's users saw of AI-generated notes (feed, not search, as the reach part). */
#define AIGC_COUNTERS(X)                                                                          \
    X(aigc_impressions, "impressions", "feed impressions of AI-generated notes")                   \
    X(aigc_opens, "reads", "reads of AI-generated notes from the feed")                            \
    X(downranked_impressions, "impressions",                                                      \
      "feed impressions of notes the detector flagged and the creator did not declare (down-ranked where the arm's engine.aigc.downrank_unlabelled < 1)")

FW_DECLARE_COUNTERS(AIGC_COUNTERS);

static const fw_rate_desc rates[] = {
    {"aigc_impression_share", "aigc_impressions", "impressions", 1.0, "1", "share of the arm's feed impressions on AI-generated notes"},
    {"aigc_ctr", "aigc_opens", "aigc_impressions", 1.0, "reads/impression", "CTR of AI-generated notes in the feed"},
    {"downranked_impression_share", "downranked_impressions", "impressions", 1.0, "1",
     "share of the arm's feed impressions on flagged, undeclared notes"},
};

int fw_aigc_on(const fw_scenario *sc)
{
    if (sc->behaviour.aigc_adoption_per_day > 0.0)
        return 1;
    for (uint32_t a = 0; a < sc->n_arms; a++)
        if (sc->arms[a].behaviour.aigc_adoption_per_day > 0.0)
            return 1;
    return 0;
}

fw_err fw_aigc_tool_init(fw_sim *S, fw_aigc_tool *t)
{
    memset(t, 0, sizeof *t);
    if (!fw_aigc_on(S->sc))
        return FW_OK;
    const fw_world *w = &S->w;
    if (!(t->rng = fw_sim_rng(S, FW_RNG_AIGC)) ||
        !(t->tmpl = fw_sim_calloc(S, (size_t)w->n_topics * w->dim, sizeof *t->tmpl)))
        return FW_ERR_NOMEM;
    /* The tool's house style: one vector for every topic (entity n_topics), so its notes
     * resemble each other across topics too, plus the topic's centroid. */
    fw_rng_seek(t->rng, S->sc->seed, FW_RNG_AIGC, w->n_topics, 0xfffffff0u);
    for (uint32_t d = 0; d < w->dim; d++) {
        float style = (float)gsl_ran_gaussian(t->rng, 0.6);
        for (uint32_t k = 0; k < w->n_topics; k++)
            t->tmpl[(size_t)k * w->dim + d] = w->topic_centroid[(size_t)k * w->dim + d] + style;
    }
    return FW_OK;
}

/* The share of a creator's cell that has adopted by today. The tool launches at day 0: a
 * warm-up's days (2^32 - W ..) come before it, so nobody has adopted then (and day + 1 would
 * wrap to the adoption draw's key on the last of them). */
static double adoption(const fw_sim *S, uint32_t user)
{
    if (S->warm)
        return 0.0;
    uint32_t cell = S->day < S->sc->experiment_pre_days ? 0 : S->cell_of[user];
    double share = (S->day + 1.0) * S->model[cell].cfg.aigc_adoption_per_day;
    return share < 1.0 ? share : 1.0;
}

int fw_aigc_adopted(fw_aigc_tool *t, const fw_sim *S, uint32_t c)
{
    if (t->tmpl == NULL)
        return 0;
    uint32_t user = S->w.creator_user[c];
    double share = adoption(S, user);
    if (share <= 0.0)
        return 0;
    fw_rng_seek(t->rng, S->sc->seed, FW_RNG_AIGC, user, 0);
    if (!(gsl_rng_uniform(t->rng) < share))
        return 0;
    fw_rng_seek(t->rng, S->sc->seed, FW_RNG_AIGC, user, S->day + 1);
    return 1;
}

void fw_aigc_make(fw_aigc_tool *t, const fw_sim *S, fw_pending_note *pn, float *emb)
{
    const fw_world_cfg *wc = &S->sc->world;
    const fw_world *w = &S->w;
    uint32_t c = (uint32_t)w->creator_of[pn->note.info.creator];
    double skill = w->creator_skill[c], resid = pn->note.quality - skill;
    double scale = wc->note_quality_sigma > 0.0 ? wc->aigc_quality_sigma / wc->note_quality_sigma : 0.0;
    pn->note.quality = (float)(skill + wc->aigc_quality_shift + resid * scale);
    const float *tp = &t->tmpl[(size_t)pn->note.info.topic * w->dim];
    float h = (float)wc->aigc_homogenise;
    for (uint32_t d = 0; d < w->dim; d++)
        emb[d] = (1.0f - h) * emb[d] + h * tp[d];
    pn->aigc = 1;
    pn->declared = gsl_rng_uniform(t->rng) < wc->aigc_declare_share;
}

/* ---- the part ------------------------------------------------------------------------- */

static const fw_counter_desc cols[] = {
    {"creators", "creators", "creators in the arm"},
    {"adopters", "creators", "of which have adopted the AIGC tool by the day"},
    {"new_notes", "notes", "notes the arm's creators wrote on the day (published then or, through the media pipeline, later)"},
    {"aigc_notes", "notes", "of which AI-generated"},
    {"homogenisation", "1", "mean pairwise cosine similarity of the embeddings of the day's new notes (sampled pairs); NaN: fewer than 2"},
    {"homogenisation_pairs", "pairs", "pairs averaged in homogenisation"},
    {"homogenisation_aigc", "1", "the same among the day's AI-generated notes only; NaN: fewer than 2"},
    {"homogenisation_human", "1", "the same among the day's human notes only; NaN: fewer than 2"},
    {"income_cents", "cents", "marketplace income the arm's creators were paid, to date (as of the day's start)"},
    {"income_gini", "1", "Gini of that income over the arm's creators (0 = equal, 1 = one creator has all; NaN: none paid)"},
};
enum { COL_creators, COL_adopters, COL_new, COL_aigc, COL_homog, COL_pairs, COL_homog_aigc, COL_homog_human,
       COL_income, COL_income_gini, COL__N };

typedef struct aigc_state {
    fw_aigc_tool probe;          /* its own stream for adoption counts (the notes part has its own) */
    gsl_rng *pairs;
    uint32_t *list;              /* [cap] pend indices of one arm's notes */
    size_t cap;
    uint32_t *series;            /* [n_arms] series ids */
    int64_t *income;             /* [n_creators] scratch: one arm's creators' incomes */
} aigc_state;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The Gini of v[0..n) (sorted here): sum_i (2i - n - 1) v_(i) / (n sum v), i from 1; NaN when
 * the sum is 0. */
static double gini_i64(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_i64);
    double sum = 0.0, weighted = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += (double)v[i];
        weighted += (2.0 * (double)(i + 1) - (double)n - 1.0) * (double)v[i];
    }
    return sum > 0.0 ? weighted / ((double)n * sum) : NAN;
}

static int aigc_active(const fw_sim *S)
{
    return fw_aigc_on(S->sc);
}

static double cosine(const float *a, const float *b, uint32_t dim)
{
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (uint32_t d = 0; d < dim; d++) {
        ab += (double)a[d] * b[d];
        aa += (double)a[d] * a[d];
        bb += (double)b[d] * b[d];
    }
    return aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
}

/* Mean cosine over every pair of list[0..n) or HOMOG_PAIRS sampled ones; NaN below 2. */
static double mean_pair_cos(const fw_sim *S, gsl_rng *r, const uint32_t *list, size_t n, uint64_t *pairs)
{
    *pairs = 0;
    if (n < 2)
        return NAN;
    const uint32_t dim = S->w.dim;
    double sum = 0.0;
    if ((uint64_t)n * (n - 1) / 2 <= HOMOG_PAIRS) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                sum += cosine(&S->pend_emb[S->pend[list[i]].emb_at], &S->pend_emb[S->pend[list[j]].emb_at], dim);
                (*pairs)++;
            }
    } else {
        for (int k = 0; k < HOMOG_PAIRS; k++) {
            size_t i = gsl_rng_uniform_int(r, n), j = gsl_rng_uniform_int(r, n - 1);
            j += j >= i;   /* a distinct second note */
            sum += cosine(&S->pend_emb[S->pend[list[i]].emb_at], &S->pend_emb[S->pend[list[j]].emb_at], dim);
            (*pairs)++;
        }
    }
    return sum / (double)*pairs;
}

/* Whether the arm a holds user u's cell (in any layer). */
static int in_arm(const fw_sim *S, uint32_t u, uint32_t a)
{
    uint32_t cell = S->cell_of[u];
    for (uint32_t l = 0; l < S->asg.n_layers; l++)
        if (S->asg.cell_arm[cell][l] == a)
            return 1;
    return 0;
}

static fw_err aigc_day_start(fw_sim *S, fw_part_inst *p)
{
    aigc_state *st = p->state;
    if (st->cap < S->n_pend) {
        uint32_t *v = realloc(st->list, S->n_pend * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        st->list = v;
        st->cap = S->n_pend;
    }
    for (uint32_t a = 0; a < S->n_arms; a++) {
        double row[COL__N] = {0};
        size_t n_inc = 0;
        for (uint32_t c = 0; c < S->w.n_creators; c++)
            if (in_arm(S, S->w.creator_user[c], a)) {
                row[COL_creators]++;
                row[COL_adopters] += fw_aigc_adopted(&st->probe, S, c);
                int64_t inc = fw_market_income(S->engine, S->w.creator_user[c]);
                st->income[n_inc++] = inc;
                row[COL_income] += (double)inc;
            }
        /* Income concentration: who the marketplace pays, among the arm's creators. */
        row[COL_income_gini] = gini_i64(st->income, n_inc);
        /* All the arm's new notes, then the AI-generated and the human ones. */
        for (int kind = 0; kind < 3; kind++) {
            size_t n = 0;
            for (size_t i = 0; i < S->n_pend; i++)
                if (in_arm(S, S->pend[i].note.info.creator, a) && (kind == 0 || (kind == 1) == (S->pend[i].aigc != 0)))
                    st->list[n++] = (uint32_t)i;
            fw_rng_seek(st->pairs, S->sc->seed, FW_RNG_AIGC, 0xffff0000u + a * 4 + (uint32_t)kind, S->day);
            uint64_t pairs;
            double m = mean_pair_cos(S, st->pairs, st->list, n, &pairs);
            if (kind == 0) {
                row[COL_new] = (double)n;
                row[COL_homog] = m;
                row[COL_pairs] = (double)pairs;
            } else if (kind == 1) {
                row[COL_aigc] = (double)n;
                row[COL_homog_aigc] = m;
            } else {
                row[COL_homog_human] = m;
            }
        }
        fw_err rc = S->rec ? fw_recorder_push(S->rec, st->series[a], row) : FW_OK;
        if (rc != FW_OK)
            return rc;
    }
    return FW_OK;
}

static fw_err aigc_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_EVENT)
            continue;
        const fw_event *x = &rec[k].u.ev;
        if (x->type != FW_EV_IMPRESSION && x->type != FW_EV_OPEN)
            continue;   /* search events carry FW_EV_SEARCH: not the feed's */
        int ai = x->note < S->cap_note_aigc && S->note_aigc[x->note];
        uint64_t *row = fw_sim_row(S, x->user);
        if (x->type == FW_EV_OPEN) {
            row[p->base + C_aigc_opens] += (uint64_t)ai;
            continue;
        }
        row[p->base + C_aigc_impressions] += (uint64_t)ai;
        row[p->base + C_downranked_impressions] += (fw_aigc_note(S->engine, x->note) & FW_AIGC_DOWNRANKED) != 0;
    }
    return FW_OK;
}

static void aigc_destroy(fw_sim *S, fw_part_inst *p)
{
    (void)S;
    aigc_state *st = p->state;
    free(st->list);
}

static fw_err aigc_create(fw_sim *S, fw_part_inst *p)
{
    aigc_state *st = p->state;
    S->track_aigc = 1;   /* fw_sim_publish keeps each note's truth for after_log */
    fw_err rc = fw_aigc_tool_init(S, &st->probe);
    if (rc != FW_OK)
        return rc;
    if (!(st->pairs = fw_sim_rng(S, FW_RNG_AIGC)) ||
        !(st->series = fw_sim_calloc(S, S->n_arms, sizeof *st->series)) ||
        !(st->income = fw_sim_calloc(S, S->w.n_creators + 1, sizeof *st->income)))
        return FW_ERR_NOMEM;
    if (!S->rec)
        return FW_OK;
    if ((rc = fw_recorder_group(S->rec, "aigc",
                                "AI-generated notes (issue 20), per arm of the notes' creators: adoption, the "
                                "day's new notes and their homogenisation")) != FW_OK)
        return rc;
    for (uint32_t a = 0; a < S->n_arms && rc == FW_OK; a++) {
        char path[160];
        snprintf(path, sizeof path, "aigc/arms/%s", S->sc->arms[a].name);
        rc = fw_recorder_series(S->rec, path, NULL, FW_REC_F64, COL__N, cols, &st->series[a]);
    }
    return rc;
}

/* S->note_aigc, which only this part turns on (fw_sim_publish keeps it while track_aigc): up
 * to the world's notes when some note was published (the table then reaches past the last),
 * else none. Loading makes it exactly that long, every entry read; fw_sim_publish grows it
 * from there, zeroing what it adds, as it would have. Entries are truths, read as 0 or not.
 *  Skipped, the part's own state: probe and pairs (streams sought before every draw; the
 *  probe's templates are drawn at create), list and income (a day start's scratch), series
 *  (the recorder's ids, made at create). */
static void aigc_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    (void)p;
    size_t n = S->cap_note_aigc < S->w.n_notes ? S->cap_note_aigc : S->w.n_notes;
    fw_snap_vec(s, (void **)&S->note_aigc, &n, &S->cap_note_aigc, sizeof *S->note_aigc, S->w.n_notes);
}

static void aigc_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    (void)p;
    (void)totals;
    (void)days;
    fprintf(out, "  AIGC: adoption grows by");
    for (uint32_t a = 0; a < S->n_arms; a++)
        fprintf(out, " %s %.3g/day%s", S->sc->arms[a].name, S->sc->arms[a].behaviour.aigc_adoption_per_day,
                a + 1 < S->n_arms ? "," : "");
    fprintf(out, " (series /aigc/arms/<arm>, /aigc/days)\n");
}

const fw_part fw_aigc_part = {
    .name = "aigc",
    FW_PART_COUNTERS_AND_RATES,
    .active = aigc_active,
    .state_size = sizeof(aigc_state),
    .create = aigc_create,
    .destroy = aigc_destroy,
    .day_start = aigc_day_start,
    .after_log = aigc_after_log,
    .snap = aigc_snap,
    .summary = aigc_summary,
};
