/* The report's section on AI-generated notes and the publishing pipeline (issue 20): three
 * tables per run, from the series the run recorded (results.h: arms[].aigc, aigc_days,
 * media_days, and the arms' /days rates).
 *  - Per arm, means over the days: the AIGC share of the arm's creators' new notes, the share
 *    of its creators who adopted by the last day, homogenisation (mean pairwise cosine of the
 *    day's new notes; AIGC-only and human-only), and the viewer-side rates CTR, coverage,
 *    creator Gini of impressions, new-creator share, AIGC and down-ranked impression shares.
 *  - Per day, the detector: notes published, AI-generated, flagged, measured precision and
 *    recall, labelled, down-ranked, false positives.
 *  - Per day, the pipeline: notes submitted and released, queues at the day's end and their
 *    peak, publish delay p50, p99 and max, image and video medians (ticks). */
#include <math.h>
#include <string.h>

#include "io/report_aigc.h"
#include "io/report_html.h"

/* The mean over days of the finite values of column name (NaN when none). */
static double mean_of(const fw_results_cols *c, const char *name, uint32_t n)
{
    const double *v = fw_results_col(c, name);
    double s = 0.0;
    uint32_t k = 0;
    for (uint32_t d = 0; v && d < n; d++)
        if (isfinite(v[d])) {
            s += v[d];
            k++;
        }
    return k ? s / k : NAN;
}

/* sum(num) / sum(den) over days of two columns (NaN when the sum of den is 0). */
static double ratio_of(const fw_results_cols *c, const char *a, const char *b, uint32_t n)
{
    const double *x = fw_results_col(c, a), *y = fw_results_col(c, b);
    double sx = 0.0, sy = 0.0;
    for (uint32_t d = 0; x && y && d < n; d++) {
        sx += x[d];
        sy += y[d];
    }
    return sy > 0.0 ? sx / sy : NAN;
}

static double at(const fw_results_cols *c, const char *name, uint32_t d)
{
    const double *v = fw_results_col(c, name);
    return v ? v[d] : NAN;
}

static void arms_table(FILE *h, const fw_results *r)
{
    fputs("<h3>Per arm (means over the days)</h3>\n<p>Creator side (the arm of the notes' creators): "
          "AIGC share of new notes, adopters at the last day, homogenisation = mean pairwise cosine "
          "similarity of the day's new notes' embeddings (sampled pairs). Viewer side (the arm of the "
          "users shown the notes): CTR, coverage, Gini of impressions over creators, share of "
          "impressions on creators with fewer than 10 followers, on AI-generated notes and on "
          "down-ranked (flagged, undeclared) notes. Income: the Gini of the marketplace income the arm's "
          "creators were paid by the last day.</p>\n<table class=\"num\">\n<tr><th>arm</th>"
          "<th>AIGC notes</th><th>adopters</th><th>homog.</th><th>homog. AIGC</th><th>homog. human</th>"
          "<th>CTR</th><th>coverage</th><th>creator Gini</th><th>new-creator share</th>"
          "<th>AIGC impr.</th><th>down-ranked impr.</th><th>income Gini</th></tr>\n",
          h);
    for (uint32_t a = 0; a < r->n_arms; a++) {
        const fw_results_arm *arm = &r->arms[a];
        const fw_results_cols *g = &arm->aigc, *d = &arm->days;
        uint32_t n = r->n_days;
        fputs("<tr><th>", h);
        fw_html_esc(h, arm->name);
        fputs("</th>", h);
        fw_html_num(h, 100 * ratio_of(g, "aigc_notes", "new_notes", n), 1, "%");
        double ad = n ? at(g, "adopters", n - 1) / at(g, "creators", n - 1) : NAN;
        fw_html_num(h, 100 * ad, 1, "%");
        fw_html_num(h, mean_of(g, "homogenisation", n), 4, "");
        fw_html_num(h, mean_of(g, "homogenisation_aigc", n), 4, "");
        fw_html_num(h, mean_of(g, "homogenisation_human", n), 4, "");
        fw_html_num(h, 100 * ratio_of(d, "opens", "impressions", n), 3, "%");
        fw_html_num(h, mean_of(d, "coverage", n), 4, "");
        fw_html_num(h, mean_of(d, "creator_gini", n), 4, "");
        fw_html_num(h, mean_of(d, "new_creator_share", n), 4, "");
        fw_html_num(h, 100 * ratio_of(d, "aigc_impressions", "impressions", n), 2, "%");
        fw_html_num(h, 100 * ratio_of(d, "downranked_impressions", "impressions", n), 2, "%");
        fw_html_num(h, n ? at(g, "income_gini", n - 1) : NAN, 4, "");
        fputs("</tr>\n", h);
    }
    fputs("</table>\n", h);
}

