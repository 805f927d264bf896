/* Scenarios: loading, validating and overriding the knobs of a run.
 * Owns: every string and array inside an fw_scenario it fills (free with fw_scenario_fini).
 * Borrows: the knob lists of flywheel/engine_cfg.h and knobs.h.
 * Never touches: the world or the engine; it only produces configuration.
 *
 * A scenario is a YAML file loaded with libcyaml against a schema expanded from the knob
 * lists; libyaml's event stream is used a second time only to learn the line of each key,
 * so that every error names FILE:LINE, the key path and what was expected. */
#ifndef FLYWHEEL_SCENARIO_H
#define FLYWHEEL_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

#include "flywheel/engine_cfg.h"
#include "flywheel/err.h"
#include "model/knobs.h"

#define FW_MAX_ARMS 16
#define FW_MAX_CELLS 64   /* combinations of one arm per layer */
/* Overrides in one arm's set list: several times the knobs an arm may set, so a hand-written
 * list never meets it, while validation time stays bounded whatever a file holds. */
#define FW_MAX_ARM_SETS 256
/* Bytes in a scenario file, at most: two thousand times default.yaml (31 KB). */
#define FW_SCENARIO_MAX_BYTES (64 << 20)
/* An arm's weight: relative to the other arms of its layer. Bounded so that a layer's sum
 * never overflows (1e308 + 1e308 made the assignment and the SRM test NaN) and a share of
 * units is never below 1e-12 of another's. */
#define FW_ARM_WEIGHT_MIN 1e-6
#define FW_ARM_WEIGHT_MAX 1e6
#define FW_ARM_WEIGHT_RANGE "a number in [0.000001, 1000000] (weights are relative within a layer)"

/* One experiment arm: the base configuration with the arm's own overrides applied. */
typedef struct fw_arm {
    char *name;
    char *layer;               /* its experiment layer; "main" when the file names none */
    double weight;             /* in [FW_ARM_WEIGHT_MIN, FW_ARM_WEIGHT_MAX]; share of the layer's
                                  units = weight / sum of the layer's weights */
    char **set;                /* the arm's overrides as written, "key.path=value" */
    uint32_t n_set;
    fw_behaviour_cfg behaviour;
    fw_engine_cfg engine;
} fw_arm;

/* An experiment layer: arms that split the units among themselves, independently of every
 * other layer (each layer hashes units with its own salt). Its first arm is its control.
 * Arms of different layers must set disjoint keys, so a unit's configuration -- the base
 * plus the overrides of its arm in every layer -- does not depend on the order of layers. */
typedef struct fw_layer {
    const char *name;          /* points into arms[arm[0]].layer */
    uint32_t n_arms;
    uint32_t arm[FW_MAX_ARMS]; /* indices into fw_scenario.arms, in file order */
} fw_layer;

/* Promotions (the scenario's promotions section; none by default, and then a run is what it
 * was without them). A coupon is defined once for the run; the arms it names (all when none)
 * offer it to their users, so an A/B test of a coupon is an arm that offers it against one
 * that does not. Promotion days are the run's calendar: every arm has them. */
#define FW_MAX_COUPONS 64
#define FW_MAX_PROMO_DAYS 366

typedef struct fw_coupon_cfg {
    char *name;                /* unique: letters, digits, '_' or '-' */
    uint32_t issuer;           /* fw_coupon_issuer (flywheel/shop.h): platform or brand */
    uint32_t brand;            /* issuer brand: the brand (< world.n_brands) */
    uint32_t kind;             /* fw_coupon_kind: fixed (off_cents) or percent */
    uint64_t off_cents;        /* fixed: in [1, threshold_cents] */
    double percent;            /* percent: in (0, 100) */
    uint64_t threshold_cents;  /* the least order value it applies to */
    uint64_t budget_cents;     /* > 0: the most face value outstanding */
    uint32_t first_day, last_day;   /* claimable on days [first_day, last_day] of the run */
    uint32_t validity_days;    /* a claim is usable this many days (>= 1) */
    double claim_rate;         /* P(claim) when shown on a product page it applies to */
    char **arms;               /* the arms that offer it (n_arms 0: every arm) */
    uint32_t n_arms;
} fw_coupon_cfg;

