/* Simulator knob lists: the world, behaviour and output sections of a scenario.
 * Owns: the knob lists (the one place each default lives) and the structs they expand to.
 * Borrows: the X-macro convention of flywheel/knob.h.  Never touches: parsing (scenario.c).
 * Defaults come from ../shared/calibration.md where a figure exists; see the comments in
 * scenarios/default.yaml for the anchor of each. */
#ifndef FLYWHEEL_SIM_KNOBS_H
#define FLYWHEEL_SIM_KNOBS_H

#include "flywheel/engine_cfg.h"   /* FW_ISOLATIONS */
#include "flywheel/knob.h"

/* name, seed, days: top level of the scenario. */
#define FW_TOP_KNOBS(X)                                                                    \
    X(top, RUN, STR, name, "default", 0, 0, "", "scenario name; the result file is NAME.h5")         \
    X(top, RUN, U64, seed, 20261127, 0, UINT64_MAX, "", "master seed of every random stream")        \
    X(top, RUN, U32, days, 7, 1, 3650, "days", "simulated days to run")

/* world.follow_graph: how the day-0 follow graph is made (world.c). */
#define FW_FOLLOW_GRAPHS(V)                                                                      \
    V(FW_FOLLOW_GRAPH_STATIC, "static")                                                          \
    V(FW_FOLLOW_GRAPH_GROWTH, "growth")

typedef enum fw_follow_graph {
    FW_FOLLOW_GRAPHS(FW_KNOB_ENUM_CONST) FW_FOLLOW_GRAPH__COUNT
} fw_follow_graph;

