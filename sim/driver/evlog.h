/* The event log (output.events): one row per impression on every surface, one per search,
 * with the ground truth of each impression kept apart (/truth), for a sample of users.
 * Owns: the threads' row buffers, the tick's merged rows and the day's rows until the day is
 * recorded.  Borrows: the run (fw_sim) and its recorder.
 * Never touches: any random stream. Which users are logged is a hash of (seed, user), and
 * nothing the log does is read back by the simulation, so a run's outcomes are the same with
 * the log on or off, at any sample.
 *
 * Rows are made during sessions (parallel: each thread appends to its own buffer, and the
 * driver remembers where each user's rows start and end, as it does for the engine's records),
 * merged at the barrier in the order of the tick's user list, and handed to the recorder at the
 * day's end, so a result file holds the log of its finished days exactly. Request ids are
 * given at the merge, in that order: the same for any thread count. */
#ifndef FLYWHEEL_EVLOG_H
#define FLYWHEEL_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include "driver/sim.h"
#include "flywheel/snap.h"

/* Where an impression was shown (the surface column; the names are the file's `values`). */
typedef enum fw_ev_surface {
    FW_EVS_FEED = 0,    /* an organic note in the feed: item = note */
    FW_EVS_SEARCH,      /* an organic search result: item = note */
    FW_EVS_SHOP,        /* a product on the shop tab: item = product */
    FW_EVS_FEED_AD,     /* an ad in a feed slot: item = campaign, note = its creative */
    FW_EVS_SEARCH_AD,   /* the ad on top of search results: item = campaign */
    FW_EVS__COUNT
} fw_ev_surface;

/* What followed an impression in the same session (the outcome columns). */
typedef enum fw_ev_outcome {
    FW_EVO_OPEN = 1u << 0,        /* opened (a note read, an ad clicked, a product viewed) */
    FW_EVO_LIKE = 1u << 1,
    FW_EVO_SAVE = 1u << 2,
    FW_EVO_COMMENT = 1u << 3,
    FW_EVO_FOLLOW = 1u << 4,      /* the note's creator followed */
    FW_EVO_CARD_CLICK = 1u << 5,  /* the note's product card clicked */
    FW_EVO_CART = 1u << 6,        /* the product reached from it added to the cart */
    FW_EVO_ORDER = 1u << 7,       /* ... and a checkout sent at once (paid or not: /events/orders) */
} fw_ev_outcome;

/* One impression, as a thread buffers it. */
typedef struct fw_ev_imp {
    int32_t tick;           /* absolute */
    uint32_t user, item, note, card;
    uint32_t req;           /* the user's request number in the tick; made global at the merge */
    uint16_t position;      /* slot on the page, from 0 */
    uint8_t surface, outcome;
    float score;            /* the engine's ranking score (NaN where none) */
    float p_open, match, quality, best;   /* truth */
} fw_ev_imp;

/* One search query. */
typedef struct fw_ev_search {
    int32_t tick;
    uint32_t user, req, topic;
    uint32_t terms[6];
    uint16_t n_results;
    uint8_t n_terms, attempt;
} fw_ev_search;

/* A thread's rows of the tick. */
typedef struct fw_evbuf {
    fw_ev_imp *imp;
    size_t n_imp, cap_imp;
    fw_ev_search *srch;
    size_t n_srch, cap_srch;
    int oom;                /* a row could not be kept: the run fails at the barrier */
} fw_evbuf;

typedef struct fw_evlog fw_evlog;

/* The log of run S (NULL when output.events is off): describes /events and /truth to S's
 * recorder. *out is NULL when off; FW_ERR_NOMEM. */
fw_err fw_evlog_create(fw_sim *S, fw_evlog **out);
void fw_evlog_destroy(fw_evlog *L);

/* Describes path (e.g. "events/cell_arm") to S's recorder: uint32 [cell, layer], the arm
 * (index in the scenario's arms list, named by the attribute "arms") of each layer that makes
 * each experiment cell, the meaning of the tables' cell columns. FW_ERR_NOMEM. */
fw_err fw_evlog_describe_cells(fw_sim *S, const char *path);

/* Whether user u is logged: a pure function of (seed, u) and output.events_sample. */
int fw_evlog_sampled(const fw_evlog *L, uint32_t u);

/* The thread's buffer (slot). */
fw_evbuf *fw_evlog_thread(fw_evlog *L, int slot);

