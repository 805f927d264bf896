/* A budget-pacing bidder plug-in (flywheel/policy.h, "Bidders"): each campaign bids its max
 * bid scaled down by a pacing multiplier, bid = max_bid / (1 + lambda), and moves lambda at
 * every barrier so that the day's budget is spent along the day's traffic rather than evenly
 * per tick.
 *
 * The platform's built-in dual pacing (engine.ads.pacing: dual) targets an even share of what
 * is left per remaining tick. Traffic is not even over a day: at night few users are active, the
 * campaign underspends, the multiplier falls, and it then overspends into the evening peak. This
 * bidder learns the day's traffic profile from its own wins per tick of the day (a smoothed
 * share, uniform on day 0, so day 0 paces like the built-in one), and targets, for the tick
 * just ended, the budget left at its start times that tick's share of the traffic still to
 * come today -- the slot-level traffic forecast of Agarwal et al., "Budget pacing for targeted
 * online advertisements at LinkedIn" (KDD 2014), with the multiplier updated by the dual
 * (sub)gradient step of Balseiro & Gur, "Learning in repeated auctions with budgets" (2019).
 * Under first price it also shades: bid *= shade.
 *
 * Arguments (space- or comma-separated key=value): lr=0.5 (the multiplier's step per tick,
 * relative to the target), shade=1 (0 < shade <= 1: the share of the paced bid it bids under
 * first price; 1 = none), memory=0.5 (weight of the day before in the traffic profile, 0..1),
 * jitter=0 (0..0.5: each bid times a uniform factor in [1 - jitter, 1 + jitter] drawn from the
 * auction's stream -- exploration, and a test that the streams are deterministic),
 * profile=1 (1: traffic-shaped targets; 0: even targets per tick, like the built-in pacing).
 *
 * State: per campaign lambda, today's spend as of the last barrier; per tick of the day the
 * wins of today and the learned profile. bid() reads them only; observe() and end_day() write. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/policy.h"

typedef struct pacer {
    fw_bidder_env env;
    double lr, shade, memory, jitter;
    int profile;
    uint32_t n;                 /* campaigns */
    double *max_bid;            /* [n] */
    double *lambda;             /* [n] */
    double *spent;              /* [n] today's spend at the last barrier */
    double *wins_today;         /* [ticks_per_day] wins per tick of the day, today */
    double *share;              /* [ticks_per_day] the learned traffic profile (sums to 1) */
    int32_t last_tick;          /* the last barrier's tick */
} pacer;

static int parse(const char *args, pacer *p, char *why, size_t cap)
{
    char buf[512];
    if (strlen(args) >= sizeof buf) {
        snprintf(why, cap, "arguments longer than %zu bytes", sizeof buf - 1);
        return -1;
    }
    strcpy(buf, args);
    for (char *save = NULL, *tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        char *eq = strchr(tok, '='), *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : NAN;
        if (!eq || end == eq + 1 || *end || !isfinite(v)) {
            snprintf(why, cap, "expected key=number, got '%.60s'", tok);
            return -1;
        }
        *eq = '\0';
        if (!strcmp(tok, "lr") && v >= 0.0 && v <= 100.0)
            p->lr = v;
        else if (!strcmp(tok, "shade") && v > 0.0 && v <= 1.0)
            p->shade = v;
        else if (!strcmp(tok, "memory") && v >= 0.0 && v <= 1.0)
            p->memory = v;
        else if (!strcmp(tok, "jitter") && v >= 0.0 && v <= 0.5)
            p->jitter = v;
        else if (!strcmp(tok, "profile") && (v == 0.0 || v == 1.0))
            p->profile = (int)v;
        else {
            snprintf(why, cap,
                     "'%.40s=%g': expected lr in [0, 100], shade in (0, 1], memory in [0, 1], jitter in [0, 0.5] "
                     "or profile 0 or 1",
                     tok, v);
            return -1;
        }
    }
    return 0;
}

static void destroy(void *state)
{
    pacer *p = state;
    if (!p)
        return;
    free(p->max_bid);
    free(p->lambda);
    free(p->spent);
    free(p->wins_today);
    free(p->share);
    free(p);
}

