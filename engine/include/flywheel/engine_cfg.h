/* Engine configuration: the research knobs of the platform (what an A/B arm may change).
 * Owns: the knob lists and the config structs they expand to.  Borrows: nothing.
 * Never touches: files or parsing; the simulator loads scenarios and hands a filled
 * const fw_engine_cfg * to fw_engine_create. */
#ifndef FLYWHEEL_ENGINE_CFG_H
#define FLYWHEEL_ENGINE_CFG_H

#include <stddef.h>

#include "flywheel/auction.h"
#include "flywheel/err.h"
#include "flywheel/knob.h"

/* Feed algorithms. "baseline" stays selectable as the control algorithm. */
#define FW_FEED_ALGORITHMS(V)         \
    V(FW_FEED_BASELINE, "baseline") \
    V(FW_FEED_REC, "rec")             \
    V(FW_FEED_PLUGIN, "plugin")

typedef enum fw_feed_algorithm { FW_FEED_ALGORITHMS(FW_KNOB_ENUM_CONST) FW_FEED__COUNT } fw_feed_algorithm;

/* engine.feed.* */
#define FW_FEED_KNOBS(X)                                                                          \
    X(feed, ARM, ENUM, algorithm, FW_FEED_BASELINE, FW_FEED_ALGORITHMS, 0, "",                               \
      "feed algorithm: baseline = followed + trending + fresh, recency-decayed score; rec = the " \
      "learning recommender (engine.rec: multi-channel recall, multi-task ranking, re-ranking); plugin = " \
      "the baseline's candidates ranked by a ranker plug-in (engine.feed.plugin, flywheel/policy.h)")        \
    X(feed, ARM, STR, plugin, "", 0, 0, "",                                                                  \
      "algorithm plugin: path of the ranker plug-in (a shared object exporting fw_ranker_plugin; "           \
      "relative to the working directory); must be empty unless some arm uses algorithm plugin")            \
    X(feed, ARM, STR, plugin_args, "", 0, 0, "",                                                             \
      "algorithm plugin: the argument string handed to the plug-in's create (its own syntax)")              \
    X(feed, ARM, U32, plugin_vectors, 0, 0, 1, "",                                                           \
      "algorithm plugin: 1 hands the plug-in the learning recommender's user and note vectors "             \
      "(engine.rec.dim floats each), learned from the arm's logs -- the recommender then trains even "      \
      "when no arm serves rec, at its cost; 0 = none")                                                       \
    X(feed, ARM, U32, page_size, 10, 1, 100, "notes", "notes returned per feed request")                     \
    X(feed, ARM, U32, n_trending, 400, 0, 100000, "notes", "size of the trending pool (top decayed engagement)") \
    X(feed, ARM, U32, n_fresh, 200, 0, 100000, "notes", "size of the fresh pool (most recently published)")  \
    X(feed, ARM, U32, follow_recent, 4, 0, 64, "notes", "recent notes kept per creator for follow recall")   \
    X(feed, ARM, U32, follow_max_creators, 64, 0, 4096, "creators", "followed creators scanned per request") \
    X(feed, ARM, U32, sample_trending, 60, 0, 10000, "notes", "trending candidates scored per request")       \
    X(feed, ARM, U32, sample_fresh, 30, 0, 10000, "notes", "fresh candidates scored per request")            \
    X(feed, ARM, F64, w_follow, 1.0, 0.0, 1000.0, "", "score bonus of a note from a followed creator")       \
    X(feed, ARM, F64, w_trending, 1.0, 0.0, 1000.0, "", "weight of log(1 + decayed engagement)")             \
    X(feed, ARM, F64, w_fresh, 0.5, 0.0, 1000.0, "", "score bonus of a note younger than fresh_age_h")       \
    X(feed, ARM, F64, fresh_age_h, 24.0, 0.0, 10000.0, "hours", "age under which a note counts as fresh")   \
    X(feed, ARM, F64, recency_half_life_h, 48.0, 0.01, 1.0e6, "hours", "half-life of the recency decay of the score") \
    X(feed, ARM, F64, trending_half_life_h, 12.0, 0.01, 1.0e6, "hours", "half-life of decayed engagement counts") \
    X(feed, ARM, F64, w_open, 1.0, 0.0, 1000.0, "", "engagement weight of an open in trending counts")       \
    X(feed, ARM, F64, w_like, 2.0, 0.0, 1000.0, "", "engagement weight of a like")                           \
    X(feed, ARM, F64, w_save, 4.0, 0.0, 1000.0, "", "engagement weight of a save")                           \
    X(feed, ARM, F64, w_comment, 4.0, 0.0, 1000.0, "", "engagement weight of a comment")                     \
    X(feed, ARM, U32, seen_window, 1000, 16, 1000000, "notes",                                               \
      "a user is never served again any of their last seen_window notes (Bloom filters)")     \
    X(feed, ARM, U32, ad_first_slot, 6, 0, 100, "position",                                                  \
      "first page position (1-based) reserved for an ad (engine.ads sells it; empty when no campaign wins); 0 = none")  \
    X(feed, ARM, U32, ad_every, 10, 0, 100, "positions", "a reserved slot every this many positions after the first; 0 = only the first")

/* How the recommender trains at each tick's barrier (engine.rec.train_mode): online = one SGD
 * step per sample in event order, serially; tick = the tick's samples as one delayed-update
 * batch, parallel over samples and rows with results that do not depend on the thread count
 * (rec.c, "training, tick mode"). */
#define FW_REC_TRAIN_MODES(V)         \
    V(FW_TRAIN_ONLINE, "online")      \
    V(FW_TRAIN_TICK, "tick")

