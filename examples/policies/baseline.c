/* The built-in baseline ranker as a plug-in: the same score from the same features, so a
 * run with it serves the same pages as engine.feed.algorithm: baseline. It is the reference
 * for the plug-in path's cost (bench_feed --plugin) and for the engine's plumbing (the test
 * e2e_plugin compares its results with the baseline's), and the smallest complete plug-in to
 * start from. Arguments: none. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "flywheel/policy.h"

static void *create(const char *args, const fw_policy_env *env, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    if (args[0] != '\0') {
        snprintf(why, cap, "takes no arguments, got '%.60s'", args);
        return NULL;
    }
    fw_policy_env *copy = malloc(sizeof *copy);
    if (copy)
        *copy = *env;
    return copy;
}

static void destroy(void *state) { free(state); }

/* score = (w_trending log1p(trending) if any) + w_follow if followed + w_fresh if fresh,
 * times exp2(-age / half-life): the engine's own expression, in its own order. */
static int rank(const void *state, void *ctx, fw_rank_request *req)
{
    const fw_policy_env *env = state;
    (void)ctx;
    for (uint32_t i = 0; i < req->n_cand; i++) {
        const fw_policy_cand *c = &req->cand[i];
        double age = (double)c->age_ticks;
        double s = c->trending > 0.0 ? env->w_trending * log1p(c->trending) : 0.0;
        if (c->followed)
            s += env->w_follow;
        if (age < env->fresh_age_ticks)
            s += env->w_fresh;
        req->score[i] = s * exp2(-age / env->recency_half_life_ticks);
    }
    return FW_RANK_SCORES;
}

static const fw_ranker_table table = {
    .abi_version = FW_POLICY_ABI_VERSION,
    .name = "baseline",
    .create = create,
    .destroy = destroy,
    .rank = rank,
};

FW_RANKER_EXPORT const fw_ranker_table *fw_ranker_plugin(void);
const fw_ranker_table *fw_ranker_plugin(void) { return &table; }
