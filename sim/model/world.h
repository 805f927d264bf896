/* The synthetic world: users, creators, brands, products, notes and the follow graph,
 * with the hidden truth the engine never sees (interests, taste, true quality, appeal).
 * Owns: every array in fw_world (struct-of-arrays indexed by id); free with fw_world_fini.
 * Borrows: the scenario's world knobs during generation only.
 * Never touches: the engine, files, threads. Generation is serial and deterministic: every
 * draw comes from a stream keyed by (seed, purpose, entity id). */
#ifndef FLYWHEEL_WORLD_H
#define FLYWHEEL_WORLD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "flywheel/ads.h"
#include "flywheel/engine.h"
#include "flywheel/market.h"
#include "flywheel/snap.h"
#include "model/knobs.h"

typedef struct fw_world {
    uint32_t n_users, n_topics, dim, ticks_per_day;
    /* The last n_arrivals users join during the run (world.arrivals_per_day; issue 18): their
     * traits are drawn like everyone's, they follow no one at day 0 and post nothing. */
    uint32_t n_arrivals;

    /* Topics: popularity (sums to 1) and a centroid in taste space. */
    double *topic_pop;       /* [n_topics] */
    float *topic_centroid;   /* [n_topics * dim] */

    /* Users (hidden). interest rows sum to 1 and drift during the run. */
    float *interest;         /* [n_users * n_topics] */
    /* A user's own interests (day 0's row) are not stored: fw_world_own_interest draws them
     * again from the user's stream (128 bytes a user at 32 topics). */
    double *interest_alpha;  /* [n_topics] their Dirichlet parameters */
    uint64_t seed;           /* the generation's seed */
    float *taste;            /* [n_users * dim] */
    float *p_active;         /* base probability of being active on a day */
    float *session_rate;     /* mean sessions on an active day */
    float *video_pref;       /* in [-1, 1]: -1 only images, +1 only video */
    float *search_prop;      /* probability of searching on an active day */
    float *purchase_prop;    /* propensity to buy what a note plants */
    float *price_sens;       /* price sensitivity (>0; 1 = average) */
    int64_t *budget_cents;   /* monthly shopping budget */
    int32_t *creator_of;     /* [n_users] index into creator arrays, or -1 */

    /* Creators: a subset of users. */
    uint32_t n_creators;
    uint32_t *creator_user;  /* [n_creators] user id */
    uint16_t *creator_niche; /* topic */
    float *creator_rate;     /* expected new notes per day */
    float *creator_skill;    /* mean true quality (log scale) */
    float *creator_video;    /* share of the creator's notes that are video */

    /* Follow graph at day 0, CSR by follower; and follower counts (kept current). Offsets
     * are 64-bit: the knobs allow 50M users x 5000 follows, far past 2^32 edges. The graph
     * is never written once the engine exists: the engine reads its rows in place
     * (fw_catalog.follows_kept), and the run's changes are in fw_users_state (new_follows,
     * day0_moved). */
    uint64_t *follow_off;    /* [n_users + 1] */
    uint32_t *follow_dst;    /* [n_follow_edges] creator user ids */
    uint64_t n_follow_edges;
    uint32_t *n_followers;   /* [n_users] */

    /* Brands and products. */
    uint32_t n_brands, n_products;
    uint16_t *brand_category;
    int64_t *brand_budget_cents;
    uint32_t *product_brand;
    uint16_t *product_category;
    int64_t *product_price_cents;
    uint32_t *product_stock;
    float *product_appeal;
    uint32_t *product_terms; /* [n_products * FW_PRODUCT_TERMS] visible title words (search) */
    uint32_t *category_off;  /* [n_topics + 1]: products sorted by category */
    uint32_t *category_products;

    /* Ad campaigns: brand, objective, bid, budget, target, creative (a note showing one of
     * the brand's products when one exists). */
    uint32_t n_campaigns;
    fw_campaign_info *campaigns;

    /* Vocabulary: topic t's words are [t * terms_per_topic, (t + 1) * terms_per_topic), then
     * generic_terms generic words, then colloquial_per_topic colloquial words per topic
     * (never in notes), then FW_WORLD_TYPO_TERMS misspellings (never in notes). */
    uint32_t n_terms, terms_per_topic, generic_terms, colloquial_per_topic;
    uint32_t generic_base, colloquial_base, typo_base;
    gsl_ran_discrete_t *term_pick;   /* Zipf over a topic's words */

    /* Notes (grow as creators post). Visible part mirrors what the engine was told. */
    uint32_t n_notes, cap_notes;
    uint32_t n_notes_generated;   /* notes [0, n_notes_generated) are the generation's: a
                                     snapshot holds only the later ones' rows */
    fw_note_info *note_info; /* visible: creator, topic, format, created tick */
    float *note_quality;     /* hidden true quality */
    float *note_emb;         /* [cap_notes * dim] hidden content embedding */
    uint32_t *note_product;  /* true product mention or FW_NONE */
    uint32_t *note_terms;    /* [cap_notes * FW_NOTE_TERMS] visible text, FW_NONE-padded */
    uint32_t *note_likes;    /* visible like count (feed and search likes, applied at tick
                                barriers; 0 at day 0 and at publication) */
} fw_world;

