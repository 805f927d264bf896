/* The feed part: a session's scroll through feed pages, the population's expectation of the
 * feed, and the recommender's daily model statistics in the result file. Every session lands
 * on the feed, so the visit rates over the driver's counters (retention, sessions per user)
 * are declared here too.
 *
 * A session requests finished pages from the engine (fw_feed_page: ads and product cards
 * included) until the user stops: each organic note is examined (an impression), opened by
 * the true model, and an opened note may be liked, saved, commented on and its creator
 * followed; it drifts the user's interests and goes to the other parts (the shop plants the
 * product it shows). An ad slot goes to the other parts as an ad (the ads part renders it).
 * Every draw comes from the user's FW_RNG_SESSION stream of the tick. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/evlog.h"
#include "driver/part.h"
#include "model/rng.h"

#define FEED_COUNTERS(X)                                                                       \
    X(feed_requests, "requests", "feed pages requested from the engine")                       \
    X(impressions, "notes", "notes examined on screen (feed impressions)")                     \
    X(opens, "notes", "cover clicks: notes opened and read")                                   \
    X(likes, "events", "likes")                                                                \
    X(saves, "events", "saves (collects)")                                                     \
    X(comments, "events", "comments")                                                          \
    X(interactions, "events", "likes + saves + comments")                                      \
    X(follows, "events", "new follows of a note's creator")


FW_DECLARE_COUNTERS(FEED_COUNTERS);

static const fw_rate_desc rates[] = {
    {"ctr", "opens", "impressions", 1.0, "1", "cover click-through rate: opens / impressions"},
    {"interactions_per_read", "interactions", "opens", 1.0, "1", "(likes + saves + comments) / opens"},
    {"saves_per_read", "saves", "opens", 1.0, "1", "saves / opens"},
    {"follows_per_read", "follows", "opens", 1.0, "1", "follows / opens"},
    {"retention", "retained_users", "prev_active_users", 1.0, "1",
     "day-over-day retention: retained_users / prev_active_users"},
    {"impressions_per_session", "impressions", "sessions", 1.0, "notes", "impressions / sessions"},
    {"sessions_per_user", "sessions", "active_users", 1.0, "sessions", "sessions / active_users"},
};

typedef struct feed_state {
    gsl_rng **rng;              /* [n_threads]: FW_RNG_SESSION, sought per (user, tick) */
    int model;                  /* the recommender runs: its statistics are recorded */
    uint32_t samples_id[FW_TASK__COUNT], quality_id[FW_TASK__COUNT];
} feed_state;

#define COUNT(k) (ss->row[p->base + C_##k])

/* ---- a session -------------------------------------------------------------------------- */

/* Whether u already followed creator cu in this tick (the barrier has not applied it yet). */
static int followed_this_tick(const fw_session *ss, uint32_t cu)
{
    const fw_recbuf *b = ss->rec;
    for (size_t k = ss->rec_begin; k < b->n; k++)
        if (b->v[k].kind == FW_RECORD_EVENT && b->v[k].u.ev.type == FW_EV_FOLLOW &&
            ss->w->note_info[b->v[k].u.ev.note].creator == cu)
            return 1;
    return 0;
}

static void feed_user_tick(fw_session *ss, fw_part_inst *p)
{
    feed_state *fs = p->state;
    fw_rng_seek(fs->rng[ss->slot], ss->seed, FW_RNG_SESSION, ss->user, (uint32_t)ss->tick);
}

