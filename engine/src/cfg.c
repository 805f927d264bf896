/* The engine's configuration: defaults, range checks and scopes, all expanded from the knob
 * lists of flywheel/engine_cfg.h, so that an embedder of the engine gets a valid
 * configuration without the simulator's scenario loader. */
#include <stdio.h>
#include <string.h>

#include "flywheel/engine_cfg.h"
#include "flywheel/privacy.h"

#define PLUS1(constant, yaml) +1

#define DEF_U32(f, d) (f) = (d);
#define DEF_U64(f, d) (f) = (d);
#define DEF_F64(f, d) (f) = (d);
#define DEF_BOOL(f, d) (f) = (d);
#define DEF_STR(f, d) (f) = (d);
#define DEF_ENUM(f, d) (f) = (int)(d);

void fw_engine_cfg_defaults(fw_engine_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
#define TOP(sec, scope, type, name, def, lo, hi, unit, doc) DEF_##type(cfg->name, def)
    FW_ENGINE_KNOBS(TOP)
#undef TOP
#define SUB(sec, scope, type, name, def, lo, hi, unit, doc) DEF_##type(cfg->sec.name, def)
#define SECTION(name, LIST, doc) LIST(SUB)
    FW_ENGINE_SECTIONS(SECTION)
#undef SECTION
#undef SUB
}

/* Each check writes why and returns FW_ERR_RANGE when the value is outside its range. */
static fw_err out_of_range_u(const char *path, uint64_t v, uint64_t lo, uint64_t hi, char *why, size_t cap)
{
    snprintf(why, cap, "%s: %llu is outside [%llu, %llu]", path, (unsigned long long)v,
             (unsigned long long)lo, (unsigned long long)hi);
    return FW_ERR_RANGE;
}

static fw_err out_of_range_f(const char *path, double v, double lo, double hi, char *why, size_t cap)
{
    snprintf(why, cap, "%s: %g is outside [%g, %g]", path, v, lo, hi);
    return FW_ERR_RANGE;
}

#define CHECK_U32(path, v, lo, hi) \
    if ((uint64_t)(v) < (uint64_t)(lo) || (uint64_t)(v) > (uint64_t)(hi)) \
        return out_of_range_u(path, v, lo, hi, why, cap);
#define CHECK_U64 CHECK_U32
#define CHECK_F64(path, v, lo, hi) \
    if (!((v) >= (lo) && (v) <= (hi))) \
        return out_of_range_f(path, v, lo, hi, why, cap);
#define CHECK_BOOL(path, v, lo, hi)
#define CHECK_STR(path, v, lo, hi)                      \
    if (!(v)) {                                         \
        snprintf(why, cap, "%s: no value", path);       \
        return FW_ERR_RANGE;                            \
    }
#define CHECK_ENUM(path, v, lo, hi) \
    if ((v) < 0 || (v) >= 0 lo(PLUS1)) \
        return out_of_range_u(path, (uint64_t)(v), 0, (uint64_t)(0 lo(PLUS1)) - 1, why, cap);

fw_err fw_privacy_cfg_check(const fw_engine_cfg *cfg, char *why, size_t cap)
{
    /* "off" is unambiguous (epsilon and delta 0); on needs a budget. */
    const fw_privacy_cfg *pv = &cfg->privacy;
    const char *bad = NULL;
    if (pv->dp == FW_DP_OFF && (pv->epsilon != 0.0 || pv->delta != 0.0))
        bad = pv->epsilon != 0.0 ? "engine.privacy.epsilon: does nothing while engine.privacy.dp is off (use 0)"
                                 : "engine.privacy.delta: does nothing while engine.privacy.dp is off (use 0)";
    else if (pv->dp != FW_DP_OFF && !(pv->epsilon > 0.0))
        bad = "engine.privacy.epsilon: differential privacy needs a budget epsilon > 0 (epsilon <= 0 "
              "promises nothing; to switch it off set engine.privacy.dp: off)";
    else if (pv->dp == FW_DP_GAUSSIAN && !(pv->epsilon < 1.0))
        bad = "engine.privacy.epsilon: the classic Gaussian mechanism is proven for epsilon < 1 only "
              "(use dp: laplace for larger budgets)";
    else if (pv->dp == FW_DP_GAUSSIAN && !(pv->delta > 0.0 && pv->delta < 1.0))
        bad = "engine.privacy.delta: the Gaussian mechanism needs delta in (0, 1) exclusive";
    else if (pv->dp == FW_DP_LAPLACE && !(pv->delta < 1.0))
        bad = "engine.privacy.delta: delta must be below 1 (0: pure epsilon-DP)";
    if (bad) {
        snprintf(why, cap, "%s, got epsilon %g, delta %g", bad, pv->epsilon, pv->delta);
        return FW_ERR_RANGE;
    }
    if (pv->dp == FW_DP_OFF && pv->releases_per_day != 1) {
        snprintf(why, cap, "engine.privacy.releases_per_day: %u does nothing while engine.privacy.dp is off (use 1)",
                 pv->releases_per_day);
        return FW_ERR_RANGE;
    }
    if (pv->retention_days > 0 && !fw_engine_cfg_learns(cfg)) {
        snprintf(why, cap, "engine.privacy.retention_days: %u does nothing: only the learning recommender keeps "
                 "user signals to forget (engine.feed.algorithm rec, or plugin with plugin_vectors 1); use 0",
                 pv->retention_days);
        return FW_ERR_RANGE;
    }
    return FW_OK;
}

