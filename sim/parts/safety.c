/* The safety part: violating notes, what users see of them and do about them, and the
 * engine's moderation figures (issue 20; the engine side is engine/src/safety.c).
 *
 * The truth. Each creator is a bad actor with probability world.violation_bad_share (their
 * FW_RNG_VIOLATION stream, entity the creator's user id, day 0); each note's hidden class
 * (flywheel/safety.h fw_violation) is drawn from its creator type's four shares (stream
 * entity the note id, day 1), so a note's class depends on the seed, its id and its creator
 * alone. Classes are kept in a table grown at each tick's end; the engine asks for them only
 * through the oracle callback (fw_safety_set_oracle), which this part sets.
 *
 * What users do (at the barrier, from the tick's log, in the log's user order): every feed
 * or search impression of a note counts for prevalence by class; the user reports it with
 * behaviour.report_<class> (their FW_RNG_REPORT stream of the tick), which feeds the engine's
 * review queue (fw_safety_report). Spam and unsafe impressions cost satisfaction: at the day's
 * end, before the users' day-end update, a user's satisfaction is multiplied by
 * exp(-world.violation_harm * n), n their spam and unsafe impressions of the day, so that the
 * day-level satisfaction (whose power churn_sensitivity sets coming back) falls.
 * Fake planting notes: opening one that shows a product plants world.violation_fake_plant
 * times the intent an honest note would (on top of the shop part's planting, here the extra
 * (factor - 1)), and remembers the product; an order of that product is returned with the
 * return logit raised by world.violation_fake_return, and a return of it makes the user
 * distrust the brand (card clicks on its products lose violation_fake_distrust in logit).
 * The product planted is a row of the user's (fw_sim_rank_row: several ranks exchange it).
 *
 * A warm-up (world.warmup_days) runs the part as any day: notes are classed, seen, reported and
 * moderated, and users keep the distrust and harm it leaves; the summary's queue check averages
 * the recorded days alone.
 *
 * Runs when some world.violation_* share is above 0 or some cell moderates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "driver/counters.h"
#include "driver/part.h"
#include "flywheel/safety.h"
#include "model/rng.h"
#include "parts/safety.h"

#define SAFETY_COUNTERS(X)                                                                     \
    X(safety_impressions, "impressions", "feed and search impressions of notes (the prevalence base)") \
    X(viol_impressions, "impressions", "impressions of violating notes (any class)")           \
    X(viol_impressions_spam, "impressions", "impressions of spam notes")                      \
    X(viol_impressions_fake, "impressions", "impressions of fake planting notes")             \
    X(viol_impressions_clickbait, "impressions", "impressions of clickbait notes")            \
    X(viol_impressions_unsafe, "impressions", "impressions of unsafe notes")                  \
    X(reports, "reports", "reports users filed")                                               \
    X(reports_violating, "reports", "reports of violating notes")                              \
    X(mod_scored, "notes", "notes the arm's classifier scored")                                \
    X(mod_flagged, "notes", "of which scored at least 0.5 (predicted violating)")              \
    X(mod_queued, "notes", "notes that joined the arm's review queue (score band or report)") \
    X(mod_queued_reports, "notes", "of which because of a report")                            \
    X(mod_reviewed, "notes", "notes reviewers decided")                                        \
    X(mod_actioned, "notes", "notes actioned (classifier or reviewer)")                        \
    X(mod_auto_actioned, "notes", "notes actioned by the classifier alone (score >= threshold_hi)") \
    X(mod_proactive, "notes", "notes actioned before any user report of them")                \
    X(mod_actioned_violating, "notes", "actioned notes that violate")                          \
    X(wrongful_removals, "notes", "actioned notes that do not violate (creator harm; removed, down-ranked or limited)") \
    X(review_backlog, "notes", "notes waiting in the review queue at the day's end (not yet taken)") \
    X(review_in_progress, "notes", "notes under review at the day's end")                      \
    X(review_capacity_day, "notes", "notes the reviewers can take in a day (review_capacity x ticks)") \
    X(tta_p50_ticks, "ticks", "median ticks from publication to action over the day's actions (largest of the arm's cells)") \
    X(tta_p99_ticks, "ticks", "99th percentile ticks from publication to action (largest of the arm's cells)") \
    X(fake_planted_deliveries, "orders", "delivered orders of a product a fake note planted in the buyer") \
    X(fake_planted_returns, "orders", "returns of such orders")

FW_DECLARE_COUNTERS(SAFETY_COUNTERS);

static const fw_rate_desc rates[] = {
    {"prevalence", "viol_impressions", "safety_impressions", 10000.0, "per 10k",
     "violating impressions per 10,000 impressions"},
    {"prevalence_spam", "viol_impressions_spam", "safety_impressions", 10000.0, "per 10k", "spam impressions per 10,000"},
    {"prevalence_fake", "viol_impressions_fake", "safety_impressions", 10000.0, "per 10k",
     "fake planting impressions per 10,000"},
    {"prevalence_clickbait", "viol_impressions_clickbait", "safety_impressions", 10000.0, "per 10k",
     "clickbait impressions per 10,000"},
    {"prevalence_unsafe", "viol_impressions_unsafe", "safety_impressions", 10000.0, "per 10k",
     "unsafe impressions per 10,000"},
    {"proactive_rate", "mod_proactive", "mod_actioned", 1.0, "1", "share of actions taken before any user report"},
    {"wrongful_share", "wrongful_removals", "mod_actioned", 1.0, "1", "share of actions on notes that do not violate"},
};

typedef struct safety_state {
    fw_sim *S;
    gsl_rng *rng;               /* barrier stream: classes, reports */
    uint8_t *bad;               /* [n_users]: the user is a bad-actor creator */
    uint8_t *cls;               /* [cap_cls]: each note's class */
    uint32_t n_cls, cap_cls;
    uint16_t *harm;             /* [n_users]: today's spam and unsafe impressions */
    uint32_t *fake_product;     /* [n_users]: the product a fake note last planted, or FW_NONE */
    uint32_t *distrust;         /* [n_users]: the brand the user distrusts, or FW_NONE */
    int moderates;              /* some cell moderates */
    uint64_t *last_backlog;     /* [n_arms]: at the last day's end */
    uint64_t *sum_queued, *capacity;   /* [n_arms]: over the run, and per day */
    uint32_t days;
} safety_state;