typedef enum fw_rec_train_mode { FW_REC_TRAIN_MODES(FW_KNOB_ENUM_CONST) FW_TRAIN__COUNT } fw_rec_train_mode;

/* How a request's candidates are scored (engine.rec.scoring): lazy = the per-open heads only
 * where a bound says the candidate can reach the page, the page picked from a window of the
 * best bounds first; exhaustive = every head of every candidate, the page picked by a plain
 * scan of all (the test oracle: the same pages and served scores, slower). rec.c, rank_prepare
 * and select_capped. */
#define FW_REC_SCORINGS(V)                  \
    V(FW_SCORING_LAZY, "lazy")              \
    V(FW_SCORING_EXHAUSTIVE, "exhaustive")

typedef enum fw_rec_scoring { FW_REC_SCORINGS(FW_KNOB_ENUM_CONST) FW_SCORING__COUNT } fw_rec_scoring;

/* engine.rec.*: the learning recommender (used when engine.feed.algorithm = rec). The
 * learned state (embeddings, ranking models, co-engagement neighbours) is each arm's own
 * under experiment.isolation per_arm (trained on the arm's users' logs only; the training
 * knobs, scope ISO, are the arm's) and one for all arms under shared (the training knobs are
 * then one value per run). history and neighbours are cut per arm when read (ARM); dim is the
 * length of the learner's embeddings (ISO: an arm's own learner may have its own; after the
 * pre-period it keeps the first min(dim, control's dim) coordinates of the control's). Channel quotas are the most candidates
 * each channel adds (0 switches it off). */
#define FW_REC_KNOBS(X)                                                                           \
    X(rec, ARM, U32, social, 48, 0, 10000, "notes", "recall: recent notes of followed creators")           \
    X(rec, ARM, U32, hot, 40, 0, 10000, "notes", "recall: the trending pool (engine.feed.n_trending)")      \
    X(rec, ARM, U32, content, 96, 0, 10000, "notes",                                                         \
      "recall: top and recent notes of the topics the learned user profile matches best")        \
    X(rec, ARM, U32, content_topics, 3, 1, 64, "topics", "topics the content channel draws from")           \
    X(rec, ARM, U32, cf, 64, 0, 10000, "notes", "recall: item-to-item neighbours of the user's recent opens") \
    X(rec, ARM, U32, graph, 48, 0, 10000, "notes",                                                           \
      "recall: notes reached by short random walks user-note-user-note (Pixie-style)")           \
    X(rec, ARM, U32, walks, 16, 1, 10000, "walks", "random walks per graph recall")                        \
    X(rec, ARM, U32, fresh, 32, 0, 10000, "notes", "recall: newest notes with fewer than cold_impressions impressions") \
    X(rec, ARM, U32, cold_impressions, 50, 1, 1000000, "impressions", "a note with fewer impressions is cold (exploration)") \
    X(rec, ARM, U32, explore_slots, 1, 0, 100, "slots",                                                      \
      "page slots reserved for the best cold note (bounds exploration traffic)")                  \
    X(rec, ARM, U32, topic_pool, 64, 1, 10000, "notes", "top notes by engagement kept per topic for content recall") \
    X(rec, ARM, U32, neighbours, 10, 1, 100, "notes", "co-engagement neighbours kept per note (rebuilt at day end)") \
    X(rec, ARM, U32, history, 16, 2, 256, "notes", "recent opens remembered per user (CF, walks, co-engagement)") \
    X(rec, ISO, U32, dim, 16, 2, 128, "", "dimension of the learned user and note embeddings")             \
    X(rec, ISO, F64, lr, 0.02, 0.0, 10.0, "", "SGD learning rate of the ranking models")                   \
    X(rec, ISO, F64, emb_lr, 0.05, 0.0, 10.0, "", "SGD learning rate of the embeddings")                    \
    X(rec, ISO, U32, neg_sample, 4, 1, 1000, "",                                                             \
      "train on one in this many impressions that were not opened, weighted by it (1 = all)")    \
    X(rec, ISO, F64, l2, 1.0e-4, 0.0, 1.0, "", "L2 penalty of every learned weight")                        \
    X(rec, ISO, ENUM, train_mode, FW_TRAIN_ONLINE, FW_REC_TRAIN_MODES, 0, "",                                \
      "online = an SGD step per sample in event order, serially (the barrier's serial part); tick = each " \
      "tick's samples as one delayed-update batch, trained in parallel with the same results on any number " \
      "of threads: embedding rows take their samples' summed steps (capped at 64 samples' worth a tick), the " \
      "ranking heads the average of SGD over fixed shards of 256 samples (different results from online)") \
    X(rec, ARM, F64, rank_open, 1.0, 0.0, 1000.0, "", "ranking weight of the predicted open probability")   \
    X(rec, ARM, F64, rank_like, 0.5, 0.0, 1000.0, "", "ranking weight of the predicted like probability")   \
    X(rec, ARM, F64, rank_save, 1.0, 0.0, 1000.0, "", "ranking weight of the predicted save probability")   \
    X(rec, ARM, F64, rank_comment, 1.0, 0.0, 1000.0, "", "ranking weight of the predicted comment probability") \
    X(rec, ARM, F64, rank_follow, 2.0, 0.0, 1000.0, "", "ranking weight of the predicted follow probability") \
    X(rec, RUN, ENUM, scoring, FW_SCORING_LAZY, FW_REC_SCORINGS, 0, "",                                      \
      "lazy = the per-open heads (like, save, comment, follow) scored only for the candidates whose bound "  \
      "can reach the page; exhaustive = every head of every candidate and the page by a plain scan (the "    \
      "test oracle: the same pages and scores, slower; /work/scored_exactly counts the candidates scored)") \
    X(rec, ARM, U32, max_per_creator, 1, 1, 100, "notes", "re-rank: most notes of one creator on a page")    \
    X(rec, ARM, U32, max_per_topic, 4, 1, 100, "notes", "re-rank: most notes of one topic on a page")        \
    X(rec, ARM, F64, fresh_boost, 0.1, 0.0, 100.0, "",                                                       \
      "re-rank: relative score bonus of a note younger than engine.feed.fresh_age_h")

