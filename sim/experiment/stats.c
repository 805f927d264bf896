/* Statistics for A/B experiments (see stats.h).
 *
 * Conventions, checked against ../shared/vectors/README.md (GrowthBook's published cases):
 * - Per-unit sample variance (sum_sq - sum^2/n) / (n - 1). A proportion's per-unit variance
 *   is p(1-p), with no n-1 correction.
 * - Every two-arm test reduces to (n, mean, per-unit variance v) per arm and goes through
 *   welch(): a = v_c/n_c and b = v_t/n_t are the squared standard errors of the two
 *   estimates, and the Welch-Satterthwaite df = (a+b)^2 / (a^2/(n_c-1) + b^2/(n_t-1)).
 * - Absolute: delta = m_t - m_c, se = sqrt(a + b).
 * - Relative (delta method): delta = m_t/m_c - 1, se^2 = b/m_c^2 + m_t^2 a/m_c^4.
 * - In both cases the CI is delta -/+ t_{1-alpha/2, df} se and p = 2 Q_t(|delta|/se, df),
 *   with the SAME df, computed on the absolute scale from a and b. This reproduces every
 *   digit of the vectors: case 3 (14/28 vs 16/30, relative) has df = 55.71 and t = 2.0035,
 *   hence the CI (-0.47767, 0.61101), wider than +/-1.96 se; case 1 has df = 5841.7.
 * - Ratio of sums R = sum y / sum x per arm (delta method): its per-unit variance is that of
 *   the linearised unit value (y - R x) / mean_x, (var_y - 2 R cov_xy + R^2 var_x)/mean_x^2,
 *   so var(R) = v/n and welch() applies unchanged; with every x = 1 it is plain Welch.
 * - CUPED: theta = cov(y, x) / var(x) over the pooled units of both arms (total covariance
 *   around the grand means, not the within-arm one), y' = y - theta (x - pooled mean x); per
 *   arm mean y' = mean_y - theta (mean_x - pooled mean x) and var y' = var_y - 2 theta cov_xy
 *   + theta^2 var_x; then welch(). The variance of theta itself is ignored, as usual.
 * - Why the primary test is absolute: the relative se^2 = b/m_c^2 + m_t^2 a/m_c^4 shrinks with
 *   the treatment's own estimate m_t (and b, its variance, shrinks with it on count data), so
 *   on a sparse metric a treatment that drew few buyers gets a small se and a "significant"
 *   negative lift: 20% false positives at alpha 0.05 on GMV per user in A/A runs. The absolute
 *   se^2 = a + b keeps the control's full variance whatever the treatment drew.
 * - The lift's interval (fw_stat_lift) is taken on the log scale, log(m_t/m_c) with se_log^2 =
 *   b/m_t^2 + a/m_c^2, and mapped back: its bounds are ratios of positive numbers, so it never
 *   reaches -100%, and it is asymmetric as a ratio's interval should be. It uses the df of the
 *   absolute test.
 *
 * Invariants: inputs are validated before anything is written; results reach the caller's
 * out-parameters only on FW_OK; GSL's cdf functions are only called with arguments in their
 * domain (P in (0, 1), df > 0 and finite, x >= 0 for chi-square), so GSL's error handler,
 * which aborts by default, is never reached. Variances computed from sums of squares may come
 * out slightly negative, or slightly positive where the data are constant, from rounding: a
 * value within ROUNDING_TOL of the second moment's scale is taken as 0, a clearly negative one
 * means the moments are impossible (FW_ERR_INVAL). */
#include "experiment/stats.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

/* Relative size, against the raw second moment, below which a variance is rounding noise. */
#define ROUNDING_TOL 1e-12

/* Every failure leaves through here: one place for a breakpoint. */
static fw_err fail(fw_err e)
{
    return e;
}

