/* Per-day outcome metrics per experiment arm: what the recorder writes under /days/<arm>/.
 * Owns: the metric lists (name, unit, description) and the derived-rate rules.
 * Borrows: nothing.  Never touches: files; counters are plain integers so sums over threads
 * are exact and independent of the order they are added in. */
#ifndef FLYWHEEL_METRICS_H
#define FLYWHEEL_METRICS_H

#include <stdint.h>

/* X(name, unit, description): integer counters. */
#define FW_DAY_COUNTERS(X)                                                                     \
    X(active_users, "users", "users with at least one session on the day")                     \
    X(prev_active_users, "users", "users active on the previous day (retention denominator)")  \
    X(retained_users, "users", "users active on the previous day and on this day")             \
    X(sessions, "sessions", "app opens (sessions)")                                            \
    X(feed_requests, "requests", "feed pages requested from the engine")                       \
    X(impressions, "notes", "notes examined on screen (feed impressions)")                     \
    X(opens, "notes", "cover clicks: notes opened and read")                                   \
    X(likes, "events", "likes")                                                                \
    X(saves, "events", "saves (collects)")                                                     \
    X(comments, "events", "comments")                                                          \
    X(interactions, "events", "likes + saves + comments")                                      \
    X(follows, "events", "new follows of a note's creator")                                    \
    X(new_notes, "notes", "notes published on the day by creators in the arm")

/* X(name, numerator, denominator, unit, description): ratios of counters, NaN when the
 * denominator is 0. */
#define FW_DAY_RATES(X)                                                                        \
    X(ctr, opens, impressions, "1", "cover click-through rate: opens / impressions")           \
    X(interactions_per_read, interactions, opens, "1",                                         \
      "(likes + saves + comments) / opens")                                                    \
    X(saves_per_read, saves, opens, "1", "saves / opens")                                      \
    X(follows_per_read, follows, opens, "1", "follows / opens")                                \
    X(retention, retained_users, prev_active_users, "1",                                       \
      "day-over-day retention: retained_users / prev_active_users")                            \
    X(impressions_per_session, impressions, sessions, "notes", "impressions / sessions")       \
    X(sessions_per_user, sessions, active_users, "sessions", "sessions / active_users")

typedef enum fw_day_counter {
#define FW_DC_ENUM(name, unit, doc) FW_DC_##name,
    FW_DAY_COUNTERS(FW_DC_ENUM)
#undef FW_DC_ENUM
    FW_DC__COUNT
} fw_day_counter;

typedef enum fw_day_rate {
#define FW_DR_ENUM(name, num, den, unit, doc) FW_DR_##name,
    FW_DAY_RATES(FW_DR_ENUM)
#undef FW_DR_ENUM
    FW_DR__COUNT
} fw_day_rate;

extern const char *const fw_day_counter_name[FW_DC__COUNT];
extern const char *const fw_day_counter_unit[FW_DC__COUNT];
extern const char *const fw_day_counter_doc[FW_DC__COUNT];
extern const char *const fw_day_rate_name[FW_DR__COUNT];
extern const char *const fw_day_rate_unit[FW_DR__COUNT];
extern const char *const fw_day_rate_doc[FW_DR__COUNT];

/* Fills rate[FW_DR__COUNT] from one arm-day's counters c[FW_DC__COUNT]. */
void fw_metrics_rates(const uint64_t *c, double *rate);

#endif