int fw_engine_cfg_learns(const fw_engine_cfg *cfg)
{
    return cfg->feed.algorithm == FW_FEED_REC || (cfg->feed.algorithm == FW_FEED_PLUGIN && cfg->feed.plugin_vectors);
}

fw_err fw_engine_cfg_check(const fw_engine_cfg *cfg, char *why, size_t cap)
{
#define TOP(sec, scope, type, name, def, lo, hi, unit, doc) CHECK_##type("engine." #name, cfg->name, lo, hi)
    FW_ENGINE_KNOBS(TOP)
#undef TOP
#define SUB(sec, scope, type, name, def, lo, hi, unit, doc) \
    CHECK_##type("engine." #sec "." #name, cfg->sec.name, lo, hi)
#define SECTION(name, LIST, doc) LIST(SUB)
    FW_ENGINE_SECTIONS(SECTION)
#undef SECTION
#undef SUB
    /* Rules between knobs. */
    if (cfg->shop.delivery_days_min > cfg->shop.delivery_days_max) {
        snprintf(why, cap, "engine.shop.delivery_days_min: %u is more than engine.shop.delivery_days_max %u",
                 cfg->shop.delivery_days_min, cfg->shop.delivery_days_max);
        return FW_ERR_RANGE;
    }
    if ((cfg->search.retrieval == FW_RETRIEVAL_NEWEST) != (cfg->search.max_postings > 0)) {
        snprintf(why, cap, "engine.search.max_postings: %u %s", cfg->search.max_postings,
                 cfg->search.max_postings ? "does nothing unless engine.search.retrieval is newest (use 0)"
                                          : "reads no posting: engine.search.retrieval newest needs at least 1");
        return FW_ERR_RANGE;
    }
    if (fw_privacy_cfg_check(cfg, why, cap) != FW_OK)
        return FW_ERR_RANGE;
    if (cfg->feed.algorithm == FW_FEED_PLUGIN && !cfg->feed.plugin[0]) {
        snprintf(why, cap, "engine.feed.plugin: algorithm plugin needs the path of a ranker plug-in (a .so "
                           "exporting fw_ranker_plugin, see flywheel/policy.h), got none");
        return FW_ERR_RANGE;
    }
    /* Trust and safety (issue 20). The engine cannot see reports (the simulator's rule
     * refuses capacity 0 with reports too); a score band with no reviewers never drains. */
    if (cfg->safety.threshold_lo > cfg->safety.threshold_hi) {
        snprintf(why, cap, "engine.safety.threshold_lo: %g is more than engine.safety.threshold_hi %g",
                 cfg->safety.threshold_lo, cfg->safety.threshold_hi);
        return FW_ERR_RANGE;
    }
    if (cfg->safety.action != FW_SAFETY_OFF && cfg->safety.review_capacity == 0 &&
        cfg->safety.threshold_lo < cfg->safety.threshold_hi) {
        snprintf(why, cap, "engine.safety.review_capacity: 0 reviewers with a review band [%g, %g): the queue "
                 "could never drain", cfg->safety.threshold_lo, cfg->safety.threshold_hi);
        return FW_ERR_RANGE;
    }
    if (cfg->ads.bidder == FW_BIDDER_PLUGIN && (!cfg->ads.bidder_plugin || !cfg->ads.bidder_plugin[0])) {
        snprintf(why, cap, "engine.ads.bidder_plugin: bidder plugin needs the path of a bidder plug-in (a .so "
                           "exporting fw_bidder_plugin, see flywheel/policy.h), got none");
        return FW_ERR_RANGE;
    }
    /* engine.aigc (issue 20): the label and the down-rank act on the detector's flags. */
    if (!cfg->aigc.detector && (cfg->aigc.label_detected || cfg->aigc.downrank_unlabelled < 1.0)) {
        snprintf(why, cap, "engine.aigc.%s: %s does nothing without the detector (engine.aigc.detector: 1)",
                 cfg->aigc.label_detected ? "label_detected" : "downrank_unlabelled",
                 cfg->aigc.label_detected ? "labelling flagged notes" : "down-ranking flagged notes");
        return FW_ERR_RANGE;
    }
    return FW_OK;
}

typedef struct scope_row {
    const char *path;
    int scope;
} scope_row;

static const scope_row scopes[] = {
#define TOP(sec, scope, type, name, def, lo, hi, unit, doc) {"engine." #name, FW_KNOB_SCOPE_##scope},
    FW_ENGINE_KNOBS(TOP)
#undef TOP
#define SUB(sec, scope, type, name, def, lo, hi, unit, doc) {"engine." #sec "." #name, FW_KNOB_SCOPE_##scope},
#define SECTION(name, LIST, doc) LIST(SUB)
    FW_ENGINE_SECTIONS(SECTION)
#undef SECTION
#undef SUB
};

int fw_engine_knob_scope(const char *path)
{
    for (size_t i = 0; path && i < sizeof scopes / sizeof scopes[0]; i++)
        if (strcmp(scopes[i].path, path) == 0)
            return scopes[i].scope;
    return -1;
}
