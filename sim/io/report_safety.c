/* The report's trust-and-safety section: for each run, one table of run totals per arm
 * (prevalence overall and by class, reports, actions, proactive rate, wrongful removals, time
 * to action, the reviewers' backlog and capacity) and one table per arm of the daily figures.
 * Every number is read from the safety part's counters in /days/<arm> (sim/parts/safety.c);
 * rates over the run are ratios of sums, never means of daily ratios. */
#include <math.h>
#include <stdio.h>

#include "io/report_safety.h"
#include "io/report_html.h"

static const char *const classes[] = {"spam", "fake", "clickbait", "unsafe"};

static int has_safety(const fw_results *r)
{
    for (uint32_t a = 0; a < r->n_arms; a++)
        if (fw_results_col(&r->arms[a].days, "safety_impressions"))
            return 1;
    return 0;
}

static void run_table(FILE *h, const fw_results *r)
{
    fputs("<table class=\"num\">\n<tr><th>arm</th><th>prevalence /10k</th>", h);
    for (int k = 0; k < 4; k++)
        fprintf(h, "<th>%s /10k</th>", classes[k]);
    fputs("<th>reports /day</th><th>actioned /day</th><th>proactive</th><th>wrongful removals /day</th>"
          "<th>wrongful share</th><th>time to action p50 (ticks, worst day)</th><th>p99 (worst day)</th>"
          "<th>backlog at the end</th><th>queued /day</th><th>review capacity /day</th></tr>\n",
          h);
    double days = r->n_days ? (double)r->n_days : NAN;
    for (uint32_t a = 0; a < r->n_arms; a++) {
        const fw_results_arm *arm = &r->arms[a];
        if (!fw_results_col(&arm->days, "safety_impressions"))
            continue;
        double imp = fw_day_sum(r, arm, "safety_impressions"), act = fw_day_sum(r, arm, "mod_actioned");
        fputs("<tr><td>", h);
        fw_html_esc(h, arm->name);
        fputs("</td>", h);
        fw_html_num(h, 1e4 * fw_day_sum(r, arm, "viol_impressions") / imp, 1, "");
        for (int k = 0; k < 4; k++) {
            char col[64];
            snprintf(col, sizeof col, "viol_impressions_%s", classes[k]);
            fw_html_num(h, 1e4 * fw_day_sum(r, arm, col) / imp, 1, "");
        }
        fw_html_num(h, fw_day_sum(r, arm, "reports") / days, 1, "");
        fw_html_num(h, act / days, 1, "");
        fw_html_num(h, act > 0 ? 100.0 * fw_day_sum(r, arm, "mod_proactive") / act : NAN, 1, "%");
        fw_html_num(h, fw_day_sum(r, arm, "wrongful_removals") / days, 1, "");
        fw_html_num(h, act > 0 ? 100.0 * fw_day_sum(r, arm, "wrongful_removals") / act : NAN, 1, "%");
        fw_html_num(h, fw_day_max(r, arm, "tta_p50_ticks"), 0, "");
        fw_html_num(h, fw_day_max(r, arm, "tta_p99_ticks"), 0, "");
        fw_html_num(h, r->n_days ? fw_day_at(arm, "review_backlog", r->n_days - 1) : NAN, 0, "");
        double queued = fw_day_sum(r, arm, "mod_queued") / days, cap = r->n_days ? fw_day_at(arm, "review_capacity_day", r->n_days - 1) : NAN;
        fw_html_num(h, queued, 1, "");
        fw_html_num(h, cap, 0, "");
        fputs("</tr>\n", h);
    }
    fputs("</table>\n", h);
    for (uint32_t a = 0; a < r->n_arms; a++) {
        const fw_results_arm *arm = &r->arms[a];
        double queued = fw_day_sum(r, arm, "mod_queued") / days;
        double cap = r->n_days ? fw_day_at(arm, "review_capacity_day", r->n_days - 1) : NAN;
        if (cap > 0 && queued > cap) {
            fputs("<p class=\"warn\"><strong>Arm ", h);
            fw_html_esc(h, arm->name);
            fprintf(h, ": the review queue cannot drain</strong>: %.0f notes a day arrive, the reviewers take at most "
                       "%.0f.</p>\n", queued, cap);
        }
    }
}

static void day_table(FILE *h, const fw_results *r, const fw_results_arm *arm)
{
    fputs("<h4>arm ", h);
    fw_html_esc(h, arm->name);
    fputs(", by day</h4>\n<table class=\"num\">\n<tr><th>day</th><th>prevalence /10k</th><th>reports</th>"
          "<th>queued</th><th>reviewed</th><th>actioned</th><th>proactive</th><th>wrongful</th>"
          "<th>backlog</th><th>TTA p50</th><th>TTA p99</th></tr>\n",
          h);
    for (uint32_t d = 0; d < r->n_days; d++) {
        fprintf(h, "<tr><td>%d</td>", (int)r->day[d]);
        fw_html_num(h, fw_day_at(arm, "prevalence", d), 1, "");
        fw_html_num(h, fw_day_at(arm, "reports", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "mod_queued", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "mod_reviewed", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "mod_actioned", d), 0, "");
        double pr = fw_day_at(arm, "proactive_rate", d);
        fw_html_num(h, 100.0 * pr, 1, "%");
        fw_html_num(h, fw_day_at(arm, "wrongful_removals", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "review_backlog", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "tta_p50_ticks", d), 0, "");
        fw_html_num(h, fw_day_at(arm, "tta_p99_ticks", d), 0, "");
        fputs("</tr>\n", h);
    }
    fputs("</table>\n", h);
}

void fw_report_safety_html(FILE *h, const fw_results *const *runs, int n_runs)
{
    int any = 0;
    for (int i = 0; i < n_runs; i++)
        any |= has_safety(runs[i]);
    if (!any)
        return;
    fputs("<h2 id=\"safety\">Trust and safety</h2>\n<p>Prevalence: impressions of violating notes per 10,000 "
          "feed and search impressions, by the notes' hidden class. Proactive: the share of actions taken before any "
          "user report. Wrongful removals: clean notes actioned (creator harm). Time to action: ticks from "
          "publication (for the initial notes, from the first tick) to the action. Backlog: notes waiting for a "
          "reviewer at a day's end.</p>\n",
          h);
    for (int i = 0; i < n_runs; i++) {
        const fw_results *r = runs[i];
        if (!has_safety(r))
            continue;
        const fw_results_value *name = fw_results_attr(&r->root, "scenario_name");
        fputs("<h3>", h);
        fw_html_esc(h, name ? name->text : r->path);
        fputs("</h3>\n", h);
        run_table(h, r);
        for (uint32_t a = 0; a < r->n_arms; a++)
            if (fw_results_col(&r->arms[a].days, "safety_impressions"))
                day_table(h, r, &r->arms[a]);
    }
}