static int feed_session(fw_session *ss, fw_part_inst *p)
{
    feed_state *fs = p->state;
    const fw_behaviour_model *m = ss->m;
    const fw_behaviour_cfg *c = &m->cfg;
    fw_world *w = ss->w;
    fw_users_state *s = ss->us;
    gsl_rng *r = fs->rng[ss->slot];
    uint32_t u = ss->user, T = w->n_topics;
    int32_t tick = ss->tick;
    float *interest = &w->interest[(size_t)u * T];
    double sat = c->open_rate;
    double comment_share = 1.0 - c->like_share - c->save_share;
    if (comment_share < 0.0)
        comment_share = 0.0;
    uint32_t seen = 0, ads_seen = 0;
    fw_feed_req req = {.user = u, .arm = ss->cell, .tick = tick};
    uint32_t *const *uc = ss->agg;
    for (uint32_t page_no = 0;; page_no++) {
        uint32_t n = fw_feed_page(ss->engine, ss->ctx, &req, ss->slots, ss->page_cap);
        COUNT(feed_requests)++;
        if (n == 0)
            return 0;
        fw_evlog_request(ss);
        if (ss->ev)   /* the ranking's scores, before anything else uses the context */
            for (uint32_t i = 0; i < n && i < FW_PAGE_SLOTS; i++)
                ss->ev_score[i] = ss->slots[i].note != FW_NONE && ss->slots[i].campaign == FW_NONE
                                      ? (float)fw_engine_ctx_score(ss->ctx, ss->slots[i].note)
                                      : NAN;
        fw_sess_event pe = {.kind = FW_SE_PAGE, .surface = FW_SURFACE_FEED, .page = ss->slots, .n = n,
                            .page_no = page_no};
        uint32_t organic = 0;
        if (fw_session_emit(ss, &pe))
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            const fw_slot *sl = &ss->slots[i];
            uint32_t note = sl->note;
            if (sl->campaign != FW_NONE || note == FW_NONE) {
                if (sl->campaign == FW_NONE)
                    continue;   /* a reserved slot the auction left empty */
                fw_sess_event ad = {.kind = FW_SE_AD, .surface = FW_SURFACE_FEED, .page = sl, .rng = r,
                                    .bonus = 0.0, .sat = &sat, .slot_no = i};
                if (fw_session_emit(ss, &ad))
                    return -1;
                if (!ad.handled)
                    continue;   /* no part renders ads */
                seen++;
                ads_seen++;
                double p_stop = (c->stop_base + c->fatigue * seen + c->ad_fatigue * ads_seen) *
                                exp(-c->satisfaction_weight * (sat / c->open_rate - 1.0));
                if (seen >= c->max_notes || gsl_rng_uniform(r) < p_stop)
                    return 0;
                continue;
            }
            if (fw_recbuf_event(ss->rec, u, note, tick, FW_EV_IMPRESSION))
                return -1;
            COUNT(impressions)++;
            uc[FW_UM_impressions][u]++;
            s->day_impressions[u]++;
            double x = fw_behaviour_affinity(w, u, note), q = w->note_quality[note];
            double p_open = fw_sigmoid(m->b_open + c->open_affinity * x + c->open_quality * q +
                                       c->format_weight * fw_behaviour_format_match(w, u, note) +
                                       fw_behaviour_open_shift(m, w, s, u, note, tick));
            fw_evlog_impression(ss, FW_EVS_FEED, i, note, note, sl->card, i < FW_PAGE_SLOTS ? ss->ev_score[i] : NAN,
                                p_open, x, q, organic++);
            double reward = 0.0;
            if (gsl_rng_uniform(r) < p_open) {
                fw_evlog_outcome(ss, FW_EVO_OPEN);
                if (fw_recbuf_event(ss->rec, u, note, tick, FW_EV_OPEN))
                    return -1;
                COUNT(opens)++;
                uc[FW_UM_opens][u]++;
                s->day_opens[u]++;
                fw_behaviour_satiate(m, w, s, u, w->note_info[note].topic, tick, 1.0);
                reward = 1.0;
                double pi = fw_sigmoid(m->b_interact + x + q);
                static const uint32_t kinds[3] = {FW_EV_LIKE, FW_EV_SAVE, FW_EV_COMMENT};
                static const uint32_t counted[3] = {C_likes, C_saves, C_comments};
                static const fw_user_metric user_metrics[3] = {FW_UM_likes, FW_UM_saves, FW_UM_comments};
                static const fw_ev_outcome logged[3] = {FW_EVO_LIKE, FW_EVO_SAVE, FW_EVO_COMMENT};
                double share[3] = {c->like_share, c->save_share, comment_share};
                double extra = 0.0;
                for (int k = 0; k < 3; k++)
                    if (gsl_rng_uniform(r) < pi * share[k]) {
                        if (fw_recbuf_event(ss->rec, u, note, tick, kinds[k]))
                            return -1;
                        ss->row[p->base + counted[k]]++;
                        fw_evlog_outcome(ss, logged[k]);
                        COUNT(interactions)++;
                        uc[user_metrics[k]][u]++;
                        uc[FW_UM_interactions][u]++;
                        reward += 1.0;
                        extra += k < 2 ? c->plant_save : 0.0;
                    }
                fw_sess_event op = {.kind = FW_SE_NOTE_OPENED, .surface = FW_SURFACE_FEED, .note = note,
                                    .card = sl->card, .extra = extra, .source = FW_SRC_FEED};
                if (fw_session_emit(ss, &op))
                    return -1;
                if (gsl_rng_uniform(r) < fw_sigmoid(m->b_follow + x + q)) {
                    uint32_t cu = w->note_info[note].creator;
                    if (cu != u && !fw_users_follows(w, s, u, cu) && !followed_this_tick(ss, cu)) {
                        if (fw_recbuf_event(ss->rec, u, note, tick, FW_EV_FOLLOW))
                            return -1;
                        COUNT(follows)++;
                        uc[FW_UM_follows][u]++;
                        fw_evlog_outcome(ss, FW_EVO_FOLLOW);
                    }
                }
                /* Interests drift towards what the user reads (the row stays normalised). */
                if (c->drift > 0.0) {
                    for (uint32_t k = 0; k < T; k++)
                        interest[k] *= (float)(1.0 - c->drift);
                    interest[w->note_info[note].topic] += (float)c->drift;
                }
            }
            sat = 0.8 * sat + 0.2 * reward;
            seen++;
            double p_stop = (c->stop_base + c->fatigue * seen + c->ad_fatigue * ads_seen) *
                            exp(-c->satisfaction_weight * (sat / c->open_rate - 1.0));
            if (seen >= c->max_notes || gsl_rng_uniform(r) < p_stop)
                return 0;
        }
    }
}

