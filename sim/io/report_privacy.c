/* The report's privacy figures (report_privacy.h).
 * An arm's privacy knobs are read from the run's resolved scenario (root attribute
 * scenario_resolved, as fw_scenario_write_yaml writes it): the arm's set list when it names
 * the knob, else the base's engine.privacy section. Lifts and intervals are the experiment's
 * (CUPED-adjusted where it applied CUPED, as the forest figure shows them). */
#define _POSIX_C_SOURCE 200809L
#include "io/report_privacy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The figure's metrics: what a privacy lever costs (issue 20: CTR, retention, GMV). */
static const struct {
    const char *metric, *title;
} metrics[] = {
    {"ctr", "CTR (reads / impression)"},
    {"active_days_per_user", "retention (active days / user)"},
    {"gmv_per_user", "GMV / user"},
};
enum { N_METRICS = sizeof metrics / sizeof *metrics };

static const char *resolved(const fw_results *r)
{
    const fw_results_value *v = fw_results_attr(&r->root, "scenario_resolved");
    return v ? v->text : NULL;
}

/* The text of the knob engine.privacy.<key> for arm: from its set list ("engine.privacy.key=V")
 * or the base's section ("    key: V"), into out; 0 when neither has it. */
static int arm_knob(const char *text, const char *arm, const char *key, char *out, size_t cap)
{
    if (!text)
        return 0;
    char pat[256];
    snprintf(pat, sizeof pat, "- name: \"%s\"\n", arm);
    const char *a = strstr(text, pat);
    if (a) {
        a += strlen(pat);
        const char *end = strstr(a, "- name: ");
        snprintf(pat, sizeof pat, "\"engine.privacy.%s=", key);
        const char *k = strstr(a, pat);
        if (k && (!end || k < end)) {
            k += strlen(pat);
            size_t n = strcspn(k, "\"");
            snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), k);
            return 1;
        }
    }
    const char *sec = strstr(text, "\n  privacy:\n");
    if (!sec)
        return 0;
    snprintf(pat, sizeof pat, "\n    %s: ", key);
    const char *k = strstr(sec, pat);
    const char *next = strstr(sec + 1, "\n  ");
    while (next && strncmp(next, "\n    ", 5) == 0)   /* the next line indented less ends it */
        next = strstr(next + 1, "\n  ");
    if (!k || (next && k > next))
        return 0;
    k += strlen(pat);
    size_t n = strcspn(k, "\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), k);
    return 1;
}

/* The arm's x: epsilon (DP arms; *gauss set for the Gaussian mechanism) or the retention
 * window; NAN when the arm is not of this kind. */
static double arm_x(const fw_results *r, const char *arm, fw_report_privacy_kind kind, int *gauss)
{
    const char *text = resolved(r);
    char v[64];
    *gauss = 0;
    if (kind == FW_REPORT_PRIVACY_EPSILON) {
        if (!arm_knob(text, arm, "dp", v, sizeof v) || strcmp(v, "off") == 0)
            return NAN;
        *gauss = strcmp(v, "gaussian") == 0;
        return arm_knob(text, arm, "epsilon", v, sizeof v) ? strtod(v, NULL) : NAN;
    }
    if (!arm_knob(text, arm, "retention_days", v, sizeof v))
        return NAN;
    double d = strtod(v, NULL);
    return d > 0 ? d : NAN;
}

static int metric_index(const fw_results *r, const char *name)
{
    for (uint32_t m = 0; m < r->n_metrics; m++)
        if (strcmp(r->metric[m], name) == 0)
            return (int)m;
    return -1;
}

/* Lift and interval of metric m in test t, in percent. */
static void lift_pct(const fw_results_test *t, int m, double out[3])
{
    const double *cu = fw_results_col(&t->fields, "cuped");
    const double *cl = fw_results_col(&t->fields, "cuped_lift");
    int cuped = m >= 0 && cu && cu[m] != 0 && cl && isfinite(cl[m]);
    const char *names[2][3] = {{"lift", "lift_ci_lo", "lift_ci_hi"}, {"cuped_lift", "cuped_ci_lo", "cuped_ci_hi"}};
    for (int k = 0; k < 3; k++) {
        const double *v = m >= 0 ? fw_results_col(&t->fields, names[cuped][k]) : NULL;
        out[k] = v ? 100.0 * v[m] : NAN;
    }
}

