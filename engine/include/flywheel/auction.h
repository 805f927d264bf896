/* Position auctions for ad slots: ranking by score (bid * quality) and pricing under GSP,
 * VCG or first price, as pure functions.
 * Owns: nothing; no state survives a call.
 * Borrows: the bids, slot factors, workspace and output arrays, for the duration of one call.
 * Never touches: globals, the heap, randomness, clocks, threads or files; budgets, pacing and
 * throttling are the caller's (a throttled campaign must not be passed in, and charging a
 * price against a budget, in integer cents, is done after the auction).
 *
 * Model (separable click-through): a bidder of quality q shown in slot j yields
 * slot_ctr[j] * q expected billable units, and its score is bid * q (eCPM / 1000). Prices are
 * per billable unit, in the caller's money unit, as doubles: converting to integer cents
 * (rounding down, so a price never exceeds the bid) is the caller's job.
 * Reentrant: concurrent calls are safe as long as they do not share scratch or out. */
#ifndef FLYWHEEL_AUCTION_H
#define FLYWHEEL_AUCTION_H

#include <stdint.h>

#include "flywheel/err.h"

typedef enum fw_pay_rule {
    FW_PAY_GSP = 0, /* generalised second price: the score needed to keep the slot */
    FW_PAY_VCG,     /* Vickrey-Clarke-Groves: the externality imposed on the others */
    FW_PAY_FIRST,   /* first price: the own bid */
    FW_PAY__COUNT
} fw_pay_rule;

/* Returns "gsp", "vcg" or "first"; "unknown" for any other value. Never NULL. */
const char *fw_pay_rule_name(fw_pay_rule r);

typedef struct fw_bid {
    uint32_t id;     /* the caller's id (campaign); breaks ties in score, lower first */
    double bid;      /* per billable unit (e.g. per click); finite, > 0 */
    double quality;  /* probability of a billable unit per impression (pCTR, or pCTR * pCVR),
                      * in (0, 1] */
} fw_bid;

typedef struct fw_win {
    uint32_t bidder; /* index into the bids array */
    uint32_t slot;   /* 0-based position; wins come best slot first, so slot = index in out */
    double price;    /* per billable unit; 0 <= price <= bids[bidder].bid */
    double score;    /* bids[bidder].bid * bids[bidder].quality */
    double units;    /* expected billable units: slot_ctr[slot] * bids[bidder].quality */
} fw_win;

/* Runs a position auction for k slots whose expected-click factors slot_ctr[0..k) are
 * finite, >= 0 and non-increasing. Bidders whose score is below reserve (a minimum score,
 * finite, >= 0) are out; the rest are ranked by score descending, ties broken by lower id,
 * then lower index in bids, and the best min(k, eligible) take slots 0, 1, ... in order.
 * With s(i) the score of the i-th ranked bidder, or reserve for i past the last eligible one
 * (the seller keeps a slot at the reserve), and slot_ctr[k] taken as 0, the price per unit
 * of the winner of slot j (quality q_j, bid b_j) is:
 *   GSP:   s(j+1) / q_j  (quality-weighted next score; reserve / q_j for the last one);
 *   VCG:   P_j / (slot_ctr[j] * q_j), P_j = sum over l >= j, l < k, of
 *          (slot_ctr[l] - slot_ctr[l+1]) * s(l+1)  -- the winner's externality; a slot with
 *          no expected units (slot_ctr[j] * q_j == 0) is priced 0 rather than 0 / 0;
 *   FIRST: b_j.
 * Every price is in [0, b_j]: GSP and VCG prices are also >= reserve / q_j (VCG: in slots
 * with expected units), and <= b_j since s(j+1) <= s(j); they are clamped to b_j to absorb
 * the last-bit rounding of s(j+1) / q_j when scores tie. Per slot, the VCG payment never
 * exceeds the GSP one. A winner of a slot with slot_ctr 0 still wins it (an impression with
 * no expected clicks, so no payment under any rule).
 * scratch must hold n uint32_t (workspace, any content, overwritten); out must have room for
 * min(k, n) wins. Returns the number of wins written; 0 also when n == 0, k == 0 or every
 * bidder is below reserve. *err (err may be NULL) is set to FW_OK, or to FW_ERR_INVAL when a
 * bid or quality is out of its range or not finite, slot_ctr is negative, not finite or
 * increasing, reserve is negative or not finite, rule is unknown, or a needed pointer is
 * NULL (bids and scratch when n > 0, slot_ctr and out when k > 0); then 0 is returned and
 * neither out nor scratch is written. Every input is checked, also when n or k is 0.
 * No allocation; O(n + k + min(k + 1, n) log n); deterministic given its inputs. */
uint32_t fw_auction_run(const fw_bid *bids, uint32_t n, const double *slot_ctr, uint32_t k,
                        double reserve, fw_pay_rule rule, uint32_t *scratch, fw_win *out,
                        fw_err *err);

/* The expected revenue of n_wins wins: sum of price * units. 0 for n_wins == 0 (wins may then
 * be NULL). Deterministic (summed in slot order). */
double fw_auction_revenue(const fw_win *wins, uint32_t n_wins);

#endif
