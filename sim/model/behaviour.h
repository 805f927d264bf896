/* How people behave: opening notes, interacting, following, ending sessions, coming back.
 * Owns: the calibrated per-arm choice models and the users' behavioural state
 * (satisfaction, today's counts, follows made during the run).
 * Borrows: the world (reads hidden truth; a session writes only its own user's interest
 * row), the engine (feed requests through the caller's ctx).
 * Never touches: shared state during a session -- everything shared is emitted as events
 * into the caller's per-thread buffer and applied at the tick barrier. */
#ifndef FLYWHEEL_BEHAVIOUR_H
#define FLYWHEEL_BEHAVIOUR_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "flywheel/engine.h"
#include "flywheel/ads.h"
#include "flywheel/shop.h"
#include "model/knobs.h"
#include "model/world.h"

/* One arm's choice model: knobs plus intercepts calibrated so that a random (user, note)
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
 * Deterministic. */
void fw_behaviour_calibrate(fw_behaviour_model *m, const fw_behaviour_cfg *cfg, const fw_world *w,
                            uint64_t seed);

typedef struct fw_evbuf {
    fw_event *v;
    size_t n, cap;
} fw_evbuf;

int fw_evbuf_push(fw_evbuf *b, uint32_t user, uint32_t note, int32_t tick, uint32_t type);

/* Search clicks of a tick, for fw_engine_log_search at the barrier. */
typedef struct fw_clickbuf {
    fw_search_click *v;
    size_t n, cap;
} fw_clickbuf;

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

/* A thread's shop traffic of a tick: events and checkout requests (with the source of each
 * request's intent), applied at the barrier. */
typedef struct fw_shopbuf {
    fw_shop_event *ev;
    size_t n_ev, cap_ev;
    fw_order_req *ord;
    uint8_t *src;
    size_t n_ord, cap_ord;
} fw_shopbuf;

/* A thread's ad events of a tick (impressions, clicks), applied at the barrier. */
typedef struct fw_adbuf {
    fw_ad_event *v;
    size_t n, cap;
} fw_adbuf;

/* Users' behavioural state, indexed by user id. */
typedef struct fw_users_state {
    double expected_ctr;    /* what users expect of the feed: the population's CTR, adapting
                               at world.expectation_adaptation per day; 0 before day 0 ends */
    float *satisfaction;    /* day-level, 1 = as expected */
    uint32_t *day_impressions, *day_opens;
    uint8_t *active_prev, *active_today;
    uint8_t *searched_today; /* the user has searched today (searchers counter) */
    fw_u32list *new_follows; /* creators followed during the run (applied at barriers) */
    fw_intent *intent;       /* [n_users * FW_INTENTS] */
    int64_t *spent_cents;    /* this month's checkouts (cancellations and refunds give back) */
    uint8_t *bought_today;   /* the user had an order paid today (buyers counter) */
} fw_users_state;

fw_err fw_users_state_init(fw_users_state *s, uint32_t n_users);
void fw_users_state_fini(fw_users_state *s, uint32_t n_users);

/* True when u already follows creator cu (initial graph or during the run). */
int fw_users_follows(const fw_world *w, const fw_users_state *s, uint32_t u, uint32_t cu);

/* What one session needs and where it writes. counters points at the arm's
 * FW_DC__COUNT counters of the calling thread; user_counts at the per-user arrays
 * (experiment.h FW_USER_METRICS) of which the session writes only its own user's entry. */