static int finite_all(const double *v, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* Turns a centred sum of squares ss (of raw scale `scale` >= 0) into a variance with
 * denominator dof, or reports impossible moments. */
static fw_err clean_var(double ss, double scale, double dof, double *var)
{
    double tol = ROUNDING_TOL * fabs(scale);
    if (ss < -tol)
        return fail(FW_ERR_INVAL);
    *var = ss <= tol ? 0.0 : ss / dof;
    return FW_OK;
}

/* Validates an arm's n: FW_ERR_INVAL if impossible, FW_ERR_RANGE if too small to have a
 * sample variance. */
static fw_err check_n(double n)
{
    if (!isfinite(n) || n < 0)
        return fail(FW_ERR_INVAL);
    if (n < 2)
        return fail(FW_ERR_RANGE);
    return FW_OK;
}

static int alpha_ok(double alpha)
{
    return alpha > 0 && alpha < 1;  /* false for NaN */
}

/* Mean and variance of y from (n, sum, sum_sq). */
static fw_err moments(double n, double sum, double sum_sq, double *mean, double *var)
{
    fw_err e = check_n(n);
    if (e != FW_OK)
        return e;
    if (!isfinite(sum) || !isfinite(sum_sq) || sum_sq < 0)
        return fail(FW_ERR_INVAL);
    e = clean_var(sum_sq - sum * sum / n, sum_sq, n - 1, var);
    if (e != FW_OK)
        return e;
    *mean = sum / n;
    return FW_OK;
}

/* Means, variances and covariance of (y, x) from their sums; the covariance is clamped to the
 * Cauchy-Schwarz bound after rounding (a clear violation is FW_ERR_INVAL). */
typedef struct bivar {
    double my, mx, vy, vx, cxy;
} bivar;

static fw_err comoments(double n, double sy, double sx, double syy, double sxx, double sxy,
                        bivar *b)
{
    fw_err e = check_n(n);
    if (e != FW_OK)
        return e;
    const double v[5] = { sy, sx, syy, sxx, sxy };
    if (!finite_all(v, 5) || syy < 0 || sxx < 0)
        return fail(FW_ERR_INVAL);
    if ((e = clean_var(syy - sy * sy / n, syy, n - 1, &b->vy)) != FW_OK)
        return e;
    if ((e = clean_var(sxx - sx * sx / n, sxx, n - 1, &b->vx)) != FW_OK)
        return e;
    double c = (sxy - sx * sy / n) / (n - 1);
    double bound = sqrt(b->vy * b->vx);
    double slack = 1e-6 * sqrt(syy / (n - 1)) * sqrt(sxx / (n - 1));
    if (fabs(c) > bound + slack)
        return fail(FW_ERR_INVAL);
    b->cxy = c > bound ? bound : c < -bound ? -bound : c;
    b->my = sy / n;
    b->mx = sx / n;
    return FW_OK;
}

/* var_y - 2 k cov + k^2 var_x: the variance of y - k x, >= 0 up to rounding after the
 * Cauchy-Schwarz clamp; rounding residue is taken as 0. */
static double residual_var(const bivar *b, double k)
{
    double v = b->vy - 2 * k * b->cxy + k * k * b->vx;
    double scale = b->vy + 2 * fabs(k * b->cxy) + k * k * b->vx;
    return v <= ROUNDING_TOL * scale ? 0.0 : v;
}

/* The shared test: arm (n, mean m, per-unit variance v) for control c and treatment t. */
static fw_err welch(double n_c, double m_c, double v_c, double n_t, double m_t, double v_t,
                    int relative, double alpha, fw_stat_result *out)
{
    assert(n_c >= 2 && n_t >= 2 && v_c >= 0 && v_t >= 0 && alpha_ok(alpha));
    double a = v_c / n_c, b = v_t / n_t, s = a + b;
    if (!(s > 0))
        return fail(FW_ERR_RANGE);
    /* df = s^2 / (a^2/(n_c-1) + b^2/(n_t-1)), written scale-free so tiny a, b cannot
     * underflow. */
    double ra = a / s, rb = b / s;
    double df = 1.0 / (ra * ra / (n_c - 1) + rb * rb / (n_t - 1));

    double delta, se;
    if (relative) {
        if (m_c == 0)
            return fail(FW_ERR_RANGE);
        double q = m_t / m_c;
        delta = q - 1;
        se = sqrt(b + q * q * a) / fabs(m_c);
    } else {
        delta = m_t - m_c;
        se = sqrt(s);
    }
    if (!isfinite(delta) || !isfinite(se) || !(se > 0) || !isfinite(df) || !(df > 0))
        return fail(FW_ERR_RANGE);

    double tq = gsl_cdf_tdist_Qinv(alpha / 2, df);
    double tstat = fabs(delta) / se;
    double p = isfinite(tstat) ? 2 * gsl_cdf_tdist_Q(tstat, df) : 0.0;
    *out = (fw_stat_result){
        .control = m_c,
        .treatment = m_t,
        .delta = delta,
        .se = se,
        .ci_lo = delta - tq * se,
        .ci_hi = delta + tq * se,
        .p = p > 1 ? 1 : p,
        .df = df,
        .se_control = sqrt(a),
        .se_treatment = sqrt(b),
    };
    return FW_OK;
}

fw_err fw_stat_welch(const fw_stat_moments *c, const fw_stat_moments *t, int relative,
                     double alpha, fw_stat_result *out)
{
    if (!c || !t || !out || !alpha_ok(alpha))
        return fail(FW_ERR_INVAL);
    double m_c, v_c, m_t, v_t;
    fw_err e = moments(c->n, c->sum, c->sum_sq, &m_c, &v_c);
    if (e == FW_OK)
        e = moments(t->n, t->sum, t->sum_sq, &m_t, &v_t);
    if (e != FW_OK)
        return e;
    return welch(c->n, m_c, v_c, t->n, m_t, v_t, relative, alpha, out);
}

fw_err fw_stat_proportion(double x_c, double n_c, double x_t, double n_t, int relative,
                          double alpha, fw_stat_result *out)
{
    if (!out || !alpha_ok(alpha))
        return fail(FW_ERR_INVAL);
    fw_err e = check_n(n_c);
    if (e == FW_OK)
        e = check_n(n_t);
    if (e != FW_OK)
        return e;
    if (!(x_c >= 0 && x_c <= n_c && x_t >= 0 && x_t <= n_t))
        return fail(FW_ERR_INVAL);
    double p_c = x_c / n_c, p_t = x_t / n_t;
    return welch(n_c, p_c, p_c * (1 - p_c), n_t, p_t, p_t * (1 - p_t), relative, alpha, out);
}

/* Ratio sum_y/sum_x of one arm and the per-unit variance of its linearisation. */
static fw_err ratio_arm(const fw_stat_ratio_moments *m, double *ratio, double *v)
{
    bivar b;
    fw_err e = comoments(m->n, m->sum_y, m->sum_x, m->sum_yy, m->sum_xx, m->sum_xy, &b);
    if (e != FW_OK)
        return e;
    if (m->sum_x == 0)
        return fail(FW_ERR_RANGE);
    double r = m->sum_y / m->sum_x;
    *ratio = r;
    *v = residual_var(&b, r) / (b.mx * b.mx);
    return FW_OK;
}

fw_err fw_stat_ratio(const fw_stat_ratio_moments *c, const fw_stat_ratio_moments *t,
                     int relative, double alpha, fw_stat_result *out)
{
    if (!c || !t || !out || !alpha_ok(alpha))
        return fail(FW_ERR_INVAL);
    double r_c, v_c, r_t, v_t;
    fw_err e = ratio_arm(c, &r_c, &v_c);
    if (e == FW_OK)
        e = ratio_arm(t, &r_t, &v_t);
    if (e != FW_OK)
        return e;
    if (!isfinite(v_c) || !isfinite(v_t))
        return fail(FW_ERR_RANGE);
    return welch(c->n, r_c, v_c, t->n, r_t, v_t, relative, alpha, out);
}

fw_err fw_stat_cuped(const fw_stat_cuped_moments *c, const fw_stat_cuped_moments *t,
                     int relative, double alpha, fw_stat_result *out, double *theta_out)
{
    if (!c || !t || !out || !alpha_ok(alpha))
        return fail(FW_ERR_INVAL);
    bivar bc, bt, bp;
    fw_err e = comoments(c->n, c->sum_y, c->sum_x, c->sum_yy, c->sum_xx, c->sum_xy, &bc);
    if (e == FW_OK)
        e = comoments(t->n, t->sum_y, t->sum_x, t->sum_yy, t->sum_xx, t->sum_xy, &bt);
    if (e == FW_OK)
        e = comoments(c->n + t->n, c->sum_y + t->sum_y, c->sum_x + t->sum_x,
                      c->sum_yy + t->sum_yy, c->sum_xx + t->sum_xx, c->sum_xy + t->sum_xy, &bp);
    if (e != FW_OK)
        return e;

    double theta = bp.vx > 0 ? bp.cxy / bp.vx : 0.0;
    double m_c = bc.my - theta * (bc.mx - bp.mx);
    double m_t = bt.my - theta * (bt.mx - bp.mx);
    fw_stat_result r;
    e = welch(c->n, m_c, residual_var(&bc, theta), t->n, m_t, residual_var(&bt, theta),
              relative, alpha, &r);
    if (e != FW_OK)
        return e;
    *out = r;
    if (theta_out)
        *theta_out = theta;
    return FW_OK;
}

fw_err fw_stat_srm(const double *observed, const double *weights, size_t k, double *chi2,
                   double *p)
{
    if (!observed || !weights || !chi2 || !p || k < 2)
        return fail(FW_ERR_INVAL);
    double total = 0, sum_w = 0;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(observed[i]) || observed[i] < 0 || !isfinite(weights[i])
            || !(weights[i] > 0))
            return fail(FW_ERR_INVAL);
        total += observed[i];
        sum_w += weights[i];
    }
    if (!isfinite(total) || !isfinite(sum_w))
        return fail(FW_ERR_INVAL);
    if (total == 0)
        return fail(FW_ERR_RANGE);

    double x = 0;
    for (size_t i = 0; i < k; i++) {
        double expected = total * (weights[i] / sum_w);
        double d = observed[i] - expected;
        x += d * d / expected;
    }
    if (!isfinite(x))
        return fail(FW_ERR_RANGE);
    *chi2 = x;
    *p = gsl_cdf_chisq_Q(x, (double)(k - 1));
    return FW_OK;
}

