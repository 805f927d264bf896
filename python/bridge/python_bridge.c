/* The ranker plug-in behind flywheel.RankerEnv (python/flywheel/env.py): it forwards each
 * request and each barrier's batch to functions of the calling process, whose addresses it
 * gets in its arguments ("rank=0xADDR observe=0xADDR"; ctypes callbacks), and returns their
 * answers. It is a plug-in like any other (flywheel/policy.h): the engine checks every
 * answer. It must be driven with one thread (the Python side runs fw_flywheel_run with 1). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/policy.h"

typedef int (*rank_fn)(fw_rank_request *req);
typedef int (*observe_fn)(const fw_policy_batch *batch);

typedef struct bridge {
    rank_fn rank;
    observe_fn observe;
} bridge;

static void *create(const char *args, const fw_policy_env *env, char *why, size_t cap)
{
    unsigned long long r = 0, o = 0;
    (void)env;
    if (sscanf(args, "rank=%llx observe=%llx", &r, &o) != 2 || !r) {
        snprintf(why, cap, "expected 'rank=0xADDR observe=0xADDR' (flywheel.RankerEnv sets them), got '%.60s'", args);
        return NULL;
    }
    bridge *b = malloc(sizeof *b);
    if (!b) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    uintptr_t ru = (uintptr_t)r, ou = (uintptr_t)o;
    memcpy(&b->rank, &ru, sizeof b->rank);
    memcpy(&b->observe, &ou, sizeof b->observe);
    return b;
}

static void destroy(void *state) { free(state); }

static int rank(const void *state, void *ctx, fw_rank_request *req)
{
    const bridge *b = state;
    (void)ctx;
    return b->rank(req);
}

static int observe(void *state, const fw_policy_batch *batch)
{
    const bridge *b = state;
    return b->observe ? b->observe(batch) : 0;
}

static const fw_ranker_table table = {
    .abi_version = FW_POLICY_ABI_VERSION,
    .name = "python",
    .create = create,
    .destroy = destroy,
    .rank = rank,
    .observe = observe,
};

FW_RANKER_EXPORT const fw_ranker_table *fw_ranker_plugin(void);
const fw_ranker_table *fw_ranker_plugin(void) { return &table; }