/* world.*: who exists and how they are made (shared by every arm). */
#define FW_WORLD_KNOBS(X)                                                                             \
    X(world, RUN, U32, n_users, 50000, 10, 50000000, "users", "population (monthly users)")                       \
    X(world, RUN, U32, n_notes, 100000, 10, 50000000, "notes", "notes published before day 0")                    \
    X(world, RUN, U32, n_topics, 32, 2, 1024, "topics", "content topics (interests, niches, categories)")        \
    X(world, RUN, U32, embed_dim, 16, 2, 128, "", "dimension of latent taste and note embeddings")                \
    X(world, RUN, U32, ticks_per_day, 96, 1, 1440, "ticks", "ticks per simulated day (96 = 15 minutes)")          \
    X(world, RUN, F64, topic_zipf, 0.8, 0.0, 4.0, "", "Zipf exponent of topic popularity")                       \
    X(world, RUN, F64, interest_concentration, 0.35, 0.001, 100.0, "",                                            \
      "Dirichlet concentration of a user's interest mix (small = few interests)")                    \
    X(world, RUN, F64, activity_a, 0.3, 0.001, 100.0, "", "Beta(a,b) of a user's daily active probability")       \
    X(world, RUN, F64, activity_b, 0.75, 0.001, 100.0, "", "Beta(a,b) of a user's daily active probability")      \
    X(world, RUN, F64, sessions_mean, 16.0, 0.1, 200.0, "sessions", "mean app opens per active user per day")     \
    X(world, RUN, F64, sessions_shape, 2.0, 0.05, 100.0, "", "Gamma shape of users' session rates (small = heavy tail)") \
    X(world, RUN, F64, video_share, 0.45, 0.0, 1.0, "", "share of new notes that are video")                      \
    X(world, RUN, F64, creator_share, 0.25, 0.0, 1.0, "", "share of users who post (creators)")                   \
    X(world, RUN, F64, notes_per_dau, 0.08, 0.0, 100.0, "notes", "new notes per daily active user per day")       \
    X(world, RUN, F64, creator_rate_sigma, 1.5, 0.0, 5.0, "", "lognormal sigma of creators' posting rates")       \
    X(world, RUN, F64, creator_skill_sigma, 0.5, 0.0, 5.0, "", "sd of creators' skill (log-quality)")             \
    X(world, RUN, F64, note_quality_sigma, 0.4, 0.0, 5.0, "", "sd of a note's quality around its creator's skill") \
    X(world, RUN, F64, aigc_rate_boost, 2.0, 1.0, 20.0, "",                                                       \
      "AIGC (issue 20): posting rate multiplier of a creator who adopted the AIGC tool (cheaper notes)")   \
    X(world, RUN, F64, aigc_quality_shift, -0.3, -5.0, 5.0, "",                                                   \
      "AIGC: shift of an AI-generated note's mean quality from its creator's skill")                       \
    X(world, RUN, F64, aigc_quality_sigma, 0.15, 0.0, 5.0, "",                                                    \
      "AIGC: sd of an AI-generated note's quality around skill + shift (the human residual rescaled)")   \
    X(world, RUN, F64, aigc_homogenise, 0.5, 0.0, 1.0, "",                                                        \
      "AIGC: weight of the tool's template vector of the topic in an AI-generated note's embedding (0 = as human)") \
    X(world, RUN, F64, aigc_declare_share, 0.3, 0.0, 1.0, "",                                                     \
      "AIGC: share of AI-generated notes their creators declare as such (the platform sees the declaration)") \
    X(world, RUN, F64, niche_focus, 0.8, 0.0, 1.0, "", "probability a creator's note is in the creator's niche")  \
    X(world, RUN, F64, follows_mean, 20.0, 0.0, 10000.0, "follows", "mean creators a user follows at day 0")      \
    X(world, RUN, ENUM, follow_graph, FW_FOLLOW_GRAPH_GROWTH, FW_FOLLOW_GRAPHS, 0, "",                             \
      "how the day-0 follow graph is made: growth = grown over the users' simulated arrival order by " \
      "preferential attachment, interest homophily and follow-backs among small accounts (the follower " \
      "tail emerges); static = drawn once over every creator at the same time (the graph before issue 18)") \
    X(world, RUN, F64, follow_uniform, 0.2, 0.0, 1.0, "", "share of initial follows picked uniformly, not by attachment") \
    X(world, RUN, U32, follow_choices, 4, 1, 64, "",                                                              \
      "candidates compared per follow for homophily (static: the follower's interest in the creator's niche; " \
      "growth: the cosine of their interest vectors)")                                              \
    X(world, RUN, F64, follow_reciprocity, 0.2, 0.0, 1.0, "",                                                     \
      "growth: probability that a follow of a small account (no more followers than it follows) is a " \
      "follow-back of a creator who follows it (0 = none; static refuses other values)")          \
    X(world, RUN, U32, n_brands, 500, 1, 10000000, "brands", "brands")                                             \
    X(world, RUN, U32, n_products, 20000, 1, 50000000, "products", "products")                                     \
    X(world, RUN, F64, price_median_cents, 15000.0, 1.0, 1.0e9, "cents", "median product price")                   \
    X(world, RUN, F64, price_sigma, 0.9, 0.0, 5.0, "", "lognormal sigma of product prices")                        \
    X(world, RUN, F64, budget_median_cents, 72000.0, 1.0, 1.0e12, "cents",                                    \
      "median monthly shopping budget of a user (lognormal, sigma 1): a checkout that would take the " \
      "month's spending past it is not sent; budgets start over every 30 days")                       \
    X(world, RUN, F64, stock_mean, 200.0, 0.0, 1.0e9, "units", "mean initial stock per product")                   \
    X(world, RUN, F64, product_note_share, 0.15, 0.0, 1.0, "", "share of notes that mention a product")            \
    X(world, RUN, F64, history_days, 30.0, 0.0, 3650.0, "days",                                                  \
      "initial notes are spread over this many days before day 0, or before the warm-up when world.warmup_days > 0") \
    X(world, RUN, U32, warmup_days, 0, 0, 365, "days",                                                            \
      "days simulated before day 0, unrecorded and with everyone on the control, so that day 0 starts from "   \
      "the state they leave (users, follows, notes, the engine's learned state); the initial notes come before " \
      "them; 0 = day 0 starts from the generated world")                                                       \
    X(world, RUN, U32, warmup_pilot_users, 0, 0, 50000000, "users",                                               \
      "users simulated on the warm-up's first days (all but its last world.warmup_full_days): an even sample by "  \
      "id; the others stay away on those days, as users who do not visit, then take the drifted interests of "  \
      "pilot users like them; a long warm-up then costs its full days and the pilot's share of the rest; must " \
      "be below n_users; 0 = everyone on every warm-up day")                                                   \
    X(world, RUN, F64, warmup_pilot_share, 0.0, 0.0, 1.0, "",                                                     \
      "the pilot as a share of world.n_users instead of a count (round(share x n_users), at least 1), so it "    \
      "scales with the world; not with world.warmup_pilot_users; 0 = off")                                      \
    X(world, RUN, U32, warmup_full_days, 7, 0, 365, "days",                                                       \
      "the warm-up's last days, on which every user is simulated after the pilot (used when "                     \
      "world.warmup_pilot_users or warmup_pilot_share > 0; below world.warmup_days)")                             \
    X(world, RUN, F64, expectation_adaptation, 0.1, 0.0, 1.0, "",                                                \
      "daily rate at which users' expected CTR follows the population's (0 = fixed at day 0)")     \
    X(world, RUN, U32, terms_per_topic, 200, 1, 100000, "terms", "words of each topic's vocabulary (notes use them)") \
    X(world, RUN, U32, generic_terms, 100, 1, 100000, "terms", "generic words shared by every topic")            \
    X(world, RUN, U32, colloquial_per_topic, 20, 0, 100000, "terms",                                              \
      "colloquial words per topic: people search with them, notes never contain them")             \
    X(world, RUN, F64, term_zipf, 1.0, 0.0, 4.0, "", "Zipf exponent of word frequency within a topic")      \
    X(world, RUN, F64, restock_days, 3.0, 0.0, 3650.0, "days",                                                  \
      "mean days before a brand restocks a sold-out product to its initial stock (0 = never)")   \
    X(world, RUN, U32, n_campaigns, 200, 0, 10000000, "campaigns", "ad campaigns, each of a random brand (0 = no ads)") \
    X(world, RUN, F64, cpm_bid_cents, 8000.0, 1.0, 1.0e9, "cents", "median bid of CPM campaigns, per thousand impressions") \
    X(world, RUN, F64, cpc_bid_cents, 240.0, 1.0, 1.0e9, "cents", "median bid of CPC campaigns, per click")     \
    X(world, RUN, F64, cpa_bid_cents, 12000.0, 1.0, 1.0e9, "cents", "median bid of conversion campaigns, per conversion") \
    X(world, RUN, F64, ad_budget_cents, 12000.0, 1.0, 1.0e12, "cents", "median daily budget of a campaign (lognormal, sigma 1)") \
    X(world, RUN, F64, goal_max_conversions, 0.0, 0.0, 1.0, "",                                                \
      "share of campaigns whose advertiser buys the most conversions its budget allows, through the "         \
      "platform's autobidder (flywheel/ads.h fw_ad_goal; value of a conversion around cpa_bid_cents); 0 = none") \
    X(world, RUN, F64, goal_target_cpa, 0.0, 0.0, 1.0, "",                                                     \
      "share of campaigns autobidding to a target cost per conversion (around cpa_bid_cents); 0 = none")      \
    X(world, RUN, F64, goal_target_roas, 0.0, 0.0, 1.0, "",                                                    \
      "share of campaigns autobidding to a target return on ad spend (around target_roas); the three goal "   \
      "shares sum to at most 1, the rest bid manually; 0 = none")                                            \
    X(world, RUN, F64, target_roas, 3.0, 0.01, 1000.0, "",                                                     \
      "median target ROAS (attributed GMV per cent spent) of goal_target_roas campaigns (lognormal, sigma 0.3)") \
    X(world, RUN, F64, join_share, 0.0, 0.0, 1.0, "",                                                          \
      "share of campaigns whose advertiser joins during the run, on a day drawn uniformly from 1..join_days " \
      "(in no auction before it); 0 = every advertiser is there from day 0")                              \
    X(world, RUN, U32, join_days, 7, 1, 3650, "days",                                                          \
      "the days over which joining advertisers arrive (used with join_share > 0)")                        \
    X(world, RUN, F64, budget_elasticity, 0.0, 0.0, 5.0, "",                                                   \
      "advertisers revise budgets: at each day's end a campaign's daily budget (each arm's share under a " \
      "budget split) is multiplied by (recent ROAS / budget_roas_ref)^this, within [1/2, 2] a day and " \
      "[1/10, 10] x its first budget; 0 = budgets never change")                                          \
    X(world, RUN, F64, budget_roas_ref, 1.0, 0.001, 1000.0, "",                                                \
      "the ROAS (attributed GMV per cent spent) at which an advertiser keeps its budget (used with "      \
      "budget_elasticity > 0)")                                                                           \
    X(world, RUN, F64, leave_roas, 0.0, 0.0, 1000.0, "",                                                       \
      "an advertiser whose recent ROAS on a campaign (the arm's share under a budget split) falls below " \
      "this leaves: its budget there becomes 0 for good; 0 = nobody leaves")                              \
    X(world, RUN, F64, task_rate, 0.05, 0.0, 1.0, "", "probability a brand posts a sponsored-note task on a day (marketplace)") \
    X(world, RUN, F64, task_budget_cents, 50000.0, 1.0, 1.0e12, "cents", "median budget of a task (lognormal, sigma 0.7)") \
    X(world, RUN, F64, quote_per_follower_cents, 20.0, 0.0, 1.0e9, "cents",                                        \
      "a creator's median quote per follower (scaled by their read rate, lognormal noise 0.3)")      \
    X(world, RUN, U32, quotes_per_task, 20, 1, 100000, "quotes", "creators who quote for a task (the first in the niche and follower range)") \
    X(world, RUN, F64, optout_share, 0.0, 0.0, 1.0, "",                                                        \
      "share of users who opt out of personalisation (drawn per user): their feed is the popular notes, "     \
      "and their events train no personalised model (engine.privacy, fw_catalog.optout); 0 = none") \
    FW_VIOLATION_WORLD_KNOBS(X) \
    FW_WORLD_LIVING_KNOBS(X) \
    FW_WORLD_LIVE_KNOBS(X)