static int safety_active(const fw_sim *S)
{
    const fw_world_cfg *w = &S->sc->world;
    if (w->violation_spam + w->violation_fake + w->violation_clickbait + w->violation_unsafe > 0.0 ||
        (w->violation_bad_share > 0.0 &&
         w->violation_bad_spam + w->violation_bad_fake + w->violation_bad_clickbait + w->violation_bad_unsafe > 0.0))
        return 1;
    for (uint32_t c = 0; c < S->n_cells; c++)
        if (S->cell_engine[c].safety.action != FW_SAFETY_OFF)
            return 1;
    return 0;
}

/* The class of note n (from the creator type's shares); deterministic given seed and n. */
static uint32_t draw_class(const fw_sim *S, const safety_state *st, uint32_t n)
{
    const fw_world_cfg *c = &S->sc->world;
    uint32_t cu = S->w.note_info[n].creator;
    int bad = cu < S->w.n_users && st->bad[cu];
    double share[FW_VIOL__COUNT] = {0, bad ? c->violation_bad_spam : c->violation_spam,
                                    bad ? c->violation_bad_fake : c->violation_fake,
                                    bad ? c->violation_bad_clickbait : c->violation_clickbait,
                                    bad ? c->violation_bad_unsafe : c->violation_unsafe};
    fw_rng_seek(st->rng, S->sc->seed, FW_RNG_VIOLATION, n, 1);
    double u = gsl_rng_uniform(st->rng), cum = 0.0;
    for (uint32_t k = 1; k < FW_VIOL__COUNT; k++) {
        cum += share[k];
        if (u < cum)
            return k;
    }
    return FW_VIOL_NONE;
}

static fw_err extend_classes(safety_state *st)
{
    const fw_sim *S = st->S;
    uint32_t n = S->w.n_notes;
    if (n > st->cap_cls) {
        uint32_t cap = st->cap_cls ? st->cap_cls : 1024;
        while (cap < n)
            cap *= 2;
        uint8_t *v = realloc(st->cls, cap);
        if (!v)
            return FW_ERR_NOMEM;
        st->cls = v;
        st->cap_cls = cap;
    }
    for (uint32_t i = st->n_cls; i < n; i++)
        st->cls[i] = (uint8_t)draw_class(S, st, i);
    st->n_cls = n;
    return FW_OK;
}

static uint32_t class_of(const safety_state *st, uint32_t note)
{
    return note < st->n_cls ? st->cls[note] : draw_class(st->S, st, note);
}

/* The engine's oracle: the note's content class (see flywheel/safety.h). */
static uint32_t oracle(void *ctx, uint32_t note) { return class_of(ctx, note); }