/* Search modes: keyword = BM25 over the query's own terms; intent = BM25 plus the topics the
 * engine has learned the query means (from clicks), so colloquial queries find notes that do
 * not contain their words. */
#define FW_SEARCH_MODES(V)               \
    V(FW_SEARCH_KEYWORD, "keyword")      \
    V(FW_SEARCH_INTENT, "intent")

typedef enum fw_search_mode { FW_SEARCH_MODES(FW_KNOB_ENUM_CONST) FW_SEARCH__COUNT } fw_search_mode;

/* How BM25 candidates are retrieved: exact = the exhaustive answer, found with block-max MaxScore
 * (dynamic pruning: MaxScore over per-block score bounds) where the query's lists hold
 * FW_SEARCH_SCAN_POSTINGS postings or more, by scoring every posting below that (cheaper
 * there, same page); newest = only the newest max_postings postings of each word
 * (approximate: the old capped scan); exhaustive = every posting scored (the reference exact
 * is tested against); pruned = exact's pruning for every query (to test and measure it). */
#define FW_SEARCH_RETRIEVALS(V)                  \
    V(FW_RETRIEVAL_EXACT, "exact")               \
    V(FW_RETRIEVAL_NEWEST, "newest")             \
    V(FW_RETRIEVAL_EXHAUSTIVE, "exhaustive")     \
    V(FW_RETRIEVAL_PRUNED, "pruned")

/* Retrieval exact scores every posting of a query whose words' lists hold fewer postings
 * than this in all (measured: README, Search; the retrieval knob's text says 8,000). */
#define FW_SEARCH_SCAN_POSTINGS 8000u

typedef enum fw_search_retrieval { FW_SEARCH_RETRIEVALS(FW_KNOB_ENUM_CONST) FW_RETRIEVAL__COUNT } fw_search_retrieval;

/* What a search page's product result is (engine.search.product_slot): title = the product
 * whose title best matches the query (BM25 over product titles, with the query's category
 * intent); bestseller = the best seller of the query's category (before titles existed). */
#define FW_PRODUCT_MATCHES(V)                \
    V(FW_PRODUCT_MATCH_TITLE, "title")       \
    V(FW_PRODUCT_MATCH_BESTSELLER, "bestseller")

typedef enum fw_product_match { FW_PRODUCT_MATCHES(FW_KNOB_ENUM_CONST) FW_PRODUCT_MATCH__COUNT } fw_product_match;

/* engine.search.* */
#define FW_SEARCH_KNOBS(X)                                                                        \
    X(search, ARM, ENUM, mode, FW_SEARCH_INTENT, FW_SEARCH_MODES, 0, "",                                      \
      "keyword = BM25 on the query's words; intent = BM25 plus learned query intents (topics)") \
    X(search, ARM, U32, page_size, 10, 1, 100, "results", "results per search page")                          \
    X(search, ARM, F64, k1, 1.2, 0.0, 10.0, "", "BM25 term-frequency saturation")                             \
    X(search, ARM, F64, b, 0.75, 0.0, 1.0, "", "BM25 length normalisation")                                   \
    X(search, ARM, F64, w_text, 1.0, 0.0, 1000.0, "", "weight of the BM25 score (scaled to the page's best)")  \
    X(search, ARM, F64, w_intent, 1.5, 0.0, 1000.0, "", "weight of P(note's topic | query), intent mode")     \
    X(search, ARM, F64, w_quality, 0.3, 0.0, 1000.0, "", "weight of the note's smoothed engagement (CTR lift)") \
    X(search, ARM, F64, w_personal, 0.3, 0.0, 1000.0, "", "weight of the user's learned affinity to the note's topic (the recommender's; read only where the cell's feed learns: rec, or a plugin with plugin_vectors)") \
    X(search, ARM, U32, intent_topics, 2, 1, 64, "topics", "most topics an intent query expands to")          \
    X(search, ARM, F64, intent_min, 0.15, 0.0, 1.0, "", "smallest P(topic | query) that expands a query")     \
    X(search, ARM, U32, intent_candidates, 200, 0, 100000, "notes", "intent candidates per expanded topic (its newest notes)") \
    X(search, ARM, F64, intent_prior, 5.0, 0.0, 1.0e6, "clicks", "clicks a term needs before its intent is trusted (smoothing)") \
    X(search, ARM, ENUM, retrieval, FW_RETRIEVAL_EXACT, FW_SEARCH_RETRIEVALS, 0, "",                          \
      "exact = every page equals the exhaustive scan's, found by block-max MaxScore pruning (a query "       \
      "whose words have fewer than 8,000 postings in all is scanned: cheaper, same page); newest = score "     \
      "only the newest max_postings postings per word (approximate); exhaustive = score every posting; "     \
      "pruned = exact, pruning every query")                                                             \
    X(search, ARM, U32, max_postings, 0, 0, 100000000, "postings",                                            \
      "retrieval newest: newest postings read per query word (idf still counts all), at least 1; must be 0 " \
      "(unset) under exact, exhaustive and pruned, where it would do nothing")                                     \
    X(search, ARM, U32, product_slot, 0, 0, 100, "position",                                                   \
      "blended results: a product result (engine.search.product_match) at this position of every search " \
      "page with results (1 = first; past the last result: last); 0 = notes only")                     \
    X(search, ARM, ENUM, product_match, FW_PRODUCT_MATCH_TITLE, FW_PRODUCT_MATCHES, 0, "",                   \
      "the product result: title = the in-stock product whose title best matches the query's words (BM25 " \
      "over titles scaled to the best, times w_text, plus w_intent when its category is the query's "     \
      "intent, plus product_w_sales times its sales scaled to the best; no matching title: the best seller); bestseller = the best seller in stock of the query's " \
      "category")                                                                                           \
    X(search, ARM, F64, product_w_sales, 1.0, 0.0, 1000.0, "",                                                 \
      "product_match title: weight of a matching product's sales, log(1 + decayed popularity) scaled to the " \
      "best in stock among the matches (w_text weighs the title's BM25 the same way)")

