/* The search part: a session may start with a search (a user who searches today does so in a
 * session with probability searches_per_searcher divided by their session rate). Queries come
 * from an interest, in the world's words with colloquial words, typos and generic words; the
 * engine's finished page (fw_search_page: an ad slot on top, results with their cards) is
 * examined with position bias, results are opened by the true model with a bonus for the
 * searched topic, and the query is reformulated after a page without a click. Every draw
 * comes from the user's FW_RNG_SEARCH stream of the tick, so search changes no other draw. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "driver/evlog.h"
#include "driver/part.h"
#include "model/rng.h"

#define SEARCH_COUNTERS(X)                                                                     \
    X(searches, "searches", "search queries issued (reformulations included)")                 \
    X(searchers, "users", "users who searched on the day")                                    \
    X(search_impressions, "results", "search results examined (position bias)")               \
    X(search_clicks, "results", "search results opened")                                      \
    X(search_interactions, "events", "likes + saves + comments on notes opened from search")  \
    X(search_zero_results, "searches", "searches that returned nothing")                      \
    X(search_reformulations, "searches", "searches issued again after a page without a click") \
    X(search_with_click, "searches", "searches with at least one click")                      \
    X(search_first_click_pos, "positions", "sum over searches with a click of the first click's position") \
    X(search_ndcg_micro, "1e-6", "sum over searches of the page's NDCG (x 1e6) against the true intent " \
      "(relevant: a note on the searched topic)")

FW_DECLARE_COUNTERS(SEARCH_COUNTERS);

static const fw_rate_desc rates[] = {
    {"search_ctr", "search_clicks", "search_impressions", 1.0, "1", "search results opened / examined"},
    {"searches_per_searcher", "searches", "searchers", 1.0, "searches", "searches / searchers"},
    {"zero_result_rate", "search_zero_results", "searches", 1.0, "1", "searches that returned nothing"},
    {"reformulation_rate", "search_reformulations", "searches", 1.0, "1", "searches that were reformulations"},
    {"search_success_rate", "search_with_click", "searches", 1.0, "1", "searches with at least one click"},
    {"first_click_position", "search_first_click_pos", "search_with_click", 1.0, "position",
     "mean position of the first click (time to first click, in results examined)"},
    {"search_ndcg", "search_ndcg_micro", "searches", 1e-6, "1", "mean NDCG of search pages against the true intent"},
};

typedef struct search_state {
    gsl_rng **rng;   /* [n_threads] FW_RNG_SEARCH */
} search_state;

#define COUNT(k) (ss->row[p->base + C_##k])

/* The ad slot at the top of a search page (sold, or left empty); a product result has a card. */
static int is_ad_slot(const fw_slot *s)
{
    return s->campaign != FW_NONE || (s->note == FW_NONE && s->card == FW_NONE);
}

/* A query for intent topic: 1-3 words, each the topic's (Zipf) or, with the knobs'
 * probabilities, one of its colloquial words or a misspelling; sometimes a generic word. */
static void draw_query(const fw_behaviour_cfg *c, const fw_world *w, gsl_rng *r, uint32_t topic,
                       fw_search_req *q)
{
    uint32_t n = 1 + (uint32_t)gsl_rng_uniform_int(r, 3);
    q->n_terms = 0;
    for (uint32_t k = 0; k < n; k++) {
        double x = gsl_rng_uniform(r);
        uint32_t t;
        if (x < c->search_colloquial && w->colloquial_per_topic)
            t = w->colloquial_base + topic * w->colloquial_per_topic +
                (uint32_t)gsl_rng_uniform_int(r, w->colloquial_per_topic);
        else if (x < c->search_colloquial + c->search_typo)
            t = w->typo_base + (uint32_t)gsl_rng_uniform_int(r, FW_WORLD_TYPO_TERMS);
        else
            t = topic * w->terms_per_topic + (uint32_t)gsl_ran_discrete(r, w->term_pick);
        q->terms[q->n_terms++] = t;
    }
    if (gsl_rng_uniform(r) < c->search_generic && q->n_terms < FW_QUERY_TERMS)
        q->terms[q->n_terms++] = w->generic_base + (uint32_t)gsl_rng_uniform_int(r, w->generic_terms);
}