static fw_err safety_create(fw_sim *S, fw_part_inst *p)
{
    safety_state *st = p->state;
    st->S = S;
    uint32_t nu = S->w.n_users;
    if (!(st->rng = fw_sim_rng(S, FW_RNG_VIOLATION)) || !(st->bad = fw_sim_calloc(S, nu, 1)) ||
        !(st->harm = fw_sim_calloc(S, nu, sizeof *st->harm)) ||
        !(st->fake_product = fw_sim_calloc(S, nu, sizeof *st->fake_product)) ||
        !(st->distrust = fw_sim_calloc(S, nu, sizeof *st->distrust)) ||
        !(st->last_backlog = fw_sim_calloc(S, S->n_arms, sizeof *st->last_backlog)) ||
        !(st->sum_queued = fw_sim_calloc(S, S->n_arms, sizeof *st->sum_queued)) ||
        !(st->capacity = fw_sim_calloc(S, S->n_arms, sizeof *st->capacity)))
        return FW_ERR_NOMEM;
    for (uint32_t u = 0; u < nu; u++)
        st->fake_product[u] = st->distrust[u] = FW_NONE;
    /* A session plants; the shop's barrier reads it for any user's return. */
    if (nu && fw_sim_rank_row(S, st->fake_product, sizeof *st->fake_product) != FW_OK)
        return FW_ERR_INTERNAL;
    double bad_share = S->sc->world.violation_bad_share;
    for (uint32_t k = 0; k < S->w.n_creators && bad_share > 0.0; k++) {
        uint32_t cu = S->w.creator_user[k];
        fw_rng_seek(st->rng, S->sc->seed, FW_RNG_VIOLATION, cu, 0);
        st->bad[cu] = gsl_rng_uniform(st->rng) < bad_share;
    }
    fw_err rc = extend_classes(st);
    if (rc != FW_OK)
        return rc;
    for (uint32_t c = 0; c < S->n_cells; c++)
        st->moderates |= S->cell_engine[c].safety.action != FW_SAFETY_OFF;
    fw_safety_set_oracle(S->engine, oracle, st);
    return FW_OK;
}

static void safety_destroy(fw_sim *S, fw_part_inst *p)
{
    (void)S;
    safety_state *st = p->state;
    free(st->cls);
}

static double report_p(const fw_behaviour_cfg *b, uint32_t cls)
{
    switch (cls) {
    case FW_VIOL_SPAM: return b->report_spam;
    case FW_VIOL_FAKE: return b->report_fake;
    case FW_VIOL_CLICKBAIT: return b->report_clickbait;
    case FW_VIOL_UNSAFE: return b->report_unsafe;
    default: return b->report_none;
    }
}

static fw_err safety_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    safety_state *st = p->state;
    uint32_t last_user = FW_NONE;
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_EVENT)
            continue;
        const fw_event *x = &rec[k].u.ev;
        if (FW_EV_TYPE(x->type) != FW_EV_IMPRESSION || x->note >= S->w.n_notes || x->user >= S->w.n_users)
            continue;
        uint32_t u = x->user, cls = class_of(st, x->note);
        uint64_t *row = fw_sim_row(S, u) + p->base;
        row[C_safety_impressions]++;
        if (cls != FW_VIOL_NONE) {
            static const uint32_t by_class[FW_VIOL__COUNT] = {0, C_viol_impressions_spam, C_viol_impressions_fake,
                                                               C_viol_impressions_clickbait, C_viol_impressions_unsafe};
            row[C_viol_impressions]++;
            row[by_class[cls]]++;
            if ((cls == FW_VIOL_SPAM || cls == FW_VIOL_UNSAFE) && st->harm[u] < UINT16_MAX)
                st->harm[u]++;
        }
        double pr = report_p(&S->model[fw_sim_live_cell(S, u)].cfg, cls);
        if (pr <= 0.0)
            continue;
        if (u != last_user) {
            fw_rng_seek(st->rng, S->sc->seed, FW_RNG_REPORT, u, (uint32_t)S->abs_tick);
            last_user = u;
        }
        if (gsl_rng_uniform(st->rng) < pr) {
            row[C_reports]++;
            row[C_reports_violating] += cls != FW_VIOL_NONE;
            fw_err rc = fw_safety_report(S->engine, u, x->note, S->abs_tick);
            if (rc != FW_OK)
                return rc;
        }
    }
    return FW_OK;
}

static fw_err safety_tick_end(fw_sim *S, fw_part_inst *p)
{
    (void)S;
    return extend_classes(p->state);
}

