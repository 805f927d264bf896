/* Bidder plug-ins that misbehave or cannot be loaded, for e2e_bidder, one per build definition.
 * BROKEN_ABI: a table for another ABI version; BROKEN_TABLE: no bid function; BROKEN_SYMBOL:
 * exports something else than fw_bidder_plugin. Built plainly it loads and, from day `day`
 * on (argument day=N, default 1), breaks one rule of flywheel/policy.h chosen by fault=NAME:
 * nan (a NaN bid), neg (a negative bid), above (twice the max bid), rc (bid returns -5),
 * observe (observe returns -4). Before that it bids half its max bid. expect=K makes create
 * refuse an instance for other than K campaigns (the argument check, with none, passes), and
 * bid fail (rc -6) for an index not below K. An unknown fault is refused by create. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/policy.h"

enum { F_NAN, F_NEG, F_ABOVE, F_RC, F_OBSERVE };
static const char *const names[] = {"nan", "neg", "above", "rc", "observe"};

typedef struct bad {
    int fault;
    int32_t from_tick;
    uint32_t n;
    double *max_bid;
} bad;

static void destroy(void *state)
{
    bad *b = state;
    if (b)
        free(b->max_bid);
    free(b);
}

static void *create(const char *args, const fw_bidder_env *env, char *why, size_t cap)
{
    char name[32] = "";
    int day = 1, expect = -1;
    if (sscanf(args, "fault=%31s day=%d expect=%d", name, &day, &expect) < 1) {
        snprintf(why, cap, "expected 'fault=NAME [day=N [expect=K]]', got '%.60s'", args);
        return NULL;
    }
    if (expect >= 0 && env->n_campaigns && env->n_campaigns != (uint32_t)expect) {
        snprintf(why, cap, "expected %d campaigns, got %u", expect, env->n_campaigns);
        return NULL;
    }
    bad *b = calloc(1, sizeof *b);
    if (!b || !(b->max_bid = calloc(env->n_campaigns + 1, sizeof *b->max_bid))) {
        destroy(b);
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    b->fault = -1;
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(name, names[i]))
            b->fault = i;
    if (b->fault < 0) {
        snprintf(why, cap, "unknown fault '%s'", name);
        destroy(b);
        return NULL;
    }
    b->from_tick = day * (int32_t)env->ticks_per_day;
    b->n = env->n_campaigns;
    for (uint32_t c = 0; c < env->n_campaigns; c++)
        b->max_bid[c] = env->campaigns[c].max_bid_cents;
    return b;
}

__attribute__((unused)) static int bid(const void *state, void *ctx, const fw_bid_request *req, double *out)
{
    const bad *b = state;
    (void)ctx;
    if (req->index >= b->n || req->campaign != req->index)
        return -6;
    double m = b->max_bid[req->index];
    *out = 0.5 * m;
    if (req->tick < b->from_tick)
        return 0;
    switch (b->fault) {
    case F_NAN: *out = NAN; break;
    case F_NEG: *out = -1.0; break;
    case F_ABOVE: *out = 2.0 * m; break;
    case F_RC: return -5;
    default: break;
    }
    return 0;
}

static int observe(void *state, const fw_bid_batch *batch)
{
    const bad *b = state;
    return b->fault == F_OBSERVE && batch->tick >= b->from_tick ? -4 : 0;
}

static const fw_bidder_table table = {
#ifdef BROKEN_ABI
    .abi_version = FW_POLICY_ABI_VERSION + 1,
#else
    .abi_version = FW_POLICY_ABI_VERSION,
#endif
    .name = "bad_bidder",
    .create = create,
    .destroy = destroy,
#ifndef BROKEN_TABLE
    .bid = bid,
#endif
    .observe = observe,
};

#ifdef BROKEN_SYMBOL
FW_BIDDER_EXPORT const fw_bidder_table *my_bidder(void);
const fw_bidder_table *my_bidder(void) { return &table; }
#else
FW_BIDDER_EXPORT const fw_bidder_table *fw_bidder_plugin(void);
const fw_bidder_table *fw_bidder_plugin(void) { return &table; }
#endif
