/* Per-day outcome metrics per experiment arm: what the recorder writes under /days/<arm>/.
 * Owns: the metric lists (name, unit, description) and the derived-rate rules.
 * Borrows: nothing.  Never touches: files; counters are plain integers so sums over threads
 * are exact and independent of the order they are added in. */
#ifndef FLYWHEEL_METRICS_H
#define FLYWHEEL_METRICS_H

#include <stdint.h>

/* X(name, unit, description): integer counters. */
#define FW_DAY_COUNTERS(X)                                                                     \
    X(active_users, "users", "users with at least one session on the day")                     \
    X(prev_active_users, "users", "users active on the previous day (retention denominator)")  \
    X(retained_users, "users", "users active on the previous day and on this day")             \
    X(sessions, "sessions", "app opens (sessions)")                                            \
    X(feed_requests, "requests", "feed pages requested from the engine")                       \
    X(impressions, "notes", "notes examined on screen (feed impressions)")                     \
    X(opens, "notes", "cover clicks: notes opened and read")                                   \
    X(likes, "events", "likes")                                                                \
    X(saves, "events", "saves (collects)")                                                     \
    X(comments, "events", "comments")                                                          \
    X(interactions, "events", "likes + saves + comments")                                      \
    X(follows, "events", "new follows of a note's creator")                                    \
    X(new_notes, "notes", "notes published on the day by creators in the arm")                \
    X(searches, "searches", "search queries issued (reformulations included)")                 \
    X(searchers, "users", "users who searched on the day")                                    \
    X(search_impressions, "results", "search results examined (position bias)")               \
    X(search_clicks, "results", "search results opened")                                      \
    X(search_interactions, "events", "likes + saves + comments on notes opened from search")  \
    X(search_zero_results, "searches", "searches that returned nothing")                      \
    X(search_reformulations, "searches", "searches issued again after a page without a click") \
    X(search_with_click, "searches", "searches with at least one click")                      \
    X(search_first_click_pos, "positions", "sum over searches with a click of the first click's position") \
    X(search_ndcg_micro, "1e-6", "sum over searches of the page's NDCG (x 1e6) against the true intent " \
      "(relevant: a note on the searched topic)")                                             \
    X(card_impressions, "cards", "product cards seen (in opened notes that carry one)")        \
    X(card_clicks, "clicks", "product cards clicked")                                          \
    X(card_correct, "notes", "opened notes showing a product whose card is that product")      \
    X(card_wrong, "notes", "opened notes whose card is not the product they show")            \
    X(card_missed, "notes", "opened notes showing a product that carry no card")              \
    X(card_recall_den, "notes", "opened notes showing a product (card_correct + wrong-product cards + card_missed)") \
    X(shop_visits, "visits", "shop-tab pages requested")                                      \
    X(shop_impressions, "products", "shop-tab products examined (position bias)")             \
    X(shop_clicks, "clicks", "shop-tab products clicked")                                     \
    X(product_views, "views", "product pages viewed (from cards, the shop tab and the cart)")  \
    X(cart_adds, "items", "products added to carts")                                           \
    X(cart_visits, "visits", "sessions that opened a non-empty cart")                          \
    X(order_requests, "requests", "checkout requests sent (duplicates included)")             \
    X(duplicate_requests, "requests", "checkout requests that repeated a request id (no order made)") \
    X(stockout_rejections, "requests", "checkout requests refused: not enough stock")          \
    X(orders, "orders", "orders created (stock reserved)")                                     \
    X(payment_failures, "attempts", "payment attempts that failed")                            \
    X(paid_orders, "orders", "orders paid")                                                    \
    X(cancelled_orders, "orders", "orders cancelled after every payment retry failed")         \
    X(gmv_cents, "cents", "value of the orders paid on the day (gross merchandise value)")     \
    X(buyers, "users", "users with an order paid on the day")                                  \
    X(paid_from_feed, "orders", "orders paid whose intent was planted by a feed note")         \
    X(paid_from_search, "orders", "orders paid whose intent was planted by a note found in search") \
    X(paid_from_shop, "orders", "orders paid without a planting note (found in the shop tab)") \
    X(shipped_orders, "orders", "orders shipped")                                              \
    X(delivered_orders, "orders", "orders delivered")                                          \
    X(returns, "orders", "returns accepted")                                                   \
    X(refunds, "orders", "orders refunded")                                                    \
    X(refund_cents, "cents", "money refunded")                                                 \
    X(ad_slots, "slots", "ad slots offered: the feed's reserved slots (engine.feed.ad_first_slot, ad_every) and the top of each search page with results") \
    X(ad_fills, "slots", "ad slots filled by an auction")                                      \
    X(ad_impressions, "ads", "ads examined on screen")                                         \
    X(search_ad_impressions, "ads", "ads examined at the top of search results (part of ad_impressions)") \
    X(ad_clicks, "clicks", "ads opened")                                                       \
    X(ad_conversions, "orders", "orders paid that the platform attributed to an ad (click or view window)") \
    X(ad_revenue_millicents, "1e-3 cents", "ad revenue billed (CPM impressions, CPC clicks, conversions)") \
    X(notes_shown, "notes", "distinct notes the arm's users were shown on the day")            \
    X(notes_live, "notes", "notes published by the day's end (coverage denominator)")          \
    X(small_creator_impressions, "notes",                                                      \
      "impressions of notes whose creator had fewer than 10 followers (new creators)")         \
    X(gini_num, "1", "numerator of the Gini of the arm's impressions over all creators: "      \
      "2 sum_i i x_(i) - (n + 1) sum x, x sorted ascending")                                   \
    X(gini_den, "1", "denominator of that Gini: n sum x")                                      \
    X(oracle_requests, "requests", "feed requests sampled for the oracle metrics (output.oracle_every)") \
    X(oracle_ndcg_micro, "1e-6", "sum over sampled requests of the slate's NDCG (x 1e6) against the "   \
      "user's true open probabilities, ideal = the best slate of the recalled candidates")     \
    X(oracle_opens_micro, "1e-6 opens", "sum over sampled requests of the page's expected opens (x 1e6) "   \
      "under the users' true open probabilities")                                             \
    X(oracle_regret_recalled_micro, "1e-6 opens", "sum over sampled requests of the expected opens " \
      "(x 1e6) lost against the best slate of the recalled candidates")                        \
    X(oracle_corpus_requests, "requests", "sampled requests also compared with the whole corpus") \
    X(oracle_regret_corpus_micro, "1e-6 opens", "sum of the expected opens (x 1e6) lost against the " \
      "best slate of every note the user had not been served")