/* world.violation_*: the hidden violation class of each note (trust and safety, issue 20;
 * sim/model/violation.c). Each creator is an ordinary creator or, with probability
 * violation_bad_share, a bad actor; a note's class is drawn with the creator type's shares
 * (each type's four shares sum to at most 1, the rest is clean). All shares 0 (the default):
 * every note is clean and the safety part does not run. */
#define FW_VIOLATION_WORLD_KNOBS(X)                                                                   \
    X(world, RUN, F64, violation_spam, 0.0, 0.0, 1.0, "", "share of an ordinary creator's notes that are spam")  \
    X(world, RUN, F64, violation_fake, 0.0, 0.0, 1.0, "",                                                        \
      "share of an ordinary creator's notes that are fake planting reviews of the product they show")         \
    X(world, RUN, F64, violation_clickbait, 0.0, 0.0, 1.0, "", "share of an ordinary creator's notes that are low-quality clickbait") \
    X(world, RUN, F64, violation_unsafe, 0.0, 0.0, 1.0, "", "share of an ordinary creator's notes that are unsafe") \
    X(world, RUN, F64, violation_bad_share, 0.0, 0.0, 1.0, "", "share of creators who are bad actors (their own class shares below)") \
    X(world, RUN, F64, violation_bad_spam, 0.0, 0.0, 1.0, "", "share of a bad actor's notes that are spam")        \
    X(world, RUN, F64, violation_bad_fake, 0.0, 0.0, 1.0, "", "share of a bad actor's notes that are fake planting reviews") \
    X(world, RUN, F64, violation_bad_clickbait, 0.0, 0.0, 1.0, "", "share of a bad actor's notes that are clickbait") \
    X(world, RUN, F64, violation_bad_unsafe, 0.0, 0.0, 1.0, "", "share of a bad actor's notes that are unsafe")    \
    X(world, RUN, F64, violation_harm, 0.02, 0.0, 10.0, "",                                                      \
      "a user's satisfaction (which drives coming back) is multiplied by exp(-violation_harm) per spam or "  \
      "unsafe note they were shown that day")                                                               \
    X(world, RUN, F64, violation_fake_plant, 3.0, 1.0, 100.0, "",                                                \
      "purchase intent a fake planting note plants, relative to an honest note's")                           \
    X(world, RUN, F64, violation_fake_return, 1.5, 0.0, 20.0, "",                                                \
      "logit added to the return probability of an order of a product a fake note planted in its buyer")     \
    X(world, RUN, F64, violation_fake_distrust, 1.0, 0.0, 20.0, "",                                              \
      "logit penalty of clicking a product card of a brand after returning its fake-planted product")

