/* Live-stream selling (issue 19; engine.live.*, engine/src/live.c).
 * Owns: the run's live sessions (copied from fw_live_define), each session's product list with
 *   its flash stock and live price window, who watches what now, each session's and each
 *   cell's figures, and which shop orders were placed from a live session.
 * Borrows: the shop (orders go through its ordinary order path, fw_shop_place_orders_priced)
 *   and the core's follow lists (the live card prefers a followed host).
 * Never touches: randomness (who joins, buys and leaves is the caller's decision), threads,
 *   files.
 *
 * A session is hosted by a creator (a user id) or by a brand (host FW_NONE), runs over ticks
 * [start, end) and sells a list of the shop's products. Each item has a live unit price, valid
 * at ticks [price_from, price_until), and flash units: how many units may be sold at that
 * price. A live order at the live price takes one flash unit per unit bought; once the flash
 * units are gone (or outside the window) a live order pays the ordinary price. Physical units
 * come from the shop's stock either way (an order the shop refuses for stock takes no flash
 * unit). Flash stock is never over-sold: requests of one call are served in (tick, user,
 * position) order, the shop's own rule, and each takes a flash unit only if one is left.
 *
 * Only users of cells with engine.live.enabled see cards, join and buy. A user watches at most
 * one session at a time and joins a session at most once in a row (a user who left it may not
 * come straight back to it).
 *
 * Invariants (checked at every day end, fw_engine_check): per item, flash sold + flash left =
 * flash units, and flash sold = the units of the live orders placed at the live price; per
 * session, the viewers now are the users whose watching session it is. */
#ifndef FLYWHEEL_LIVE_H
#define FLYWHEEL_LIVE_H

#include "flywheel/engine.h"

/* Where a viewer came from. Values are part of result files: only append. */
typedef enum fw_live_source {
    FW_LIVE_FROM_FEED = 0,      /* the live card in the feed */
    FW_LIVE_FROM_FOLLOW,        /* the card of a followed host ("following is live") */
    FW_LIVE_FROM_NOTIFY,        /* the push to the host's followers (engine.live.notify) */
    FW_LIVE_SRC__COUNT
} fw_live_source;

typedef struct fw_live_item {
    uint32_t product;
    int64_t price_cents;        /* live unit price, in (0, list price] */
    uint32_t flash_units;       /* units that may be sold at the live price */
    int32_t price_from, price_until;   /* the live price applies at ticks [price_from, price_until) */
} fw_live_item;

typedef struct fw_live_session_def {
    uint32_t host;              /* the hosting creator's user id, or FW_NONE for a brand */
    uint32_t brand;             /* the selling brand (informational) */
    int32_t start, end;         /* live at ticks [start, end) */
    uint32_t first_item, n_items;   /* its items: items[first_item .. first_item + n_items), n_items >= 1 */
} fw_live_session_def;

/* Barrier call, once, before any join: the run's sessions and their items (copied; session ids
 * are indexes into defs). FW_ERR_INVAL for a session without items or with start >= end, an
 * item range outside items, an unknown product or host, a price outside (0, list], a price
 * window with price_from > price_until, a second call, or without the live module (n = 0 is
 * always accepted). FW_ERR_NOMEM. */
fw_err fw_live_define(fw_engine *e, const fw_live_session_def *defs, uint32_t n, const fw_live_item *items,
                      uint32_t n_items);
uint32_t fw_live_n_sessions(const fw_engine *e);

/* Whether session is live at tick. */
int fw_live_on(const fw_engine *e, uint32_t session, int32_t tick);

/* Sessions live at tick (as of the last fw_live_open_tick). */
uint32_t fw_live_n_on(const fw_engine *e);

/* The live card the feed shows user at tick: a session live at tick whose host the user follows
 * (the lowest id; *followed = 1), else the live session with the most viewers as of the last
 * barrier (ties: the lowest id; *followed = 0); FW_NONE when the user's cell does not show live
 * sessions, none is live, the user is watching one, or the only candidates are sessions the
 * user just left.
 * Read-only: safe in concurrent requests. */