/* X(name, numerator, denominator, scale, unit, description): scale * numerator /
 * denominator, NaN when the denominator is 0. */
#define FW_DAY_RATES(X)                                                                        \
    X(ctr, opens, impressions, 1.0, "1", "cover click-through rate: opens / impressions")      \
    X(interactions_per_read, interactions, opens, 1.0, "1",                                    \
      "(likes + saves + comments) / opens")                                                    \
    X(saves_per_read, saves, opens, 1.0, "1", "saves / opens")                                 \
    X(follows_per_read, follows, opens, 1.0, "1", "follows / opens")                           \
    X(retention, retained_users, prev_active_users, 1.0, "1",                                  \
      "day-over-day retention: retained_users / prev_active_users")                            \
    X(impressions_per_session, impressions, sessions, 1.0, "notes", "impressions / sessions")  \
    X(sessions_per_user, sessions, active_users, 1.0, "sessions", "sessions / active_users")   \
    X(search_ctr, search_clicks, search_impressions, 1.0, "1", "search results opened / examined") \
    X(searches_per_searcher, searches, searchers, 1.0, "searches", "searches / searchers")      \
    X(zero_result_rate, search_zero_results, searches, 1.0, "1", "searches that returned nothing") \
    X(reformulation_rate, search_reformulations, searches, 1.0, "1", "searches that were reformulations") \
    X(search_success_rate, search_with_click, searches, 1.0, "1", "searches with at least one click") \
    X(first_click_position, search_first_click_pos, search_with_click, 1.0, "position",        \
      "mean position of the first click (time to first click, in results examined)")          \
    X(search_ndcg, search_ndcg_micro, searches, 1e-6, "1", "mean NDCG of search pages against the true intent") \
    X(card_ctr, card_clicks, card_impressions, 1.0, "1", "product-card clicks / cards seen")  \
    X(shop_ctr, shop_clicks, shop_impressions, 1.0, "1", "shop-tab clicks / products examined") \
    X(click_to_purchase, paid_orders, product_views, 1.0, "1",                                 \
      "orders paid / product views (calibration: product click -> purchase 0.5-2%)")         \
    X(view_to_cart, cart_adds, product_views, 1.0, "1", "add-to-cart / product views")         \
    X(cart_to_purchase, paid_orders, cart_adds, 1.0, "1", "orders paid / add-to-cart (calibration: about a third)") \
    X(payment_failure_rate, payment_failures, orders, 1.0, "1", "failed payment attempts / orders created") \
    X(average_order_value, gmv_cents, paid_orders, 1.0, "cents", "GMV / orders paid")          \
    X(return_rate, refunds, paid_orders, 1.0, "1", "orders refunded / orders paid (same day; a lagging ratio)") \
    X(recognition_precision, card_correct, card_impressions, 1.0, "1",                         \
      "product cards that are right / cards seen")                                           \
    X(recognition_recall, card_correct, card_recall_den, 1.0, "1",                             \
      "opened product notes with the right card / opened notes showing a product")            \
    X(fill_rate, ad_fills, ad_slots, 1.0, "1", "ad slots filled / ad slots")                  \
    X(ad_ctr, ad_clicks, ad_impressions, 1.0, "1", "ads opened / ads examined")                \
    X(ecpm, ad_revenue_millicents, ad_impressions, 1.0, "cents",                               \
      "ad revenue per thousand ads examined (revenue / impressions x 1000)")                  \
    X(ad_revenue_cents, ad_revenue_millicents, sessions, 1e-3, "cents", "ad revenue per session") \
    X(ad_load, ad_impressions, impressions, 1.0, "1", "ads examined / notes examined in the feed") \
    X(coverage, notes_shown, notes_live, 1.0, "1", "share of published notes shown at least once") \
    X(creator_gini, gini_num, gini_den, 1.0, "1",                                              \
      "Gini of impressions over creators (0 = equal, 1 = one creator gets all)")              \
    X(new_creator_share, small_creator_impressions, impressions, 1.0, "1",                     \
      "share of impressions on creators with fewer than 10 followers")                         \
    X(oracle_ndcg, oracle_ndcg_micro, oracle_requests, 1e-6, "1",                              \
      "mean NDCG of sampled slates against true utility (ideal: best of the recalled candidates)") \
    X(oracle_expected_opens, oracle_opens_micro, oracle_requests, 1e-6, "opens",            \
      "expected opens per sampled page under the true open probabilities (the page's utility)") \
    X(oracle_regret_recalled, oracle_regret_recalled_micro, oracle_requests, 1e-6, "opens",    \
      "expected opens per page lost against the best slate of the recalled candidates")        \
    X(oracle_regret_corpus, oracle_regret_corpus_micro, oracle_corpus_requests, 1e-6, "opens", \
      "expected opens per page lost against the best slate of the whole unserved corpus")

typedef enum fw_day_counter {
#define FW_DC_ENUM(name, unit, doc) FW_DC_##name,
    FW_DAY_COUNTERS(FW_DC_ENUM)
#undef FW_DC_ENUM
    FW_DC__COUNT
} fw_day_counter;

typedef enum fw_day_rate {
#define FW_DR_ENUM(name, num, den, scale, unit, doc) FW_DR_##name,
    FW_DAY_RATES(FW_DR_ENUM)
#undef FW_DR_ENUM
    FW_DR__COUNT
} fw_day_rate;

extern const char *const fw_day_counter_name[FW_DC__COUNT];
extern const char *const fw_day_counter_unit[FW_DC__COUNT];
extern const char *const fw_day_counter_doc[FW_DC__COUNT];
extern const char *const fw_day_rate_name[FW_DR__COUNT];
extern const char *const fw_day_rate_unit[FW_DR__COUNT];
extern const char *const fw_day_rate_doc[FW_DR__COUNT];

/* Fills rate[FW_DR__COUNT] from one arm-day's counters c[FW_DC__COUNT]. */
void fw_metrics_rates(const uint64_t *c, double *rate);

#endif