/* world.arrivals_*, world.churn_*, world.creator_* (issue 18, sim/parts/living.c): people who
 * join and leave during the run, creators whose posting responds to what they get. Every
 * mechanism is off at 0, so a scenario without them runs as before. */
#define FW_WORLD_LIVING_KNOBS(X)                                                                     \
    X(world, RUN, U32, arrivals_per_day, 0, 0, 10000000, "users",                                    \
      "new users who join each day (cold: no history, no day-0 follows, a few onboarding follows); " \
      "memory is reserved up front for (days + warmup_days) x arrivals_per_day users; 0 = nobody arrives") \
    X(world, RUN, U32, arrivals_follows, 3, 0, 100, "follows",                                        \
      "creators an arrival follows at onboarding: the most-followed creator of each of their top " \
      "interest topics (their onboarding picks); used when arrivals_per_day > 0")                  \
    X(world, RUN, F64, churn_base, 0.0, 0.0, 1.0, "",                                                  \
      "daily hazard of leaving for good at expected satisfaction (proportional hazards, Bolton 1998); " \
      "0 = nobody leaves for good")                                                                \
    X(world, RUN, F64, churn_dissatisfaction, 2.0, 0.0, 50.0, "",                                      \
      "log-hazard of leaving per unit of dissatisfaction (1 - satisfaction, satisfaction 1 = as " \
      "expected): hazard = churn_base x exp(this x (1 - S)); used when churn_base > 0")            \
    X(world, RUN, F64, creator_response, 0.0, 0.0, 10.0, "",                                           \
      "elasticity of a creator's posting rate to the attention (interactions + new followers) per " \
      "note their recent notes earned, relative to the average creator's (Huberman, Romero & Wu " \
      "2009); 0 = off")                                                                            \
    X(world, RUN, F64, creator_income_response, 0.0, 0.0, 10.0, "",                                    \
      "elasticity of a creator's posting rate to 1 + their recent marketplace income in units of " \
      "world.task_budget_cents; 0 = off")                                                          \
    X(world, RUN, F64, creator_fatigue, 0.0, 0.0, 100.0, "",                                           \
      "fatigue: the posting rate is divided by 1 + this x the creator's recent posts in excess of " \
      "their habitual rate, as a share of it (Banister's fitness-fatigue model); 0 = off")         \
    X(world, RUN, F64, creator_memory_days, 7.0, 0.1, 365.0, "days",                                   \
      "half-life of a creator's memory of attention, income and their own posts (used when a " \
      "creator_* response is on)")                                                                 \
    X(world, RUN, U32, creator_quiet_days, 14, 1, 365, "days",                                         \
      "a creator with no note in this many days counts as gone quiet (recorded when a creator " \
      "response, arrivals or churn is on)")