static int safety_on_event(fw_session *ss, fw_part_inst *p, fw_sess_event *ev)
{
    safety_state *st = p->state;
    /* Every note a session sees was classed at an earlier barrier (the table is read-only here). */
    if (ev->kind != FW_SE_NOTE_OPENED || ev->note >= st->n_cls || st->cls[ev->note] != FW_VIOL_FAKE)
        return 0;
    const fw_world *w = ss->w;
    uint32_t product = w->note_product[ev->note], u = ss->user;
    if (product == FW_NONE)
        return 0;
    const fw_behaviour_cfg *c = &ss->m->cfg;
    const fw_promo_day *pd = fw_scenario_promo_day(ss->S->sc, ss->day);
    double honest = (c->plant_open + ev->extra) * 31.0 * w->purchase_prop[u] * (pd ? pd->intent : 1.0);
    fw_behaviour_plant(ss->m, w, ss->us, u, product, (ss->S->sc->world.violation_fake_plant - 1.0) * honest, ss->tick,
                       ev->source);
    st->fake_product[u] = product;
    return 0;
}

static const fw_part_inst *self(const fw_sim *S);

double fw_safety_sim_return(fw_sim *S, uint32_t u, uint32_t product, double p)
{
    const fw_part_inst *me = self(S);
    if (!me)
        return p;
    const safety_state *st = me->state;
    if (u >= S->w.n_users || st->fake_product[u] != product)
        return p;
    fw_sim_row(S, u)[me->base + C_fake_planted_deliveries]++;
    double q = p < 1e-12 ? 1e-12 : p > 1.0 - 1e-12 ? 1.0 - 1e-12 : p;
    return 1.0 / (1.0 + exp(-(log(q / (1.0 - q)) + S->sc->world.violation_fake_return)));
}

void fw_safety_sim_returned(fw_sim *S, uint32_t u, uint32_t product)
{
    const fw_part_inst *me = self(S);
    if (!me || u >= S->w.n_users || product >= S->w.n_products)
        return;
    safety_state *st = me->state;
    if (st->fake_product[u] != product)
        return;
    fw_sim_row(S, u)[me->base + C_fake_planted_returns]++;
    st->distrust[u] = S->w.product_brand[product];
}

double fw_safety_sim_card_penalty(const fw_sim *S, uint32_t u, uint32_t product)
{
    const fw_part_inst *me = self(S);
    if (!me || u >= S->w.n_users || product >= S->w.n_products)
        return 0.0;
    const safety_state *st = me->state;
    return st->distrust[u] != FW_NONE && st->distrust[u] == S->w.product_brand[product]
               ? S->sc->world.violation_fake_distrust
               : 0.0;
}

/* The engine's figures of each cell go to the cell's arms; the users' harm to satisfaction. */
static fw_err safety_day_end(fw_sim *S, fw_part_inst *p, uint64_t *day)
{
    safety_state *st = p->state;
    double harm = S->sc->world.violation_harm;
    for (uint32_t u = 0; u < S->w.n_users; u++)
        if (st->harm[u]) {
            S->us.satisfaction[u] = (float)(S->us.satisfaction[u] * exp(-harm * st->harm[u]));
            st->harm[u] = 0;
        }
    for (uint32_t a = 0; a < S->n_arms; a++)
        st->last_backlog[a] = 0;
    for (uint32_t c = 0; c < S->n_cells; c++) {
        fw_safety_day d;
        fw_err rc = fw_safety_day_stats(S->engine, c, &d);
        if (rc != FW_OK)
            return rc;
        uint64_t violating = 0;
        for (uint32_t k = 1; k < FW_VIOL__COUNT; k++)
            violating += d.actioned_violating[k];
        const fw_safety_cfg *sc = &S->cell_engine[c].safety;
        uint64_t cap = sc->action != FW_SAFETY_OFF ? (uint64_t)sc->review_capacity * S->tpd : 0;
        for (uint32_t l = 0; l < S->asg.n_layers; l++) {
            uint32_t a = S->asg.cell_arm[c][l];
            uint64_t *row = &day[(size_t)a * S->n_counters + p->base];
            row[C_mod_scored] += d.scored;
            row[C_mod_flagged] += d.flagged;
            row[C_mod_queued] += d.queued;
            row[C_mod_queued_reports] += d.queued_reports;
            row[C_mod_reviewed] += d.reviewed;
            row[C_mod_actioned] += d.actioned;
            row[C_mod_auto_actioned] += d.auto_actioned;
            row[C_mod_proactive] += d.proactive;
            row[C_mod_actioned_violating] += violating;
            row[C_wrongful_removals] += d.actioned_violating[FW_VIOL_NONE];
            row[C_review_backlog] += d.backlog;
            row[C_review_in_progress] += d.in_review;
            row[C_review_capacity_day] += cap;
            if (d.tta_p50 > row[C_tta_p50_ticks])
                row[C_tta_p50_ticks] = d.tta_p50;
            if (d.tta_p99 > row[C_tta_p99_ticks])
                row[C_tta_p99_ticks] = d.tta_p99;
            st->last_backlog[a] += d.backlog;
        }
    }
    /* The summary's queue check averages the recorded days alone (not a warm-up's). */
    for (uint32_t a = 0; a < S->n_arms && !S->warm; a++) {
        const uint64_t *row = &day[(size_t)a * S->n_counters + p->base];
        st->sum_queued[a] += row[C_mod_queued];
        st->capacity[a] = row[C_review_capacity_day];
    }
    st->days += !S->warm;
    return FW_OK;
}