typedef struct fw_session_io {
    fw_engine *engine;
    fw_engine_ctx *ctx;
    gsl_rng *rng;
    uint32_t *page;          /* [page_cap] scratch: shop-tab pages, a feed page's organic notes */
    uint32_t page_cap;
    fw_slot *slots;          /* [page_cap + 1] feed and search pages as the engine composes them */
    fw_evbuf *events;
    uint64_t *counters;
    uint32_t *const *user_counts; /* [FW_UM__COUNT] per-user counts of the current period */
    /* Search: the user's FW_RNG_SEARCH stream (sought at the tick), where clicks go, and
     * what decides who searches today. */
    gsl_rng *srng;
    fw_clickbuf *clicks;
    /* Shop: the user's FW_RNG_SHOP stream (sought at the tick), where shop events and
     * checkouts go, and where this user's checkouts of this tick start in it. */
    gsl_rng *shop_rng;
    fw_shopbuf *shop;
    size_t ord_begin;
    fw_adbuf *ads;           /* where ad events go; NULL: no ads in this world */
    uint64_t seed;
    uint32_t day;
    /* Oracle metrics (output.oracle_every; 0 = off) and the thread's scratch for them. */
    uint32_t oracle_every, oracle_corpus_every;
    double *oracle_util;
    uint32_t *oracle_id;
    size_t oracle_cap;
} fw_session_io;

/* Runs one session of user u (in arm) at absolute tick: may search first (a user who
 * searches today does so in a session with probability searches_per_searcher divided by
 * their session rate; queries come from an interest, in the world's words with colloquial
 * words, typos and generic words; results are examined with position bias, opened by the
 * true model with a bonus for the searched topic, and the query is reformulated after a page
 * without a click), then requests feed pages, examines,
 * opens, interacts, follows, and decides when to stop. Shopping (from io->shop_rng, when
 * io->shop is set): a session may first open a non-empty cart (buy later, or remove); reading
 * a note that shows a product plants intent for it; a product card in an opened note may be
 * clicked (view -> cart -> pay now, or leave it in the cart); and the session may end on the
 * shop tab (products examined with position bias, clicked by interest, intent, appeal and
 * price). Checkouts respect the user's monthly budget. ev_begin is where this user's
 * events of this tick start in io->events (to avoid following a creator twice before the
 * barrier). Returns 0, or -1 when out of memory. Deterministic given the rng's key. */
int fw_behaviour_session(const fw_behaviour_model *m, fw_world *w, fw_users_state *s,
                         uint32_t u, uint32_t arm, int32_t tick, size_t ev_begin,
                         fw_session_io *io);

/* The user's intent for product p at tick (decayed), and its source (*src, may be NULL). */
double fw_behaviour_intent(const fw_behaviour_model *m, const fw_world *w, const fw_users_state *s,
                           uint32_t u, uint32_t p, int32_t tick, uint8_t *src);

/* Whether u returns a delivered product p: the probability (behaviour.return_rate for a
 * product of average appeal, less for appealing ones). */
double fw_behaviour_p_return(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t p);

/* The true probability that u opens note n if shown it (the model's hidden utility). */
double fw_behaviour_p_open(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t n);

/* Oracle metrics of one served page: NDCG of page[0..n) (FW_NONE entries skipped) against
 * u's true open probabilities with the best slate of the engine's recalled candidates as the
 * ideal; the expected opens lost against that slate and, when corpus, against the best
 * slate of every note u was not served. Adds the FW_DC_oracle_* counters (integers, x 1e6).
 * Returns -1 when scratch memory cannot grow (nothing counted). */
int fw_behaviour_oracle(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t arm,
                        const uint32_t *page, uint32_t n, int corpus, fw_session_io *io);

/* Day-end update of u's interests (pulled back towards their own) and satisfaction from today's CTR relative to s->expected_ctr (or the
 * drift back to neutral when u was inactive), and the probability that u is active
 * tomorrow. Satisfaction is relative to an adapting population norm so that the world is
 * stationary under a steady feed, while an arm that serves better than the norm keeps its
 * users coming back more (hedonic adaptation). */
void fw_behaviour_end_day(const fw_behaviour_model *m, fw_world *w, fw_users_state *s,
                          uint32_t u);
double fw_behaviour_p_active(const fw_behaviour_model *m, const fw_world *w,
                             const fw_users_state *s, uint32_t u);

#endif