/* world.live_* (issue 19, sim/parts/live.c): the live-stream schedule, drawn once at the run's
 * start from keyed streams: who goes live (a creator or a brand), when, for how long, selling
 * which of the brand's products, with how many flash units at what live price for how long.
 * Off at world.live_sessions_per_day 0 (the default): no schedule, nothing recorded. */
#define FW_WORLD_LIVE_KNOBS(X)                                                                        \
    X(world, RUN, F64, live_sessions_per_day, 0.0, 0.0, 1000.0, "sessions",                             \
      "mean live sessions scheduled a day (Poisson), each at a uniform tick of its day; 0 = no live selling") \
    X(world, RUN, F64, live_brand_share, 0.5, 0.0, 1.0, "",                                             \
      "share of sessions a brand hosts itself (the rest: a uniform creator sells a uniform brand's products)") \
    X(world, RUN, U32, live_duration_min_ticks, 4, 1, 1440, "ticks", "shortest session (uniform in [min, max])") \
    X(world, RUN, U32, live_duration_max_ticks, 12, 1, 1440, "ticks", "longest session; at least live_duration_min_ticks") \
    X(world, RUN, U32, live_products_per_session, 5, 0, 100, "products",                                \
      "products on a session's list (distinct products of its brand, at most as many as the brand has); "  \
      "0 is refused while sessions are on (a session without products)")                                 \
    X(world, RUN, U32, live_flash_units, 50, 0, 1000000, "units",                                        \
      "flash units per product and session: units sold at the live price (then the list price)")        \
    X(world, RUN, F64, live_discount, 0.2, 0.0, 0.9, "",                                                 \
      "live price = list price x (1 - this), rounded down to a cent (at least 1 cent)")                  \
    X(world, RUN, U32, live_price_ticks, 4, 1, 1440, "ticks",                                            \
      "the live price holds for the session's first this many ticks")

/* behaviour.live_*: how viewers come, stay and buy (issue 19). Interest i = n_topics x the
 * user's interest in the session's category (1 on average). */
#define FW_LIVE_BEHAVIOUR_KNOBS(X)                                                                   \
    X(behaviour, ARM, F64, live_card_click, 0.02, 0.0, 1.0, "",                                          \
      "probability a session with the live card in its feed joins the live (x sqrt(i), at most 1)")    \
    X(behaviour, ARM, F64, live_follow_join, 0.1, 0.0, 1.0, "",                                          \
      "the same when the card is a followed host's (x sqrt(i), at most 1)")                            \
    X(behaviour, ARM, F64, live_notify_open, 0.2, 0.0, 1.0, "",                                          \
      "probability a follower in the app opens the push of a followed host's live (engine.live.notify)") \
    X(behaviour, ARM, F64, live_leave, 0.25, 0.0, 1.0, "",                                               \
      "per-tick hazard of leaving a live at interest 1 on joining: h = live_leave x (1 + live_fatigue x " \
      "ticks watched) / sqrt(i), at most 1")                                                          \
    X(behaviour, ARM, F64, live_fatigue, 0.2, 0.0, 10.0, "", "growth of the leave hazard per tick watched") \
    X(behaviour, ARM, F64, live_buy, 0.01, 0.0, 1.0, "",                                                 \
      "per-tick probability a viewer at interest 1 orders one unit of a uniform product of the list at " \
      "list price; x sqrt(i) x (list / price)^(behaviour.price_weight + deal_weight), at most 1")