typedef struct fw_promo_day {
    char *name;                /* for the report ("618"); may be empty */
    uint32_t day;              /* a day of the run (< days) */
    double traffic;            /* sessions of an active user x this, in [1, 10] */
    double intent;             /* purchase intent notes plant x this, in [1, 10] */
    double discount_percent;   /* site-wide price cut, in [0, 100) */
} fw_promo_day;

typedef struct fw_scenario {
    FW_TOP_KNOBS(FW_KNOB_FIELD)
    fw_world_cfg world;
    fw_behaviour_cfg behaviour;
    fw_engine_cfg engine;
    fw_output_cfg output;
#define FW_SCENARIO_EXPERIMENT_FIELD(sec, scope, type, name, def, lo, hi, unit, doc) \
    FW_KNOB_CTYPE_##type experiment_##name;
    FW_EXPERIMENT_KNOBS(FW_SCENARIO_EXPERIMENT_FIELD) /* experiment.<name> */
#undef FW_SCENARIO_EXPERIMENT_FIELD
    fw_arm *arms;              /* after fw_scenario_finish: n_arms >= 1 */
    uint32_t n_arms;
    fw_layer layers[FW_MAX_ARMS]; /* after fw_scenario_finish: n_layers >= 1, in order of */
    uint32_t n_layers;            /* first appearance; the product of their sizes <= FW_MAX_CELLS */
    char *source_path;         /* the file loaded, or NULL for pure defaults */
    char *source_text;         /* its bytes, kept for provenance */
    char **overrides;          /* --set assignments applied, in order */
    uint32_t n_overrides;
    fw_coupon_cfg *coupons;    /* promotions.coupons, in file order */
    uint32_t n_coupons;
    fw_promo_day *promo_days;  /* promotions.days, in file order (days distinct) */
    uint32_t n_promo_days;
} fw_scenario;

/* The promotion day of day (NULL when day is an ordinary one). */
const fw_promo_day *fw_scenario_promo_day(const fw_scenario *s, uint32_t day);

/* Where an error message is written: one line, "FILE:LINE: key.path: what was wrong;
 * what was expected". */
typedef struct fw_diag {
    char msg[1024];
} fw_diag;

/* Fills s with every knob's default, one arm "all" of weight 1. */
fw_err fw_scenario_defaults(fw_scenario *s);

/* The default scenario, scenarios/default.yaml, is every knob at its default except these
 * fw_scenario_set assignments (issue 18): the platform as calibrated -- the learning
 * recommender as the feed, warmed up before day 0, users who tire of a topic, and the
 * behaviour rates set so that this platform, not the baseline feed, gives the published
 * figures. The built-in defaults stay the cold baseline world that every other scenario and
 * test was written against, so a scenario that sets none of these keys means what it meant
 * (an A/B's control arm that names no feed is still the baseline). `flywheel defaults` lists
 * them; test_scenario checks the file against them and that each changes its knob. */
extern const char *const fw_scenario_platform[];
extern const size_t fw_scenario_platform_n;

/* The warm-up's pilot size in users: world.warmup_pilot_users, or warmup_pilot_share of
 * n_users (rounded, at least 1); 0 without a pilot. */
uint32_t fw_scenario_pilot_users(const fw_scenario *s);

/* Loads path into s (defaults for absent keys). Errors (missing or unreadable file,
 * malformed YAML, unknown key with the nearest valid one, wrong type, out of range, a list or
 * file too long) return FW_ERR_IO / FW_ERR_PARSE / FW_ERR_RANGE with diag filled; s is then
 * left empty. Messages write control characters of the path and the file as \xHH. */
fw_err fw_scenario_load(const char *path, fw_scenario *s, fw_diag *diag);

/* fw_scenario_load on len bytes in memory (need not be NUL-terminated; data may be NULL when
 * len is 0), named name in messages and in source_path. For the libFuzzer harness and for
 * programs that hold a scenario's text: it never exits or asserts on any content, and frees
 * everything it allocated on every error path. On FW_OK the caller owns s (fw_scenario_fini);
 * on an error s is left zeroed. Deterministic given its inputs. */
