/* Keyed, stateless random streams for the simulator.
 * Owns: the fw_rng_philox gsl_rng_type (Philox4x32-10, Salmon et al., SC'11).
 * Borrows: nothing.  Never touches: the clock, thread ids, or any global state.
 *
 * Every draw in Flywheel comes from a stream keyed by (seed, purpose, entity, day). A
 * stream is a gsl_rng of type fw_rng_philox positioned with fw_rng_seek; all gsl_ran_*
 * distributions work on it unchanged. Two streams with different keys are independent,
 * and a stream's outputs depend on its key alone, never on which thread draws or on what
 * other streams did first. */
#ifndef FLYWHEEL_RNG_H
#define FLYWHEEL_RNG_H

#include <stdint.h>
#include <gsl/gsl_rng.h>

/* What a stream is for. Values are part of the result's reproducibility: never renumber,
 * only append. */
typedef enum fw_rng_purpose {
    FW_RNG_TOPICS = 1,     /* topic popularity, topic centroids */
    FW_RNG_USER = 2,       /* a user's hidden traits */
    FW_RNG_CREATOR = 3,    /* a creator's traits */
    FW_RNG_FOLLOW = 4,     /* the initial follow graph */
    FW_RNG_BRAND = 5,
    FW_RNG_PRODUCT = 6,    /* a product's attributes (day 0) and its title's words (day 1) */
    FW_RNG_NOTE = 7,       /* an initial note's attributes */
    FW_RNG_ACTIVITY = 8,   /* whether a user is active on a day, and session times */
    FW_RNG_SESSION = 9,    /* choices inside a user's sessions (entity user, day = tick) */
    FW_RNG_POSTING = 10,   /* a creator's new notes on a day */
    FW_RNG_ASSIGN = 11,    /* experiment assignment */
    FW_RNG_CALIBRATE = 12, /* Monte Carlo calibration of behaviour intercepts */
    FW_RNG_TEXT = 13,      /* a note's terms (entity: initial note index, or creator with
                              day = (day + 1) << 12 | sequence for new notes) */
    FW_RNG_SEARCH = 14,    /* a user's searches (entity user, day = tick) */
    FW_RNG_SHOP = 15,      /* a user's shopping choices (entity user, day = tick) */
    FW_RNG_RETURN = 16,    /* whether and when a delivered order is returned (entity order) */
    FW_RNG_RESTOCK = 17,   /* brands restocking sold-out products (entity product, day) */
    FW_RNG_CAMPAIGN = 18,  /* an ad campaign's terms (entity campaign) */
    FW_RNG_TASK = 19,      /* marketplace: a brand's task (entity brand, day); quotes (entity creator, day = task) */
    FW_RNG_DIGEST = 20,    /* what a user opens in their daily digest (entity user, day) */
    FW_RNG_COUPON = 21,    /* a user's coupon claims (entity user, day = tick) */
    /* Trust and safety (issue 20; numbered apart so parallel additions do not collide). */
    FW_RNG_VIOLATION = 40, /* a creator's type (entity creator user, day 0) and a note's hidden
                              violation class (entity note, day 1) */
    FW_RNG_REPORT = 41,    /* whether a user reports what they are shown (entity user, day = tick) */
    FW_RNG_AIGC = 22,      /* AIGC (issue 20): a creator's adoption threshold (entity creator user, day 0)
                              and declarations (day + 1); the tool's style (entity n_topics, day
                              0xfffffff0); homogenisation pairs (entity 0xffff0000 + arm, day) */
    FW_RNG_CHURN = 48,     /* whether a user leaves for good (entity user, day; issue 18) */
    FW_RNG_UNFOLLOW = 55,  /* whether a follower unfollows a creator (entity user, day = tick; issue 18) */
    FW_RNG_FOLLOW_BACK = 56, /* whether a creator newly followed follows back (entity the new
                                follower, day = tick; issue 18) */
    FW_RNG_SUGGEST = 57,   /* a user's follow suggestions (entity user, day = tick; issue 18) */
    /* Live selling (issue 19). */
    FW_RNG_LIVE_SCHEDULE = 60, /* the day's live sessions (entity 0, day) */
    FW_RNG_LIVE_JOIN = 61,     /* whether a user in a session joins a live (entity user, day = tick) */
    FW_RNG_LIVE_VIEW = 62,     /* a session's viewers' buying and leaving (entity session, day = tick) */
    FW_RNG_TEST = 1000     /* tests only */
} fw_rng_purpose;

/* The generator type: 32-bit outputs (min 0, max 2^32-1); gsl_rng_uniform returns k * 2^-32.
 * gsl_rng_set(r, s) is equivalent to fw_rng_seek(r, s, 0, 0, 0). */
extern const gsl_rng_type *fw_rng_philox;

/* Positions r (of type fw_rng_philox) at the start of the stream keyed by
 * (seed, purpose, entity, day). O(1); deterministic. */
void fw_rng_seek(gsl_rng *r, uint64_t seed, uint32_t purpose, uint32_t entity, uint32_t day);

/* Allocates a stream of type fw_rng_philox already seeked to the key; NULL if out of
 * memory. Free with gsl_rng_free. */
gsl_rng *fw_rng_create(uint64_t seed, uint32_t purpose, uint32_t entity, uint32_t day);

/* One Philox4x32-10 block: out = philox(ctr, key). Exposed for known-answer tests. */
void fw_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* A 64-bit mixing hash (splitmix64 finaliser) for hashing ids with salts, e.g. experiment
 * assignment. Deterministic, platform-independent. */
uint64_t fw_hash64(uint64_t x);

#endif