/* True (after filling adjusted with NaN) when some p is NaN or outside [0, 1]. */
static int bad_pvalues(const double *p, size_t n, double *adjusted)
{
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1)) {
            for (size_t j = 0; j < n; j++)
                adjusted[j] = NAN;
            return 1;
        }
    }
    return 0;
}

/* Holm and Benjamini-Hochberg share their shape: a value v_j per p_j from its rank among the p,
 * then adj_i = the largest (Holm) or smallest (BH) v_j over the p_j on p_i's side (p_j <= p_i
 * for Holm, p_j >= p_i for BH). The second pass may run in place: an adjusted value already
 * written for some j on p_i's side is itself the extreme over a subset of that side, so
 * reading it instead of v_j gives the same result. */
static void step_adjust(const double *restrict p, size_t n, double *restrict adjusted, int holm)
{
    if (bad_pvalues(p, n, adjusted))
        return;
    for (size_t j = 0; j < n; j++) {
        size_t rank = 0;   /* Holm: #{k : p_k < p_j}; BH: #{k : p_k <= p_j} */
        for (size_t k = 0; k < n; k++)
            rank += holm ? p[k] < p[j] : p[k] <= p[j];
        double v = holm ? (double)(n - rank) * p[j] : (double)n * p[j] / (double)rank;
        adjusted[j] = v > 1 ? 1 : v;
    }
    for (size_t i = 0; i < n; i++) {
        double m = adjusted[i];
        for (size_t j = 0; j < n; j++)
            if (holm ? p[j] <= p[i] && adjusted[j] > m : p[j] >= p[i] && adjusted[j] < m)
                m = adjusted[j];
        adjusted[i] = m;
    }
}