fw_err fw_scenario_load_mem(const char *name, const void *data, size_t len, fw_scenario *s, fw_diag *diag);

/* Applies "key.path=value" (as --set does) to the base configuration; experiment arms
 * inherit it. Same checks and messages as the file, with "--set" in place of FILE:LINE. */
fw_err fw_scenario_set(fw_scenario *s, const char *assignment, fw_diag *diag);

/* Resolves arms (base + each arm's overrides), checks cross-knob rules (like_share +
 * save_share <= 1, unique arm names, arm overrides only of behaviour.* and engine.*,
 * world.creator_share > 0 since only creators post notes).
 * Must be called once after loading and --set, before the scenario is used. */
fw_err fw_scenario_finish(fw_scenario *s, fw_diag *diag);

/* Applies n validated "key.path=value" assignments (arm overrides) to b and e, in order.
 * FW_ERR_INVAL (diag filled) if one does not parse or names a key outside behaviour.* and
 * engine.*. Used to build the configuration of a combination of arms across layers. */
fw_err fw_scenario_apply(char *const *sets, uint32_t n, fw_behaviour_cfg *b, fw_engine_cfg *e,
                         fw_diag *diag);

/* An up-front estimate of the event log's size (output.events) in bytes, as stored: users
 * logged (world.n_users x events_sample) x their expected active days (the mean of
 * Beta(world.activity_a, activity_b) x days) x sessions a day (world.sessions_mean) x
 * impressions a session x bytes an impression. The last two are measured on the default
 * scenario (12.4 impressions a session, 12.9 bytes each with /truth at deflate level 4; rounded up);
 * worlds whose
 * behaviour makes longer sessions exceed it. 0 when the log is off. Pure. */
#define FW_EVENTS_ROWS_PER_SESSION 13.0
#define FW_EVENTS_BYTES_PER_ROW 14.0
double fw_scenario_events_bytes(const fw_scenario *s);

/* A copy of the base's behaviour and engine configuration that owns its strings (the string
 * knobs engine.feed.plugin and plugin_args), for fw_scenario_apply; free it with
 * fw_scenario_cfg_free. FW_ERR_NOMEM (nothing kept) when out of memory. */
fw_err fw_scenario_cfg_copy(const fw_scenario *s, fw_behaviour_cfg *b, fw_engine_cfg *e);
void fw_scenario_cfg_free(fw_behaviour_cfg *b, fw_engine_cfg *e);

/* Checks the ranker plug-ins of every combination of arms (engine.feed.algorithm: plugin):
 * each loads, speaks this build's ABI and accepts its plugin_args (fw_policy_check_ranker:
 * the plug-in's code runs), and none is named without an arm using it. Call after
 * fw_scenario_finish, before generating the world. FW_OK, or an error with diag saying
 * "FILE:LINE: engine.feed.plugin: PATH: what is wrong" (the arm's set list's line when an
 * arm set it). Not part of fw_scenario_finish, so that loading a scenario never runs code. */
fw_err fw_scenario_check_plugins(const fw_scenario *s, fw_diag *diag);

/* Writes the effective scenario as YAML, every knob, with its description as a comment
 * when comments is nonzero. Output parses back to the same scenario. */
fw_err fw_scenario_write_yaml(const fw_scenario *s, FILE *f, int comments);

/* Frees what s owns and zeroes it; accepts a zeroed s. */
void fw_scenario_fini(fw_scenario *s);

/* The learned states per arm a run uses (experiment.learners_per_arm resolved): 0 (auto) is
 * FW_LEARNERS_AUTO under isolation per_arm with user or cluster units, and 1 otherwise (one
 * learned state for every arm, or a producer-side experiment, whose viewers are all in the
 * control); 1 without an experiment (one arm). */
#define FW_LEARNERS_AUTO 8
uint32_t fw_scenario_learners(const fw_scenario *s);

#endif
