/* A part: one capability's simulator side -- its session step, its barrier glue, its day
 * counters and what it records. The driver (run.c) loops over the table of parts
 * (parts/parts.c) in every phase of a day and a tick; a new capability is a part file and
 * one row of that table (and an engine module and one row of the engine's table).
 * Owns: nothing; only the interface.  Borrows: nothing.
 * Never touches: the engine's internals (parts talk to the engine through its public
 * headers) or files (a part describes its datasets; the recorder writes them).
 *
 * Threading: session hooks run in parallel, one user per call, on the user's own rows and
 * the thread's record buffer (fw_session); every other hook runs alone, between ticks, in
 * table order. Randomness: a part draws only from its own streams, keyed by (seed, purpose,
 * entity, day or tick), so adding a part changes no other part's draws. */
#ifndef FLYWHEEL_PART_H
#define FLYWHEEL_PART_H

#include <stdint.h>
#include <stdio.h>

#include <gsl/gsl_rng.h>

#include "driver/sim.h"
#include "flywheel/snap.h"

/* A day counter (fw_counter_desc, io/recorder.h: name, unit, doc): one uint64 per cell per
 * day, summed over threads (so exact for any thread count), written per arm under
 * /days/<arm>/<name>. */

/* A rate: scale * numerator / denominator of two counters (by name, any part's), NaN when
 * the denominator is 0, written beside the counters. */
typedef struct fw_rate_desc {
    const char *name, *num, *den;
    double scale;
    const char *unit, *doc;
} fw_rate_desc;

/* What happens inside a session that other parts may react to. */
typedef enum fw_sess_event_kind {
    FW_SE_PAGE = 0,     /* a feed or search page was served: page, n, page_no, surface; the
                           engine context's candidates are still the page's (oracle) */
    FW_SE_AD,           /* a filled ad slot is on screen: slot, surface, rng, bonus, sat */
    FW_SE_AD_OPENED,    /* an ad's creative was opened: slot, surface, rng; parts add the
                           creative's interactions to extra (the session's reward) */
    FW_SE_NOTE_OPENED,  /* an organic note was read: note, card, extra, source */
    FW_SE_EXAMINED,     /* a search result was examined: slot_no its organic rank from 0,
                           handled 1 when it was opened (the tables part counts them) */
    FW_SE_PRODUCT_RESULT, /* a product result of a search page was examined (blended results,
                           engine.search.product_slot): card the product, bonus the logit
                           bonus of the searched category, slot_no its rank from 0; the shop
                           part sets handled 1 when it is clicked (a product view follows) */
} fw_sess_event_kind;

/* The aux tag of an FW_RECORD_FOLLOW (a follow without a note): the part that made it. */
typedef enum fw_follow_source { FW_FOLLOW_BACK = 0, FW_FOLLOW_SUGGESTED = 1 } fw_follow_source;

typedef enum fw_surface { FW_SURFACE_FEED = 0, FW_SURFACE_SEARCH } fw_surface;

typedef struct fw_sess_event {
    uint32_t kind;              /* fw_sess_event_kind */
    uint32_t surface;           /* fw_surface */
    const fw_slot *page;        /* PAGE: the page; AD, AD_OPENED: the ad's slot */
    uint32_t n;                 /* PAGE: its slots */
    uint32_t page_no;           /* PAGE: the page's number in the session's scroll, from 0 */
    uint32_t note, card;        /* NOTE_OPENED */
    double extra;               /* NOTE_OPENED: intent added by liking or saving it; AD_OPENED:
                                   the creative's likes, saves and comments (reward) */
    uint8_t source;             /* NOTE_OPENED: fw_source of what it plants */
    gsl_rng *rng;               /* AD, AD_OPENED: the surface's stream (an ad is examined in its flow) */
    double bonus;               /* AD: logit bonus of opening it (search: on the searched topic) */
    double *sat;                /* AD: the session's running satisfaction, updated */
    uint32_t slot_no;           /* AD: the slot's place on its page (the event log's position);
                                   EXAMINED: the result's organic rank from 0 */
    int handled;                /* AD: set by the part that rendered it; EXAMINED: it was opened */
} fw_sess_event;

/* A part's counters from an X-macro list X(name, unit, doc): the enum C_<name> (C__COUNT of
 * them) and the array counters[], for the part's descriptor (FW_PART_COUNTERS_AND_RATES
 * also takes its rates[] array). */
