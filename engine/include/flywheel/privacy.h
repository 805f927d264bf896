/* Privacy mechanisms of the engine (engine.privacy.*, engine/src/privacy.c): the noise that
 * differentially private aggregates are released with, as pure functions of their key.
 * Owns: nothing.  Borrows: nothing.  Never touches: any state, the clock or a thread id:
 * every value is a function of its arguments alone, so a release is bit-identical for any
 * thread count and any call order.
 *
 * The engine releases two aggregates per cell with engine.privacy.dp on (see engine_cfg.h):
 * the trending counts (FW_DP_AGG_TRENDING: every note's weighted engagement since the last
 * release, engine.privacy.releases_per_day times a day) and the recommender's co-engagement
 * counts (FW_DP_AGG_COENG: how many users opened both notes of a pair, once a day). Noise for
 * entry `index` of aggregate `aggregate` released by `cell` (a learner, for co-engagement) in
 * release `day` (the trending counts: day x releases_per_day + r; co-engagement: the day) is
 * the inverse CDF (GSL's gsl_cdf_laplace_Pinv / gsl_cdf_gaussian_Pinv) of a uniform in (0, 1)
 * taken from a keyed hash of (seed, cell, day, aggregate, index). */
#ifndef FLYWHEEL_PRIVACY_H
#define FLYWHEEL_PRIVACY_H

#include <stdint.h>

#include "flywheel/engine_cfg.h"

typedef enum fw_dp_aggregate {
    FW_DP_AGG_TRENDING = 0,
    FW_DP_AGG_COENG = 1,
    FW_DP_AGG__COUNT
} fw_dp_aggregate;

/* The Laplace mechanism's scale b = sensitivity_l1 / epsilon: adding Laplace(b) noise to
 * every coordinate of a query whose L1 sensitivity is sensitivity_l1 is epsilon-DP (Dwork,
 * McSherry, Nissim, Smith 2006; Dwork & Roth 2014, Theorem 3.6). Variance 2 b^2. */
double fw_privacy_laplace_scale(double sensitivity_l1, double epsilon);

/* The classic Gaussian mechanism's sigma = sensitivity_l2 * sqrt(2 ln(1.25 / delta)) / epsilon:
 * (epsilon, delta)-DP for epsilon in (0, 1) (Dwork & Roth 2014, Theorem A.1). */
double fw_privacy_gaussian_sigma(double sensitivity_l2, double epsilon, double delta);

/* The keyed uniform in (0, 1) (never 0 or 1) of one noise draw. */
double fw_privacy_uniform(uint64_t seed, uint32_t cell, uint32_t day, uint32_t aggregate, uint64_t index);

/* One noise draw: mechanism FW_DP_LAPLACE with scale b, or FW_DP_GAUSSIAN with standard
 * deviation scale, at the keyed uniform above; 0 for FW_DP_OFF. Deterministic. */
double fw_privacy_noise(int mechanism, double scale, uint64_t seed, uint32_t cell, uint32_t day, uint32_t aggregate,
                        uint64_t index);

/* The rules between engine.privacy knobs (fw_engine_cfg_check runs them too): dp off needs
 * epsilon and delta 0; dp on needs epsilon > 0 (gaussian: epsilon < 1 and delta in (0, 1));
 * retention_days needs the learning recommender. FW_OK, or FW_ERR_RANGE with the first
 * problem in why[cap], starting with the knob's path ("engine.privacy.epsilon: ..."). */
fw_err fw_privacy_cfg_check(const fw_engine_cfg *cfg, char *why, size_t cap);

#endif
