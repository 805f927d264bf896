/* Engine configuration: the research knobs of the platform (what an A/B arm may change).
 * Owns: the knob lists and the config structs they expand to.  Borrows: nothing.
 * Never touches: files or parsing; the simulator loads scenarios and hands a filled
 * const fw_engine_cfg * to fw_engine_create. */
#ifndef FLYWHEEL_ENGINE_CFG_H
#define FLYWHEEL_ENGINE_CFG_H

#include "flywheel/knob.h"

/* Feed algorithms. "baseline" stays selectable as the control algorithm. */
#define FW_FEED_ALGORITHMS(V) \
    V(FW_FEED_BASELINE, "baseline")

typedef enum fw_feed_algorithm { FW_FEED_ALGORITHMS(FW_KNOB_ENUM_CONST) FW_FEED__COUNT } fw_feed_algorithm;

/* engine.feed.* */
#define FW_FEED_KNOBS(X)                                                                          \
    X(ENUM, algorithm, FW_FEED_BASELINE, FW_FEED_ALGORITHMS, 0, "",                               \
      "feed algorithm: baseline = followed + trending + fresh, recency-decayed score")            \
    X(U32, page_size, 10, 1, 100, "notes", "notes returned per feed request")                     \
    X(U32, n_trending, 400, 0, 100000, "notes", "size of the trending pool (top decayed engagement)") \
    X(U32, n_fresh, 200, 0, 100000, "notes", "size of the fresh pool (most recently published)")  \
    X(U32, follow_recent, 4, 0, 64, "notes", "recent notes kept per creator for follow recall")   \
    X(U32, follow_max_creators, 64, 0, 4096, "creators", "followed creators scanned per request") \
    X(U32, sample_trending, 60, 0, 10000, "notes", "trending candidates scored per request")       \
    X(U32, sample_fresh, 30, 0, 10000, "notes", "fresh candidates scored per request")            \
    X(F64, w_follow, 1.0, 0.0, 1000.0, "", "score bonus of a note from a followed creator")       \
    X(F64, w_trending, 1.0, 0.0, 1000.0, "", "weight of log(1 + decayed engagement)")             \
    X(F64, w_fresh, 0.5, 0.0, 1000.0, "", "score bonus of a note younger than fresh_age_h")       \
    X(F64, fresh_age_h, 24.0, 0.0, 10000.0, "hours", "age under which a note counts as fresh")   \
    X(F64, recency_half_life_h, 48.0, 0.01, 1.0e6, "hours", "half-life of the recency decay of the score") \
    X(F64, trending_half_life_h, 12.0, 0.01, 1.0e6, "hours", "half-life of decayed engagement counts") \
    X(F64, w_open, 1.0, 0.0, 1000.0, "", "engagement weight of an open in trending counts")       \
    X(F64, w_like, 2.0, 0.0, 1000.0, "", "engagement weight of a like")                           \
    X(F64, w_save, 4.0, 0.0, 1000.0, "", "engagement weight of a save")                           \
    X(F64, w_comment, 4.0, 0.0, 1000.0, "", "engagement weight of a comment")                     \
    X(U32, seen_window, 1000, 16, 1000000, "notes",                                               \
      "a user is never served again any of their last seen_window notes (Bloom filters)")

/* engine.* (other than sub-sections) */
#define FW_ENGINE_KNOBS(X) \
    X(U32, latency_sigfigs, 2, 1, 3, "digits", "significant digits of latency histograms (2 = 1% error)")

typedef struct fw_feed_cfg {
    FW_FEED_KNOBS(FW_KNOB_FIELD)
} fw_feed_cfg;

typedef struct fw_engine_cfg {
    FW_ENGINE_KNOBS(FW_KNOB_FIELD)
    fw_feed_cfg feed;
} fw_engine_cfg;

#endif
