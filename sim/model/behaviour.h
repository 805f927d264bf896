/* How people choose: the hidden utilities and probabilities behind opening notes,
 * interacting, following, wanting and buying products, ending sessions and coming back.
 * Owns: the calibrated per-cell choice models and the users' behavioural state
 * (satisfaction, today's counts, follows made during the run, purchase intents, budgets).
 * Borrows: the world (reads hidden truth; a user's own rows may be written by that user's
 * session).
 * Never touches: the engine, random streams (callers pass the draws' generator) or any
 * session's control flow -- the parts (sim/parts/) run sessions with these choices. */
#ifndef FLYWHEEL_BEHAVIOUR_H
#define FLYWHEEL_BEHAVIOUR_H

#include <math.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "flywheel/engine.h"
#include "flywheel/snap.h"
#include "model/knobs.h"
#include "model/world.h"

/* One cell's choice model: knobs plus intercepts calibrated so that a random (user, note)
 * pair opens with probability open_rate, and opened notes get interact_rate interactions
 * and follow_rate follows on average; and so that a user shown a product of a category
 * drawn from their interests, with no intent for it yet, clicks its card with probability
 * card_click_rate, clicks it in the shop tab with shop_click_rate, and adds it to the cart
 * after a view with cart_rate, on average. Intent then raises those rates. */
typedef struct fw_behaviour_model {
    fw_behaviour_cfg cfg;
    double b_open, b_interact, b_follow;
    double log_price_ref;   /* mean log price of the catalog: prices are judged against it */
    double b_card, b_cart, b_shop;   /* shopping intercepts (card click, add to cart, shop-tab click) */
} fw_behaviour_model;

/* Calibrates m for cfg on world w with Monte Carlo pairs from the CALIBRATE stream.
 * Deterministic. FW_ERR_NOMEM when its scratch cannot be allocated (m is then not to be used:
 * uncalibrated intercepts would be another model, silently). */
fw_err fw_behaviour_calibrate(fw_behaviour_model *m, const fw_behaviour_cfg *cfg, const fw_world *w,
                            uint64_t seed);

typedef struct fw_u32list {
    uint32_t *v;
    uint32_t n, cap;
} fw_u32list;

int fw_u32list_push(fw_u32list *l, uint32_t x);

/* Where a purchase intent came from: the note that planted it (feed or search), or none
 * (a product found in the shop tab). */
typedef enum fw_source { FW_SRC_FEED = 0, FW_SRC_SEARCH, FW_SRC_SHOP, FW_SRC__COUNT } fw_source;

/* Purchase intent for one product (hidden): planted by notes, decaying with
 * behaviour.intent_half_life_days from tick. */
typedef struct fw_intent {
    uint32_t product;       /* FW_NONE: empty slot */
    float strength;         /* as of tick */
    int32_t tick;
    uint8_t source;         /* fw_source of the latest planting */
} fw_intent;

#define FW_INTENTS 4        /* intents a user holds at once (the weakest is forgotten) */

/* Short-term satiation with one topic (hidden): the opens of it, each decaying with
 * behaviour.satiation_half_life_hours from tick. */
typedef struct fw_satiation {
    float level;            /* as of tick; 0: empty slot */
    int32_t tick;
    uint16_t topic;
} fw_satiation;

#define FW_SATIATIONS 4     /* topics a user is satiated with at once (the least is forgotten) */

/* Users' behavioural state, indexed by user id. */
typedef struct fw_users_state {
    double expected_ctr;    /* what users expect of the feed: the population's CTR, adapting
                               at world.expectation_adaptation per day; 0 before day 0 ends */
    float *satisfaction;    /* day-level, 1 = as expected */
    uint32_t *day_impressions, *day_opens;
    uint8_t *active_prev, *active_today;
    uint8_t *searched_today; /* the user has searched today (searchers counter) */
    fw_u32list *new_follows; /* creators followed during the run (applied at barriers); and,
                                once day0_moved, the day-0 follows not unfollowed */
    uint64_t *day0_moved;    /* [ceil(n_users / 64)] bit u: u's day-0 follows were moved to
                                new_follows at u's first unfollow of one (w->follow_dst is
                                never written: the engine reads it in place) */
    fw_intent *intent;       /* [n_users * FW_INTENTS] */
    fw_satiation *satiation; /* [n_users * FW_SATIATIONS] */
    int64_t *spent_cents;    /* this month's checkouts (cancellations and refunds give back) */
    uint8_t *bought_today;   /* the user had an order paid today (buyers counter) */
} fw_users_state;

fw_err fw_users_state_init(fw_users_state *s, uint32_t n_users);
void fw_users_state_fini(fw_users_state *s, uint32_t n_users);

/* Issue 21, state snapshots (flywheel/snap.h): transfers us (w's users) as a day's end leaves
 * it, in both directions (saving or loading, as s does). Loading, us was just initialised
 * for w's users (every run follow list empty); a follow of a non-creator, a product or topic
 * out of range fails s. */