/* behaviour.*: how people choose (an arm may change these). */
#define FW_BEHAVIOUR_KNOBS(X)                                                                         \
    X(behaviour, ARM, F64, open_rate, 0.05, 0.0001, 0.9, "",                                                        \
      "cover click-through rate of an on-interest note of average quality")    \
    X(behaviour, ARM, F64, open_affinity, 1.2, 0.0, 20.0, "", "logit weight of the user's true affinity to the note")  \
    X(behaviour, ARM, F64, open_quality, 0.8, 0.0, 20.0, "", "logit weight of the note's true quality")                \
    X(behaviour, ARM, F64, format_weight, 0.5, 0.0, 20.0, "", "logit weight of the user's image/video preference")     \
    X(behaviour, ARM, F64, aigc_adoption_per_day, 0.0, 0.0, 1.0, "",                                                \
      "AIGC (issue 20): share of creators who have adopted the AIGC tool grows by this each day (day d: min(1, " \
      "(d + 1) x this) of the arm's creators; an adopter's notes are all AI-generated); 0 = off")              \
    X(behaviour, ARM, F64, interact_rate, 0.045, 0.0, 1.0, "", "likes + saves + comments per read of an on-interest note")          \
    X(behaviour, ARM, F64, like_share, 0.6, 0.0, 1.0, "", "share of interactions that are likes")                     \
    X(behaviour, ARM, F64, save_share, 0.3, 0.0, 1.0, "", "share of interactions that are saves")                     \
    X(behaviour, ARM, F64, follow_rate, 0.0015, 0.0, 1.0, "", "follows of the creator per read of an on-interest note")            \
    X(behaviour, ARM, F64, stop_base, 0.06, 0.0, 1.0, "", "probability of ending the session after each note")         \
    X(behaviour, ARM, F64, fatigue, 0.004, 0.0, 1.0, "", "added stop probability per note already seen this session")  \
    X(behaviour, ARM, F64, satisfaction_weight, 0.6, 0.0, 10.0, "", "how much a satisfying note lowers the stop probability") \
    X(behaviour, ARM, F64, max_notes, 200.0, 1.0, 100000.0, "notes", "hard cap of notes examined in one session")      \
    X(behaviour, ARM, F64, drift, 0.001, 0.0, 1.0, "", "interest drift towards the topic of each opened note")          \
    X(behaviour, ARM, F64, drift_reversion, 0.1, 0.0, 1.0, "", "daily pull of drifted interests back to the user's own")  \
    X(behaviour, ARM, F64, memory, 0.8, 0.0, 1.0, "", "day-to-day persistence of a user's satisfaction")               \
    X(behaviour, ARM, F64, churn_sensitivity, 1.5, 0.0, 100.0, "", "elasticity of coming back to satisfaction (CTR relative to expectation)") \
    X(behaviour, ARM, F64, searches_per_searcher, 10.0, 0.0, 1000.0, "searches",                                      \
      "searches a day by a user who searches that day (world.search_prop decides who does)")       \
    X(behaviour, ARM, F64, search_colloquial, 0.25, 0.0, 1.0, "", "probability a query word is colloquial (in no note)") \
    X(behaviour, ARM, F64, search_typo, 0.05, 0.0, 1.0, "", "probability a query word is misspelt (matches nothing)") \
    X(behaviour, ARM, F64, search_generic, 0.3, 0.0, 1.0, "", "probability a query also has a generic word")          \
    X(behaviour, ARM, F64, search_eta, 1.0, 0.0, 5.0, "", "position bias: result k is examined with probability (1/k)^eta") \
    X(behaviour, ARM, F64, search_intent_bonus, 2.0, 0.0, 20.0, "",                                                   \
      "logit bonus of opening a result on the searched topic (minus it off topic)")                \
    X(behaviour, ARM, F64, search_reformulate, 0.5, 0.0, 1.0, "", "probability of searching again after no click (at most twice)") \
    X(behaviour, ARM, F64, plant_open, 1.0, 0.0, 100.0, "", "purchase intent for the product a note shows, added by reading the note (种草)") \
    X(behaviour, ARM, F64, plant_save, 1.0, 0.0, 100.0, "", "intent added on top by saving or liking it")         \
    X(behaviour, ARM, F64, intent_half_life_days, 3.0, 0.01, 1000.0, "days", "half-life of purchase intent")     \
    X(behaviour, ARM, F64, intent_weight, 1.0, 0.0, 20.0, "", "logit weight of log(1 + intent) in card clicks and carts") \
    X(behaviour, ARM, F64, appeal_weight, 0.5, 0.0, 20.0, "", "logit weight of the product's true appeal")        \
    X(behaviour, ARM, F64, price_weight, 0.15, 0.0, 20.0, "",                                                      \
      "logit weight of price sensitivity x log(price / the catalog's geometric mean price), in each choice about a " \
      "product (card or shop-tab click, add to cart: a purchase weighs it about twice)") \
    X(behaviour, ARM, F64, deal_weight, 1.15, 0.0, 20.0, "",                                                       \
      "logit weight of log(list price / the price the user would pay) in each choice about a discounted product " \
      "(coupon, promotion day's sale; a live viewer's order: exponent of list / live price), on top of " \
      "price_weight: the response to a deal against the reference (list) price; 0 = off") \
    X(behaviour, ARM, F64, card_click_rate, 0.05, 0.0, 1.0, "", "product-card clicks per card seen in an opened note (mean at no intent, see fw_behaviour_calibrate)") \
    X(behaviour, ARM, F64, shop_visit_rate, 0.3, 0.0, 1.0, "", "probability a session ends with a look at the shop tab") \
    X(behaviour, ARM, F64, shop_click_rate, 0.02, 0.0, 1.0, "", "shop-tab clicks per product examined (mean over products of the user's interests, no intent)") \
    X(behaviour, ARM, F64, shop_eta, 0.0, 0.0, 5.0, "",                                                             \
      "position bias of the shop tab: its product k is examined with probability (1/k)^this (0 = the whole " \
      "page is looked at, as a feed page is scrolled; search_eta is the search page's)")              \
    X(behaviour, ARM, F64, cart_rate, 0.025, 0.0, 1.0, "", "add-to-cart per product view (mean at no intent)") \
    X(behaviour, ARM, F64, buy_now, 0.25, 0.0, 1.0, "", "probability of paying right after adding to the cart")  \
    X(behaviour, ARM, F64, cart_revisit, 0.1, 0.0, 1.0, "", "probability a session with a non-empty cart opens the cart") \
    X(behaviour, ARM, F64, buy_later, 0.15, 0.0, 1.0, "", "probability of buying an item when revisiting the cart (delayed conversion)") \
    X(behaviour, ARM, F64, cart_abandon, 0.4, 0.0, 1.0, "", "probability of removing an item not bought on a cart visit") \
    X(behaviour, ARM, F64, return_rate, 0.08, 0.0, 1.0, "", "probability a delivered product of average appeal is returned") \
    X(behaviour, ARM, F64, double_submit, 0.01, 0.0, 1.0, "", "probability the app sends a checkout twice (same request id)") \
    X(behaviour, ARM, F64, satiation, 0.0, 0.0, 20.0, "",                                                          \
      "logit penalty of opening a feed or search note per unit of the user's satiation with its topic: each open " \
      "of the topic adds 1, decaying with satiation_half_life_hours (McAlister 1982); 0 = off") \
    X(behaviour, ARM, F64, satiation_half_life_hours, 2.0, 0.01, 1000.0, "hours",                                 \
      "half-life of topic satiation (used when satiation > 0)")                                   \
    X(behaviour, ARM, F64, social_proof, 0.0, 0.0, 20.0, "",                                                       \
      "logit weight of log(1 + the note's visible likes) in opening a feed or search note (social proof; " \
      "Salganik, Dodds & Watts 2006); 0 = off")                                                    \
    X(behaviour, ARM, F64, unfollow_rate, 0.0, 0.0, 1.0, "",                                                      \
      "unfollows: each feed impression of a followed creator's note the follower does not open adds 1 to their " \
      "disinterest in the creator, and they unfollow with probability unfollow_rate x disinterest (Kwak, Moon, " \
      "Lee & Moon 2011); 0 = off")                                                                 \
    X(behaviour, ARM, F64, unfollow_open_keep, 0.0, 0.0, 1.0, "",                                                 \
      "share of a follower's disinterest in a creator that opening one of the creator's notes keeps (0: an open " \
      "forgets it; used when unfollow_rate > 0)")                                                  \
    X(behaviour, ARM, F64, follow_back, 0.0, 0.0, 1.0, "",                                                        \
      "follow-backs: a small creator (no more followers than follows, world.follow_reciprocity's rule) whom " \
      "another creator newly follows follows them back at the next tick with this probability, read from the " \
      "arm of the one who follows back (Kwak et al. 2010); 0 = off")                             \
    X(behaviour, ARM, F64, suggest_follow, 0.0, 0.0, 1.0, "",                                                     \
      "follow suggestions: in each session the user is shown world.follow_choices creators they do not follow, " \
      "each drawn in proportion to followers + 1 or, with probability world.follow_uniform, uniformly (the " \
      "day-0 graph's rule), and follows the one nearest their interests with this probability (Su, Sharma & " \
      "Goel 2016); read from the follower's arm; 0 = off")                                        \
    X(behaviour, ARM, F64, ad_penalty, 0.0, 0.0, 20.0, "", "logit penalty of opening a note because it is an ad (beyond its lower relevance)")  \
    X(behaviour, ARM, F64, ad_fatigue, 0.01, 0.0, 1.0, "", "added probability of ending the session per ad seen in it") \
    X(behaviour, ARM, F64, ad_engagement, 1.0, 0.0, 5.0, "",                                                       \
      "ads are notes: an opened ad's creative is liked, saved or commented on with this times the probability an " \
      "organic note would be (the engine counts it as the creative's engagement and the ads' pCTR learns from it); " \
      "0 = ads get no likes, saves or comments") \
    FW_REPORT_BEHAVIOUR_KNOBS(X) \
    FW_LIVE_BEHAVIOUR_KNOBS(X)