#define FW_COUNTER_ENUM_(name, unit, doc) C_##name,
#define FW_COUNTER_DESC_(name, unit, doc) {#name, unit, doc},
#define FW_DECLARE_COUNTERS(LIST)                     \
    enum { LIST(FW_COUNTER_ENUM_) C__COUNT };           \
    static const fw_counter_desc counters[] = {LIST(FW_COUNTER_DESC_)}
#define FW_PART_COUNTERS_AND_RATES \
    .counters = counters, .n_counters = C__COUNT, .rates = rates, .n_rates = sizeof rates / sizeof rates[0]

typedef struct fw_part {
    const char *name;
    const fw_counter_desc *counters;
    uint32_t n_counters;
    const fw_rate_desc *rates;
    uint32_t n_rates;
    /* Whether the part runs at all in this run (NULL: always), asked once the world, the
     * cells and the engine exist. A part that does not run has no counters, no datasets and
     * no hooks: a capability a scenario switches off leaves the result file as it was. */
    int (*active)(const fw_sim *S);
    /* Bytes of the part's state: the driver allocates p->state zeroed before create and
     * frees it after destroy (0: the part keeps none, or allocates it in create). */
    size_t state_size;
    /* After the world, the engine and the recorder exist: fill p->state (scratch for every
     * thread slot where the part needs it) and describe datasets. destroy frees what create
     * allocated; it also runs when create failed half-way. */
    fw_err (*create)(fw_sim *S, fw_part_inst *p);
    void (*destroy)(fw_sim *S, fw_part_inst *p);
    /* Serial, at a day's start (after the schedule): post tasks, queue notes, reset. */
    fw_err (*day_start)(fw_sim *S, fw_part_inst *p);
    /* A user's first call of a tick: seek the part's streams for (user, tick). */
    void (*user_tick)(fw_session *ss, fw_part_inst *p);
    /* One session, in three steps, each over the parts in table order: every part's arrive
     * step (what brought the user back: a cart waiting), then its seek step (looking for
     * something: a search), then its browse step (the feed, the shop tab). A step returns -1
     * when out of memory (the session stops). */
    int (*session_arrive)(fw_session *ss, fw_part_inst *p);
    int (*session_seek)(fw_session *ss, fw_part_inst *p);
    int (*session_browse)(fw_session *ss, fw_part_inst *p);
    /* A session event another part emitted (fw_session_emit); -1 when out of memory. */
    int (*on_event)(fw_session *ss, fw_part_inst *p, fw_sess_event *ev);
    /* Barrier, before the engine's log: add records the part keeps across ticks. */
    fw_err (*before_log)(fw_sim *S, fw_part_inst *p, fw_recbuf *log);
    /* Barrier, after the engine applied the tick's log (outcomes are in the records). */
    fw_err (*after_log)(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n);
    /* After the engine's tick end. */
    fw_err (*tick_end)(fw_sim *S, fw_part_inst *p);
    /* The day's end, before users' day-end updates and the engine's day end: per-arm
     * counters the part computes itself go into day[n_arms * n_counters] (the driver's
     * layout: fw_sim_counter_index). */
    fw_err (*day_end)(fw_sim *S, fw_part_inst *p, uint64_t *day);
    /* After the engine's day end: read its books, act for the world (restock), record. */
    fw_err (*day_close)(fw_sim *S, fw_part_inst *p);
    /* Issue 21, state snapshots (flywheel/snap.h): every transfer of what the part's next day
     * depends on, one function for both directions; at a day's end, after day_close.
     * Loading, the part was just created for the same scenario and the hook overwrites all
     * that a day changes. fw_part_no_state for a part that keeps nothing across days; NULL:
     * the part cannot be snapshot, and a resumed run that uses it re-simulates. */
    void (*snap)(fw_sim *S, fw_part_inst *p, fw_snap *s);
    /* The run summary's lines of the part (totals[n_arms * n_counters] over the days run). */
    void (*summary)(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out);
} fw_part;

/* A snap hook for a part that keeps nothing from one day to the next. */
void fw_part_no_state(fw_sim *S, fw_part_inst *p, fw_snap *s);

/* The table of parts, in the order every phase runs them (parts/parts.c). */
extern const fw_part *const fw_parts[];
extern const uint32_t fw_n_parts;

/* The part of the table called name, or NULL (tests drive one part alone). */
const fw_part *fw_part_by_name(const char *name);

#endif