/* Holm: sorted ascending, adj_(i) = min(1, max_{j <= i} (n - j + 1) p_(j)). Without sorting:
 * with r_j = #{k : p_k < p_j} (ties share the lowest rank, whose multiplier n - r_j is the
 * largest of the tie group), v_j = min(1, (n - r_j) p_j) and adj_i = max over p_j <= p_i of
 * v_j. */
void fw_stat_holm(const double *restrict p, size_t n, double *restrict adjusted)
{
    assert(n == 0 || (p && adjusted && p != adjusted));
    step_adjust(p, n, adjusted, 1);
}

/* Benjamini-Hochberg: sorted ascending, adj_(i) = min_{j >= i} min(1, n p_(j) / j). Ties
 * share the highest rank R_j = #{k : p_k <= p_j} (the smallest value of the tie group), so
 * v_j = min(1, n p_j / R_j) and adj_i = min over p_j >= p_i of v_j. */
void fw_stat_bh(const double *restrict p, size_t n, double *restrict adjusted)
{
    assert(n == 0 || (p && adjusted && p != adjusted));
    step_adjust(p, n, adjusted, 0);
}

fw_err fw_stat_lift(const fw_stat_result *r, double alpha, fw_stat_result *out)
{
    if (!r || !out || !alpha_ok(alpha))
        return fail(FW_ERR_INVAL);
    double m_c = r->control, m_t = r->treatment, s_c = r->se_control, s_t = r->se_treatment;
    if (!(r->df > 0) || !isfinite(r->df) || !(s_c >= 0) || !(s_t >= 0) || !isfinite(s_c) ||
        !isfinite(s_t) || !isfinite(m_c) || !isfinite(m_t))
        return fail(FW_ERR_INVAL);
    double tq = gsl_cdf_tdist_Qinv(alpha / 2, r->df);
    /* Too sparse: the control is within tq standard errors of 0 (Fieller's g >= 1). */
    if (!(m_c > 0) || !(m_t > 0) || m_c <= tq * s_c)
        return fail(FW_ERR_RANGE);
    double rc = s_c / m_c, rt = s_t / m_t;
    double log_q = log(m_t) - log(m_c), se = sqrt(rc * rc + rt * rt);
    if (!isfinite(log_q) || !isfinite(se))
        return fail(FW_ERR_RANGE);
    double p = se > 0 ? 2 * gsl_cdf_tdist_Q(fabs(log_q) / se, r->df) : log_q == 0 ? 1.0 : 0.0;
    *out = *r;
    out->delta = expm1(log_q);
    out->se = se;
    out->ci_lo = expm1(log_q - tq * se);
    out->ci_hi = expm1(log_q + tq * se);
    out->p = p > 1 ? 1 : p;
    return FW_OK;
}

