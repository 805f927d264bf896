/* The adnotes part: ads are notes. When a user opens an ad (the ads part's click), its
 * creative -- a note like any other -- may be liked, saved and commented on, each with
 * behaviour.ad_engagement times the probability an organic note of the same affinity and
 * quality would get it (the feed part's interaction model), drawn from the surface's stream
 * in the ad's flow. Each is logged as a note event flagged FW_EV_AD (and FW_EV_SEARCH on a
 * search page): the engine counts it as the creative's engagement (its visible likes, its
 * features) and the ads' pCTR model learns from it; the feed recommender does not train on it.
 * The interactions add to the session's reward like an organic note's.
 * Runs only when some cell's ad_engagement is above 0 and the world has campaigns, so a
 * scenario that switches it off keeps its result file as it was. */
#include "driver/part.h"

#define ADNOTES_COUNTERS(X)                                                                    \
    X(ad_likes, "events", "likes of an opened ad's creative (behaviour.ad_engagement)")          \
    X(ad_saves, "events", "saves of an opened ad's creative")                                  \
    X(ad_comments, "events", "comments on an opened ad's creative")                            \
    X(ad_interactions, "events", "ad_likes + ad_saves + ad_comments")

FW_DECLARE_COUNTERS(ADNOTES_COUNTERS);

/* ad_clicks is the ads part's counter: a rate may divide by another part's counter. */
static const fw_rate_desc rates[] = {
    {"ad_interactions_per_click", "ad_interactions", "ad_clicks", 1.0, "1",
     "(likes + saves + comments of the creative) / ads opened"},
};

static int adnotes_active(const fw_sim *S)
{
    if (S->w.n_campaigns == 0)
        return 0;
    for (uint32_t c = 0; c < S->n_cells; c++)
        if (S->model[c].cfg.ad_engagement > 0.0)
            return 1;
    return 0;
}

static int adnotes_on_event(fw_session *ss, fw_part_inst *p, fw_sess_event *ev)
{
    if (ev->kind != FW_SE_AD_OPENED)
        return 0;
    const fw_behaviour_model *m = ss->m;
    const fw_behaviour_cfg *c = &m->cfg;
    if (c->ad_engagement <= 0.0)
        return 0;
    const fw_world *w = ss->w;
    uint32_t u = ss->user, note = ev->page->note;
    double pi = c->ad_engagement * fw_sigmoid(m->b_interact + fw_behaviour_affinity(w, u, note) + w->note_quality[note]);
    double comment_share = 1.0 - c->like_share - c->save_share;
    double share[3] = {c->like_share, c->save_share, comment_share < 0.0 ? 0.0 : comment_share};
    static const uint32_t kinds[3] = {FW_EV_LIKE, FW_EV_SAVE, FW_EV_COMMENT};
    static const uint32_t counted[3] = {C_ad_likes, C_ad_saves, C_ad_comments};
    uint32_t flags = FW_EV_AD | (ev->surface == FW_SURFACE_SEARCH ? FW_EV_SEARCH : 0u);
    for (int k = 0; k < 3; k++)
        if (gsl_rng_uniform(ev->rng) < pi * share[k]) {
            if (fw_recbuf_event(ss->rec, u, note, ss->tick, kinds[k] | flags))
                return -1;
            ss->row[p->base + counted[k]]++;
            ss->row[p->base + C_ad_interactions]++;
            ev->extra += 1.0;
        }
    return 0;
}

const fw_part fw_adnotes_part = {
    .name = "adnotes",
    FW_PART_COUNTERS_AND_RATES,
    .active = adnotes_active,
    .on_event = adnotes_on_event,
    .snap = fw_part_no_state,   /* no state at all */
};