/* Shop-tab profiles: unified = community signals (notes read, liked, saved) plus
 * transactions (views, carts, orders); separate = transactions alone, as when the shop and
 * the community keep their own data. */
#define FW_SHOP_PROFILES(V)              \
    V(FW_PROFILE_UNIFIED, "unified")     \
    V(FW_PROFILE_SEPARATE, "separate")

typedef enum fw_shop_profile { FW_SHOP_PROFILES(FW_KNOB_ENUM_CONST) FW_PROFILE__COUNT } fw_shop_profile;

/* engine.shop.* (flywheel/shop.h). Lifecycle knobs apply per order, by the buyer's arm;
 * cart_days and cart_cap per cart, by its owner's arm. Product popularity and the
 * best-seller lists are one platform-wide signal, so profile_half_life_days (their decay)
 * and best_sellers (their length) are one value per run. */
#define FW_SHOP_KNOBS(X)                                                                          \
    X(shop, ARM, ENUM, profile, FW_PROFILE_UNIFIED, FW_SHOP_PROFILES, 0, "",                                 \
      "shop-tab profile: unified = community signals + transactions; separate = transactions only") \
    X(shop, ARM, U32, page_size, 10, 1, 100, "products", "products per shop-tab page")                      \
    X(shop, ARM, U32, profile_categories, 3, 1, 64, "categories", "profile categories a shop-tab page draws from") \
    X(shop, ARM, F64, w_profile, 2.0, 0.0, 1000.0, "",                                                      \
      "ranking: weight of the product's category share in the profile against log(1 + popularity)") \
    X(shop, ARM, F64, community_weight, 0.25, 0.0, 100.0, "",                                                \
      "unified profile: weight of the community signals' category shares against the transactions' (1)") \
    X(shop, ARM, U32, read_cards, 0, 0, 8, "products",                                                      \
      "unified profile: a page opens with up to this many products of cards on notes the user liked or saved") \
    X(shop, RUN, U32, best_sellers, 50, 1, 100000, "products", "best sellers kept per category (refreshed every tick)") \
    X(shop, RUN, F64, profile_half_life_days, 14.0, 0.01, 10000.0, "days", "half-life of profile signals and product popularity") \
    X(shop, ARM, F64, recognition_recall, 0.8, 0.0, 1.0, "",                                                 \
      "share of notes showing a product that get the right product card")                      \
    X(shop, ARM, F64, recognition_precision, 0.9, 0.01, 1.0, "",                                             \
      "share of product cards that are right (the rest sit on notes showing no product)")      \
    X(shop, ARM, F64, payment_fail_rate, 0.03, 0.0, 1.0, "", "probability that one payment attempt fails")  \
    X(shop, ARM, U32, payment_retries, 2, 0, 100, "attempts", "payment retries (one per tick) before an order is cancelled") \
    X(shop, ARM, F64, ship_hours, 12.0, 0.0, 10000.0, "hours", "from payment to shipping")                  \
    X(shop, ARM, U32, delivery_days_min, 1, 0, 365, "days", "shortest delivery after shipping")             \
    X(shop, ARM, U32, delivery_days_max, 4, 0, 365, "days", "longest delivery after shipping (uniform by order)") \
    X(shop, ARM, U32, return_days, 7, 0, 365, "days", "return window after delivery")                       \
    X(shop, ARM, F64, refund_hours, 48.0, 0.0, 10000.0, "hours", "from an accepted return to the refund")   \
    X(shop, ARM, U32, cart_days, 7, 1, 365, "days", "a cart item not bought within this many days is dropped") \
    X(shop, ARM, U32, cart_cap, 20, 1, 1000, "products", "most products in a cart (the oldest is dropped)")

/* Ads (flywheel/ads.h). Payment rules are fw_pay_rule (flywheel/auction.h). */
#define FW_AD_PAY_RULES(V)      \
    V(FW_PAY_GSP, "gsp")         \
    V(FW_PAY_VCG, "vcg")         \
    V(FW_PAY_FIRST, "first")

#define FW_AD_PACINGS(V)                 \
    V(FW_PACING_NONE, "none")            \
    V(FW_PACING_THROTTLE, "throttle")    \
    V(FW_PACING_DUAL, "dual")

typedef enum fw_ad_pacing { FW_AD_PACINGS(FW_KNOB_ENUM_CONST) FW_PACING__COUNT } fw_ad_pacing;

/* engine.ads.scan: how an auction finds the campaigns that matter (engine/src/ads.c). */
#define FW_AD_SCANS(V)                   \
    V(FW_SCAN_FULL, "full")              \
    V(FW_SCAN_BOUNDED, "bounded")