/* Whether u searches at all today: a pure function of (seed, user, day). */
static int searches_today(const fw_world *w, uint64_t seed, uint32_t u, uint32_t day)
{
    uint64_t h = seed * UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)u << 32 | day);
    h ^= h >> 31;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 29;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 32;
    return (double)(h >> 11) * 0x1.0p-53 < w->search_prop[u];
}

static void search_user_tick(fw_session *ss, fw_part_inst *p)
{
    search_state *st = p->state;
    fw_rng_seek(st->rng[ss->slot], ss->seed, FW_RNG_SEARCH, ss->user, (uint32_t)ss->tick);
}

static int search_session(fw_session *ss, fw_part_inst *p)
{
    search_state *st = p->state;
    const fw_behaviour_model *m = ss->m;
    const fw_behaviour_cfg *c = &m->cfg;
    const fw_world *w = ss->w;
    fw_users_state *s = ss->us;
    gsl_rng *r = st->rng[ss->slot];
    uint32_t u = ss->user;
    int32_t tick = ss->tick;
    if (c->searches_per_searcher <= 0.0 || !searches_today(w, ss->seed, u, ss->day))
        return 0;
    double pr = c->searches_per_searcher / w->session_rate[u];
    if (gsl_rng_uniform(r) >= (pr < 1.0 ? pr : 1.0))
        return 0;
    uint32_t *const *uc = ss->agg;
    uint32_t T = w->n_topics, topic = fw_world_draw_topic(&w->interest[(size_t)u * T], T, gsl_rng_uniform(r));
    double comment_share = 1.0 - c->like_share - c->save_share;
    if (comment_share < 0.0)
        comment_share = 0.0;
    for (int attempt = 0; attempt < 3; attempt++) {
        fw_search_req q = {.user = u, .arm = ss->cell, .tick = tick};
        draw_query(c, w, r, topic, &q);
        COUNT(searches)++;
        uc[FW_UM_searches][u]++;
        if (!s->searched_today[u]) {
            s->searched_today[u] = 1;
            COUNT(searchers)++;
        }
        if (attempt > 0)
            COUNT(search_reformulations)++;
        uint32_t n = fw_search_page(ss->engine, ss->ctx, &q, ss->slots, ss->page_cap + 1);
        if (n == 0)
            COUNT(search_zero_results)++;
        fw_evlog_request(ss);
        fw_evlog_search(ss, q.terms, q.n_terms,
                        n - (n > 0 && is_ad_slot(&ss->slots[0])), topic,
                        (uint32_t)attempt);
        fw_sess_event pe = {.kind = FW_SE_PAGE, .surface = FW_SURFACE_SEARCH, .page = ss->slots, .n = n};
        if (n > 0 && fw_session_emit(ss, &pe))
            return -1;
        const fw_slot *res = ss->slots;
        uint32_t first = 0;   /* the first organic result's slot on the page */
        if (n > 0 && is_ad_slot(&res[0])) {
            /* The ad slot at the top (the engine sold it for the topic it reads in the query),
             * examined like the first result; opened more readily on the searched topic. */
            if (res[0].campaign != FW_NONE) {
                double sat_unused = 0.0;
                double bonus = w->note_info[res[0].note].topic == topic ? c->search_intent_bonus : -c->search_intent_bonus;
                fw_sess_event ad = {.kind = FW_SE_AD, .surface = FW_SURFACE_SEARCH, .page = &res[0], .rng = r,
                                    .bonus = bonus, .sat = &sat_unused};
                if (fw_session_emit(ss, &ad))
                    return -1;
            }
            res++;
            n--;
            first = 1;
        }
        double dcg = 0.0, idcg = 0.0;
        for (uint32_t i = 0; i < n; i++) {   /* of the notes ranking: a product result is not in it */
            if (res[i].note == FW_NONE)
                continue;
            dcg += (w->note_info[res[i].note].topic == topic) / log2(i + 2.0);
            idcg += 1.0 / log2(i + 2.0);
        }
        if (idcg > 0.0)
            COUNT(search_ndcg_micro) += (uint64_t)llround(dcg / idcg * 1e6);
        int clicked = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (gsl_rng_uniform(r) >= pow(1.0 / (i + 1.0), c->search_eta))
                continue;   /* not examined */
            uint32_t note = res[i].note;
            if (note == FW_NONE) {   /* a product result: the shop part decides the click */
                uint32_t cat = w->product_category[res[i].card];
                fw_sess_event prod = {.kind = FW_SE_PRODUCT_RESULT, .surface = FW_SURFACE_SEARCH, .card = res[i].card,
                                    .bonus = cat == topic ? c->search_intent_bonus : -c->search_intent_bonus,
                                    .slot_no = i, .source = FW_SRC_SEARCH};
                if (fw_session_emit(ss, &prod))
                    return -1;
                if (prod.handled && !clicked) {
                    COUNT(search_with_click)++;
                    COUNT(search_first_click_pos) += i + 1;
                }
                clicked |= prod.handled != 0;
                continue;
            }
            if (fw_recbuf_event(ss->rec, u, note, tick, FW_EV_IMPRESSION | FW_EV_SEARCH))
                return -1;
            COUNT(search_impressions)++;
            uc[FW_UM_search_impressions][u]++;
            double x = fw_behaviour_affinity(w, u, note), qual = w->note_quality[note];
            double bonus = w->note_info[note].topic == topic ? c->search_intent_bonus : -c->search_intent_bonus;
            double p_open = fw_sigmoid(m->b_open + c->open_affinity * x + c->open_quality * qual +
                                       c->format_weight * fw_behaviour_format_match(w, u, note) + bonus +
                                       fw_behaviour_open_shift(m, w, ss->us, u, note, tick));
            fw_evlog_impression(ss, FW_EVS_SEARCH, first + i, note, note, res[i].card, NAN, p_open, x, qual, i);
            int opened = gsl_rng_uniform(r) < p_open;
            fw_sess_event ex = {.kind = FW_SE_EXAMINED, .surface = FW_SURFACE_SEARCH, .slot_no = i, .handled = opened};
            if (fw_session_emit(ss, &ex))
                return -1;
            if (!opened)
                continue;
            fw_evlog_outcome(ss, FW_EVO_OPEN);
            if (fw_recbuf_event(ss->rec, u, note, tick, FW_EV_OPEN | FW_EV_SEARCH))
                return -1;
            COUNT(search_clicks)++;
            uc[FW_UM_search_clicks][u]++;
            fw_behaviour_satiate(m, w, ss->us, u, w->note_info[note].topic, tick, 1.0);
            if (!clicked) {
                COUNT(search_with_click)++;
                COUNT(search_first_click_pos) += i + 1;
            }
            clicked = 1;
            fw_record click = {.kind = FW_RECORD_SEARCH_CLICK,
                               .u.click = {.user = u, .note = note, .tick = tick, .n_terms = q.n_terms}};
            memcpy(click.u.click.terms, q.terms, sizeof click.u.click.terms);
            if (fw_recbuf_push(ss->rec, &click))
                return -1;
            double pi = fw_sigmoid(m->b_interact + x + qual);
            static const uint32_t kinds[3] = {FW_EV_LIKE, FW_EV_SAVE, FW_EV_COMMENT};
            static const fw_ev_outcome logged[3] = {FW_EVO_LIKE, FW_EVO_SAVE, FW_EVO_COMMENT};
            double share[3] = {c->like_share, c->save_share, comment_share};
            double extra = 0.0;
            for (int k = 0; k < 3; k++)
                if (gsl_rng_uniform(r) < pi * share[k]) {
                    fw_evlog_outcome(ss, logged[k]);
                    if (fw_recbuf_event(ss->rec, u, note, tick, kinds[k] | FW_EV_SEARCH))
                        return -1;
                    COUNT(search_interactions)++;
                    extra += k < 2 ? c->plant_save : 0.0;
                }
            fw_sess_event op = {.kind = FW_SE_NOTE_OPENED, .surface = FW_SURFACE_SEARCH, .note = note,
                                .card = res[i].card, .extra = extra, .source = FW_SRC_SEARCH};
            if (fw_session_emit(ss, &op))
                return -1;
        }
        if (clicked || gsl_rng_uniform(r) >= c->search_reformulate)
            break;
    }
    return 0;
}

static fw_err search_create(fw_sim *S, fw_part_inst *p)
{
    search_state *st = p->state;
    if (!(st->rng = fw_sim_thread_rngs(S, FW_RNG_SEARCH)))
        return FW_ERR_NOMEM;
    return FW_OK;
}

const fw_part fw_search_part = {
    .name = "search",
    FW_PART_COUNTERS_AND_RATES,
    .state_size = sizeof(search_state),
    .create = search_create,
    .user_tick = search_user_tick,
    .session_seek = search_session,
    /* Nothing across days: streams sought per (user, tick). */
    .snap = fw_part_no_state,
};