#define FW_WORLD_TYPO_TERMS 1000

/* world.n_topics at most (its knob's range). */
#define FW_WORLD_MAX_TOPICS 1024

/* Creators a user follows at day 0, at most: with world.n_users at its maximum the graph may
 * hold n_users x FW_WORLD_MAX_FOLLOWS edges, which is why follow_off is 64-bit. */
#define FW_WORLD_MAX_FOLLOWS 5000

/* Generates the world for cfg and seed into w. FW_ERR_NOMEM on failure (w left empty). */
fw_err fw_world_generate(const fw_world_cfg *cfg, uint64_t seed, fw_world *w);

/* The same, giving up with FW_ERR_INTERRUPT (w left empty) when *stop is set (asynchronously,
 * by a signal) at the end of one of the generation's phases; stop may be NULL. */
fw_err fw_world_generate_until(const fw_world_cfg *cfg, uint64_t seed, const volatile sig_atomic_t *stop, fw_world *w);

void fw_world_fini(fw_world *w);

/* Adds n_new users, ids n_users.. n_users + n_new - 1, for the run's arrivals (issue 18;
 * seed must be the generation's, else FW_ERR_INVAL):
 * their traits from the same streams as a generated user of that id (so p_active is what
 * they will have once they join; the caller holds them away until then), no creator role,
 * no follows in the day-0 graph, no followers. Grows every per-user array; sets n_arrivals.
 * FW_ERR_NOMEM (the world stays valid, at its old size) or FW_ERR_INVAL past 2^32 users.
 * Deterministic given the world, cfg and seed. */
fw_err fw_world_add_arrivals(fw_world *w, const fw_world_cfg *cfg, uint64_t seed, uint32_t n_new);

/* User u's own interests, the row generation drew (interest before any drift), into
 * out[n_topics]: drawn again from u's stream FW_RNG_USER with r (n_topics gamma draws);
 * theta is scratch [n_topics]. Bit-identical to the generated row. */
void fw_world_own_interest(const fw_world *w, gsl_rng *r, uint32_t u, double *theta, float *out);

/* Issue 18's pilot warm-up (world.warmup_pilot_users P of world.n_users N): whether user u is
 * in it -- u with floor((u + 1) P / N) > floor(u P / N): exactly P of the first N, evenly
 * spread over ids (the generated graph's oldest and newest accounts alike), arrivals (ids
 * from N) at the same rate. A function of the id alone: the same for any thread count or rank. */
static inline int fw_world_in_pilot(uint32_t u, uint32_t P, uint32_t N)
{
    return N > 0 && ((uint64_t)u + 1) * P / N > (uint64_t)u * P / N;
}