typedef enum fw_ad_scan { FW_AD_SCANS(FW_KNOB_ENUM_CONST) FW_SCAN__COUNT } fw_ad_scan;

#define FW_AD_BIDDERS(V)                 \
    V(FW_BIDDER_FIXED, "fixed")          \
    V(FW_BIDDER_PLUGIN, "plugin")

typedef enum fw_ad_bidder { FW_AD_BIDDERS(FW_KNOB_ENUM_CONST) FW_BIDDER__COUNT } fw_ad_bidder;

/* engine.ads.* The arm decides how its requests run auctions (pay_rule, reserve, caps:
 * ARM). Under experiment.isolation per_arm each arm learns its own pCTR model and campaign
 * rates from its users' ad events, with its own priors (ISO); under experiment.budget_split
 * each arm paces its own share of every campaign's budget (pacing, pacing_lr: SPLIT). A
 * purchase is attributed under its buyer's arm's windows, billing that arm's budget share and
 * counting in that arm's pCVR (OWN). The pacing multiplier carries over from day to day
 * (what it learned about the traffic); throttling resets at each day. */
#define FW_ADS_KNOBS(X)                                                                           \
    X(ads, ARM, ENUM, pay_rule, FW_PAY_GSP, FW_AD_PAY_RULES, 0, "",                                          \
      "auction payment rule: gsp (next score), vcg (externality), first (own bid)")              \
    X(ads, ARM, F64, reserve_cpm_cents, 400.0, 0.0, 1.0e9, "cents", "reserve price: the least score per thousand impressions") \
    X(ads, SPLIT, ENUM, pacing, FW_PACING_DUAL, FW_AD_PACINGS, 0, "",                                          \
      "budget pacing: none; throttle (out of auctions once the day's share is spent); dual "    \
      "(bid multiplier by dual gradient on the spend rate, Balseiro-Gur)")                       \
    X(ads, SPLIT, F64, pacing_lr, 0.5, 0.0, 100.0, "", "dual pacing: step of the multiplier per tick, relative to the target spend") \
    X(ads, SPLIT, F64, autobid_lr, 0.05, 0.0, 10.0, "",                                                        \
      "autobidding (campaigns with a goal, world.goal_*): step of the log goal multiplier per tick, times "    \
      "the relative error of the realised CPA or ROAS (flywheel/ads.h); 0 = the multiplier stays 1")          \
    X(ads, SPLIT, ENUM, bidder, FW_BIDDER_FIXED, FW_AD_BIDDERS, 0, "",                                        \
      "who bids for a campaign: fixed = its bid, paced by engine.ads.pacing; plugin = a bidder plug-in "      \
      "(engine.ads.bidder_plugin, flywheel/policy.h) for the campaigns engine.ads.bidder_campaigns names, "  \
      "outside the platform's pacing")                                                                       \
    X(ads, SPLIT, STR, bidder_plugin, "", 0, 0, "",                                                          \
      "bidder plugin: path of the bidder plug-in (a shared object exporting fw_bidder_plugin; relative to "  \
      "the working directory); must be empty unless engine.ads.bidder is plugin")                           \
    X(ads, SPLIT, STR, bidder_args, "", 0, 0, "",                                                            \
      "bidder plugin: the argument string handed to the plug-in's create (its own syntax)")                 \
    X(ads, SPLIT, U32, bidder_campaigns, 0, 0, 1000000, "campaigns",                                         \
      "bidder plugin: the plug-in bids for the world's campaigns 0 .. N-1; 0 = every campaign (at most world.n_campaigns)") \
    X(ads, ARM, U32, freq_cap, 3, 0, 1000, "impressions", "most impressions of one campaign per user per day (0 = no cap)") \
    X(ads, RUN, ENUM, scan, FW_SCAN_BOUNDED, FW_AD_SCANS, 0, "",                                              \
      "how an auction finds its bidders: full = every campaign's bid is computed (the test oracle); "          \
      "bounded = campaigns in order of an upper bound on their score, stopping once no bound reaches the "    \
      "score that prices the last slot: the same winners and prices, fewer bids computed (/work/ad_bidders)") \
    X(ads, ISO, F64, ctr_prior, 0.005, 0.000001, 1.0, "", "prior ad CTR of a campaign with no history")     \
    X(ads, ISO, F64, cvr_prior, 0.01, 0.000001, 1.0, "", "prior conversions per click of a campaign with no history") \
    X(ads, ISO, F64, prior_weight, 200.0, 1.0, 1.0e9, "impressions",                                       \
      "weight of the priors: prior_weight impressions at ctr_prior for pCTR, prior_weight x ctr_prior clicks at cvr_prior for pCVR") \
    X(ads, OWN, U32, click_window_days, 7, 0, 365, "days", "a purchase within this many days of an ad click is the ad's conversion") \
    X(ads, OWN, U32, view_window_days, 1, 0, 365, "days", "a purchase within this many days of an ad view (no click) is its conversion")

/* Isolation of learned state between experiment arms (experiment.isolation; the engine
 * gets it with the catalog): per_arm = each arm learns its own models from its own users'
 * logs; shared = one set of models learns from every arm (feedback loops across arms). */
#define FW_ISOLATIONS(V)                    \
    V(FW_ISOLATION_SHARED, "shared")        \
    V(FW_ISOLATION_PER_ARM, "per_arm")

typedef enum fw_isolation { FW_ISOLATIONS(FW_KNOB_ENUM_CONST) FW_ISOLATION__COUNT } fw_isolation;

/* Most independent learned states per cell under per-arm isolation (fw_catalog). */
#define FW_MAX_LEARNERS_PER_CELL 64

