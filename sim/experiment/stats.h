/* Statistics for A/B experiments: two-arm tests, an interval for the relative lift that
 * respects its range, the minimum detectable effect, multiple-testing corrections, sample ratio
 * mismatch and a sequential test that stays valid under daily looks.
 * Owns: nothing; every function is a pure computation on the sufficient statistics it is given.
 * Borrows: the caller's arrays, only for the duration of a call.  Never touches: files,
 * allocation, global state or randomness; the same inputs always give the same outputs.
 *
 * Conventions (details and the reasons for them at the top of stats.c): per-unit sample
 * variance (sum_sq - sum^2/n)/(n-1); a proportion's variance p(1-p) with no n-1 correction;
 * Welch's t with Welch-Satterthwaite degrees of freedom for the CI and the two-sided p-value,
 * also for relative lifts, whose standard error comes from the delta method. Sums of squares
 * lose precision when the mean is large against the spread: centre the data first if so.
 *
 * What an experiment reads (experiment.c): the primary test is the ABSOLUTE difference
 * (relative = 0), whose standard error does not depend on the estimates themselves; the
 * relative lift comes from fw_stat_lift (a log-ratio interval, never below -100%); relative = 1
 * is the textbook delta method on the lift scale, kept for the published vectors, and is
 * miscalibrated when a mean is small (its se is evaluated at the estimated ratio). */
#ifndef FLYWHEEL_STATS_H
#define FLYWHEEL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/err.h"

/* Sufficient statistics of per-unit values y: n units, sum y, sum y^2. */
typedef struct fw_stat_moments {
    double n, sum, sum_sq;
} fw_stat_moments;

/* Per-unit numerator y and denominator x of a ratio-of-sums metric (metric = sum y / sum x),
 * e.g. CTR with y = a user's opens and x = that user's impressions. */
typedef struct fw_stat_ratio_moments {
    double n, sum_y, sum_x, sum_yy, sum_xx, sum_xy;
} fw_stat_ratio_moments;

/* Per-unit outcome y and pre-period covariate x (CUPED). */
typedef struct fw_stat_cuped_moments {
    double n, sum_y, sum_x, sum_yy, sum_xx, sum_xy;
} fw_stat_cuped_moments;

typedef struct fw_stat_result {
    double control, treatment;  /* the two estimates (means, proportions or ratios) */
    double delta;               /* treatment - control, or (treatment/control - 1) when relative */
    double se, ci_lo, ci_hi;    /* of delta; CI at 1 - alpha, symmetric: delta -/+ t * se */
    double p;                   /* two-sided */
    double df;                  /* Welch-Satterthwaite degrees of freedom used */
    double se_control, se_treatment;   /* standard errors of the two estimates (independent arms) */
} fw_stat_result;

/* Welch's two-sample t test of treatment t against control c on per-unit means; with relative
 * != 0, delta is the lift t/c - 1 with a delta-method se. FW_ERR_INVAL on NULL, alpha outside
 * (0, 1) or impossible moments (negative n, non-finite, sum_sq < sum^2/n); FW_ERR_RANGE when
 * an arm has n < 2, both arms have zero variance (se 0), or relative and the control mean is
 * 0. out is written only on FW_OK. Deterministic. */
fw_err fw_stat_welch(const fw_stat_moments *c, const fw_stat_moments *t, int relative,
                     double alpha, fw_stat_result *out);

/* Two proportions x_c/n_c (control) and x_t/n_t, per-unit variance p(1-p) (no n-1), then as
 * fw_stat_welch (t with Welch-Satterthwaite df). FW_ERR_INVAL unless 0 <= x <= n and alpha in
 * (0, 1); FW_ERR_RANGE when n < 2 in an arm, both proportions are 0 or 1 (zero variance), or
 * relative and x_c = 0. out is written only on FW_OK. Deterministic. */
fw_err fw_stat_proportion(double x_c, double n_c, double x_t, double n_t, int relative,
                          double alpha, fw_stat_result *out);

/* Ratio-of-sums metric per arm (sum y / sum x) compared by the delta method: the ratio's
 * variance is (var_y - 2 R cov_xy + R^2 var_x) / (n mean_x^2), then Welch as above. With
 * every x = 1 it equals fw_stat_welch on y. FW_ERR_RANGE when n < 2, an arm's sum x is 0, both
 * linearised variances are 0, or relative and the control ratio is 0; FW_ERR_INVAL on NULL,
 * bad alpha or inconsistent moments. out is written only on FW_OK. Deterministic. */
fw_err fw_stat_ratio(const fw_stat_ratio_moments *c, const fw_stat_ratio_moments *t,
                     int relative, double alpha, fw_stat_result *out);

/* CUPED: theta = cov(y, x) / var(x) on the pooled data of both arms, y' = y - theta (x -
 * pooled mean x), then Welch on y' (control/treatment are the adjusted means). When the
 * pooled variance of x is 0 (no pre-period signal) theta is 0 and the result is plain Welch.
 * Errors as fw_stat_welch, plus FW_ERR_INVAL when |cov(x, y)| exceeds sd_x sd_y in an arm.
 * out and *theta_out (theta_out may be NULL) are written only on FW_OK. Deterministic. */
fw_err fw_stat_cuped(const fw_stat_cuped_moments *c, const fw_stat_cuped_moments *t,
                     int relative, double alpha, fw_stat_result *out, double *theta_out);

