/* The engine's event log: one tagged record per thing that happened on the platform during a
 * tick -- a note event, a search click, a shop event, a checkout, a return request, an ad
 * event -- handed to the engine at the tick's barrier in one call, fw_engine_log.
 * Owns: the record type.  Borrows: nothing.  Never touches: state; see fw_engine_log.
 *
 * The caller keeps the records in the order things happened (the simulator: the tick's users
 * in id order, each user's records in the order they were made). The engine reads each kind
 * in that order, and answers some kinds in place: a checkout gets its outcome, a return its
 * result, an ad event what it was billed. */
#ifndef FLYWHEEL_RECORD_H
#define FLYWHEEL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/ads.h"
#include "flywheel/engine.h"
#include "flywheel/shop.h"

typedef enum fw_record_kind {
    FW_RECORD_EVENT = 0,        /* u.ev: a note event (impression, open, like, ...) */
    FW_RECORD_SEARCH_CLICK,     /* u.click: a search result opened, with its query */
    FW_RECORD_SHOP_EVENT,       /* u.shop: a product view, cart add or removal */
    FW_RECORD_ORDER,            /* u.order.req: a checkout; the engine writes u.order.out */
    FW_RECORD_RETURN,           /* u.ret: a return request; the engine writes u.ret.result */
    FW_RECORD_AD_EVENT,         /* u.ad.ev: an ad impression or click; the engine writes u.ad.billed_mc */
    FW_RECORD_UNFOLLOW,         /* u.unfollow: a user stopped following a creator (issue 18) */
    FW_RECORD_FOLLOW,           /* u.follow: a user followed a creator outside any note (a
                                   follow-back, issue 18) */
    FW_RECORD__COUNT
} fw_record_kind;

typedef struct fw_record {
    uint32_t kind;              /* fw_record_kind */
    uint32_t aux;               /* the caller's own tag (the simulator: an order's intent source);
                                   the engine never reads or writes it */
    union {
        fw_event ev;
        fw_search_click click;
        fw_shop_event shop;
        struct {
            fw_order_req req;
            fw_order_outcome out;
        } order;
        struct {
            uint32_t order, user;
            int32_t tick;
            int32_t result;     /* fw_err of fw_shop_request_return */
        } ret;
        struct {
            fw_ad_event ev;
            int64_t billed_mc;
        } ad;
        struct {
            uint32_t user, creator;   /* creator: the creator's user id */
            int32_t tick;
        } unfollow;
        struct {
            uint32_t user, creator;   /* creator: the creator's user id */
            int32_t tick;
        } follow;
    } u;
} fw_record;

/* Barrier call: applies a tick's records rec[0..n) in order, every capability reading the
 * kinds it serves: the ads bill ad events and learn their pCTR, the recommender trains on
 * note events, the shop applies its events, checkouts (contention by its own rule) and
 * returns, search learns query intents from clicks, the trending pools and the engagement
 * counts and follow lists take the note events, then the follow records (a follow of a creator
 * already followed, or of oneself, changes nothing), and the follow lists lose the unfollows
 * (after every follow of the log: a user who unfollows a creator must not follow them in the
 * same log, or the follow is undone). Outcomes are written into the records.
 * Returns FW_OK; FW_ERR_INVAL when some records were malformed (skipped; the rest applied);
 * FW_ERR_NOMEM or FW_ERR_INTERNAL when the engine could not go on (fw_engine_error says
 * why). Deterministic given the engine state and the records. */
fw_err fw_engine_log(fw_engine *e, fw_engine_ctx *ctx, fw_record *rec, size_t n);

#endif