/* Marketplace matching (flywheel/market.h). */
#define FW_MATCHINGS(V)                 \
    V(FW_MATCH_GREEDY, "greedy")        \
    V(FW_MATCH_STABLE, "stable")

typedef enum fw_matching { FW_MATCHINGS(FW_KNOB_ENUM_CONST) FW_MATCH__COUNT } fw_matching;

/* engine.market.*: the brand-creator marketplace. A matched task belongs to its creator's
 * arm: review, the delivery deadline and settlement follow that arm's knobs. Matching runs
 * over every open task and every quote at once, and an open task has no creator yet, so
 * matching and expire_days are one value per run. */
#define FW_MARKET_KNOBS(X)                                                                        \
    X(market, RUN, ENUM, matching, FW_MATCH_GREEDY, FW_MATCHINGS, 0, "",                                        \
      "greedy = highest predicted reads per cent first; stable = Gale-Shapley, brands proposing") \
    X(market, ARM, F64, review_pass, 0.9, 0.0, 1.0, "", "probability a sponsored note passes review (one resubmission)") \
    X(market, RUN, U32, expire_days, 3, 1, 365, "days", "an open task nobody is matched to expires after this")  \
    X(market, ARM, U32, deliver_days, 3, 1, 365, "days", "a matched creator must deliver within this")          \
    X(market, ARM, U32, settle_days, 3, 0, 365, "days", "a delivered task is paid this long after delivery")

/* engine.notify.*: the daily digest of followed creators' notes (flywheel/notify.h). */
#define FW_NOTIFY_KNOBS(X)                                                                        \
    X(notify, ARM, U32, digest_size, 0, 0, 50, "notes",                                            \
      "notes in a user's daily digest of the followed creators' notes of the day before, shown at " \
      "their first session of the day; 0 sends no digest")

/* Moderation actions (engine.safety.action): off = no moderation (no classifier, no queue);
 * remove = an actioned note is served to nobody; downrank = its score is multiplied by
 * engine.safety.downrank wherever it is ranked; followers = it is served only to its creator's
 * followers. */
#define FW_SAFETY_ACTIONS(V)                 \
    V(FW_SAFETY_OFF, "off")                  \
    V(FW_SAFETY_REMOVE, "remove")            \
    V(FW_SAFETY_DOWNRANK, "downrank")        \
    V(FW_SAFETY_FOLLOWERS, "followers")

typedef enum fw_safety_action { FW_SAFETY_ACTIONS(FW_KNOB_ENUM_CONST) FW_SAFETY__COUNT } fw_safety_action;

/* engine.safety.*: trust and safety (flywheel/safety.h). Each cell moderates every note for
 * its own users' requests, with its own classifier operating point, thresholds and reviewers
 * (ARM): an A/B arm is a moderation policy. The classifier's per-class precision and recall
 * hold at its decision threshold 0.5; threshold_lo and threshold_hi cut its score into
 * pass / human review / automatic action. */
#define FW_SAFETY_KNOBS(X)                                                                        \
    X(safety, ARM, ENUM, action, FW_SAFETY_OFF, FW_SAFETY_ACTIONS, 0, "",                                     \
      "what moderation does to a violating note: off (no moderation), remove, downrank (score x "             \
      "engine.safety.downrank), followers (served only to the creator's followers)")                          \
    X(safety, ARM, F64, downrank, 0.2, 0.0, 1.0, "", "action downrank: multiplier of an actioned note's ranking score") \
    X(safety, ARM, F64, threshold_lo, 0.5, 0.0, 1.0, "",                                                        \
      "a note whose classifier score is in [threshold_lo, threshold_hi) goes to human review")               \
    X(safety, ARM, F64, threshold_hi, 0.9, 0.0, 1.0, "",                                                        \
      "a note scoring threshold_hi or more is actioned at once, without review (>= threshold_lo)")           \
    X(safety, ARM, U32, review_capacity, 10, 0, 1000000, "notes/tick",                                        \
      "notes the reviewers take from the queue per tick (FIFO); 0 only when nothing is queued (lo = hi, no reports)") \
    X(safety, ARM, U32, review_ticks, 4, 1, 10000, "ticks", "handling time: a note taken at tick t is decided at t + review_ticks") \
    X(safety, ARM, F64, review_error, 0.0, 0.0, 0.5, "", "probability a reviewer decides a note wrongly (either way)") \
    X(safety, ARM, F64, recall_spam, 0.8, 0.0, 1.0, "", "classifier recall of spam at score 0.5")                  \
    X(safety, ARM, F64, precision_spam, 0.9, 0.01, 1.0, "", "classifier precision of spam at score 0.5")           \
    X(safety, ARM, F64, recall_fake, 0.5, 0.0, 1.0, "", "classifier recall of fake planting reviews at score 0.5")  \
    X(safety, ARM, F64, precision_fake, 0.7, 0.01, 1.0, "", "classifier precision of fake planting reviews at score 0.5") \
    X(safety, ARM, F64, recall_clickbait, 0.6, 0.0, 1.0, "", "classifier recall of low-quality/clickbait at score 0.5") \
    X(safety, ARM, F64, precision_clickbait, 0.7, 0.01, 1.0, "", "classifier precision of low-quality/clickbait at score 0.5") \
    X(safety, ARM, F64, recall_unsafe, 0.9, 0.0, 1.0, "", "classifier recall of unsafe content at score 0.5")        \
    X(safety, ARM, F64, precision_unsafe, 0.9, 0.01, 1.0, "", "classifier precision of unsafe content at score 0.5")

