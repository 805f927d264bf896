/* A ranker plug-in that ranks by the recommender's learned vectors, for e2e_plugin: the score
 * of a candidate is user_vec . cand_vec (engine.feed.plugin_vectors: 1), or its id's parity
 * when it is handed none. Argument want=1 or want=0 says which it expects: create refuses an
 * environment whose vec_dim disagrees, rank (-9) and observe (-8) fail a request or batch whose
 * vectors disagree with the environment or are not finite, so the test sees the contract hold
 * on every call. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "flywheel/policy.h"

typedef struct vstate {
    uint32_t dim;
} vstate;

static void *create(const char *args, const fw_policy_env *env, char *why, size_t cap)
{
    int want = -1;
    if (sscanf(args, "want=%d", &want) != 1 || (want != 0 && want != 1)) {
        snprintf(why, cap, "expected want=0 or want=1, got '%.40s'", args);
        return NULL;
    }
    if ((env->vec_dim > 0) != want) {
        snprintf(why, cap, "vec_dim %u, expected %s", env->vec_dim, want ? "some" : "none");
        return NULL;
    }
    vstate *v = malloc(sizeof *v);
    if (v)
        v->dim = env->vec_dim;
    return v;
}

static void destroy(void *state) { free(state); }

static int finite_all(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static int rank(const void *state, void *ctx, fw_rank_request *req)
{
    const vstate *v = state;
    (void)ctx;
    if (req->vec_dim != v->dim || (v->dim && (!req->user_vec || !req->cand_vec)) ||
        (!v->dim && (req->user_vec || req->cand_vec)))
        return -9;
    if (v->dim && (!finite_all(req->user_vec, v->dim) || !finite_all(req->cand_vec, (size_t)req->n_cand * v->dim)))
        return -9;
    for (uint32_t i = 0; i < req->n_cand; i++) {
        double s = 0.0;
        for (uint32_t d = 0; d < v->dim; d++)
            s += (double)req->user_vec[d] * req->cand_vec[(size_t)i * v->dim + d];
        req->score[i] = v->dim ? s : (double)(req->cand[i].note & 1u);
    }
    return FW_RANK_SCORES;
}

static int observe(void *state, const fw_policy_batch *b)
{
    const vstate *v = state;
    if (b->vec_dim != v->dim || (v->dim && b->n_events && (!b->user_vec || !b->cand_vec)))
        return -8;
    if (v->dim && (!finite_all(b->user_vec, b->n_events * v->dim) || !finite_all(b->cand_vec, b->n_events * v->dim)))
        return -8;
    return 0;
}

static const fw_ranker_table table = {.abi_version = FW_POLICY_ABI_VERSION, .name = "vectors", .create = create,
                                      .destroy = destroy, .rank = rank, .observe = observe};

FW_RANKER_EXPORT const fw_ranker_table *fw_ranker_plugin(void);
const fw_ranker_table *fw_ranker_plugin(void) { return &table; }
