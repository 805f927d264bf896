/* The report's live-selling section: for each run, one table of run totals per arm (sessions,
 * joins by source, peak and mean concurrent viewers, live orders and their flash share, live
 * GMV and its share of all GMV, orders per viewer) and one table per arm with live selling of
 * the daily figures. Every number is read from the live part's counters in /days/<arm>
 * (sim/parts/live.c); run rates are ratios of sums, never means of daily ratios. */
#include <math.h>
#include <stdio.h>

#include "io/report_live.h"
#include "io/report_html.h"

static int has_live(const fw_results *r)
{
    for (uint32_t a = 0; a < r->n_arms; a++)
        if (fw_results_col(&r->arms[a].days, "live_gmv_cents"))
            return 1;
    return 0;
}

static double ratio(double a, double b) { return b > 0 ? a / b : NAN; }

static void run_table(FILE *h, const fw_results *r)
{
    fputs("<table class=\"num\">\n<tr><th>arm</th><th>sessions /day</th><th>joins /day</th><th>feed</th>"
          "<th>follow</th><th>push</th><th>peak viewers (best day)</th><th>mean viewers</th><th>live orders /day</th>"
          "<th>at the live price</th><th>live GMV /day (CNY)</th><th>GMV /day (CNY)</th><th>live GMV share</th>"
          "<th>orders per viewer</th></tr>\n",
          h);
    double days = r->n_days ? (double)r->n_days : NAN;
    for (uint32_t a = 0; a < r->n_arms; a++) {
        const fw_results_arm *arm = &r->arms[a];
        if (!fw_results_col(&arm->days, "live_gmv_cents"))
            continue;
        double joins = fw_day_sum(r, arm, "live_viewers"), paid = fw_day_sum(r, arm, "live_paid_orders");
        double orders = fw_day_sum(r, arm, "live_orders"), gmv = fw_day_sum(r, arm, "gmv_cents"), lg = fw_day_sum(r, arm, "live_gmv_cents");
        fputs("<tr><td>", h);
        fw_html_esc(h, arm->name);
        fputs("</td>", h);
        fw_html_num(h, fw_day_sum(r, arm, "live_sessions") / days, 1, "");
        fw_html_num(h, joins / days, 1, "");
        fw_html_num(h, 100.0 * ratio(fw_day_sum(r, arm, "live_joins_feed"), joins), 0, "%");
        fw_html_num(h, 100.0 * ratio(fw_day_sum(r, arm, "live_joins_follow"), joins), 0, "%");
        fw_html_num(h, 100.0 * ratio(fw_day_sum(r, arm, "live_joins_notify"), joins), 0, "%");
        fw_html_num(h, fw_day_max(r, arm, "live_peak_viewers"), 0, "");
        fw_html_num(h, ratio(fw_day_sum(r, arm, "live_viewer_ticks"), fw_day_sum(r, arm, "live_ticks_on")), 1, "");
        fw_html_num(h, paid / days, 1, "");
        fw_html_num(h, 100.0 * ratio(fw_day_sum(r, arm, "live_flash_orders"), orders), 0, "%");
        fw_html_num(h, lg / 100.0 / days, 2, "");
        fw_html_num(h, gmv / 100.0 / days, 2, "");
        fw_html_num(h, 100.0 * ratio(lg, gmv), 1, "%");
        fw_html_num(h, ratio(paid, joins), 3, "");
        fputs("</tr>\n", h);
    }
    fputs("</table>\n", h);
}

static void day_table(FILE *h, const fw_results *r, const fw_results_arm *arm)
{
    fputs("<h4>arm ", h);
    fw_html_esc(h, arm->name);
    fputs(", by day</h4>\n<table class=\"num\">\n<tr><th>day</th><th>sessions</th><th>joins</th><th>peak viewers</th>"
          "<th>mean viewers</th><th>live orders paid</th><th>live GMV (CNY)</th><th>live GMV share</th>"
          "<th>orders per viewer</th></tr>\n",
          h);
    for (uint32_t d = 0; d < r->n_days; d++) {
        fprintf(h, "<tr><td>%d</td>", (int)r->day[d]);
        fw_html_num(h, fw_day_at(arm, "live_sessions", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "live_viewers", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "live_peak_viewers", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "live_mean_viewers", d), 1, "");
        fw_html_num(h, fw_day_at(arm, "live_paid_orders", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "live_gmv_cents", d) / 100.0, 2, "");
        fw_html_num(h, 100.0 * fw_day_at(arm, "live_gmv_share", d), 1, "%");
        fw_html_num(h, fw_day_at(arm, "live_orders_per_viewer", d), 3, "");
        fputs("</tr>\n", h);
    }
    fputs("</table>\n", h);
}

void fw_report_live_html(FILE *h, const fw_results *const *runs, int n_runs)
{
    int any = 0;
    for (int i = 0; i < n_runs; i++)
        any |= has_live(runs[i]);
    if (!any)
        return;
    fputs("<h2 id=\"live\">Live selling</h2>\n<p>Live sessions the world scheduled, the viewers who joined them (from "
          "the live card in the feed, a followed host's card, or the push to followers), concurrent viewers (peak: "
          "the most in one tick; mean: over the ticks with a session live), live orders paid (through the shop: they "
          "are part of the shop's orders and GMV) and the live GMV's share of all GMV. An arm without live selling "
          "shows zeros.</p>\n",
          h);
    for (int i = 0; i < n_runs; i++) {
        const fw_results *r = runs[i];
        if (!has_live(r))
            continue;
        const fw_results_value *name = fw_results_attr(&r->root, "scenario_name");
        fputs("<h3>", h);
        fw_html_esc(h, name ? name->text : r->path);
        fputs("</h3>\n", h);
        run_table(h, r);
        for (uint32_t a = 0; a < r->n_arms; a++)
            if (fw_day_sum(r, &r->arms[a], "live_viewers") > 0)
                day_table(h, r, &r->arms[a]);
    }
}