/* engine.aigc.* (issue 20): what the platform does about AI-generated notes. The platform
 * never sees whether a note is AI-generated; it sees the creator's declaration and its
 * detector's flag. The detector is a stand-in run at publication with an operating point set
 * by recall and precision (flywheel/aigc.h): one detector for the whole platform (RUN). The
 * down-rank multiplies the ranking score (feed, recommender, search) of notes the detector
 * flags and the creator did not declare: the only "unlabelled AIGC" a platform can know. */
#define FW_AIGC_KNOBS(X)                                                                          \
    X(aigc, RUN, U32, detector, 0, 0, 1, "",                                                                  \
      "1 runs the AIGC detector on every note published during the run (flags by recall and precision); 0 = none") \
    X(aigc, RUN, F64, detect_recall, 0.8, 0.0, 1.0, "",                                                       \
      "detector: share of AI-generated notes it flags")                                                     \
    X(aigc, RUN, F64, detect_precision, 0.9, 0.01, 1.0, "",                                                   \
      "detector: share of its flags that are AI-generated (it flags human notes at the rate that gives this " \
      "precision at the run's AIGC share so far; at most every human note)")                                \
    X(aigc, RUN, U32, label_detected, 0, 0, 1, "",                                                            \
      "labelling policy: 1 labels flagged notes as AI-generated (besides the creators' own declarations); 0 = " \
      "only declared notes carry the label; needs engine.aigc.detector")                                     \
    X(aigc, ARM, F64, downrank_unlabelled, 1.0, 0.0, 1.0, "",                                                 \
      "score multiplier of notes the detector flags that the creator did not declare (a score below 0 is " \
      "divided by it); 1 = none; below 1 needs engine.aigc.detector")

/* engine.media.* (issue 20): the publishing pipeline upload -> transcode -> review. Each
 * stage is a FIFO with a capacity in work units per tick; an image costs 1 unit at each
 * stage, a video the units below. A note is published (visible to feed, search, every
 * module) when it leaves the review stage. Capacity 0 = unlimited; all three unlimited is
 * no pipeline at all (publication at the tick the note was written, as before). One
 * pipeline serves the platform (RUN). */
#define FW_MEDIA_KNOBS(X)                                                                         \
    X(media, RUN, U32, upload_capacity, 0, 0, 100000000, "units/tick", "upload stage: work units per tick; 0 = unlimited") \
    X(media, RUN, U32, transcode_capacity, 0, 0, 100000000, "units/tick", "transcode stage: work units per tick; 0 = unlimited") \
    X(media, RUN, U32, review_capacity, 0, 0, 100000000, "units/tick", "review stage: work units per tick; 0 = unlimited") \
    X(media, RUN, U32, video_upload_units, 4, 1, 1000, "units", "work units of a video note at upload (an image's: 1)") \
    X(media, RUN, U32, video_transcode_units, 10, 1, 1000, "units", "work units of a video note at transcode (an image's: 1)") \
    X(media, RUN, U32, video_review_units, 3, 1, 1000, "units", "work units of a video note at review (an image's: 1)")

/* engine.privacy.* (privacy.c): differentially private aggregates, a retention window for
 * user signals. dp switches the mechanism (off, the default, is unambiguous: epsilon and
 * delta must then stay 0); with dp on, the cell's trending counts (pools.h) and, where the
 * recommender runs, its co-engagement counts are released once a day with noise, epsilon per
 * day split evenly between them (sequential composition). The noisy aggregates also feed the
 * learner's co-engagement neighbours, so dp, epsilon and delta are ISO (an arm may set them
 * under per-arm isolation); clip bounds every user's contribution to every release (one
 * value per run); retention_days forgets per-user state of the arm's own users (ARM). */
#define FW_PRIVACY_MECHANISMS(V)          \
    V(FW_DP_OFF, "off")                   \
    V(FW_DP_LAPLACE, "laplace")           \
    V(FW_DP_GAUSSIAN, "gaussian")

typedef enum fw_dp_mechanism { FW_PRIVACY_MECHANISMS(FW_KNOB_ENUM_CONST) FW_DP__COUNT } fw_dp_mechanism;

#define FW_PRIVACY_KNOBS(X)                                                                       \
    X(privacy, ISO, ENUM, dp, FW_DP_OFF, FW_PRIVACY_MECHANISMS, 0, "",                                         \
      "differential privacy of the aggregates the engine learns from: off; laplace (pure epsilon-DP "         \
      "trending counts; co-engagement pairs only with delta > 0, released above a threshold); gaussian "     \
      "(classic Gaussian mechanism, (epsilon, delta)-DP, needs epsilon < 1 and delta > 0)")                    \
    X(privacy, ISO, F64, epsilon, 0.0, 0.0, 1000.0, "",                                                       \
      "dp on: privacy budget per user per day, split evenly over the aggregates released that day; must be " \
      "> 0 when dp is on (< 1 for gaussian) and 0 when off")                                                  \
    X(privacy, ISO, F64, delta, 0.0, 0.0, 1.0, "",                                                            \
      "dp on: delta per user per day, in (0, 1) exclusive: gaussian needs it; laplace uses it for the "      \
      "co-engagement pairs' release threshold (0: pure epsilon-DP, no co-engagement release); 0 when dp is off") \
    X(privacy, ISO, U32, releases_per_day, 1, 1, 1440, "releases",                                            \
      "dp on: the trending counts are released this many times a day (at most once a tick), each with "       \
      "1/N of their daily budget: fresher trending, N times the noise; 1 when dp is off")                    \
    X(privacy, RUN, U32, clip, 16, 1, 10000, "notes",                                                         \
      "dp on: most notes one user's engagement counts towards per day in the released aggregates (each "     \
      "event type once per note): the contribution bound the noise's sensitivity rests on")                 \
    X(privacy, ARM, U32, retention_days, 0, 0, 3650, "days",                                                   \
      "the engine forgets its users' signals older than this many days (their recent opens, their place "    \
      "in notes' opener lists; user vectors and counts are reset on a staggered N-day rotation); 0 = keep all") \
    X(privacy, ARM, U32, honour_optout, 1, 0, 1, "",                                                            \
      "1: users who opted out (world.optout_share) get a non-personalised feed (popular notes) and train no "  \
      "personalised model; 0: the arm ignores opt-outs (a counterfactual, to measure what honouring them costs)")

