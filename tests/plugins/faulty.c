/* A ranker plug-in that misbehaves on purpose, for e2e_plugin: from day `day` on (argument
 * day=N, default 1) its answers break one rule of flywheel/policy.h, chosen by fault=NAME:
 * unknown (a note id that is no candidate), dup (a note twice), short (one note too few),
 * nan (a NaN score), rc (rank returns -7), observe (observe returns -3). Before that it ranks
 * by the built-in recency decay. fault=refuse makes create refuse its arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/policy.h"

enum { F_UNKNOWN, F_DUP, F_SHORT, F_NAN, F_RC, F_OBSERVE };
static const char *const names[] = {"unknown", "dup", "short", "nan", "rc", "observe"};

typedef struct faulty {
    int fault;
    int32_t from_tick;
    double half_life;
} faulty;

static void *create(const char *args, const fw_policy_env *env, char *why, size_t cap)
{
    char name[32] = "";
    int day = 1;
    if (sscanf(args, "fault=%31s day=%d", name, &day) < 1) {
        snprintf(why, cap, "expected 'fault=NAME [day=N]', got '%.60s'", args);
        return NULL;
    }
    faulty *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->fault = -1;
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(name, names[i]))
            f->fault = i;
    if (f->fault < 0) {
        snprintf(why, cap, "unknown fault '%s'", name);
        free(f);
        return NULL;
    }
    f->from_tick = day * (int32_t)env->ticks_per_day;
    f->half_life = env->recency_half_life_ticks;
    return f;
}

static void destroy(void *state) { free(state); }

static int rank(const void *state, void *ctx, fw_rank_request *req)
{
    const faulty *f = state;
    (void)ctx;
    int on = req->tick >= f->from_tick && req->n_cand >= 2 && req->page_size >= 2;
    if (on && f->fault == F_RC)
        return -7;
    if (!on || f->fault == F_NAN || f->fault == F_OBSERVE) {
        for (uint32_t i = 0; i < req->n_cand; i++)
            req->score[i] = exp2(-req->cand[i].age_ticks / f->half_life);
        if (on && f->fault == F_NAN)
            req->score[req->n_cand / 2] = NAN;
        return FW_RANK_SCORES;
    }
    uint32_t want = req->page_size < req->n_cand ? req->page_size : req->n_cand;
    for (uint32_t j = 0; j < want; j++)
        req->page[j] = req->cand[j].note;
    req->n_page = want;
    if (f->fault == F_UNKNOWN)
        req->page[0] = 0xfffffff0u;
    else if (f->fault == F_DUP)
        req->page[1] = req->page[0];
    else
        req->n_page = want - 1;
    return FW_RANK_PAGE;
}

static int observe(void *state, const fw_policy_batch *b)
{
    const faulty *f = state;
    return f->fault == F_OBSERVE && b->tick >= f->from_tick ? -3 : 0;
}

static const fw_ranker_table table = {
    .abi_version = FW_POLICY_ABI_VERSION,
    .name = "faulty",
    .create = create,
    .destroy = destroy,
    .rank = rank,
    .observe = observe,
};

FW_RANKER_EXPORT const fw_ranker_table *fw_ranker_plugin(void);
const fw_ranker_table *fw_ranker_plugin(void) { return &table; }