/* The pilot's handover, after its last day: what a pilot cannot carry by itself is each
 * user's drifted interests (reading pulls a user's interests toward what they read; each
 * day's end pulls them back toward their own by behaviour.drift_reversion), the slow mode of
 * CTR. Every user u < N outside the pilot takes the drift (interests less own interests) of a
 * pilot user like them -- the same favourite topic of their own and the same decile of
 * activity (p_active x session_rate; deciles of the pilot's; the nearest decile that has one
 * with that topic, else u is left as is), the one among those picked by a hash of the seed and
 * u -- added to their own interests, clipped at 0 and normalised. Serial, in id order, from
 * the world alone (r is only seeked to users' streams): the same for any thread count and on
 * every rank. Arrivals (ids from N) keep their cold start. -1 when out of memory (w unchanged). */
int fw_world_pilot_handover(fw_world *w, gsl_rng *r, uint32_t N, uint32_t P);

/* A new note's hidden and visible attributes, drawn by the caller. */
typedef struct fw_new_note {
    fw_note_info info;
    float quality;
    uint32_t product;
    uint32_t terms[FW_NOTE_TERMS];
} fw_new_note;

/* Draws a product's title in category into terms[FW_PRODUCT_TERMS]: FW_PRODUCT_TERMS - 1
 * words of the category's vocabulary (Zipf, as notes draw them) and 1 generic word.
 * Deterministic given r. */
void fw_world_draw_title(const fw_world *w, gsl_rng *r, uint32_t category, uint32_t *terms);

/* Draws a note's text on topic into terms[FW_NOTE_TERMS]: 11 topic words (Zipf), 3 generic
 * words, 1 word of another topic, and 1 slot left empty (FW_NONE). Deterministic given r. */
void fw_world_draw_terms(const fw_world *w, gsl_rng *r, uint32_t topic, uint32_t *terms);

/* Makes room for cap notes in every per-note array (capacity only: no result changes; past
 * it fw_world_add_note grows them by half). FW_ERR_NOMEM leaves w valid at its old room. */
fw_err fw_world_reserve_notes(fw_world *w, uint32_t cap);

/* Appends a note with embedding emb[dim]; writes its id. Called at tick barriers only. */
fw_err fw_world_add_note(fw_world *w, const fw_new_note *n, const float *emb, uint32_t *id);

/* Draws a note of creator c (index into creator arrays) created at tick: topic, format,
 * quality, product mention and embedding (into emb[dim]); not its text (out->terms is left
 * FW_NONE: draw it with fw_world_draw_terms from a FW_RNG_TEXT stream). Deterministic given r. */
void fw_world_draw_note(const fw_world *w, const fw_world_cfg *cfg, gsl_rng *r,
                        uint32_t c, int32_t tick, fw_new_note *out, float *emb);

/* The topic at which the cumulative sum of mix[0..n_topics) (an interest row, summing to
 * 1) first exceeds u in [0, 1); the last topic if rounding leaves u above the total. */
uint32_t fw_world_draw_topic(const float *mix, uint32_t n_topics, double u);

/* Expected share of monthly users active on a day (DAU/MAU) implied by the activity
 * distribution over a 30-day month, before satisfaction effects. */
double fw_world_expected_dau_mau(const fw_world *w);

/* Issue 21, state snapshots (flywheel/snap.h): transfers what a day changes in w -- the notes
 * published since generation (their rows, grown into w when loading), every note's likes,
 * interests, p_active and follower counts -- in both directions (saving or loading, as s
 * does). Loading, w is the freshly generated world of the same scenario; a value out of range
 * fails s. The follow graph, traits, creators' and products' rows never change after
 * generation: the run's follows are the users' state (fw_users_snap), stock the engine's. */
void fw_world_snap(fw_world *w, fw_snap *s);

/* The grown graph's interest similarity (follow_growth), for run-time follows by the same rule:
 * row[0, T) scaled to unit length in 1/255ths (out[T]), and the cosine of two such vectors in
 * units of 255^-2 (an integer dot product: exact in any order). */
void fw_world_unit_vector(const float *row, uint32_t T, uint8_t *out);
uint32_t fw_world_unit_cos(const uint8_t *a, const uint8_t *b, uint32_t T);

#endif