/* engine.live.* (issue 19, live-stream selling; engine/src/live.c, flywheel/live.h): whether the
 * arm's users are shown the live sessions the world schedules (world.live_*: a live card in the
 * feed, the "following is live" bar) and may buy from them, and whether the followers of a
 * host get a push when a session starts. Off by default: no arm shows live sessions. */
#define FW_LIVE_KNOBS(X)                                                                          \
    X(live, ARM, U32, enabled, 0, 0, 1, "",                                                                   \
      "1 shows the arm's users the scheduled live sessions (a live card in the feed, followed hosts first) " \
      "and lets them buy from a session's product list; 0 = no live selling for the arm; needs world.live_sessions_per_day > 0") \
    X(live, ARM, U32, notify, 1, 0, 1, "",                                                                    \
      "1 pushes a notification to a host's followers in the arm while the host is live (read when they are " \
      "active: joins with probability behaviour.live_notify_open); 0 = followers find it only in the feed; "  \
      "used when engine.live.enabled is 1")

/* engine.* (other than sub-sections) */
#define FW_ENGINE_KNOBS(X) \
    X(engine, RUN, U32, latency_sigfigs, 2, 1, 3, "digits", "significant digits of latency histograms (2 = 1% error)")

/* The engine's configuration sections, one per module that has knobs. X(name, LIST,
 * "description"): engine.<name>.* is the struct fw_<name>_cfg, expanded from LIST, and the
 * member fw_engine_cfg.<name>. Adding a section is one row here and its knob list; the
 * scenario loader, the defaults and the range checks are expanded from this table. */
#define FW_ENGINE_SECTIONS(X)                                                                     \
    X(feed, FW_FEED_KNOBS, "the feed: recall, score, re-rank")                                     \
    X(rec, FW_REC_KNOBS, "the learning recommender (engine.feed.algorithm: rec)")                  \
    X(search, FW_SEARCH_KNOBS, "search: inverted index, BM25, learned query intents")              \
    X(shop, FW_SHOP_KNOBS, "the shop: product cards, orders, payment, stock, after-sales, the shop tab") \
    X(ads, FW_ADS_KNOBS, "ads: auctions, pacing, frequency caps, attribution")                     \
    X(market, FW_MARKET_KNOBS, "the brand-creator marketplace: tasks, matching, review, settlement") \
    X(notify, FW_NOTIFY_KNOBS, "notifications: the daily digest of followed creators' notes") \
    X(safety, FW_SAFETY_KNOBS, "trust and safety: classifier, human review queue, moderation actions") \
    X(aigc, FW_AIGC_KNOBS, "AI-generated notes: detector, labelling policy, down-rank of undeclared flagged notes") \
    X(media, FW_MEDIA_KNOBS, "the publishing pipeline: upload, transcode, review with capacity per tick") \
    X(privacy, FW_PRIVACY_KNOBS, "privacy: differentially private aggregates, retention of user signals") \
    X(live, FW_LIVE_KNOBS, "live-stream selling: live cards, follower pushes, live orders (issue 19)")

#define FW_ENGINE_SECTION_STRUCT(name, LIST, doc) \
    typedef struct fw_##name##_cfg {              \
        LIST(FW_KNOB_FIELD)                       \
    } fw_##name##_cfg;
FW_ENGINE_SECTIONS(FW_ENGINE_SECTION_STRUCT)
#undef FW_ENGINE_SECTION_STRUCT

typedef struct fw_engine_cfg {
    FW_ENGINE_KNOBS(FW_KNOB_FIELD)
#define FW_ENGINE_SECTION_MEMBER(name, LIST, doc) fw_##name##_cfg name;
    FW_ENGINE_SECTIONS(FW_ENGINE_SECTION_MEMBER)
#undef FW_ENGINE_SECTION_MEMBER
} fw_engine_cfg;

/* Fills cfg with every knob's default (from the knob lists). An embedder of the engine needs
 * nothing else to get a valid configuration. */
void fw_engine_cfg_defaults(fw_engine_cfg *cfg);

/* Checks every knob of cfg against its range and the rules between knobs (for example
 * engine.shop.delivery_days_min <= delivery_days_max). FW_OK, or FW_ERR_RANGE with the
 * first problem in why[cap] ("engine.feed.page_size: 0 is outside [1, 100]").
 * fw_engine_create refuses a configuration that fails it. */
fw_err fw_engine_cfg_check(const fw_engine_cfg *cfg, char *why, size_t cap);

/* Whether a cell configured so reads the learning recommender: its feed is rec, or a ranker
 * plug-in handed its vectors (engine.feed.plugin_vectors). Only such a cell's users see
 * anything learned (search's affinity and CTR prior included), and the recommender runs
 * when some cell does; the scenario check refuses the knobs that would otherwise do nothing. */
int fw_engine_cfg_learns(const fw_engine_cfg *cfg);

/* The scope of the knob at "engine.<section>.<name>" (or "engine.<name>"): FW_SCOPE_ARM or
 * FW_SCOPE_RUN; -1 for an unknown path. */
int fw_engine_knob_scope(const char *path);

#endif