static void detector_table(FILE *h, const fw_results *r)
{
    const fw_results_cols *c = &r->aigc_days;
    fputs("<h3>The detector, per day</h3>\n<p>Of the notes published each day: AI-generated (truth), "
          "flagged, precision = flagged AI-generated / flagged, recall = flagged AI-generated / "
          "AI-generated, labelled, down-ranked (flagged, not declared), of which human (false "
          "positives: creator harm).</p>\n<table class=\"num\">\n<tr><th>day</th><th>published</th>"
          "<th>AI-generated</th><th>declared</th><th>flagged</th><th>precision</th><th>recall</th>"
          "<th>labelled</th><th>down-ranked</th><th>of which human</th></tr>\n",
          h);
    for (uint32_t d = 0; d < r->n_days; d++) {
        double fl = at(c, "flagged", d), tp = at(c, "flagged_ai", d), ai = at(c, "ai_generated", d);
        fprintf(h, "<tr><td>%d</td>", (int)r->day[d]);
        fw_html_num(h, at(c, "published", d), 0, "");
        fw_html_num(h, ai, 0, "");
        fw_html_num(h, at(c, "declared", d), 0, "");
        fw_html_num(h, fl, 0, "");
        fw_html_num(h, fl > 0 ? tp / fl : NAN, 3, "");
        fw_html_num(h, ai > 0 ? tp / ai : NAN, 3, "");
        fw_html_num(h, at(c, "labelled", d), 0, "");
        fw_html_num(h, at(c, "downranked", d), 0, "");
        fw_html_num(h, at(c, "downranked_human", d), 0, "");
        fputs("</tr>\n", h);
    }
    fputs("</table>\n", h);
}

static void media_table(FILE *h, const fw_results *r)
{
    const fw_results_cols *c = &r->media_days;
    static const char *const cols[] = {"submitted", "released", "queue_upload", "queue_transcode", "queue_review",
                                       "queue_upload_max", "queue_transcode_max", "queue_review_max",
                                       "delay_p50", "delay_p99", "delay_max", "delay_image_p50", "delay_video_p50"};
    fputs("<h3>The publishing pipeline, per day</h3>\n<p>Notes written (submitted) and published "
          "(released); notes waiting at each stage at the day's end and at the day's peak; the publish "
          "delay of the day's releases in ticks (&minus;1: none released). A backlog that grows every "
          "day means capacity below the notes written: the pipeline cannot drain.</p>\n"
          "<table class=\"num\">\n<tr><th>day</th>",
          h);
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
        fprintf(h, "<th>%s</th>", cols[k]);
    fputs("</tr>\n", h);
    for (uint32_t d = 0; d < r->n_days; d++) {
        fprintf(h, "<tr><td>%d</td>", (int)r->day[d]);
        for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
            fw_html_num(h, at(c, cols[k], d), 0, "");
        fputs("</tr>\n", h);
    }
    fputs("</table>\n", h);
}

void fw_report_aigc_html(FILE *h, const fw_results *const *runs, int n_runs)
{
    int any = 0;
    for (int i = 0; i < n_runs; i++)
        any = any || runs[i]->aigc_days.n > 0 || runs[i]->media_days.n > 0 ||
              (runs[i]->n_arms > 0 && runs[i]->arms[0].aigc.n > 0);
    if (!any)
        return;
    fputs("<h2 id=\"aigc\">AI-generated notes and publishing</h2>\n", h);
    for (int i = 0; i < n_runs; i++) {
        const fw_results *r = runs[i];
        if (n_runs > 1) {
            fputs("<p><b>", h);
            fw_html_esc(h, r->path);
            fputs("</b></p>\n", h);
        }
        if (r->n_arms > 0 && r->arms[0].aigc.n > 0)
            arms_table(h, r);
        if (r->aigc_days.n > 0)
            detector_table(h, r);
        if (r->media_days.n > 0)
            media_table(h, r);
    }
}