/* Sample ratio mismatch: Pearson chi-square goodness of fit of the k observed counts against
 * the expected shares weights / sum(weights), df k - 1; *chi2 and *p written only on FW_OK.
 * FW_ERR_INVAL for NULL, k < 2, a negative or non-finite count, or a weight <= 0;
 * FW_ERR_RANGE when the counts sum to 0. Deterministic. */
fw_err fw_stat_srm(const double *observed, const double *weights, size_t k, double *chi2,
                   double *p);

/* Holm's step-down adjusted p-values, adjusted[i] for p[i] (input order kept), each in
 * [p[i], 1]. adjusted must not alias p. Needs no memory: O(n^2) time, meant for the tens to
 * hundreds of hypotheses of an experiment readout. If any p[i] is NaN or outside [0, 1],
 * every adjusted value is NaN. Deterministic; ties get equal adjusted values. */
void fw_stat_holm(const double *restrict p, size_t n, double *restrict adjusted);

/* Benjamini-Hochberg (false discovery rate) adjusted p-values in input order, with the same
 * contract as fw_stat_holm: no aliasing, O(n^2) time and no memory, NaN for all on bad input. */
void fw_stat_bh(const double *restrict p, size_t n, double *restrict adjusted);

/* The relative lift treatment/control - 1 of an absolute result r (fw_stat_welch, _ratio or
 * _cuped with relative = 0, whose control, treatment, se_control, se_treatment and df it reads),
 * with an interval by the delta method on the log ratio: se_log^2 = (se_t/m_t)^2 + (se_c/m_c)^2,
 * CI = exp(log(m_t/m_c) -/+ t_{1-alpha/2, df} se_log) - 1, always above -100%; out->se is
 * se_log and out->p the two-sided t test of log(m_t/m_c) = 0 (not the primary test: see
 * above). Undefined -- FW_ERR_RANGE, out untouched -- when the control is too sparse for a
 * ratio: m_c not above t_{1-alpha/2, df} standard errors from 0 (Fieller's condition g =
 * t^2 se_c^2 / m_c^2 < 1 fails, and the exact confidence set of the ratio is unbounded), or
 * when either estimate is not positive (no log). FW_ERR_INVAL on NULL or bad alpha.
 * Deterministic. */
fw_err fw_stat_lift(const fw_stat_result *r, double alpha, fw_stat_result *out);

/* Minimum detectable effect: the true difference that a two-sided test at alpha, with standard
 * error se and df degrees of freedom, detects with probability `power`:
 * (t_{1-alpha/2, df} + t_{power, df}) se (the far tail's tiny share of rejections ignored).
 * NaN unless se >= 0 and finite, df > 0, alpha in (0, 1) and power in [0.5, 1). Deterministic. */
double fw_stat_mde(double se, double df, double alpha, double power);

/* ---- the sequential test ----------------------------------------------------------------
 * Daily looks re-read cumulative totals of one fixed set of units, so the looks are correlated
 * in a way no i.i.d. stream model describes (a heavy user is heavy every day). The test used
 * here needs no model of that correlation: alpha spending with the union bound (Bonferroni).
 * Look k of K planned may spend alpha w_k with sum_k w_k = 1; then P(any look rejects) <=
 * sum_k P(p_k <= alpha w_k) <= alpha for any dependence between the looks, as long as each
 * look's p_k is valid on its own. The shares follow Haybittle (1971) and Peto et al. (1976):
 * strict interim looks and a final look that spends most of alpha -- here w_k = 1/(4(K-1)) for each
 * interim look (0.00096 at alpha 0.05 and K = 14, their classic 0.001) and w_K = 3/4 -- so a
 * run read at its planned end keeps most of the fixed-horizon power. Conservative: the union
 * bound ignores the (strong, positive) correlation between looks that a group-sequential
 * boundary (Lan & DeMets 1983) would spend, so the realised error rate is below alpha.
 * Haybittle, Br J Radiol 44:793 (1971); Peto et al., Br J Cancer 34:585 (1976); Lan & DeMets,
 * Biometrika 70:659 (1983). */

/* The share w_k of alpha that look k (1-based) of `planned` looks may spend: 1 when planned is
 * 1; 3/4 at the last planned look and 1/(4(planned - 1)) at each earlier one; 0 for k = 0 or
 * k > planned (looks past the plan spend nothing). Deterministic. */
double fw_stat_seq_share(uint32_t look, uint32_t planned);

/* The sequential p-value after look k: min(prev, p_k / w_k), capped at 1, where prev is the
 * value after look k - 1 (1 before the first look) and p_k that look's p-value. It is a valid
 * p-value over all the looks so far for any dependence between them: rejecting when it is
 * <= a has probability <= a for every a, so it rejects at alpha exactly when some look k had
 * p_k <= alpha w_k. A NaN p_k (no test that day) leaves prev. Deterministic. */
double fw_stat_seq_p(double prev, double p, uint32_t look, uint32_t planned);

/* One-sided Mann-Whitney U test that y tends to exceed x: returns P(U >= u) under the null
 * that both samples come from one distribution, where U = #{(i, j): y_j > x_i} plus half
 * the ties, and writes u (may be NULL). Exact (counting the equally likely rank orders)
 * when there are no ties and both samples have at most 20 values; otherwise the normal
 * approximation with tie and continuity corrections. NaN when a sample is empty.
 * Benchmarks use it on repeated timings: it assumes nothing about their distribution.
 * GSL has no rank tests, hence this one. Deterministic. */
double fw_stat_mann_whitney_greater(const double *x, size_t nx, const double *y, size_t ny, double *u);

#endif