int fw_report_privacy_has(const fw_results *r, fw_report_privacy_kind kind)
{
    if (!r->has_experiment || metric_index(r, metrics[0].metric) < 0)
        return 0;
    for (uint32_t t = 0; t < r->n_tests; t++) {
        int g;
        if (isfinite(arm_x(r, r->tests[t].arm, kind, &g)))
            return 1;
    }
    return 0;
}

int fw_report_privacy_plot(const fw_results *r, fw_report_privacy_kind kind, const char *dat_name, FILE *data,
                           FILE *gp)
{
    int eps = kind == FW_REPORT_PRIVACY_EPSILON, rows[2] = {0, 0};
    double lo = INFINITY, hi = -INFINITY;
    /* Blocks: 0 Laplace (or every retention arm), 1 Gaussian; rows sorted by x. */
    for (int block = 0; block < (eps ? 2 : 1); block++) {
        fprintf(data, "%s# %s: x", block ? "\n\n" : "", eps ? (block ? "gaussian" : "laplace") : "retention");
        for (int k = 0; k < N_METRICS; k++)
            fprintf(data, " %s_lift_pct %s_lo_pct %s_hi_pct", metrics[k].metric, metrics[k].metric,
                    metrics[k].metric);
        fputs(" arm\n", data);
        int done[256] = {0};
        uint32_t n = r->n_tests < 256 ? r->n_tests : 256;
        for (;;) {   /* selection by x: a handful of arms */
            int best = -1, g;
            double bx = INFINITY;
            for (uint32_t t = 0; t < n; t++) {
                double x = arm_x(r, r->tests[t].arm, kind, &g);
                if (!done[t] && isfinite(x) && g == block && x < bx) {
                    bx = x;
                    best = (int)t;
                }
            }
            if (best < 0)
                break;
            done[best] = 1;
            rows[block]++;
            lo = fmin(lo, bx);
            hi = fmax(hi, bx);
            fprintf(data, "%.17g", bx);
            for (int k = 0; k < N_METRICS; k++) {
                double v[3];
                lift_pct(&r->tests[best], metric_index(r, metrics[k].metric), v);
                for (int j = 0; j < 3; j++)
                    if (isfinite(v[j]))
                        fprintf(data, " %.6g", v[j]);
                    else
                        fputs(" NaN", data);
            }
            fprintf(data, " %s\n", r->tests[best].arm);
        }
    }
    if (ferror(data))
        return -1;
    fprintf(gp, "set multiplot layout 1,%d title '%s' font ',14'\n", N_METRICS,
            eps ? "Privacy budget: lift over the exact control with 95% intervals"
                : "Retention window: lift over keeping everything with 95% intervals");
    fprintf(gp, "set grid\nset key top left box opaque\nset xlabel '%s'\n",
            eps ? "epsilon per user per day (log)" : "engine.privacy.retention_days");
    if (eps)
        fprintf(gp, "set logscale x\nset xrange [%.17g:%.17g]\n", lo / 2.0, hi * 2.0);
    else
        fprintf(gp, "set xrange [%.17g:%.17g]\n", lo - 1.0, hi + 1.0);
    for (int k = 0; k < N_METRICS; k++) {
        int c = 2 + 3 * k;
        fprintf(gp, "set title '%s'\nset ylabel 'lift (%%)'\n", metrics[k].title);
        fputs("plot 0 with lines lc rgb '#444444' notitle", gp);
        if (rows[0])
            fprintf(gp, ", \\\n     '../data/%s' index 0 using 1:%d:%d:%d with yerrorlines lc rgb '#0072B2' pt 7 lw 2 "
                        "title '%s'",
                    dat_name, c, c + 1, c + 2, eps ? "Laplace" : "retention");
        if (eps && rows[1])
            fprintf(gp, ", \\\n     '../data/%s' index 1 using 1:%d:%d:%d with yerrorbars lc rgb '#D55E00' pt 5 "
                        "ps 1.3 lw 2 title 'Gaussian'",
                    dat_name, c, c + 1, c + 2);
        fputc('\n', gp);
    }
    fputs("unset multiplot\n", gp);
    return 0;
}
