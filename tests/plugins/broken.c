/* Plug-ins that cannot be loaded, for e2e_plugin, one per build definition: BROKEN_ABI (a
 * table for another ABI version), BROKEN_TABLE (no rank function), BROKEN_SYMBOL (exports
 * something else than fw_ranker_plugin). */
#include <stdlib.h>

#include "flywheel/policy.h"

static void *create(const char *args, const fw_policy_env *env, char *why, size_t cap)
{
    (void)args, (void)env, (void)why, (void)cap;
    return malloc(1);
}

static void destroy(void *state) { free(state); }

__attribute__((unused)) static int rank(const void *state, void *ctx, fw_rank_request *req)
{
    (void)state, (void)ctx, (void)req;
    return FW_RANK_SCORES;
}

static const fw_ranker_table table = {
#ifdef BROKEN_ABI
    .abi_version = FW_POLICY_ABI_VERSION + 1,
#else
    .abi_version = FW_POLICY_ABI_VERSION,
#endif
    .name = "broken",
    .create = create,
    .destroy = destroy,
#ifndef BROKEN_TABLE
    .rank = rank,
#endif
};

#ifdef BROKEN_SYMBOL
FW_RANKER_EXPORT const fw_ranker_table *my_ranker(void);
const fw_ranker_table *my_ranker(void) { return &table; }
#else
FW_RANKER_EXPORT const fw_ranker_table *fw_ranker_plugin(void);
const fw_ranker_table *fw_ranker_plugin(void) { return &table; }
#endif