static void *create(const char *args, const fw_bidder_env *env, char *why, size_t cap)
{
    pacer *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    *p = (pacer){.env = *env, .lr = 0.5, .shade = 1.0, .memory = 0.5, .profile = 1, .n = env->n_campaigns,
                 .last_tick = INT32_MIN};   /* no barrier yet (a warm-up's ticks are below 0) */
    p->env.campaigns = NULL;   /* borrowed for create only */
    if (parse(args, p, why, cap)) {
        destroy(p);
        return NULL;
    }
    size_t n = p->n ? p->n : 1, t = env->ticks_per_day;
    p->max_bid = calloc(n, sizeof *p->max_bid);
    p->lambda = calloc(n, sizeof *p->lambda);
    p->spent = calloc(n, sizeof *p->spent);
    p->wins_today = calloc(t, sizeof *p->wins_today);
    p->share = calloc(t, sizeof *p->share);
    if (!p->max_bid || !p->lambda || !p->spent || !p->wins_today || !p->share) {
        snprintf(why, cap, "out of memory");
        destroy(p);
        return NULL;
    }
    for (uint32_t c = 0; c < p->n; c++)
        p->max_bid[c] = env->campaigns[c].max_bid_cents;
    for (size_t k = 0; k < t; k++)
        p->share[k] = 1.0 / (double)t;
    return p;
}

static int bid(const void *state, void *ctx, const fw_bid_request *req, double *out)
{
    const pacer *p = state;
    fw_policy_stream rng = req->rng;
    (void)ctx;
    if (req->index >= p->n)
        return -1;
    double b = p->max_bid[req->index] / (1.0 + p->lambda[req->index]);
    if (p->env.pay_rule == 2)   /* first price: pay what you bid, so bid under your value */
        b *= p->shade;
    if (p->jitter > 0.0)
        b *= 1.0 - p->jitter + 2.0 * p->jitter * fw_policy_uniform(&rng);
    *out = b < p->max_bid[req->index] ? b : p->max_bid[req->index];
    return 0;
}

/* The share of today's traffic still to come from tick of the day k on (k included). */
static double share_left(const pacer *p, uint32_t k)
{
    double s = 0.0;
    for (uint32_t j = k; j < p->env.ticks_per_day; j++)
        s += p->profile ? p->share[j] : 1.0;
    return s;
}

/* The tick of the day of an absolute tick (a warm-up's ticks are below 0). */
static uint32_t tick_of_day(int32_t tick, uint32_t tpd)
{
    return (uint32_t)(tick - fw_tick_day(tick, tpd) * (int32_t)tpd);
}

static int observe(void *state, const fw_bid_batch *b)
{
    pacer *p = state;
    uint32_t tpd = p->env.ticks_per_day;
    for (size_t i = 0; i < b->n; i++)
        if (b->out[i].type == FW_BID_WIN)
            p->wins_today[tick_of_day(b->out[i].tick, tpd)] += 1.0;
    if (b->tick == p->last_tick)   /* the day's end: the same barrier again, nothing to pace */
        return 0;
    p->last_tick = b->tick;
    uint32_t k = tick_of_day(b->tick, tpd);
    double left = share_left(p, k), part = p->profile ? p->share[k] : 1.0;
    for (uint32_t c = 0; c < p->n; c++) {
        const fw_bid_status *s = &b->status[c];
        double spent_tick = s->spent_today_cents - p->spent[c];
        /* The target of the tick just ended: its share of what was left when it began. */
        double remaining = s->budget_cents - p->spent[c];
        double target = left > 0.0 ? remaining * part / left : 0.0;
        p->spent[c] = s->spent_today_cents;
        if (target > 0.0) {
            double m = p->lambda[c] + p->lr * (spent_tick - target) / target;
            p->lambda[c] = m > 0.0 ? (m < 100.0 ? m : 100.0) : 0.0;
        }
    }
    return 0;
}

static int end_day(void *state, uint32_t day)
{
    pacer *p = state;
    uint32_t tpd = p->env.ticks_per_day;
    double total = 0.0;
    (void)day;
    for (uint32_t k = 0; k < tpd; k++)
        total += p->wins_today[k];
    if (total > 0.0) {
        /* The day's profile, smoothed towards uniform (no tick of the day is ever 0), mixed
         * with yesterday's. */
        for (uint32_t k = 0; k < tpd; k++) {
            double today = (p->wins_today[k] + 1.0) / (total + tpd);
            p->share[k] = p->memory * p->share[k] + (1.0 - p->memory) * today;
        }
    }
    memset(p->wins_today, 0, tpd * sizeof *p->wins_today);
    memset(p->spent, 0, p->n * sizeof *p->spent);   /* a new day: nothing spent */
    return 0;
}

static const fw_bidder_table table = {
    .abi_version = FW_POLICY_ABI_VERSION,
    .name = "pacing",
    .create = create,
    .destroy = destroy,
    .bid = bid,
    .observe = observe,
    .end_day = end_day,
};

FW_BIDDER_EXPORT const fw_bidder_table *fw_bidder_plugin(void);
const fw_bidder_table *fw_bidder_plugin(void) { return &table; }