/* ---- the run ------------------------------------------------------------------------------ */

static const char *const model_doc =
    "the recommender's ranking models per day: each training sample predicted before it is learned "
    "from (progressive validation); weights undo negative sampling";
static const fw_counter_desc model_samples[] = {{"samples", "samples", "training samples of the day"}};
static const fw_counter_desc model_quality[] = {
    {"log_loss", "1", "mean log loss of the predictions (weighted)"},
    {"predicted", "1", "mean predicted probability (calibration: compare with observed)"},
    {"observed", "1", "observed rate of the label"},
};

static fw_err feed_create(fw_sim *S, fw_part_inst *p)
{
    feed_state *fs = p->state;
    if (!(fs->rng = fw_sim_thread_rngs(S, FW_RNG_SESSION)))
        return FW_ERR_NOMEM;
    fs->model = fw_engine_has_rec(S->engine);
    if (!S->rec || !fs->model)
        return FW_OK;
    fw_err rc = fw_recorder_group(S->rec, "model", model_doc);
    for (int t = 0; t < FW_TASK__COUNT && rc == FW_OK; t++) {
        char path[64];
        snprintf(path, sizeof path, "model/%s", fw_rec_task_name((fw_rec_task)t));
        if ((rc = fw_recorder_series(S->rec, path, fw_rec_task_doc((fw_rec_task)t), FW_REC_U64, 1, model_samples,
                                     &fs->samples_id[t])) == FW_OK)
            rc = fw_recorder_series(S->rec, path, NULL, FW_REC_F64, 3, model_quality, &fs->quality_id[t]);
    }
    return rc;
}