void fw_users_snap(fw_users_state *us, const fw_world *w, fw_snap *s);

/* True when u already follows creator cu (initial graph or during the run). */
int fw_users_follows(const fw_world *w, const fw_users_state *s, uint32_t u, uint32_t cu);

/* Creators u follows now (initial graph and during the run). */
uint64_t fw_users_n_follows(const fw_world *w, const fw_users_state *s, uint32_t u);

/* u stops following creator cu (a barrier's write): the follow is removed (at u's first
 * unfollow of a day-0 follow, u's other day-0 follows move to new_follows, ahead of the run's)
 * and cu loses a follower. 1 when u followed cu, else 0 (nothing changes); -1 out of memory
 * (nothing changes). */
int fw_users_unfollow(fw_world *w, fw_users_state *s, uint32_t u, uint32_t cu);

static inline double fw_sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* The hidden affinity of u to note n: log(T * interest[topic] + 0.1) + taste . emb / dim. */
static inline double fw_behaviour_affinity(const fw_world *w, uint32_t u, uint32_t n)
{
    uint32_t T = w->n_topics, D = w->dim;
    const fw_note_info *ni = &w->note_info[n];
    double x = log(T * (double)w->interest[(size_t)u * T + ni->topic] + 0.1);
    const float *a = &w->taste[(size_t)u * D], *b = &w->note_emb[(size_t)n * D];
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (uint32_t d = 0; d < D; d++)
        dot += a[d] * b[d];
    return x + (double)dot / D;
}

/* +video_pref[u] for a video note, -video_pref[u] for an image. */
static inline double fw_behaviour_format_match(const fw_world *w, uint32_t u, uint32_t n)
{
    return w->note_info[n].format == FW_FORMAT_VIDEO ? w->video_pref[u] : -w->video_pref[u];
}

/* The true probability that u opens note n if shown it (the model's hidden utility). */
double fw_behaviour_p_open(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t n);

/* The shift of the logit of u opening note n at tick beyond fw_behaviour_p_open's, from the
 * user's satiation with the note's topic (-satiation x level) and the note's visible likes
 * (social_proof x log(1 + likes)): exactly 0 with both knobs 0. Feed and search add it. */
double fw_behaviour_open_shift(const fw_behaviour_model *m, const fw_world *w, const fw_users_state *s,
                               uint32_t u, uint32_t n, int32_t tick);

/* u's satiation with topic at tick (decayed opens of it). */
double fw_behaviour_satiation(const fw_behaviour_model *m, const fw_world *w, const fw_users_state *s,
                              uint32_t u, uint32_t topic, int32_t tick);

/* Adds amount (1 per open) to u's satiation with topic at tick; the least satiated topic makes
 * room for a new one. Does nothing when behaviour.satiation is 0. Called by u's session only. */
void fw_behaviour_satiate(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                          uint32_t topic, int32_t tick, double amount);

/* The price term of u's choices about product p: sensitivity times how far its price is
 * above the catalog's norm (log scale). */
double fw_behaviour_price_term(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t p);

/* The deal term of a choice about a product listed at list and offered at pay (cents):
 * deal_weight x log(list / pay) when pay < list, else exactly 0 (so is deal_weight 0). It is
 * added to the logit of each choice that weighs the price the user would pay, beside the
 * price term: the response to a deal against the list (reference) price. */
double fw_behaviour_deal_term(const fw_behaviour_cfg *c, double list, double pay);

/* The user's intent for product p at tick (decayed), and its source (*src, may be NULL). */
double fw_behaviour_intent(const fw_behaviour_model *m, const fw_world *w, const fw_users_state *s,
                           uint32_t u, uint32_t p, int32_t tick, uint8_t *src);

/* Adds amount of intent for p at tick (the weakest intent makes room for a new product). */
void fw_behaviour_plant(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                        uint32_t p, double amount, int32_t tick, uint8_t source);

/* Whether u returns a delivered product p: the probability (behaviour.return_rate for a
 * product of average appeal, less for appealing ones). */
double fw_behaviour_p_return(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t p);

/* Day-end update of u's interests (pulled back towards their own) and satisfaction from today's CTR relative to s->expected_ctr (or the
 * drift back to neutral when u was inactive), and the probability that u is active
 * tomorrow. Satisfaction is relative to an adapting population norm so that the world is
 * stationary under a steady feed, while an arm that serves better than the norm keeps its
 * users coming back more (hedonic adaptation). r redraws u's own interests
 * (fw_world_own_interest) when drift_reversion is on. */
void fw_behaviour_end_day(const fw_behaviour_model *m, fw_world *w, fw_users_state *s,
                          uint32_t u, gsl_rng *r);
double fw_behaviour_p_active(const fw_behaviour_model *m, const fw_world *w,
                             const fw_users_state *s, uint32_t u);

#endif