/* The barrier: the rows of the tick's users, runs[0..n) of (thread slot, first and end index
 * of the user's impressions and searches in that thread's buffer, requests made), appended in
 * that order to the day's rows; the threads' buffers are emptied. FW_ERR_NOMEM. */
typedef struct fw_evlog_span {
    uint32_t slot, n_req;
    size_t imp_lo, imp_hi, srch_lo, srch_hi;
} fw_evlog_span;
fw_err fw_evlog_merge(fw_evlog *L, const fw_evlog_span *runs, size_t n);

/* The same merge in pieces, for several ranks (driver/ranks.c: every rank's users in id
 * order, this rank's from its threads' buffers, the others' from the exchange):
 * fw_evlog_threads_ok first (FW_ERR_NOMEM when a thread lost a row), then each user's rows in
 * order -- fw_evlog_merge_span for a span of this rank's buffers, fw_evlog_unpack for the
 * bytes fw_evlog_pack made of another rank's span (fw_evlog_span_bytes of them; returns
 * where they end, *rc FW_ERR_NOMEM when they could not be kept) -- then fw_evlog_merged,
 * which empties the threads' buffers. fw_evlog_skip: where packed rows end. */
fw_err fw_evlog_threads_ok(const fw_evlog *L);
fw_err fw_evlog_merge_span(fw_evlog *L, const fw_evlog_span *r);
void fw_evlog_merged(fw_evlog *L);
size_t fw_evlog_span_bytes(const fw_evlog_span *r);
unsigned char *fw_evlog_pack(const fw_evlog *L, const fw_evlog_span *r, unsigned char *p);
const unsigned char *fw_evlog_unpack(fw_evlog *L, const unsigned char *p, fw_err *rc);
const unsigned char *fw_evlog_skip(const unsigned char *p);

/* The barrier, after the engine applied the tick's merged records rec[0..n): what each ad
 * event of a logged user was billed (/events/ad_charges). FW_ERR_NOMEM. */
fw_err fw_evlog_barrier(fw_evlog *L, const struct fw_record *rec, size_t n);

/* After the engine's tick end (before the parts' tick ends clear the shop's change log): the
 * logged users' order lifecycle changes (/events/orders) and the conversions the ads
 * attributed (/events/ad_charges). FW_ERR_NOMEM. */
fw_err fw_evlog_tick_end(fw_evlog *L);

/* The day's end: the day's rows go to the recorder (before its write). FW_ERR_NOMEM. */
fw_err fw_evlog_day(fw_evlog *L);

/* Rows logged so far (impressions). */
uint64_t fw_evlog_rows(const fw_evlog *L);

/* Issue 21, state snapshots (flywheel/snap.h): what the log's later days depend on, both
 * directions; at a day's end, after fw_evlog_day (the finished days' rows are the
 * recorder's, which saves them). */
void fw_evlog_snap(fw_evlog *L, fw_snap *s);

/* ---- in a session (the session's user's rows only) ------------------------------------- */

/* A new request (a feed page, a search page, a shop-tab page): later impressions carry it. */
static inline void fw_evlog_request(fw_session *ss)
{
    if (ss->ev) {
        ss->ev_req++;
        ss->ev_best_n = 0;
    }
}

/* An impression: appends its row and makes it the current one (outcomes go to it). No-op
 * when the user is not logged. score: the engine's ranking score of the item (NaN where the
 * engine does not expose one). Truth: the true open probability, interest match and quality
 * (NaN where none), and the oracle's best alternative at this position (NaN unless the
 * oracle scored the request: ss->ev_best). */
void fw_evlog_impression(fw_session *ss, fw_ev_surface surface, uint32_t position, uint32_t item, uint32_t note,
                         uint32_t card, double score, double p_open, double match, double quality,
                         uint32_t organic_rank);

/* Marks an outcome on the current impression (none: no-op). */
static inline void fw_evlog_outcome(fw_session *ss, fw_ev_outcome o)
{
    if (ss->ev && ss->ev_row >= 0)
        ss->ev->imp[ss->ev_row].outcome |= (uint8_t)o;
}

/* No current impression (what follows is not caused by one: a cart revisited). */
static inline void fw_evlog_detach(fw_session *ss) { ss->ev_row = -1; }

/* A search query (intent topic: truth) and its result count. */
void fw_evlog_search(fw_session *ss, const uint32_t *terms, uint32_t n_terms, uint32_t n_results, uint32_t topic,
                     uint32_t attempt);

#endif