uint32_t fw_live_card(const fw_engine *e, uint32_t user, int32_t tick, int *followed);

typedef struct fw_live_join {
    uint32_t user, session;
    uint32_t source;            /* fw_live_source */
} fw_live_join;

/* Barrier call, at the start of a tick's live work: sessions whose end has come lose their
 * viewers, then the joins are applied in user order (a join to a session not live, by a user
 * of a cell without live selling, or by a user already watching or who just left that session,
 * is skipped: FW_ERR_INVAL after applying the rest), then the tick's concurrent viewers are
 * counted (per session: peak; per cell: peak and viewer-ticks). Call it once per tick, ticks
 * increasing. */
fw_err fw_live_open_tick(fw_engine *e, fw_engine_ctx *ctx, int32_t tick, const fw_live_join *joins, size_t n);

/* The session's viewers now, in join order (valid until the next barrier call). */
const uint32_t *fw_live_viewers(const fw_engine *e, uint32_t session, uint32_t *n);

/* The session user watches now, or FW_NONE; the tick they joined it into *since (may be NULL). */
uint32_t fw_live_watching(const fw_engine *e, uint32_t user, int32_t *since);

/* Barrier call: user stops watching (FW_ERR_INVAL when not watching). */
fw_err fw_live_leave(fw_engine *e, uint32_t user, int32_t tick);

/* A live order: qty units of the session's item-th product, bought by a viewer. */
typedef struct fw_live_buy_req {
    uint64_t request_id;        /* the shop's idempotency key */
    uint32_t user, session, item, qty;
    int32_t tick;
} fw_live_buy_req;

typedef struct fw_live_buy_out {
    uint32_t order;             /* the shop's order id, FW_NONE when none */
    uint32_t result;            /* fw_order_result (FW_ORDER_BAD also: not watching, not live, bad item) */
    uint32_t flash;             /* 1: bought at the live price with flash units */
    int64_t unit_cents;         /* the unit price the order was valued at (0 when no order) */
} fw_live_buy_out;

/* Barrier call: places live orders through the shop's order path, served in (tick, user,
 * position) order. out[i] answers req[i]. FW_ERR_NOMEM. */
fw_err fw_live_buy(fw_engine *e, fw_engine_ctx *ctx, const fw_live_buy_req *req, size_t n, fw_live_buy_out *out);

/* One cell's live figures for the day so far (reset at each fw_engine_end_day). */
typedef struct fw_live_day {
    uint64_t sessions_on;       /* sessions live at some tick of the day (the same in every cell) */
    uint64_t ticks_on;          /* ticks of the day with some session live */
    uint64_t viewer_ticks;      /* the cell's viewers summed over the day's ticks */
    uint64_t peak_viewers;      /* the cell's most concurrent viewers in one tick */
    uint64_t joins[FW_LIVE_SRC__COUNT];   /* joins by source */
    uint64_t viewers;           /* distinct (user, session) joins = sum of joins */
    uint64_t orders;            /* live orders created */
    uint64_t flash_orders;      /* of which at the live price */
    uint64_t paid_orders;       /* live orders paid (the shop's ORDER_PAID) */
    int64_t gmv_cents;          /* their value (gross of later refunds) */
} fw_live_day;

/* Writes cell's figures (zeros when the module is off). FW_ERR_INVAL for a bad cell. */
fw_err fw_live_day_stats(const fw_engine *e, uint32_t cell, fw_live_day *out);

/* One session's figures to date. */
typedef struct fw_live_session_stats {
    uint64_t viewers;           /* joins */
    uint64_t peak_viewers, viewer_ticks;
    uint64_t orders, flash_orders, paid_orders;
    int64_t gmv_cents;
    uint64_t flash_units, flash_sold;   /* over its items */
} fw_live_session_stats;

fw_err fw_live_session_stats_of(const fw_engine *e, uint32_t session, fw_live_session_stats *out);

/* The item's flash units left. */
uint32_t fw_live_flash_left(const fw_engine *e, uint32_t session, uint32_t item);

#endif