double fw_stat_mde(double se, double df, double alpha, double power)
{
    if (!(se >= 0) || !isfinite(se) || !(df > 0) || !alpha_ok(alpha) || !(power >= 0.5 && power < 1))
        return NAN;
    if (!isfinite(df))
        return (gsl_cdf_ugaussian_Qinv(alpha / 2) + gsl_cdf_ugaussian_Pinv(power)) * se;
    return (gsl_cdf_tdist_Qinv(alpha / 2, df) + gsl_cdf_tdist_Pinv(power, df)) * se;
}

double fw_stat_seq_share(uint32_t look, uint32_t planned)
{
    if (look == 0 || look > planned)
        return 0.0;
    if (planned == 1)
        return 1.0;
    return look == planned ? 0.75 : 0.25 / (double)(planned - 1);
}

double fw_stat_seq_p(double prev, double p, uint32_t look, uint32_t planned)
{
    double w = fw_stat_seq_share(look, planned);
    if (!(p >= 0 && p <= 1) || !(w > 0))
        return prev;
    double q = p / w;
    if (q > 1)
        q = 1;
    return q < prev ? q : prev;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Number of orderings of n x's and m y's with exactly u (y > x) pairs, for every u, by the
 * recursion N(n, m, u) = N(n - 1, m, u - m) + N(n, m - 1, u) (the largest value is an x
 * or a y). Written into cnt[0..n*m]; table is scratch of (n+1)*(m+1)*(n*m+1) doubles. */
static void mw_counts(size_t n, size_t m, double *table, double *cnt)
{
    size_t U = n * m + 1;
#define T(i, j, u) table[((i) * (m + 1) + (j)) * U + (u)]
    for (size_t i = 0; i <= n; i++)
        for (size_t j = 0; j <= m; j++)
            for (size_t u = 0; u < U; u++) {
                double v;
                if (i == 0 || j == 0)
                    v = u == 0 ? 1.0 : 0.0;
                else
                    v = (u >= j ? T(i - 1, j, u - j) : 0.0) + T(i, j - 1, u);
                T(i, j, u) = v;
            }
    for (size_t u = 0; u < U; u++)
        cnt[u] = T(n, m, u);
#undef T
}

double fw_stat_mann_whitney_greater(const double *x, size_t nx, const double *y, size_t ny, double *u_out)
{
    if (nx == 0 || ny == 0)
        return NAN;
    double u = 0.0;
    int ties = 0;
    for (size_t i = 0; i < nx; i++)
        for (size_t j = 0; j < ny; j++) {
            if (y[j] > x[i])
                u += 1.0;
            else if (y[j] == x[i]) {
                u += 0.5;
                ties = 1;
            }
        }
    if (u_out)
        *u_out = u;
    /* Ties between values of one sample also matter for the variance. */
    size_t N = nx + ny;
    double *all = malloc(N * sizeof *all);
    if (!all)
        return NAN;
    memcpy(all, x, nx * sizeof *x);
    memcpy(all + nx, y, ny * sizeof *y);
    qsort(all, N, sizeof *all, cmp_double);
    double tie_term = 0.0;
    for (size_t i = 0; i < N;) {
        size_t j = i;
        while (j < N && all[j] == all[i])
            j++;
        double t = (double)(j - i);
        if (t > 1.0) {
            tie_term += t * t * t - t;
            ties = 1;
        }
        i = j;
    }
    free(all);
    if (!ties && nx <= 20 && ny <= 20) {
        size_t U = nx * ny + 1;
        double *table = malloc((nx + 1) * (ny + 1) * U * sizeof *table), *cnt = malloc(U * sizeof *cnt);
        if (table && cnt) {
            mw_counts(nx, ny, table, cnt);
            double total = 0.0, upper = 0.0;
            for (size_t k = 0; k < U; k++) {
                total += cnt[k];
                if ((double)k >= u)
                    upper += cnt[k];
            }
            free(table);
            free(cnt);
            return upper / total;
        }
        free(table);
        free(cnt);
    }
    double n1 = (double)nx, n2 = (double)ny, mean = n1 * n2 / 2.0;
    double var = n1 * n2 / 12.0 * ((N + 1.0) - tie_term / ((double)N * (N - 1.0)));
    if (var <= 0.0)
        return u > mean ? 0.0 : 1.0;
    double z = (u - mean - 0.5) / sqrt(var);
    return gsl_cdf_ugaussian_Q(z);
}