/* behaviour.report_*: users report what they are shown (trust and safety, issue 20): the
 * probability of reporting one impression, by the note's true class. Used only when some
 * world.violation_* share is above 0 or some arm moderates. */
#define FW_REPORT_BEHAVIOUR_KNOBS(X)                                                                  \
    X(behaviour, ARM, F64, report_none, 0.0, 0.0, 1.0, "", "probability of reporting an impression of a clean note (false reports)") \
    X(behaviour, ARM, F64, report_spam, 0.002, 0.0, 1.0, "", "probability of reporting an impression of a spam note") \
    X(behaviour, ARM, F64, report_fake, 0.0005, 0.0, 1.0, "", "probability of reporting an impression of a fake planting note") \
    X(behaviour, ARM, F64, report_clickbait, 0.001, 0.0, 1.0, "", "probability of reporting an impression of a clickbait note") \
    X(behaviour, ARM, F64, report_unsafe, 0.01, 0.0, 1.0, "", "probability of reporting an impression of an unsafe note")

/* experiment.* (besides the arms). The first arm is the control every other arm is
 * compared with. */
#define FW_EXPERIMENT_UNITS(V)                                                                   \
    V(FW_UNIT_USER, "user")                                                                      \
    V(FW_UNIT_CLUSTER, "cluster")                                                                \
    V(FW_UNIT_CREATOR, "creator")