/* Users judge today's feed against what they have come to expect: the population's CTR.
 * Day 0 sets the expectation; later days move it by expectation_adaptation. Computed from
 * integer totals over the cells, so it is the same for any thread count. */
static fw_err feed_day_end(fw_sim *S, fw_part_inst *p, uint64_t *day)
{
    (void)day;
    uint64_t opens = 0, impressions = 0;
    const uint64_t *cells = fw_sim_cell_totals(S);
    for (uint32_t c = 0; c < S->n_cells; c++) {
        opens += cells[(size_t)c * S->n_counters + p->base + C_opens];
        impressions += cells[(size_t)c * S->n_counters + p->base + C_impressions];
    }
    if (impressions == 0)
        return FW_OK;
    double ctr = (double)opens / (double)impressions;
    if (S->us.expected_ctr <= 0.0)
        S->us.expected_ctr = ctr;
    else
        S->us.expected_ctr += S->sc->world.expectation_adaptation * (ctr - S->us.expected_ctr);
    return FW_OK;
}

/* The recommender's progressive validation of the day, per task. */
static fw_err feed_day_close(fw_sim *S, fw_part_inst *p)
{
    feed_state *fs = p->state;
    if (!S->rec || !fs->model)
        return FW_OK;
    for (int t = 0; t < FW_TASK__COUNT; t++) {
        fw_model_stats ms = fw_engine_model_stats(S->engine, (fw_rec_task)t);
        uint64_t samples = ms.samples;
        double q[3] = {ms.weight > 0.0 ? ms.log_loss / ms.weight : NAN, ms.weight > 0.0 ? ms.predicted / ms.weight : NAN,
                       ms.weight > 0.0 ? ms.observed / ms.weight : NAN};
        fw_err rc;
        if ((rc = fw_recorder_push(S->rec, fs->samples_id[t], &samples)) != FW_OK ||
            (rc = fw_recorder_push(S->rec, fs->quality_id[t], q)) != FW_OK)
            return rc;
    }
    return FW_OK;
}

/* The day's start: when the experiment period begins, users go to their cells in the engine
 * (the first part runs it, before any session of the day). */
static fw_err feed_day_start(fw_sim *S, fw_part_inst *p)
{
    (void)p;
    return fw_sim_place_users(S);
}

/* What per-arm state costs: the learned states (every cell's learner groups) and budget
 * shares held beyond the first (experiment.isolation per_arm, learners_per_arm,
 * budget_split). */
static void feed_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    (void)p;
    (void)totals;
    (void)days;
    if (S->n_cells < 2)
        return;
    int per_arm = S->sc->experiment_isolation == FW_ISOLATION_PER_ARM;
    uint32_t groups = S->asg.n_buckets > 1 ? S->asg.n_buckets : 1;
    fprintf(out, "  per-arm state     %.1f MB beyond one learned state: %u learned (%u cells x %u%s), budget split %s, "
                 "isolation %s\n",
            fw_engine_cell_state_bytes(S->engine) / 1048576.0, per_arm ? S->n_cells * groups : 1, S->n_cells,
            per_arm ? groups : 1, per_arm && groups > 1 ? " learner groups" : (per_arm ? "" : " shared"),
            S->sc->experiment_budget_split ? "on" : "off", per_arm ? "per_arm" : "shared");
}

const fw_part fw_feed_part = {
    .name = "feed",
    FW_PART_COUNTERS_AND_RATES,
    .state_size = sizeof(feed_state),
    .create = feed_create,
    .day_start = feed_day_start,
    .summary = feed_summary,
    .user_tick = feed_user_tick,
    .session_browse = feed_session,
    .day_end = feed_day_end,
    .day_close = feed_day_close,
    /* Nothing across days: streams sought per (user, tick), the recorder's ids; the
     * population's expectation is the users' state (fw_users_snap). */
    .snap = fw_part_no_state,
};