/* The notes' classes (a session reads only those classed at an earlier barrier: the notes
 * published on the finished days must be there before the next day's first barrier), what
 * fake notes planted in each user and the brand each distrusts, and the summary's books.
 *  Skipped: S and moderates (set at create), the stream (sought before every draw), bad
 *  (drawn at create from the seed), harm (emptied by day_end, and a snapshot follows a day's
 *  end), cap_cls (the loading side's own: a class past n_cls is never read). Classes index
 *  the counters by class, so they are checked. */
static void safety_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    safety_state *st = p->state;
    uint32_t nu = S->w.n_users;
    fw_snap_vec32(s, (void **)&st->cls, &st->n_cls, &st->cap_cls, sizeof *st->cls, S->w.n_notes);
    for (uint32_t i = 0; fw_snap_loading(s) && i < st->n_cls && !fw_snap_failed(s); i++)
        if (st->cls[i] >= FW_VIOL__COUNT)
            fw_snap_fail(s, "note %u of class %u", i, st->cls[i]);
    fw_snap_indexes(s, st->fake_product, nu, S->w.n_products, FW_NONE);
    fw_snap_indexes(s, st->distrust, nu, S->w.n_brands, FW_NONE);
    fw_snap_array(s, st->last_backlog, S->n_arms, sizeof *st->last_backlog);
    fw_snap_array(s, st->sum_queued, S->n_arms, sizeof *st->sum_queued);
    fw_snap_array(s, st->capacity, S->n_arms, sizeof *st->capacity);
    fw_snap_u32(s, &st->days);
}

static void safety_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    const safety_state *st = p->state;
    fprintf(out, "  %-12s %11s %9s %9s %9s %9s %9s\n", "safety", "prev/10k", "reports", "actioned", "proactive",
            "wrongful", "backlog");
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * S->n_counters + p->base];
        double prev = c[C_safety_impressions] ? 1e4 * (double)c[C_viol_impressions] / (double)c[C_safety_impressions]
                                              : NAN;
        double pro = c[C_mod_actioned] ? (double)c[C_mod_proactive] / (double)c[C_mod_actioned] : NAN;
        char r[16];
        fprintf(out, "  %-12s %11.2f %9.0f %9.0f %9s %9.0f %9llu\n", S->sc->arms[a].name, prev, c[C_reports] / days,
                c[C_mod_actioned] / days, fw_pct_text(r, sizeof r, pro, 1), c[C_wrongful_removals] / days,
                (unsigned long long)st->last_backlog[a]);
    }
    /* A queue that cannot drain is said, not hidden. */
    for (uint32_t a = 0; st->moderates && a < S->n_arms && st->days > 0; a++) {
        double arrivals = (double)st->sum_queued[a] / st->days;
        if (st->capacity[a] > 0 && arrivals > (double)st->capacity[a])
            fprintf(out,
                    "  WARNING: arm %s: the review queue cannot drain: %.0f notes a day arrive, the reviewers take at "
                    "most %llu (engine.safety.review_capacity x ticks); %llu wait at the end\n",
                    S->sc->arms[a].name, arrivals, (unsigned long long)st->capacity[a],
                    (unsigned long long)st->last_backlog[a]);
    }
}

const fw_part fw_safety_part = {
    .name = "safety",
    FW_PART_COUNTERS_AND_RATES,
    .state_size = sizeof(safety_state),
    .active = safety_active,
    .create = safety_create,
    .destroy = safety_destroy,
    .after_log = safety_after_log,
    .tick_end = safety_tick_end,
    .on_event = safety_on_event,
    .day_end = safety_day_end,
    .snap = safety_snap,
    .summary = safety_summary,
};

static const fw_part_inst *self(const fw_sim *S)
{
    for (uint32_t i = 0; i < S->n_parts; i++)
        if (S->part[i].def == &fw_safety_part)
            return &S->part[i];
    return NULL;
}