typedef enum fw_experiment_unit {
    FW_EXPERIMENT_UNITS(FW_KNOB_ENUM_CONST) FW_UNIT__COUNT
} fw_experiment_unit;

#define FW_EXPERIMENT_KNOBS(X)                                                                   \
    X(experiment, RUN, U64, salt, 1, 0, UINT64_MAX, "", "salt of the arm assignment hash (change it to re-draw arms)") \
    X(experiment, RUN, ENUM, unit, FW_UNIT_USER, FW_EXPERIMENT_UNITS, 0, "",                                       \
      "randomisation unit: user; cluster (everyone who follows the same top creator); or creator " \
      "(producer-side: a creator's arm scores their notes for every viewer)")                     \
    X(experiment, RUN, U32, pre_days, 0, 0, 3650, "days",                                                          \
      "days before the arms differ (all run the first arm); their metrics feed CUPED")            \
    X(experiment, RUN, F64, alpha, 0.05, 0.0001, 0.5, "", "significance level of tests and 1 - confidence of intervals") \
    X(experiment, RUN, ENUM, isolation, FW_ISOLATION_PER_ARM, FW_ISOLATIONS, 0, "",                                 \
      "learned state between arms: per_arm = each arm's recommender, search intents and ads pCTR learn " \
      "from its own users' logs only (forked from the pre-period's at its end); shared = one model " \
      "learns from every arm (to study feedback loops across arms)")                               \
    X(experiment, RUN, U32, learners_per_arm, 0, 0, FW_MAX_LEARNERS_PER_CELL, "learners",                            \
      "independent learned states per arm under isolation per_arm: each arm's users are dealt into this many " \
      "groups, each with its own recommender, search intents and ads pCTR trained on its group only, and the " \
      "tests use the groups as clusters, so each learner's random path is in the standard errors; 1 = one " \
      "learner per arm (tests on users that leave that path out); 0 = auto: 8 under per_arm with user or " \
      "cluster units, else 1")                                                                     \
    X(experiment, RUN, BOOL, budget_split, true, 0, 1, "",                                                         \
      "split every ad campaign's daily budget and pacing state across the cells by traffic share, " \
      "as ad platforms run budget-split tests; false = one budget every arm spends") \
    X(experiment, RUN, BOOL, counterfactual, false, 0, 1, "",                                                     \
      "also run the same world and seed with everyone on the controls and with everyone on each treatment " \
      "arm, and store each metric's global treatment effect and the A/B estimate's bias (/experiment/<arm>/gte, bias)")

/* output.* */
#define FW_OUTPUT_KNOBS(X)                                                                         \
    X(output, RUN, STR, dir, "results", 0, 0, "", "directory of the result file (created if missing)")          \
    X(output, RUN, STR, file, "", 0, 0, "", "result file path; empty = DIR/NAME.h5 (-o overrides)")             \
    X(output, RUN, U32, compression, 4, 0, 9, "", "deflate level of result datasets (0 = none)")                 \
    X(output, RUN, U32, oracle_every, 256, 0, 1000000, "requests",                                              \
      "measure the oracle metrics (true-utility NDCG and regret) on one in N feed requests; 0 = off") \
    X(output, RUN, U32, oracle_corpus_every, 16, 1, 1000000, "",                                                \
      "of those, compare one in N with the best slate of the whole corpus (costly at 1M notes)")               \
    X(output, RUN, U64, max_memory, 0, 0, 1000000000, "MiB",                                                    \
      "refuse (exit 2) a run whose up-front memory estimate exceeds this; 0 = 90% of physical memory") \
    X(output, RUN, BOOL, events, false, 0, 1, "",                                                             \
      "record the impression-level event log (/events) and its ground truth (/truth)")                      \
    X(output, RUN, F64, events_sample, 1.0, 1e-6, 1.0, "",                                                    \
      "share of users whose events are logged, chosen by a hash of the user: a logged user's whole history is kept") \
    X(output, RUN, BOOL, entities, false, 0, 1, "",                                                           \
      "record the per-entity tables (/entities: notes, creators, products, campaigns, users per day, search by rank)") \
    X(output, RUN, U64, max_bytes, 21474836480, 1048576, UINT64_MAX, "bytes",                                 \
      "refuse (exit 2) a run whose event log (output.events) is estimated to exceed this size")

typedef struct fw_world_cfg {
    FW_WORLD_KNOBS(FW_KNOB_FIELD)
} fw_world_cfg;

typedef struct fw_behaviour_cfg {
    FW_BEHAVIOUR_KNOBS(FW_KNOB_FIELD)
} fw_behaviour_cfg;

typedef struct fw_output_cfg {
    FW_OUTPUT_KNOBS(FW_KNOB_FIELD)
} fw_output_cfg;

#endif
