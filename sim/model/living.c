/* The living world's rules (issue 18). The creator response argues from three findings:
 *  - attention: contributors post more after their work gets attention and stop when it gets
 *    none (Huberman, Romero & Wu 2009, "Crowdsourcing, attention and productivity", J. Inf.
 *    Sci. 35: YouTube uploads rise with the views of earlier uploads), and audience size drives
 *    contribution (Zhang & Zhu 2011, AER 101: Chinese Wikipedia contributors cut their edits
 *    when the block cut their audience). A creator compares the attention per note their recent
 *    notes earned -- interactions and new followers -- with what notes get on average; the
 *    ratio to a power (an elasticity) scales their rate. Those who get little drift towards
 *    silence, those who get much post more: creators go quiet and the active set turns over.
 *  - income: a sponsored deal is a reward like attention; recent income in units of a typical
 *    task budget raises the rate with its own elasticity (an argued form, no published size).
 *  - fatigue: posting above one's habit tires (the fitness-fatigue impulse-response model of
 *    Banister et al. 1975, where recent load, decaying, subtracts from performance): recent
 *    posts beyond what the creator's base rate would have posted over the same memory divide
 *    the rate, so a rewarded creator rises to a ceiling instead of without bound, and one who
 *    happened to post a burst slows down.
 * Churn: the proportional-hazards form of Bolton 1998 (Marketing Science 17: satisfaction
 * lowers the hazard of cancelling a continuous service), with dissatisfaction as 1 - S.
 * Unfollows: Kwak, Moon, Lee & Moon 2011 ("Fragile online relationship: a first look at unfollow
 * dynamics in Twitter", CHI) found that people unfollow those whose posts are uninteresting to
 * them (topics they do not care for, mundane details) or too frequent (bursts of posts). Here
 * the follower's disinterest in a creator counts the creator's notes they were shown and passed
 * over since they last opened one (an open forgets it, or keeps a share), and each note passed
 * over is a chance to unfollow that grows with the disinterest: uninteresting notes (low
 * quality, off the follower's interests) and frequent ones (more of them shown) both raise it,
 * and neither is a parameter of its own. */
#include <math.h>

#include "model/living.h"

double fw_living_decay(double half_life_days)
{
    return pow(0.5, 1.0 / half_life_days);
}

double fw_living_rate_factor(const fw_world_cfg *cfg, const fw_creator_memory *m, double mean_per_note)
{
    double f = 1.0;
    if (cfg->creator_response > 0.0 && mean_per_note > 0.0) {
        double q = (m->attention + mean_per_note) / (m->posts + 1.0);
        f *= pow(q / mean_per_note, cfg->creator_response);
    }
    if (cfg->creator_income_response > 0.0 && m->income_cents > 0.0)
        f *= pow(1.0 + m->income_cents / cfg->task_budget_cents, cfg->creator_income_response);
    if (cfg->creator_fatigue > 0.0) {
        double excess = (m->posts - m->habit) / (m->habit + 1.0);
        if (excess > 0.0)
            f /= 1.0 + cfg->creator_fatigue * excess;
    }
    return f > FW_LIVING_MAX_FACTOR ? FW_LIVING_MAX_FACTOR : f;
}

double fw_living_churn_p(const fw_world_cfg *cfg, double s)
{
    if (!(cfg->churn_base > 0.0))
        return 0.0;
    double x = cfg->churn_dissatisfaction * (1.0 - s);
    double h = cfg->churn_base * exp(x > 30.0 ? 30.0 : x);
    return 1.0 - exp(-h);
}

double fw_unfollow_ignored(double d, double rate, double *p)
{
    d += 1.0;
    double h = rate * d;
    *p = rate > 0.0 ? (h < 1.0 ? h : 1.0) : 0.0;
    return d;
}

double fw_unfollow_opened(double d, double keep)
{
    return d * keep;
}
