/* Trust and safety: a content classifier, a human review queue and moderation actions
 * (engine.safety.*, engine/src/safety.c).
 * Owns: per cell, each note's moderation state, the review queue and the day's figures.
 * Borrows: the oracle callback and its context (fw_safety_set_oracle), which must outlive the
 *   engine or be replaced.
 * Never touches: randomness (its noise is a keyed hash of note ids and the catalog seed),
 *   threads, files.
 *
 * Each cell moderates every note for its own users' requests with its own knobs (an A/B arm
 * is a moderation policy). At each tick's end the classifier scores the notes published
 * since the last one: a score in [0, 1) and a predicted class. Notes scoring threshold_hi or
 * more are actioned at once; notes in [threshold_lo, threshold_hi) join the cell's review
 * queue, as do notes a user of the cell reports (fw_safety_report). Reviewers take
 * review_capacity notes a tick from the queue's head (FIFO) and decide each review_ticks
 * later: actioned when it violates (wrong with probability review_error), else cleared for
 * good. An actioned note is removed, down-ranked or limited to its creator's followers (the
 * cell's engine.safety.action) in every place the engine serves notes: the feed (baseline,
 * rec and ranker plug-ins), search, and the notify digest.
 *
 * The oracle channel. A platform's classifier reads content; the simulator's notes have no
 * content to read, only a hidden class. The engine therefore asks an explicitly named oracle
 * for a note's class in exactly two places: the classifier model, which turns the class into
 * a noisy score whose precision and recall per class are the knobs (a model of a classifier,
 * not a learner), and the human reviewers, who look at the note (and err at review_error).
 * Nothing else in the engine -- ranking, recall, the queue's order -- reads it. With no oracle
 * set every note is clean. */
#ifndef FLYWHEEL_SAFETY_H
#define FLYWHEEL_SAFETY_H

#include "flywheel/engine.h"

/* The violation classes (the hidden truth the oracle returns). Values are part of result
 * files: only append. */
#define FW_VIOLATIONS(V)                      \
    V(FW_VIOL_NONE, "none")                   \
    V(FW_VIOL_SPAM, "spam")                   \
    V(FW_VIOL_FAKE, "fake")                   \
    V(FW_VIOL_CLICKBAIT, "clickbait")         \
    V(FW_VIOL_UNSAFE, "unsafe")

typedef enum fw_violation {
#define FW_VIOL_ENUM_(c, name) c,
    FW_VIOLATIONS(FW_VIOL_ENUM_)
#undef FW_VIOL_ENUM_
    FW_VIOL__COUNT
} fw_violation;

/* The class name ("spam"), or "?" for a value out of range. */
const char *fw_violation_name(uint32_t v);

/* Returns note's true class (< FW_VIOL__COUNT; anything else counts as none). Called only
 * at barriers, from the engine's thread. */
typedef uint32_t (*fw_safety_oracle)(void *ctx, uint32_t note);

/* Sets the oracle (fn NULL: every note is clean). Barrier call. */
void fw_safety_set_oracle(fw_engine *e, fw_safety_oracle fn, void *ctx);

/* A note's moderation state in one cell. */
typedef enum fw_safety_state {
    FW_NOTE_LIVE = 0,       /* never queued (or not yet scored) */
    FW_NOTE_QUEUED,         /* waiting for or under review */
    FW_NOTE_CLEARED,        /* reviewed and kept */
    FW_NOTE_ACTIONED        /* the cell's action applies */
} fw_safety_state;

/* The classifier's score of note under cell's knobs, in [0, 1), and its predicted class
 * (*pred, may be NULL: FW_VIOL_NONE below 0.5). Deterministic given the note, the oracle's
 * answer and the knobs; 0 when the cell does not moderate or the note is not yet scored. */
double fw_safety_score(const fw_engine *e, uint32_t cell, uint32_t note, uint32_t *pred);

/* The note's state in cell (fw_safety_state); FW_NOTE_LIVE when the cell does not moderate. */
uint32_t fw_safety_state_of(const fw_engine *e, uint32_t cell, uint32_t note);

/* Barrier call: user reports note at tick. In the user's cell a note that was never queued
 * joins the review queue; a queued one is marked reported (it will not count as proactive).
 * FW_OK also when the cell does not moderate (the report is only counted); FW_ERR_INVAL for
 * a bad user or note; FW_ERR_NOMEM when the queue cannot grow. */
fw_err fw_safety_report(fw_engine *e, uint32_t user, uint32_t note, int32_t tick);

/* One cell's figures for the day so far (reset at each fw_engine_end_day). */
typedef struct fw_safety_day {
    uint64_t scored;        /* notes the classifier scored */
    uint64_t flagged;       /* of which scored >= 0.5 */
    uint64_t auto_actioned; /* actioned without review (score >= threshold_hi) */
    uint64_t queued;        /* joined the review queue (band or report) */
    uint64_t queued_reports;/* of which by a report */
    uint64_t reports;       /* reports received */
    uint64_t reviewed;      /* decided by reviewers */
    uint64_t actioned;      /* actioned, by the classifier or a reviewer */
    uint64_t actioned_violating[FW_VIOL__COUNT];  /* actioned, by true class ([0]: wrongful) */
    uint64_t proactive;     /* actioned before any user report of the note */
    uint64_t backlog;       /* waiting in the queue (not yet taken) now */
    uint64_t in_review;     /* taken, not yet decided, now */
    uint64_t tta_p50, tta_p99;   /* ticks from publication to action, over the day's actions
                                    (0 when none) */
} fw_safety_day;

/* Writes cell's figures (zeros when the cell does not moderate). FW_ERR_INVAL for a bad cell,
 * FW_ERR_NOMEM when the percentiles' scratch cannot be allocated. */
fw_err fw_safety_day_stats(const fw_engine *e, uint32_t cell, fw_safety_day *out);

#endif
