/* Scenarios: the knob table, loading (libyaml index + libcyaml schema), --set, arms, and the
 * YAML writer.
 *
 * Invariants:
 * - knobs[] (path, type, offsets, default, range, unit, description) and the libcyaml schema
 *   are both expanded from the knob lists; nothing here repeats a knob's name or default.
 *   Adding an entry to a list needs no edit in this file.
 * - A file is read twice: libyaml's event stream builds an index (key path -> line, column,
 *   scalar text) that rejects syntax errors, unknown or duplicate keys and misplaced
 *   sections before libcyaml sees the bytes; libcyaml then loads them against the schema.
 *   Only keys present in the index are copied from libcyaml's result, so absent keys keep
 *   their defaults.
 * - A value reaches a scenario only after its text passed check_text(), the same parser that
 *   --set and arm overrides use, so a file and the command line accept the same spellings
 *   (decimal integers without sign or leading zero, finite numbers, true/false, enum names).
 * - Every string a scenario points to is its own heap copy; arms share no pointer with the
 *   base or with each other, so fw_scenario_fini frees each exactly once. The one borrowed
 *   pointer is fw_layer.name, into its first arm's layer string.
 * - Arm overrides reach a configuration only through apply_sets(): arm resolution, the check
 *   of every combination of arms across layers and fw_scenario_apply() share it.
 * - Loading costs time linear in the file's size, whatever it holds: the index hashes its
 *   paths, each list is bounded while it is indexed (FW_MAX_ARMS arms, FW_MAX_ARM_SETS
 *   overrides an arm; items past the limit are counted, not stored), and checks across arms
 *   are single passes keyed by knob. Nothing runs before the limits are checked.
 * - Text that reaches a message passes escape_text() (control characters as \xHH).
 * - Every failure is written by fail(): one breakpoint catches them all. */
#define _POSIX_C_SOURCE 200809L

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

#include "flywheel/policy.h"
#include "flywheel/privacy.h"
#include "flywheel/shop.h"
#include "io/scenario.h"
#include "io/scenario_int.h"

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* experiment.* other than the arms (knobs.h); fw_scenario stores each as experiment_<name>. */
#define EXPERIMENT_KNOBS(X) FW_EXPERIMENT_KNOBS(X)

/* The layer of an arm whose file names none; the writer omits it. */
#define DEFAULT_LAYER "main"

/* ---------------------------------------------------------------------------------------
 * What libcyaml loads into: the file's shape, every section as the struct it configures. */

typedef struct doc_arm {
    char *name;
    char *layer;
    double weight;
    char **set;
    uint32_t n_set;
} doc_arm;

typedef struct doc_experiment {
    EXPERIMENT_KNOBS(FW_KNOB_FIELD)
    doc_arm *arms;
    uint32_t n_arms;
} doc_experiment;

typedef struct scenario_doc {
    FW_TOP_KNOBS(FW_KNOB_FIELD)
    fw_world_cfg world;
    fw_behaviour_cfg behaviour;
    fw_engine_cfg engine;
    doc_experiment experiment;
    fw_output_cfg output;
} scenario_doc;

/* ---------------------------------------------------------------------------------------
 * Sections and the knob table. */

typedef enum section {
    SEC_TOP,
    SEC_WORLD,
    SEC_BEHAVIOUR,
    SEC_ENGINE,
#define SEC_ENUM(name, LIST, doc) SEC_ENGINE_##name,
    FW_ENGINE_SECTIONS(SEC_ENUM)
#undef SEC_ENUM
    SEC_EXPERIMENT,
    SEC_OUTPUT,
    SEC__COUNT
} section;

/* Which configuration an experiment arm may override a section of. */
typedef enum arm_part { PART_NONE, PART_BEHAVIOUR, PART_ENGINE } arm_part;

typedef struct section_info {
    const char *path;  /* "" for the top level; "engine.feed" */
    const char *doc;   /* comment written above the section */
    arm_part part;     /* the struct an arm override of it lands in; PART_NONE: no overrides */
} section_info;

/* In writing order; a sub-section follows its parent. */
static const section_info sections[SEC__COUNT] = {
    [SEC_TOP] = { "", "", PART_NONE },
    [SEC_WORLD] = { "world", "who exists and how they are made (shared by every arm)", PART_NONE },
    [SEC_BEHAVIOUR] = { "behaviour", "how people choose (an experiment arm may override these)",
                        PART_BEHAVIOUR },
    [SEC_ENGINE] = { "engine", "the platform's research knobs (an experiment arm may override these)",
                     PART_ENGINE },
#define SEC_INFO(name, LIST, doc) [SEC_ENGINE_##name] = { "engine." #name, doc, PART_ENGINE },
    FW_ENGINE_SECTIONS(SEC_INFO)
#undef SEC_INFO
    [SEC_EXPERIMENT] = { "experiment", "A/B arms: each arm is the base scenario plus its own overrides",
                         PART_NONE },
    [SEC_OUTPUT] = { "output", "where the result file goes", PART_NONE },
};

typedef enum knob_type { KNOB_U32, KNOB_U64, KNOB_F64, KNOB_BOOL, KNOB_STR, KNOB_ENUM } knob_type;

typedef struct knob {
    const char *path;        /* "world.n_users" */
    const char *name;        /* "n_users" */
    const char *unit;
    const char *doc;
    knob_type type;
    section sec;
    int scope;               /* fw_knob_scope: may an experiment arm set it */
    size_t offset;           /* of the value in fw_scenario */
    size_t doc_offset;       /* of the value in scenario_doc */
    uint64_t def_u, min_u, max_u;   /* U32, U64, BOOL, ENUM */
    double def_f, min_f, max_f;     /* F64 */
    const char *def_s;              /* STR */
    const cyaml_strval_t *names;    /* ENUM: yaml name -> constant */
    uint32_t n_names;
} knob;

#define KNOB_STRVAL(constant, yaml) { yaml, constant },
#define KNOB_PLUS1(constant, yaml) +1

#define KNOB_DEF_U32(d) .def_u = (d)
#define KNOB_DEF_U64(d) .def_u = (d)
#define KNOB_DEF_F64(d) .def_f = (d)
#define KNOB_DEF_BOOL(d) .def_u = (d)
#define KNOB_DEF_STR(d) .def_s = (d)
#define KNOB_DEF_ENUM(d) .def_u = (uint64_t)(d)

#define KNOB_LIM_U32(lo, hi) .min_u = (lo), .max_u = (hi)
#define KNOB_LIM_U64(lo, hi) .min_u = (lo), .max_u = (hi)
#define KNOB_LIM_F64(lo, hi) .min_f = (lo), .max_f = (hi)
#define KNOB_LIM_BOOL(lo, hi) .min_u = 0, .max_u = 1
#define KNOB_LIM_STR(lo, hi) .n_names = 0
#define KNOB_LIM_ENUM(lo, hi) .names = ((const cyaml_strval_t[]){ lo(KNOB_STRVAL) }), .n_names = 0 lo(KNOB_PLUS1)

#define KNOB_ROW(sec_, prefix_, field_, dfield_, scope_, type_, name_, def_, lo_, hi_, unit_, doc_) \
    { .path = prefix_ #name_, .name = #name_, .unit = unit_, .doc = doc_, .type = KNOB_##type_,  \
      .sec = sec_, .scope = FW_KNOB_SCOPE_##scope_, .offset = offsetof(fw_scenario, field_),      \
      .doc_offset = offsetof(scenario_doc, dfield_), KNOB_DEF_##type_(def_),                     \
      KNOB_LIM_##type_(lo_, hi_) },

/* Every list's rows: the section word of each line says where the knob lives. */
#define ROW_top(sc, t, n, d, lo, hi, u, doc_) KNOB_ROW(SEC_TOP, "", n, n, sc, t, n, d, lo, hi, u, doc_)
#define ROW_world(sc, t, n, d, lo, hi, u, doc_) \
    KNOB_ROW(SEC_WORLD, "world.", world.n, world.n, sc, t, n, d, lo, hi, u, doc_)
#define ROW_behaviour(sc, t, n, d, lo, hi, u, doc_) \
    KNOB_ROW(SEC_BEHAVIOUR, "behaviour.", behaviour.n, behaviour.n, sc, t, n, d, lo, hi, u, doc_)
#define ROW_engine(sc, t, n, d, lo, hi, u, doc_) \
    KNOB_ROW(SEC_ENGINE, "engine.", engine.n, engine.n, sc, t, n, d, lo, hi, u, doc_)
#define ROW_experiment(sc, t, n, d, lo, hi, u, doc_) \
    KNOB_ROW(SEC_EXPERIMENT, "experiment.", experiment_##n, experiment.n, sc, t, n, d, lo, hi, u, doc_)
#define ROW_output(sc, t, n, d, lo, hi, u, doc_) \
    KNOB_ROW(SEC_OUTPUT, "output.", output.n, output.n, sc, t, n, d, lo, hi, u, doc_)
#define ROW_SIM(sec, sc, t, n, d, lo, hi, u, doc_) ROW_##sec(sc, t, n, d, lo, hi, u, doc_)
/* An engine section's knob: engine.<sec>.<name>. */
#define ROW_SUB(sec, sc, t, n, d, lo, hi, u, doc_)                                                \
    KNOB_ROW(SEC_ENGINE_##sec, "engine." #sec ".", engine.sec.n, engine.sec.n, sc, t, n, d, lo, hi, u, \
             doc_)
#define ROW_SECTION(name, LIST, doc) LIST(ROW_SUB)

/* In section order, each section's knobs in list order. */
static const knob knobs[] = {
    FW_TOP_KNOBS(ROW_SIM)
    FW_WORLD_KNOBS(ROW_SIM)
    FW_BEHAVIOUR_KNOBS(ROW_SIM)
    FW_ENGINE_KNOBS(ROW_SIM)
    FW_ENGINE_SECTIONS(ROW_SECTION)
    EXPERIMENT_KNOBS(ROW_SIM)
    FW_OUTPUT_KNOBS(ROW_SIM)
};
#define N_KNOBS (sizeof knobs / sizeof knobs[0])

/* ---------------------------------------------------------------------------------------
 * The libcyaml schema, expanded from the same lists. */

#define CY_U32(st, n, lo) CYAML_FIELD_UINT(#n, CYAML_FLAG_OPTIONAL, st, n),
#define CY_U64(st, n, lo) CYAML_FIELD_UINT(#n, CYAML_FLAG_OPTIONAL, st, n),
#define CY_F64(st, n, lo) CYAML_FIELD_FLOAT(#n, CYAML_FLAG_OPTIONAL, st, n),
#define CY_BOOL(st, n, lo) CYAML_FIELD_BOOL(#n, CYAML_FLAG_OPTIONAL, st, n),
#define CY_STR(st, n, lo) CYAML_FIELD_STRING_PTR(#n, CYAML_FLAG_OPTIONAL, st, n, 0, CYAML_UNLIMITED),
#define CY_ENUM(st, n, lo)                                                                     \
    CYAML_FIELD_ENUM(#n, CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT, st, n,                       \
                     ((const cyaml_strval_t[]){ lo(KNOB_STRVAL) }), 0 lo(KNOB_PLUS1)),

#define CY_top(sc, t, n, d, lo, hi, u, doc_) CY_##t(scenario_doc, n, lo)
#define CY_world(sc, t, n, d, lo, hi, u, doc_) CY_##t(fw_world_cfg, n, lo)
#define CY_behaviour(sc, t, n, d, lo, hi, u, doc_) CY_##t(fw_behaviour_cfg, n, lo)
#define CY_engine(sc, t, n, d, lo, hi, u, doc_) CY_##t(fw_engine_cfg, n, lo)
#define CY_experiment(sc, t, n, d, lo, hi, u, doc_) CY_##t(doc_experiment, n, lo)
#define CY_output(sc, t, n, d, lo, hi, u, doc_) CY_##t(fw_output_cfg, n, lo)
#define CY_SIM(sec, sc, t, n, d, lo, hi, u, doc_) CY_##sec(sc, t, n, d, lo, hi, u, doc_)
#define CY_SUB(sec, sc, t, n, d, lo, hi, u, doc_) CY_##t(fw_##sec##_cfg, n, lo)

static const cyaml_schema_field_t world_fields[] = { FW_WORLD_KNOBS(CY_SIM) CYAML_FIELD_END };
static const cyaml_schema_field_t behaviour_fields[] = { FW_BEHAVIOUR_KNOBS(CY_SIM) CYAML_FIELD_END };
#define CY_SECTION_FIELDS(name, LIST, doc) \
    static const cyaml_schema_field_t name##_fields[] = { LIST(CY_SUB) CYAML_FIELD_END };
FW_ENGINE_SECTIONS(CY_SECTION_FIELDS)
#undef CY_SECTION_FIELDS
static const cyaml_schema_field_t engine_fields[] = {
    FW_ENGINE_KNOBS(CY_SIM)
#define CY_SECTION_MAPPING(name, LIST, doc) \
    CYAML_FIELD_MAPPING(#name, CYAML_FLAG_OPTIONAL, fw_engine_cfg, name, name##_fields),
    FW_ENGINE_SECTIONS(CY_SECTION_MAPPING)
#undef CY_SECTION_MAPPING
    CYAML_FIELD_END
};
static const cyaml_schema_field_t output_fields[] = { FW_OUTPUT_KNOBS(CY_SIM) CYAML_FIELD_END };

static const cyaml_schema_value_t set_entry_schema = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};
static const cyaml_schema_field_t arm_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_OPTIONAL, doc_arm, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("layer", CYAML_FLAG_OPTIONAL, doc_arm, layer, 0, CYAML_UNLIMITED),
    CYAML_FIELD_FLOAT("weight", CYAML_FLAG_OPTIONAL, doc_arm, weight),
    CYAML_FIELD_SEQUENCE_COUNT("set", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER, doc_arm, set, n_set,
                               &set_entry_schema, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END
};
static const cyaml_schema_value_t arm_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, doc_arm, arm_fields),
};
static const cyaml_schema_field_t experiment_fields[] = {
    EXPERIMENT_KNOBS(CY_SIM)
    CYAML_FIELD_SEQUENCE_COUNT("arms", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER, doc_experiment, arms,
                               n_arms, &arm_schema, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END
};

static const cyaml_schema_field_t doc_fields[] = {
    FW_TOP_KNOBS(CY_SIM)
    CYAML_FIELD_MAPPING("world", CYAML_FLAG_OPTIONAL, scenario_doc, world, world_fields),
    CYAML_FIELD_MAPPING("behaviour", CYAML_FLAG_OPTIONAL, scenario_doc, behaviour, behaviour_fields),
    CYAML_FIELD_MAPPING("engine", CYAML_FLAG_OPTIONAL, scenario_doc, engine, engine_fields),
    CYAML_FIELD_MAPPING("experiment", CYAML_FLAG_OPTIONAL, scenario_doc, experiment, experiment_fields),
    CYAML_FIELD_MAPPING("output", CYAML_FLAG_OPTIONAL, scenario_doc, output, output_fields),
    CYAML_FIELD_IGNORE("promotions", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_END
};
static const cyaml_schema_value_t doc_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, scenario_doc, doc_fields),
};

/* The experiment.arms part of the file's shape (sections and knobs give the rest). Paths are
 * canonical: sequence indexes written as []. */
typedef enum node_kind { NODE_NONE, NODE_SCALAR, NODE_MAPPING, NODE_SEQUENCE } node_kind;

/* A sequence holds at most max_items items, each a `items`; the index counts the items past
 * the limit without storing them, so a file of 32,000 arms is refused in time linear in its
 * size, with the count and the line of the first one too many. */
static const struct {
    const char *path;
    node_kind kind;
    const char *expect;
    uint32_t min_items, max_items;  /* NODE_SEQUENCE */
    const char *items;
} arm_shapes[] = {
    { "experiment.arms", NODE_SEQUENCE, "a list of arms (- name: NAME)", 1, FW_MAX_ARMS, "arms" },
    { "experiment.arms[]", NODE_MAPPING, "an arm: a mapping of name, layer, weight and set", 0, 0, NULL },
    { "experiment.arms[].name", NODE_SCALAR, "a non-empty arm name without '/'", 0, 0, NULL },
    { "experiment.arms[].layer", NODE_SCALAR, "a layer name: letters, digits, '_' or '-'", 0, 0, NULL },
    { "experiment.arms[].weight", NODE_SCALAR, FW_ARM_WEIGHT_RANGE, 0, 0, NULL },
    { "experiment.arms[].set", NODE_SEQUENCE, "a list of \"key.path=value\" strings", 0, FW_MAX_ARM_SETS,
      "overrides in an arm's set" },
    { "experiment.arms[].set[]", NODE_SCALAR, "a \"key.path=value\" string", 0, 0, NULL },
    /* promotions (parse_promotions reads them from the index; libcyaml skips the section) */
    { "promotions", NODE_MAPPING, "a mapping of coupons and days", 0, 0, NULL },
    { "promotions.coupons", NODE_SEQUENCE, "a list of coupons (- name: NAME)", 0, FW_MAX_COUPONS, "coupons" },
    { "promotions.coupons[]", NODE_MAPPING, "a coupon: a mapping of name, issuer, brand, off_cents or percent, "
      "threshold_cents, budget_cents, first_day, last_day, validity_days, claim_rate and arms", 0, 0, NULL },
    { "promotions.coupons[].name", NODE_SCALAR, "a unique coupon name: letters, digits, '_' or '-'", 0, 0, NULL },
    { "promotions.coupons[].issuer", NODE_SCALAR, "platform or brand (who pays the discount)", 0, 0, NULL },
    { "promotions.coupons[].brand", NODE_SCALAR, "the issuing brand's id, below world.n_brands", 0, 0, NULL },
    { "promotions.coupons[].off_cents", NODE_SCALAR, "a fixed discount in cents, from 1 to threshold_cents", 0, 0, NULL },
    { "promotions.coupons[].percent", NODE_SCALAR, "a percentage off, in (0, 100)", 0, 0, NULL },
    { "promotions.coupons[].threshold_cents", NODE_SCALAR, "the least order value in cents it applies to", 0, 0, NULL },
    { "promotions.coupons[].budget_cents", NODE_SCALAR, "the most face value in cents it may have redeemed, >= 1", 0, 0, NULL },
    { "promotions.coupons[].first_day", NODE_SCALAR, "the first day of the run it can be claimed", 0, 0, NULL },
    { "promotions.coupons[].last_day", NODE_SCALAR, "the last day of the run it can be claimed", 0, 0, NULL },
    { "promotions.coupons[].validity_days", NODE_SCALAR, "days a claim stays usable, an integer >= 1", 0, 0, NULL },
    { "promotions.coupons[].claim_rate", NODE_SCALAR, "P(claim) when shown on a product page, in [0, 1]", 0, 0, NULL },
    { "promotions.coupons[].arms", NODE_SEQUENCE, "a list of the arms that offer it (absent: every arm)", 0,
      FW_MAX_ARMS, "arms" },
    { "promotions.coupons[].arms[]", NODE_SCALAR, "an arm's name", 0, 0, NULL },
    { "promotions.days", NODE_SEQUENCE, "a list of promotion days (- day: N)", 0, FW_MAX_PROMO_DAYS, "days" },
    { "promotions.days[]", NODE_MAPPING, "a promotion day: a mapping of day, name, traffic, intent and "
      "discount_percent", 0, 0, NULL },
    { "promotions.days[].day", NODE_SCALAR, "a day of the run, from 0 to days - 1", 0, 0, NULL },
    { "promotions.days[].name", NODE_SCALAR, "the day's name (\"618\")", 0, 0, NULL },
    { "promotions.days[].traffic", NODE_SCALAR, "a sessions multiplier in [1, 10]", 0, 0, NULL },
    { "promotions.days[].intent", NODE_SCALAR, "a multiplier of the purchase intent notes plant, in [1, 10]", 0, 0, NULL },
    { "promotions.days[].discount_percent", NODE_SCALAR, "a site-wide price cut in percent, in [0, 100)", 0, 0, NULL },
};
#define N_ARM_SHAPES (sizeof arm_shapes / sizeof arm_shapes[0])

/* ---------------------------------------------------------------------------------------
 * Reporting. */

/* The one place a failure is written. diag may be NULL. */
PRINTF_LIKE(3, 4)
static fw_err fail(fw_diag *diag, fw_err code, const char *fmt, ...)
{
    if (diag != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(diag->msg, sizeof diag->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Copies text for a message, at most max bytes of it then "...": control characters (and
 * DEL) are written as \xHH, so that nothing a user typed or a file holds can move a
 * terminal's cursor, start an escape sequence or split a message over lines. n > max + 4. */
static void escape_text(char *buf, size_t n, const char *text, size_t max)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t o = 0;
    assert(n > max + 4);
    for (; *p != '\0'; p++) {
        bool ctl = *p < 0x20 || *p == 0x7f;
        if (o + (ctl ? 4 : 1) > max)
            break;
        if (ctl)
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", *p);
        else
            buf[o++] = (char)*p;
    }
    if (*p != '\0') {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

/* escape_text for a value or name quoted in a message: at most 60 bytes (fewer when n is
 * smaller). */
static void clean_text(char *buf, size_t n, const char *text)
{
    assert(n > 4);
    escape_text(buf, n, text, n > 64 ? 60 : n - 5);
}

/* Shortest decimal that reads back as exactly v; whole numbers as "16.0", never "1.6e+01". */
static void fmt_double(char buf[40], double v)
{
    if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v) {
        snprintf(buf, 40, "%.1f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, 40, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* "an integer in [10, 50000000]" etc.: what a knob's value must look like. */
static void describe(const knob *k, char *buf, size_t n)
{
    char lo[40], hi[40];
    switch (k->type) {
    case KNOB_U32:
    case KNOB_U64:
        snprintf(buf, n, "an integer in [%" PRIu64 ", %" PRIu64 "]", k->min_u, k->max_u);
        break;
    case KNOB_F64:
        fmt_double(lo, k->min_f);
        fmt_double(hi, k->max_f);
        snprintf(buf, n, "a number in [%s, %s]", lo, hi);
        break;
    case KNOB_BOOL:
        snprintf(buf, n, "true or false");
        break;
    case KNOB_STR:
        snprintf(buf, n, "a string");
        break;
    case KNOB_ENUM: {
        size_t used = (size_t)snprintf(buf, n, "one of:");
        for (uint32_t i = 0; i < k->n_names && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s %s", i ? "," : "", k->names[i].str);
        break;
    }
    }
}

/* ---------------------------------------------------------------------------------------
 * Values: parsing text, reading and writing struct fields. */

typedef struct knob_value {
    uint64_t u;
    double f;
    const char *s;  /* STR: borrowed from the text */
} knob_value;

int fw_scenario_parse_bool(const char *text, bool *out)
{
    if (strcmp(text, "true") == 0) {
        *out = true;
        return 1;
    }
    if (strcmp(text, "false") == 0) {
        *out = false;
        return 1;
    }
    return 0;
}

/* Decimal digits only, no sign, no leading zero: 0 ok, 1 not an integer, 2 too large. */
static int parse_u64(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char)text[0]) || (text[0] == '0' && text[1] != '\0'))
        return 1;
    for (const char *p = text; *p != '\0'; p++)
        if (!isdigit((unsigned char)*p))
            return 1;
    errno = 0;
    unsigned long long v = strtoull(text, NULL, 10);
    if (errno == ERANGE)
        return 2;
    *out = (uint64_t)v;
    return 0;
}

/* A finite decimal or hex float, fully consumed: 0 ok, 1 not a number, 2 overflows. */
static int parse_f64(const char *text, double *out)
{
    char *end;
    if (text[0] == '\0' || isspace((unsigned char)text[0]))
        return 1;
    errno = 0;
    double v = strtod(text, &end);
    if (*end != '\0')
        return 1;
    if (errno == ERANGE && isinf(v))
        return 2;
    if (!isfinite(v))
        return 1;  /* "nan", "inf" spelt out */
    *out = v;
    return 0;
}

/* Checks text as a value of k. On success fills *v (STR borrows text); otherwise writes
 * "expected ..., got ..." into why and returns FW_ERR_PARSE (not a value of the type) or
 * FW_ERR_RANGE (a value of the type outside the knob's range). */
static fw_err check_text(const knob *k, const char *text, knob_value *v, char *why, size_t n)
{
    char expect[512], shown[80];
    int rc;
    describe(k, expect, sizeof expect);
    clean_text(shown, sizeof shown, text);
    memset(v, 0, sizeof *v);
    switch (k->type) {
    case KNOB_U32:
    case KNOB_U64:
        rc = parse_u64(text, &v->u);
        if (rc == 1 && text[0] == '-' && parse_u64(text + 1, &v->u) != 1)
            rc = 2;  /* a negative integer: the right type, outside the range */
        if (rc == 0 && (v->u < k->min_u || v->u > k->max_u))
            rc = 2;
        break;
    case KNOB_F64:
        rc = parse_f64(text, &v->f);
        if (rc == 0 && !(v->f >= k->min_f && v->f <= k->max_f))
            rc = 2;
        break;
    case KNOB_BOOL: {
        bool b = false;
        rc = fw_scenario_parse_bool(text, &b) ? 0 : 1;
        v->u = b;
        break;
    }
    case KNOB_STR:
        v->s = text;
        rc = 0;
        break;
    case KNOB_ENUM:
        rc = 1;
        for (uint32_t i = 0; i < k->n_names; i++) {
            if (strcmp(text, k->names[i].str) == 0) {
                v->u = (uint64_t)k->names[i].val;
                rc = 0;
            }
        }
        break;
    default:
        rc = 1;
        assert(0);
    }
    if (rc == 1) {
        snprintf(why, n, "expected %s, got '%s'", expect, shown);
        return FW_ERR_PARSE;
    }
    if (rc == 2) {
        snprintf(why, n, "expected %s, got %s", expect, shown);
        return FW_ERR_RANGE;
    }
    return FW_OK;
}

static void *field_in(const knob *k, fw_scenario *s)
{
    return (char *)s + k->offset;
}

/* Where the configurations b and e keep k, or NULL if an arm may not override k. */
static void *field_in_cfg(const knob *k, fw_behaviour_cfg *b, fw_engine_cfg *e)
{
    switch (sections[k->sec].part) {
    case PART_BEHAVIOUR:
        return (char *)b + (k->offset - offsetof(fw_scenario, behaviour));
    case PART_ENGINE:
        return (char *)e + (k->offset - offsetof(fw_scenario, engine));
    case PART_NONE:
        break;
    }
    return NULL;
}

/* Stores v (from check_text) into the field; STR values are duplicated. */
static fw_err put_value(const knob *k, void *field, const knob_value *v)
{
    switch (k->type) {
    case KNOB_U32:
        *(uint32_t *)field = (uint32_t)v->u;
        break;
    case KNOB_U64:
        *(uint64_t *)field = v->u;
        break;
    case KNOB_F64:
        *(double *)field = v->f;
        break;
    case KNOB_BOOL:
        *(bool *)field = v->u != 0;
        break;
    case KNOB_ENUM:
        *(int *)field = (int)v->u;
        break;
    case KNOB_STR: {
        char *dup = strdup(v->s != NULL ? v->s : "");
        if (dup == NULL)
            return FW_ERR_NOMEM;
        free(*(char **)field);
        *(char **)field = dup;
        break;
    }
    }
    return FW_OK;
}

/* Reads a field back as a knob_value (STR borrows the field's string). */
static knob_value get_value(const knob *k, const void *field)
{
    knob_value v = { 0, 0.0, NULL };
    switch (k->type) {
    case KNOB_U32:
        v.u = *(const uint32_t *)field;
        break;
    case KNOB_U64:
        v.u = *(const uint64_t *)field;
        break;
    case KNOB_F64:
        v.f = *(const double *)field;
        break;
    case KNOB_BOOL:
        v.u = *(const bool *)field;
        break;
    case KNOB_ENUM:
        v.u = (uint64_t)(int64_t)*(const int *)field;
        break;
    case KNOB_STR:
        v.s = *(char *const *)field;
        break;
    }
    return v;
}

static const char *enum_name(const knob *k, uint64_t u)
{
    for (uint32_t i = 0; i < k->n_names; i++)
        if ((uint64_t)k->names[i].val == u)
            return k->names[i].str;
    return NULL;
}

/* The value as YAML writes it (STR unquoted: the writer quotes it itself). */
static void fmt_value(const knob *k, const knob_value *v, char *buf, size_t n)
{
    char d[40];
    const char *name;
    switch (k->type) {
    case KNOB_U32:
    case KNOB_U64:
        snprintf(buf, n, "%" PRIu64, v->u);
        break;
    case KNOB_F64:
        fmt_double(d, v->f);
        snprintf(buf, n, "%s", d);
        break;
    case KNOB_BOOL:
        snprintf(buf, n, "%s", v->u ? "true" : "false");
        break;
    case KNOB_ENUM:
        name = enum_name(k, v->u);
        if (name != NULL)
            snprintf(buf, n, "%s", name);
        else
            snprintf(buf, n, "%" PRId64, (int64_t)v->u);
        break;
    case KNOB_STR:
        snprintf(buf, n, "%s", v->s != NULL ? v->s : "(null)");
        break;
    }
}

/* Checks a stored value against its knob (catches programs that filled fields by hand). */
static fw_err check_stored(const knob *k, const knob_value *v, char *why, size_t n)
{
    char expect[512], got[80];
    bool ok = true;
    switch (k->type) {
    case KNOB_U32:
    case KNOB_U64:
        ok = v->u >= k->min_u && v->u <= k->max_u;
        break;
    case KNOB_F64:
        ok = v->f >= k->min_f && v->f <= k->max_f;
        break;
    case KNOB_BOOL:
        ok = v->u <= 1;
        break;
    case KNOB_STR:
        ok = v->s != NULL;
        break;
    case KNOB_ENUM:
        ok = enum_name(k, v->u) != NULL;
        break;
    }
    if (ok)
        return FW_OK;
    describe(k, expect, sizeof expect);
    fmt_value(k, v, got, sizeof got);
    snprintf(why, n, "expected %s, got %s", expect, got);
    return FW_ERR_RANGE;
}

/* ---------------------------------------------------------------------------------------
 * Known paths and the nearest one to a misspelt key. */

static const knob *find_knob(const char *path, size_t len)
{
    for (size_t i = 0; i < N_KNOBS; i++)
        if (strlen(knobs[i].path) == len && memcmp(knobs[i].path, path, len) == 0)
            return &knobs[i];
    return NULL;
}

/* Every valid key path, canonical: top-level knobs, sections, other knobs, arm keys. */
static size_t n_known(void)
{
    return N_KNOBS + (SEC__COUNT - 1) + N_ARM_SHAPES;
}

static const char *known_path(size_t i)
{
    if (i < N_KNOBS)
        return knobs[i].path;
    i -= N_KNOBS;
    if (i < SEC__COUNT - 1)
        return sections[i + 1].path;
    i -= SEC__COUNT - 1;
    assert(i < N_ARM_SHAPES);
    return arm_shapes[i].path;
}

/* What the file may hold at canonical path; fills expect with what a value there must be. */
static node_kind expected_kind(const char *canon, char *expect, size_t n)
{
    const knob *k = find_knob(canon, strlen(canon));
    if (k != NULL) {
        describe(k, expect, n);
        return NODE_SCALAR;
    }
    for (int s = 1; s < SEC__COUNT; s++) {
        if (strcmp(canon, sections[s].path) == 0) {
            snprintf(expect, n, "a mapping of %s.* keys", canon);
            return NODE_MAPPING;
        }
    }
    for (size_t i = 0; i < N_ARM_SHAPES; i++) {
        if (strcmp(canon, arm_shapes[i].path) == 0) {
            snprintf(expect, n, "%s", arm_shapes[i].expect);
            return arm_shapes[i].kind;
        }
    }
    return NODE_NONE;
}

/* Length of the parent part of a canonical path ("world.n_users" -> 5, "days" -> 0). */
static size_t parent_len(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot != NULL ? (size_t)(dot - path) : 0;
}

static const char *last_part(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot != NULL ? dot + 1 : path;
}

/* Optimal string alignment distance (edits, including swapping two neighbours). */
static size_t edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 96 };
    size_t la = strlen(a), lb = strlen(b);
    size_t rows[3][MAXLEN + 1];
    if (la > MAXLEN || lb > MAXLEN)
        return SIZE_MAX / 2;
    for (size_t j = 0; j <= lb; j++)
        rows[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = rows[i % 3], *prev = rows[(i - 1) % 3], *prev2 = rows[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
    }
    return rows[la % 3][lb];
}

/* Writes "; did you mean 'world.n_users'?" for the known key nearest to key in the mapping
 * at parent (comparing the whole path, and the key alone so that a key in the wrong section
 * is found too) and returns true, or returns false when nothing is near. parent is canonical
 * ("experiment.arms[]"), shown is the parent as written ("experiment.arms[1]"); knobs_only
 * restricts the candidates to knobs (for --set). */
static bool nearest(const char *parent, const char *shown, const char *key, bool knobs_only, char *buf,
                    size_t n)
{
    size_t plen = strlen(parent), klen = strlen(key);
    char full[512];
    size_t best_d = SIZE_MAX, best = 0;
    size_t count = knobs_only ? N_KNOBS : n_known();

    snprintf(full, sizeof full, "%s%s%s", parent, plen ? "." : "", key);
    for (size_t i = 0; i < count; i++) {
        const char *p = known_path(i);
        bool sibling = parent_len(p) == plen && strncmp(p, parent, plen) == 0;
        size_t d = edit_distance(full, p);
        size_t d2 = edit_distance(key, last_part(p)) + (sibling ? 0 : 1);
        if (d2 < d)
            d = d2;
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    if (best_d <= 2 + klen / 4 && best_d < klen) {
        const char *p = known_path(best);
        if (plen > 0 && parent_len(p) == plen && strncmp(p, parent, plen) == 0)
            snprintf(buf, n, "; did you mean '%s.%s'?", shown, last_part(p));
        else
            snprintf(buf, n, "; did you mean '%s'?", p);
        return true;
    }
    return false;
}

/* A file's unknown key: nearest() or, when nothing is near, "; valid keys here: a, b, c" (the
 * keys of the mapping at parent, which the index has already found valid). */
static void suggest(const char *parent, const char *shown, const char *key, char *buf, size_t n)
{
    size_t plen = strlen(parent);
    size_t count = n_known();
    if (nearest(parent, shown, key, false, buf, n))
        return;
    size_t used = (size_t)snprintf(buf, n, "; valid keys here:");
    bool first = true;
    for (size_t i = 0; i < count && used < n; i++) {
        const char *p = known_path(i);
        if (parent_len(p) != plen || strncmp(p, parent, plen) != 0 || (plen > 0 && p[plen] != '.'))
            continue;
        used += (size_t)snprintf(buf + used, n - used, "%s %s", first ? "" : ",", last_part(p));
        first = false;
    }
}

/* snprintf for message parts that may be cut short on purpose (lists of keys). */
PRINTF_LIKE(3, 4)
static void say(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

/* The section whose path is path[0..len), or -1. */
static int find_section(const char *path, size_t len)
{
    for (int i = 1; i < SEC__COUNT; i++)
        if (strlen(sections[i].path) == len && memcmp(sections[i].path, path, len) == 0)
            return i;
    return -1;
}

/* Writes the keys an assignment may name directly under section path parent ("" = the top
 * level): its knobs, then its sub-sections as "name.*"; ", ..." when n is too small. */
static void list_keys(const char *parent, char *buf, size_t n)
{
    size_t plen = strlen(parent), used = 0;
    assert(n > 8);
    buf[0] = '\0';
    for (size_t i = 0; i < N_KNOBS + SEC__COUNT - 1; i++) {
        const char *p = i < N_KNOBS ? knobs[i].path : sections[i - N_KNOBS + 1].path;
        const char *star = i < N_KNOBS ? "" : ".*";
        if (parent_len(p) != plen || strncmp(p, parent, plen) != 0 || (plen > 0 && p[plen] != '.'))
            continue;
        const char *name = last_part(p);
        if (used + strlen(name) + strlen(star) + 2 + 6 >= n) {
            snprintf(buf + used, n - used, ", ...");
            return;
        }
        used += (size_t)snprintf(buf + used, n - used, "%s%s%s", used ? ", " : "", name, star);
    }
}

/* Why key[0..len) names no knob, said at the right level, into why: a section (its keys are
 * listed), a knob given sub-keys (it takes a value), or an unknown name (the nearest knob,
 * else the keys of the deepest section the key does name). Control characters are escaped. */
static void explain_unknown(const char *a, size_t len, char *why, size_t n)
{
    char key[256], shown[300], list[600], expect[512], hint[600];
    if (len >= sizeof key) {
        say(why, n, "unknown key (longer than any key)");
        return;
    }
    memcpy(key, a, len);
    key[len] = '\0';
    escape_text(shown, sizeof shown, key, sizeof shown - 5);

    if (find_section(key, len) >= 0) {
        list_keys(key, list, sizeof list);
        say(why, n, "unknown key; %s is a section, not a value: set one of its keys, as in %s.KEY=VALUE; its "
                 "keys: %s", key, key, list);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        const knob *k = key[i] == '.' ? find_knob(key, i) : NULL;
        if (k == NULL)
            continue;
        describe(k, expect, sizeof expect);
        say(why, n, "unknown key; %s is a knob, not a section: it takes a value (%s) and no sub-keys, as in "
                 "%s=VALUE", k->path, expect, k->path);
        return;
    }
    /* The deepest section the key names, and the first part of the key below it. */
    size_t plen = 0;
    for (size_t i = 0; i < len; i++)
        if (key[i] == '.' && find_section(key, i) >= 0)
            plen = i;
    char *dot = strrchr(key, '.');
    if (dot != NULL)
        *dot = '\0';
    bool near = nearest(dot != NULL ? key : "", dot != NULL ? key : "", dot != NULL ? dot + 1 : key, true,
                        hint, sizeof hint);
    if (dot != NULL)
        *dot = '.';
    if (near) {
        say(why, n, "unknown key%s", hint);
        return;
    }
    key[plen] = '\0';
    list_keys(key, list, sizeof list);
    const char *part = shown + (plen > 0 ? plen + 1 : 0);
    const char *end = strchr(part, '.');
    if (end == NULL) {
        say(why, n, "unknown key; valid keys here: %s", list);
        return;
    }
    say(why, n, "unknown key; %s has no section '%.*s'; valid keys there: %s", plen > 0 ? key : "the top level",
             (int)(end - part), part, list);
}

/* ---------------------------------------------------------------------------------------
 * The libyaml index: key path -> line, column and scalar text, in document order. */

typedef struct yentry {
    char *path;     /* "experiment.arms[1].set[0]" */
    char *canon;    /* "experiment.arms[].set[]" */
    size_t line;    /* 1-based line and column of the key (of the item, in a sequence) */
    size_t col;
    size_t vline;   /* 1-based line and column of the value */
    size_t vcol;
    node_kind kind;
    char *text;     /* the scalar value; NULL for a mapping or sequence */
} yentry;

/* Entries in document order, and an open-addressing hash of their paths (slot[h] = entry
 * index + 1, 0 = empty; at most half full) so that finding a path, and so rejecting a
 * duplicate key, costs O(1): a file of n keys is indexed in O(n), never O(n^2). */
typedef struct yindex {
    yentry *v;
    size_t n, cap;
    size_t *slot;
    size_t n_slot;  /* a power of two, or 0 */
} yindex;

static void index_free(yindex *ix)
{
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->v[i].path);
        free(ix->v[i].canon);
        free(ix->v[i].text);
    }
    free(ix->v);
    free(ix->slot);
    memset(ix, 0, sizeof *ix);
}

/* FNV-1a of a path. */
static size_t path_hash(const char *path)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return (size_t)(h ^ (h >> 32));
}

/* The index of the entry with this path, or SIZE_MAX. */
static size_t index_lookup(const yindex *ix, const char *path)
{
    if (ix == NULL || ix->n_slot == 0)
        return SIZE_MAX;
    for (size_t h = path_hash(path) & (ix->n_slot - 1);; h = (h + 1) & (ix->n_slot - 1)) {
        size_t s = ix->slot[h];
        if (s == 0)
            return SIZE_MAX;
        if (strcmp(ix->v[s - 1].path, path) == 0)
            return s - 1;
    }
}

/* Adds entry idx (whose path is not in the index yet) to the hash, growing it first when it
 * would be more than half full. 0, or -1 when out of memory. */
static int index_hash_add(yindex *ix, size_t idx)
{
    if (2 * (idx + 1) > ix->n_slot) {
        size_t n = ix->n_slot ? 2 * ix->n_slot : 128;
        size_t *slot = calloc(n, sizeof *slot);
        if (slot == NULL)
            return -1;
        for (size_t i = 0; i < ix->n_slot; i++) {
            if (ix->slot[i] == 0)
                continue;
            size_t h = path_hash(ix->v[ix->slot[i] - 1].path) & (n - 1);
            while (slot[h] != 0)
                h = (h + 1) & (n - 1);
            slot[h] = ix->slot[i];
        }
        free(ix->slot);
        ix->slot = slot;
        ix->n_slot = n;
    }
    size_t h = path_hash(ix->v[idx].path) & (ix->n_slot - 1);
    while (ix->slot[h] != 0)
        h = (h + 1) & (ix->n_slot - 1);
    ix->slot[h] = idx + 1;
    return 0;
}

static const yentry *index_find(const yindex *ix, const char *path)
{
    size_t i = index_lookup(ix, path);
    return i != SIZE_MAX ? &ix->v[i] : NULL;
}

static char *join(const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *r = malloc(la + ls + lb + 1);
    if (r == NULL)
        return NULL;
    memcpy(r, a, la);
    memcpy(r + la, sep, ls);
    memcpy(r + la + ls, b, lb + 1);
    return r;
}

static const char *node_name(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_SEQUENCE_START_EVENT:
        return "a sequence";
    default:
        return "a scalar";
    }
}

typedef struct frame {
    node_kind kind;
    size_t entry;        /* index entry of this container; SIZE_MAX for the root */
    bool want_key;       /* mapping: the next node is a key */
    uint64_t n_items;    /* sequence: items seen, those past the limit included */
    uint32_t max_items;  /* sequence: items indexed at most (arm_shapes) */
    size_t over_line;    /* sequence: line of the first item past max_items */
} frame;

enum { MAX_DEPTH = 16 };

typedef struct ybuild {
    const char *file;
    yindex *ix;
    frame stack[MAX_DEPTH];
    int depth;
    int skip;            /* > 0: inside an item past its sequence's limit, this deep */
    fw_diag *diag;
} ybuild;

/* Appends an entry (taking path and canon) and writes its index to *out. When the path is
 * already in the index (a duplicate key) the new entry is not hashed and *dup is the first
 * one's index; otherwise *dup is SIZE_MAX. */
static fw_err add_entry(ybuild *b, char *path, char *canon, const yaml_mark_t *m, size_t *out, size_t *dup)
{
    if (path == NULL || canon == NULL) {
        free(path);
        free(canon);
        return fail(b->diag, FW_ERR_NOMEM, "%s: out of memory", b->file);
    }
    if (b->ix->n == b->ix->cap) {
        size_t cap = b->ix->cap ? 2 * b->ix->cap : 64;
        yentry *v = realloc(b->ix->v, cap * sizeof *v);
        if (v == NULL) {
            free(path);
            free(canon);
            return fail(b->diag, FW_ERR_NOMEM, "%s: out of memory", b->file);
        }
        b->ix->v = v;
        b->ix->cap = cap;
    }
    yentry *e = &b->ix->v[b->ix->n];
    memset(e, 0, sizeof *e);
    e->path = path;
    e->canon = canon;
    e->line = m->line + 1;
    e->col = m->column + 1;
    *out = b->ix->n++;
    *dup = index_lookup(b->ix, path);
    if (*dup == SIZE_MAX && index_hash_add(b->ix, *out) != 0)
        return fail(b->diag, FW_ERR_NOMEM, "%s: out of memory", b->file);
    return FW_OK;
}

/* A mapping key: checks that the key is known here and not a duplicate, and adds it. */
static fw_err on_key(ybuild *b, const yaml_event_t *ev, size_t *out)
{
    frame *top = &b->stack[b->depth - 1];
    const char *ppath = top->entry == SIZE_MAX ? "" : b->ix->v[top->entry].path;
    const char *pcanon = top->entry == SIZE_MAX ? "" : b->ix->v[top->entry].canon;
    const char *sep = top->entry == SIZE_MAX ? "" : ".";
    size_t line = ev->start_mark.line + 1;
    char shown[80], hint[600], expect[512];

    if (ev->type != YAML_SCALAR_EVENT)
        return fail(b->diag, FW_ERR_PARSE, "%s:%zu: %s%s: expected a key, got %s", b->file, line, ppath,
                    *ppath ? "" : "(top level)", node_name(ev));
    const char *key = (const char *)ev->data.scalar.value;
    char *path = join(ppath, sep, key), *canon = join(pcanon, sep, key);
    size_t idx, dup;
    fw_err err = add_entry(b, path, canon, &ev->start_mark, &idx, &dup);
    if (err != FW_OK)
        return err;
    const yentry *e = &b->ix->v[idx];
    clean_text(shown, sizeof shown, e->path);
    if (strpbrk(key, ".[]") != NULL || expected_kind(e->canon, expect, sizeof expect) == NODE_NONE) {
        suggest(pcanon, ppath, key, hint, sizeof hint);
        return fail(b->diag, FW_ERR_PARSE, "%s:%zu: %s: unknown key%s", b->file, line, shown, hint);
    }
    if (dup != SIZE_MAX)
        return fail(b->diag, FW_ERR_PARSE, "%s:%zu: %s: duplicate key (first at line %zu)", b->file,
                    line, shown, b->ix->v[dup].line);
    *out = idx;
    return FW_OK;
}

/* A value node (scalar, mapping or sequence start) for entry idx: checks its kind. */
static fw_err on_value(ybuild *b, const yaml_event_t *ev, size_t idx)
{
    yentry *e = &b->ix->v[idx];
    char expect[512], shown[80];
    node_kind want = expected_kind(e->canon, expect, sizeof expect);
    node_kind got = ev->type == YAML_SCALAR_EVENT        ? NODE_SCALAR
                    : ev->type == YAML_MAPPING_START_EVENT ? NODE_MAPPING
                                                           : NODE_SEQUENCE;
    e->vline = ev->start_mark.line + 1;
    e->vcol = ev->start_mark.column + 1;
    e->kind = got;
    if (got == NODE_SCALAR) {
        e->text = strdup((const char *)ev->data.scalar.value);
        if (e->text == NULL)
            return fail(b->diag, FW_ERR_NOMEM, "%s: out of memory", b->file);
    }
    assert(want != NODE_NONE);
    if (want == got)
        return FW_OK;
    if (got == NODE_SCALAR && e->text[0] == '\0' && ev->data.scalar.plain_implicit)
        snprintf(shown, sizeof shown, "an empty value");
    else if (got == NODE_SCALAR) {
        char t[72];
        clean_text(t, sizeof t, e->text);
        snprintf(shown, sizeof shown, "'%s'", t);
    } else
        snprintf(shown, sizeof shown, "%s", node_name(ev));
    return fail(b->diag, FW_ERR_PARSE, "%s:%zu: %s: expected %s, got %s", b->file, e->line, e->path, expect,
                shown);
}

/* The arm_shapes row of a canonical path, or NULL. */
static size_t arm_shape(const char *canon)
{
    for (size_t i = 0; i < N_ARM_SHAPES; i++)
        if (strcmp(canon, arm_shapes[i].path) == 0)
            return i;
    return SIZE_MAX;
}

static fw_err push(ybuild *b, node_kind kind, size_t entry, size_t line)
{
    if (b->depth == MAX_DEPTH)
        return fail(b->diag, FW_ERR_PARSE, "%s:%zu: nesting deeper than %d levels", b->file, line,
                    MAX_DEPTH);
    frame f = { kind, entry, kind == NODE_MAPPING, 0, UINT32_MAX, 0 };
    if (kind == NODE_SEQUENCE && entry != SIZE_MAX) {
        size_t shape = arm_shape(b->ix->v[entry].canon);
        if (shape != SIZE_MAX && arm_shapes[shape].max_items > 0)
            f.max_items = arm_shapes[shape].max_items;
    }
    b->stack[b->depth++] = f;
    return FW_OK;
}

/* The end of a mapping or sequence: a sequence longer than its limit is refused here, once
 * its items are counted. */
static fw_err pop(ybuild *b)
{
    const frame *f = &b->stack[--b->depth];
    if (f->kind != NODE_SEQUENCE || f->n_items <= f->max_items)
        return FW_OK;
    const yentry *e = &b->ix->v[f->entry];
    size_t shape = arm_shape(e->canon);
    char shown[80];
    assert(shape != SIZE_MAX);
    clean_text(shown, sizeof shown, e->path);
    if (arm_shapes[shape].min_items > 0)
        return fail(b->diag, FW_ERR_RANGE,
                    "%s:%zu: %s: expected %" PRIu32 " to %" PRIu32 " %s, got %" PRIu64
                    " (the first one too many is at line %zu)",
                    b->file, e->line, shown, arm_shapes[shape].min_items, f->max_items, arm_shapes[shape].items,
                    f->n_items, f->over_line);
    return fail(b->diag, FW_ERR_RANGE,
                "%s:%zu: %s: expected at most %" PRIu32 " %s, got %" PRIu64 " (the first one too many is at "
                "line %zu)",
                b->file, e->line, shown, f->max_items, arm_shapes[shape].items, f->n_items, f->over_line);
}

/* One node event below the root. */
static fw_err on_node(ybuild *b, const yaml_event_t *ev)
{
    frame *top = &b->stack[b->depth - 1];
    size_t idx;
    fw_err err;

    if (top->kind == NODE_MAPPING && top->want_key) {
        if ((err = on_key(b, ev, &idx)) != FW_OK)
            return err;
        top->want_key = false;
        return FW_OK;
    }
    if (top->kind == NODE_MAPPING) {
        idx = b->ix->n - 1;  /* the key just added */
        top->want_key = true;
    } else {
        char item[32];
        size_t dup;
        if (top->n_items >= top->max_items) {
            /* Past the limit: counted for the message, neither indexed nor checked. */
            if (top->n_items++ == top->max_items)
                top->over_line = ev->start_mark.line + 1;
            if (ev->type != YAML_SCALAR_EVENT)
                b->skip = 1;
            return FW_OK;
        }
        const yentry *parent = &b->ix->v[top->entry];
        snprintf(item, sizeof item, "[%" PRIu64 "]", top->n_items++);
        err = add_entry(b, join(parent->path, "", item), join(parent->canon, "", "[]"), &ev->start_mark,
                        &idx, &dup);
        if (err != FW_OK)
            return err;
        assert(dup == SIZE_MAX);
    }
    if ((err = on_value(b, ev, idx)) != FW_OK)
        return err;
    if (ev->type == YAML_MAPPING_START_EVENT)
        return push(b, NODE_MAPPING, idx, ev->start_mark.line + 1);
    if (ev->type == YAML_SEQUENCE_START_EVENT)
        return push(b, NODE_SEQUENCE, idx, ev->start_mark.line + 1);
    return FW_OK;
}

static size_t line_of_offset(const unsigned char *buf, size_t len, size_t offset)
{
    size_t line = 1;
    for (size_t i = 0; i < offset && i < len; i++)
        line += buf[i] == '\n';
    return line;
}

/* Runs libyaml over the file's bytes and fills ix. An empty document gives an empty index. */
static fw_err index_build(const char *file, const unsigned char *buf, size_t len, yindex *ix, fw_diag *diag)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    ybuild b = { .file = file, .ix = ix, .depth = 0, .skip = 0, .diag = diag };
    int n_docs = 0;
    bool done = false;
    fw_err err = FW_OK;

    if (!yaml_parser_initialize(&parser))
        return fail(diag, FW_ERR_NOMEM, "%s: cannot start the YAML parser", file);
    yaml_parser_set_input_string(&parser, buf, len);
    while (!done && err == FW_OK) {
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR) {
                err = fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
                break;
            }
            size_t line = parser.error == YAML_READER_ERROR
                              ? line_of_offset(buf, len, parser.problem_offset)
                              : parser.problem_mark.line + 1;
            const char *problem = parser.problem != NULL ? parser.problem : "syntax error";
            if (parser.context != NULL)
                err = fail(diag, FW_ERR_PARSE, "%s:%zu: malformed YAML: %s (%s at line %zu)", file, line,
                           problem, parser.context, parser.context_mark.line + 1);
            else
                err = fail(diag, FW_ERR_PARSE, "%s:%zu: malformed YAML: %s", file, line, problem);
            break;
        }
        size_t line = ev.start_mark.line + 1;
        if (b.skip > 0 && ev.type != YAML_ALIAS_EVENT) {
            /* Inside an item past its sequence's limit: only its nesting is followed. */
            if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT) {
                if (b.depth + b.skip++ >= MAX_DEPTH)
                    err = fail(diag, FW_ERR_PARSE, "%s:%zu: nesting deeper than %d levels", file, line,
                               MAX_DEPTH);
            } else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
                b.skip--;
            }
            yaml_event_delete(&ev);
            continue;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++n_docs > 1)
                err = fail(diag, FW_ERR_PARSE,
                           "%s:%zu: a second YAML document; a scenario is one document", file, line);
            break;
        case YAML_ALIAS_EVENT:
            err = fail(diag, FW_ERR_PARSE, "%s:%zu: alias *%s: anchors and aliases are not supported",
                       file, line, (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (b.depth > 0) {
                err = on_node(&b, &ev);
            } else if (ev.type == YAML_MAPPING_START_EVENT) {
                err = push(&b, NODE_MAPPING, SIZE_MAX, line);
            } else if (!(ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 &&
                         ev.data.scalar.plain_implicit)) {
                err = fail(diag, FW_ERR_PARSE,
                           "%s:%zu: expected a mapping of scenario keys at the top level, got %s", file,
                           line, node_name(&ev));
            }
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            err = pop(&b);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return err;
}

/* ---------------------------------------------------------------------------------------
 * Reading the file and running libcyaml. */

/* A copy of text for messages, every control character escaped (escape_text, no length
 * limit); NULL when out of memory. */
static char *escape_dup(const char *text)
{
    size_t len = strlen(text);
    char *r = malloc(4 * len + 5);
    if (r != NULL)
        escape_text(r, 4 * len + 5, text, 4 * len);
    return r;
}

/* Reads the file at path (named shown in messages) into a new NUL-terminated buffer; at
 * most FW_SCENARIO_MAX_BYTES. */
static fw_err read_file(const char *path, const char *shown, unsigned char **out, size_t *out_len,
                        fw_diag *diag)
{
    /* Opened without blocking, so that a FIFO (or a device) is refused instead of waiting
     * for a writer; a regular file then reads as usual. */
    struct stat st;
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    fw_err err = FW_OK;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fail(diag, FW_ERR_IO, "%s: cannot open: %s", shown, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(fd);
        if (S_ISDIR(st.st_mode))
            return fail(diag, FW_ERR_IO, "%s: cannot read: %s", shown, strerror(EISDIR));
        return fail(diag, FW_ERR_IO, "%s: expected a regular file (a scenario on disk), got %s", shown,
                    S_ISFIFO(st.st_mode) ? "a pipe" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                    : S_ISSOCK(st.st_mode) ? "a socket" : strerror(e));
    }
    FILE *f = fcntl(fd, F_SETFL, 0) == 0 ? fdopen(fd, "rb") : NULL;
    if (f == NULL) {
        int e = errno;
        close(fd);
        return fail(diag, FW_ERR_IO, "%s: cannot open: %s", shown, strerror(e));
    }
    for (;;) {
        if (len > FW_SCENARIO_MAX_BYTES) {
            err = fail(diag, FW_ERR_RANGE, "%s: expected a scenario of at most %d MiB, got more", shown,
                       FW_SCENARIO_MAX_BYTES >> 20);
            break;
        }
        if (cap - len < 4096) {
            cap = cap ? 2 * cap : 16384;
            unsigned char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                err = fail(diag, FW_ERR_NOMEM, "%s: out of memory", shown);
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (err == FW_OK && ferror(f))
        err = fail(diag, FW_ERR_IO, "%s: cannot read: %s", shown, strerror(errno));
    fclose(f);
    if (err != FW_OK) {
        free(buf);
        return err;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return FW_OK;
}

typedef struct cyaml_log_buf {
    char text[4096];
    size_t len;
} cyaml_log_buf;

/* Keeps libcyaml's error log (the message and its backtrace) instead of printing it. */
PRINTF_LIKE(3, 0)
static void capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    cyaml_log_buf *lb = ctx;
    char line[256];
    if (level < CYAML_LOG_ERROR || lb->len + 1 >= sizeof lb->text)
        return;
    /* Each message cut to one short line, so that a message quoting a huge value leaves room
     * for the backtrace that names the key. */
    int w = vsnprintf(line, sizeof line, fmt, args);
    if (w < 0)
        return;
    if ((size_t)w >= sizeof line)
        memcpy(line + sizeof line - 5, "...\n", 5);
    w = snprintf(lb->text + lb->len, sizeof lb->text - lb->len, "%s", line);
    if (w > 0)
        lb->len += (size_t)w < sizeof lb->text - lb->len ? (size_t)w : sizeof lb->text - 1 - lb->len;
}

/* Turns libcyaml's log into the key it choked on. Its backtrace lists, innermost first,
 * "  in mapping field 'KEY' (line: L, column: C)" and "  in sequence entry 'I' (...)". */
static void cyaml_log_path(const char *log, char *path, size_t n, char *msg, size_t msg_n, size_t *line,
                           size_t *col)
{
    char parts[MAX_DEPTH][128];
    int n_parts = 0;
    *line = *col = 0;
    path[0] = msg[0] = '\0';
    for (const char *p = log; *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        char l[256];
        snprintf(l, sizeof l, "%.*s", (int)(len < sizeof l ? len : sizeof l - 1), p);
        p += len + (eol != NULL);

        char name[128];
        size_t ln, cn;
        unsigned idx;
        bool is_part = false;
        if (sscanf(l, "  in mapping field '%127[^']' (line: %zu, column: %zu)", name, &ln, &cn) == 3) {
            is_part = true;
        } else if (sscanf(l, "  in sequence entry '%u' (line: %zu, column: %zu)", &idx, &ln, &cn) == 3) {
            snprintf(name, sizeof name, "[%u]", idx > 0 ? idx - 1 : 0);  /* it counts from 1 */
            is_part = true;
        } else if (msg[0] == '\0' && strncmp(l, "Load: ", 6) == 0 && strcmp(l, "Load: Backtrace:") != 0) {
            snprintf(msg, msg_n, "%s", l + 6);
        }
        if (is_part && n_parts < MAX_DEPTH) {
            if (n_parts == 0) {
                *line = ln;
                *col = cn;
            }
            snprintf(parts[n_parts++], sizeof parts[0], "%s", name);
        }
    }
    size_t used = 0;
    for (int i = n_parts - 1; i >= 0 && used < n; i--) {
        const char *sep = (used == 0 || parts[i][0] == '[') ? "" : ".";
        used += (size_t)snprintf(path + used, n - used, "%s%s", sep, parts[i]);
    }
}

/* Checks an arm weight's text: a number in [FW_ARM_WEIGHT_MIN, FW_ARM_WEIGHT_MAX]. */
static fw_err check_weight_text(const char *text, char *why, size_t n)
{
    double w = 0.0;
    char shown[80];
    int rc = parse_f64(text, &w);
    clean_text(shown, sizeof shown, text);
    if (rc == 1) {
        snprintf(why, n, "expected " FW_ARM_WEIGHT_RANGE ", got '%s'", shown);
        return FW_ERR_PARSE;
    }
    if (rc == 2 || !(w >= FW_ARM_WEIGHT_MIN && w <= FW_ARM_WEIGHT_MAX)) {
        snprintf(why, n, "expected " FW_ARM_WEIGHT_RANGE ", got %s", shown);
        return FW_ERR_RANGE;
    }
    return FW_OK;
}

/* Explains a libcyaml failure as FILE:LINE: key: expected ..., got ... */
static fw_err explain_cyaml(const char *file, const yindex *ix, cyaml_err_t ce, const cyaml_log_buf *lb,
                            fw_diag *diag)
{
    char path[512], msg[256], why[768];
    size_t line, col;
    const yentry *e;
    knob_value v;

    /* The innermost frame's position is the failing value's: match it first, the path second. */
    cyaml_log_path(lb->text, path, sizeof path, msg, sizeof msg, &line, &col);
    e = NULL;
    for (size_t i = ix->n; e == NULL && line != 0 && i > 0; i--)
        if (ix->v[i - 1].vline == line && ix->v[i - 1].vcol == col)
            e = &ix->v[i - 1];
    if (e == NULL)
        e = index_find(ix, path);
    if (e == NULL)
        return fail(diag, FW_ERR_PARSE, "%s: cannot load (%s): %s", file, cyaml_strerror(ce),
                    msg[0] ? msg : "no detail");
    if (e->text != NULL) {
        const knob *k = find_knob(e->canon, strlen(e->canon));
        fw_err err = FW_OK;
        if (k != NULL)
            err = check_text(k, e->text, &v, why, sizeof why);
        else if (strcmp(e->canon, "experiment.arms[].weight") == 0)
            err = check_weight_text(e->text, why, sizeof why);
        if (err != FW_OK)
            return fail(diag, err, "%s:%zu: %s: %s", file, e->line, e->path, why);
    }
    return fail(diag, FW_ERR_PARSE, "%s:%zu: %s: rejected by the schema: %s", file, e->line, e->path,
                msg[0] ? msg : cyaml_strerror(ce));
}

/* ---------------------------------------------------------------------------------------
 * Arms and cross-knob rules. */

/* Where messages say a problem is: "--set KEY=VALUE" when the last value of the path came
 * from --set, "FILE:LINE" when the index knows the path (or an enclosing one), else "FILE". */
typedef struct where {
    const char *file;
    const yindex *ix;
    char *const *overrides;  /* --set assignments applied, in order (NULL: none) */
    uint32_t n_overrides;
} where;

static size_t where_line(const where *w, const char *path)
{
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    while (w->ix != NULL && p[0] != '\0') {
        const yentry *e = index_find(w->ix, p);
        if (e != NULL)
            return e->line;
        char *cut = strrchr(p, '.');
        char *br = strrchr(p, '[');
        if (br != NULL && (cut == NULL || br > cut))
            cut = br;
        if (cut == NULL)
            break;
        *cut = '\0';
    }
    return 0;
}

static void where_fmt(const where *w, const char *path, char *buf, size_t n)
{
    size_t plen = strlen(path);
    for (uint32_t i = w->n_overrides; w->overrides != NULL && i > 0; i--) {
        const char *o = w->overrides[i - 1];
        if (strncmp(o, path, plen) == 0 && o[plen] == '=') {
            char shown[220];
            escape_text(shown, sizeof shown, o, 200);
            snprintf(buf, n, "--set %s", shown);
            return;
        }
    }
    size_t line = where_line(w, path);
    if (line > 0)
        snprintf(buf, n, "%s:%zu", w->file, line);
    else
        snprintf(buf, n, "%s", w->file);
}

/* Where to point an error about several keys together (a sum past its bound, a minimum above
 * its maximum): the last --set of any of them -- the override that made the values clash --
 * else def's key (its line in the file). The key pointed at into *key. */
static void where_fmt_group(const where *w, const char *const *keys, size_t n, const char *def, const char **key,
                            char *buf, size_t len)
{
    for (uint32_t i = w->n_overrides; w->overrides != NULL && i > 0; i--)
        for (size_t k = 0; k < n; k++) {
            size_t plen = strlen(keys[k]);
            if (strncmp(w->overrides[i - 1], keys[k], plen) == 0 && w->overrides[i - 1][plen] == '=') {
                *key = keys[k];
                where_fmt(w, keys[k], buf, len);   /* that key's last override: this one */
                return;
            }
        }
    *key = def;
    where_fmt(w, def, buf, len);
}

/* Parses "key.path=value" into its knob and value (borrowing the text); arm restricts the
 * keys to those an experiment arm may override. */
static fw_err parse_assignment(const char *a, bool arm, const knob **kout, knob_value *v, char *why,
                               size_t n)
{
    const char *eq = strchr(a, '=');
    if (eq == NULL || eq == a) {
        snprintf(why, n, "expected KEY=VALUE, e.g. behaviour.stop_base=0.05");
        return FW_ERR_PARSE;
    }
    const knob *k = find_knob(a, (size_t)(eq - a));
    if (k == NULL) {
        explain_unknown(a, (size_t)(eq - a), why, n);
        return FW_ERR_PARSE;
    }
    if (arm && sections[k->sec].part == PART_NONE) {
        snprintf(why, n, "an arm may only set behaviour.* and engine.* keys");
        return FW_ERR_PARSE;
    }
    *kout = k;
    return check_text(k, eq + 1, v, why, n);
}

/* The knob an assignment that passed parse_assignment names. */
static const knob *assignment_knob(const char *a)
{
    const char *eq = strchr(a, '=');
    const knob *k = eq != NULL ? find_knob(a, (size_t)(eq - a)) : NULL;
    assert(k != NULL);
    return k;
}

/* Frees the STR knobs of a behaviour and engine configuration (an arm's, a combination's). */
static void cfg_free_strings(fw_behaviour_cfg *b, fw_engine_cfg *e)
{
    for (size_t i = 0; i < N_KNOBS; i++) {
        char **p = knobs[i].type == KNOB_STR ? field_in_cfg(&knobs[i], b, e) : NULL;
        if (p != NULL) {
            free(*p);
            *p = NULL;
        }
    }
}

/* Makes b and e a copy of the base's behaviour and engine that owns its strings. b and e hold
 * no string of their own on entry; on failure they hold none either. */
static fw_err cfg_copy_base(const fw_scenario *s, fw_behaviour_cfg *b, fw_engine_cfg *e)
{
    *b = s->behaviour;
    *e = s->engine;
    for (size_t i = 0; i < N_KNOBS; i++) {
        char **p = knobs[i].type == KNOB_STR ? field_in_cfg(&knobs[i], b, e) : NULL;
        if (p != NULL)
            *p = NULL;  /* the base's, not ours: never freed here */
    }
    for (size_t i = 0; i < N_KNOBS; i++) {
        void *p = knobs[i].type == KNOB_STR ? field_in_cfg(&knobs[i], b, e) : NULL;
        if (p == NULL)
            continue;
        knob_value v = get_value(&knobs[i], (const char *)s + knobs[i].offset);
        if (put_value(&knobs[i], p, &v) != FW_OK) {
            cfg_free_strings(b, e);
            return FW_ERR_NOMEM;
        }
    }
    return FW_OK;
}

/* The one code path of arm overrides: applies sets[0..n) to b and e in order. Every
 * assignment is checked before any is stored, so a bad one changes nothing; its check's code
 * comes back with *bad its index and why filled. FW_ERR_NOMEM may leave some applied. */
static fw_err apply_sets(char *const *sets, uint32_t n, fw_behaviour_cfg *b, fw_engine_cfg *e, uint32_t *bad,
                         char *why, size_t wn)
{
    const knob *k = NULL;
    knob_value v;
    for (uint32_t j = 0; j < n; j++) {
        assert(sets[j] != NULL);
        fw_err err = parse_assignment(sets[j], true, &k, &v, why, wn);
        if (err != FW_OK) {
            *bad = j;
            return err;
        }
    }
    for (uint32_t j = 0; j < n; j++) {
        fw_err err = parse_assignment(sets[j], true, &k, &v, why, wn);
        assert(err == FW_OK);
        (void)err;
        if (put_value(k, field_in_cfg(k, b, e), &v) != FW_OK) {
            *bad = j;
            snprintf(why, wn, "out of memory");
            return FW_ERR_NOMEM;
        }
    }
    return FW_OK;
}

/* Whether the scenario lets an arm set knob k (its scope, under the experiment's isolation
 * and budget split); when not, why says so. */
/* The knobs read under a creator's cell in a producer-side experiment (experiment.unit:
 * creator), where every viewer is served and behaves as the control's users: the baseline
 * feed's scoring of a note (engine/src/feed.c: the weights, freshness and recency under the
 * note's creator's cell, and the trending pools those cells keep) and the marketplace's review
 * and payment of a creator's tasks (engine/src/market.c, fw_creator_cell). Any other knob an
 * arm set there would be read by nobody. */
static bool producer_side_knob(const char *path)
{
    static const char *const read[] = {
        "engine.feed.w_follow",        "engine.feed.w_trending",     "engine.feed.w_fresh",
        "engine.feed.fresh_age_h",     "engine.feed.recency_half_life_h",
        "engine.feed.trending_half_life_h", "engine.feed.w_open",    "engine.feed.w_like",
        "engine.feed.w_save",          "engine.feed.w_comment",      "engine.market.review_pass",
        "engine.market.deliver_days",  "engine.market.settle_days",
    };
    for (size_t i = 0; i < sizeof read / sizeof read[0]; i++)
        if (strcmp(path, read[i]) == 0)
            return true;
    return false;
}

static bool arm_may_set(const fw_scenario *s, const knob *k, char *why, size_t n)
{
    if (s->experiment_unit == FW_UNIT_CREATOR && !producer_side_knob(k->path)) {
        snprintf(why, n,
                 "with experiment.unit creator (every viewer is served and behaves as the control's users; an "
                 "arm acts only through how the baseline feed scores its creators' notes, engine.feed.w_* and "
                 "its freshness and recency knobs, and how the marketplace reviews and pays its creators' "
                 "tasks, engine.market.review_pass, deliver_days and settle_days) it is one value per run; "
                 "arms may not set it");
        return false;
    }
    bool per_arm = s->experiment_isolation == FW_ISOLATION_PER_ARM, split = s->experiment_budget_split;
    if (fw_knob_scope_arm_ok(k->scope, per_arm, split) && sections[k->sec].part != PART_NONE)
        return true;
    const char *under = "";
    if (k->scope == FW_SCOPE_ISO || (k->scope == FW_SCOPE_OWN && !per_arm))
        under = "with experiment.isolation: shared (every arm learns one model) ";
    else if (k->scope == FW_SCOPE_SPLIT || k->scope == FW_SCOPE_OWN)
        under = "with experiment.budget_split: false (every arm spends one budget) ";
    snprintf(why, n, "%sit is one value per run; arms may not set it", under);
    return false;
}

/* Arm i = the base's behaviour and engine, then the arm's set list in order. A key whose
 * scope keeps it one value per run is refused first, naming the key. */
static fw_err resolve_arm(fw_scenario *s, uint32_t i, const where *w, fw_diag *diag)
{
    fw_arm *a = &s->arms[i];
    char why[768], at[600], path[64], shown[80];
    uint32_t bad = 0;
    fw_err err;

    for (uint32_t j = 0; j < a->n_set; j++) {
        const char *eq = strchr(a->set[j], '=');
        const knob *k = eq != NULL ? find_knob(a->set[j], (size_t)(eq - a->set[j])) : NULL;
        if (k == NULL || arm_may_set(s, k, why, sizeof why))
            continue;
        snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "].set[%" PRIu32 "]", i, j);
        where_fmt(w, path, at, sizeof at);
        clean_text(shown, sizeof shown, a->name != NULL ? a->name : "");
        return fail(diag, FW_ERR_PARSE, "%s: %s: arm '%s' sets it, but %s", at, k->path, shown, why);
    }

    cfg_free_strings(&a->behaviour, &a->engine);
    if (cfg_copy_base(s, &a->behaviour, &a->engine) != FW_OK)
        return fail(diag, FW_ERR_NOMEM, "%s: out of memory", w->file);
    err = apply_sets(a->set, a->n_set, &a->behaviour, &a->engine, &bad, why, sizeof why);
    if (err == FW_ERR_NOMEM)
        return fail(diag, FW_ERR_NOMEM, "%s: out of memory", w->file);
    if (err != FW_OK) {
        snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "].set[%" PRIu32 "]", i, bad);
        where_fmt(w, path, at, sizeof at);
        clean_text(shown, sizeof shown, a->set[bad]);
        return fail(diag, err, "%s: %s: %s: %s", at, path, shown, why);
    }
    return FW_OK;
}

/* like_share + save_share <= 1: a share of interactions is left for comments. */
static fw_err check_shares(const fw_behaviour_cfg *b, const char *at, const char *what, fw_diag *diag)
{
    if (b->like_share + b->save_share <= 1.0)
        return FW_OK;
    return fail(diag, FW_ERR_RANGE,
                "%s: %sbehaviour.like_share + behaviour.save_share: expected a sum <= 1, got %.6g + %.6g = %.6g",
                at, what, b->like_share, b->save_share, b->like_share + b->save_share);
}

/* delivery_days_min <= delivery_days_max: a parcel's delivery is drawn between them. */
static fw_err check_delivery(const fw_engine_cfg *e, const char *at, const char *what, fw_diag *diag)
{
    if (e->shop.delivery_days_min <= e->shop.delivery_days_max)
        return FW_OK;
    return fail(diag, FW_ERR_RANGE,
                "%s: %sengine.shop.delivery_days_min: expected at most engine.shop.delivery_days_max (%" PRIu32
                "), got %" PRIu32, at, what, e->shop.delivery_days_max, e->shop.delivery_days_min);
}

/* engine.search.max_postings counts only under retrieval newest (the capped scan): there it
 * must read at least one posting, elsewhere it would do nothing, so it must be 0. */
/* engine.privacy's rules between knobs (flywheel/privacy.h), for the base (at: the key's line),
 * an arm or a combination of arms. */
static fw_err check_privacy(const fw_engine_cfg *e, const char *at, const char *what, fw_diag *diag)
{
    char why[512];
    if (fw_privacy_cfg_check(e, why, sizeof why) == FW_OK)
        return FW_OK;
    return fail(diag, FW_ERR_RANGE, "%s: %s%s", at, what, why);
}

/* The base's privacy problem, located at the line of the knob it names. */
static fw_err check_privacy_base(const fw_scenario *s, const where *w, fw_diag *diag)
{
    char why[512], key[64], at[600];
    if (fw_privacy_cfg_check(&s->engine, why, sizeof why) != FW_OK) {
        size_t n = strcspn(why, ":");
        snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : sizeof key - 1), why);
        if (index_find(w->ix, key) == NULL)
            snprintf(key, sizeof key, "%s",
                     index_find(w->ix, "engine.privacy.dp") != NULL ? "engine.privacy.dp" : "engine.feed.algorithm");
        where_fmt(w, key, at, sizeof at);
        return fail(diag, FW_ERR_RANGE, "%s: %s", at, why);
    }
    return FW_OK;
}

/* engine.privacy.clip (one value per run) bounds the DP releases' contributions: with dp off
 * in the base and every arm (resolved) it does nothing. */
static fw_err check_privacy_clip(const fw_scenario *s, const where *w, fw_diag *diag)
{
    char at[600];
    /* clip bounds the DP releases' contributions: with dp off in every arm it does nothing. */
    int dp = s->engine.privacy.dp != FW_DP_OFF;
    for (uint32_t i = 0; i < s->n_arms; i++)
        dp |= s->arms[i].engine.privacy.dp != FW_DP_OFF;
    int honour = s->engine.privacy.honour_optout != 1;
    for (uint32_t i = 0; i < s->n_arms; i++)
        honour |= s->arms[i].engine.privacy.honour_optout != 1;
    if (honour && !(s->world.optout_share > 0.0)) {
        where_fmt(w, index_find(w->ix, "engine.privacy.honour_optout") != NULL ? "engine.privacy.honour_optout"
                                                                              : "experiment.arms",
                  at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: engine.privacy.honour_optout: 0 (in the base or an arm) would do nothing: "
                    "world.optout_share is 0, nobody opted out; leave it at 1",
                    at);
    }
    if (!dp && s->engine.privacy.clip != 16) {
        where_fmt(w, "engine.privacy.clip", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: engine.privacy.clip: %" PRIu32 " would do nothing: engine.privacy.dp is off in the base "
                    "and every arm; leave it at its default 16",
                    at, s->engine.privacy.clip);
    }
    return FW_OK;
}

static fw_err check_search(const fw_engine_cfg *e, const char *at, const char *what, fw_diag *diag)
{
    if ((e->search.retrieval == FW_RETRIEVAL_NEWEST) == (e->search.max_postings > 0))
        return FW_OK;
    if (e->search.max_postings > 0)
        return fail(diag, FW_ERR_RANGE,
                    "%s: %sengine.search.max_postings: %" PRIu32 " does nothing unless engine.search.retrieval is "
                    "newest (exact, exhaustive and pruned read every posting they need); set it to 0 or set retrieval: newest",
                    at, what, e->search.max_postings);
    return fail(diag, FW_ERR_RANGE,
                "%s: %sengine.search.max_postings: retrieval newest needs the postings to read per word, at least 1 "
                "(for example 2000), got 0",
                at, what);
}

/* A layer name becomes an HDF5 group and a salt: ASCII letters, digits, '_' and '-' only. */
/* Names the recorder gives datasets and groups that sit beside the arms' groups (/days/day,
 * /experiment/{metric, units, days, counterfactual}, /experiment/days/{day, look,
 * alpha_spent}, /replicates/{seed, srm_p}), and the HDF5 path components "." and "..": an arm
 * so named would collide with them (sim/io/recorder.c). */
static bool arm_name_reserved(const char *name)
{
    static const char *const reserved[] = { ".", "..", "day", "days", "look", "alpha_spent", "metric",
                                            "units", "counterfactual", "seed", "srm_p" };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(name, reserved[i]) == 0)
            return true;
    return false;
}

static bool layer_name_ok(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

/* Groups the arms into layers: in order of first appearance, each with its arms in file order.
 * Returns the number of combinations of one arm per layer (at most 16^16: no overflow). */
static uint64_t group_layers(const fw_scenario *s, fw_layer layers[FW_MAX_ARMS], uint32_t *n_layers)
{
    uint64_t cells = 1;
    *n_layers = 0;
    for (uint32_t i = 0; i < s->n_arms; i++) {
        uint32_t l = 0;
        while (l < *n_layers && strcmp(layers[l].name, s->arms[i].layer) != 0)
            l++;
        if (l == *n_layers) {
            assert(l < FW_MAX_ARMS);
            layers[l].name = s->arms[i].layer;
            layers[l].n_arms = 0;
            (*n_layers)++;
        }
        layers[l].arm[layers[l].n_arms++] = i;
    }
    for (uint32_t l = 0; l < *n_layers; l++)
        cells *= layers[l].n_arms;
    return cells;
}

/* Arms of different layers override disjoint keys: a unit's configuration is then the same
 * whatever order its arms' overrides are applied in. One pass: owner[k] is the first arm that
 * sets knob k; until a conflict is found every arm that set k is in owner's layer, so the
 * first conflict of (arm i, entry j) is with owner[k] -- the arm the pairwise scan would have
 * named -- at O(total entries) cost instead of O(entries^2). */
static fw_err check_disjoint(const fw_scenario *s, const where *w, fw_diag *diag)
{
    char at[600], path[64], name[80], layer[80];
    uint32_t owner[N_KNOBS];  /* arm index + 1; 0: no arm sets the knob yet */
    memset(owner, 0, sizeof owner);
    for (uint32_t i = 0; i < s->n_arms; i++) {
        const fw_arm *a = &s->arms[i];
        for (uint32_t j = 0; j < a->n_set; j++) {
            const knob *k = assignment_knob(a->set[j]);
            size_t ki = (size_t)(k - knobs);
            if (owner[ki] == 0) {
                owner[ki] = i + 1;
                continue;
            }
            const fw_arm *o = &s->arms[owner[ki] - 1];
            if (strcmp(o->layer, a->layer) == 0)
                continue;
            snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "].set[%" PRIu32 "]", i, j);
            where_fmt(w, path, at, sizeof at);
            clean_text(name, sizeof name, o->name);
            clean_text(layer, sizeof layer, o->layer);
            return fail(diag, FW_ERR_PARSE,
                        "%s: %s: %s is also set by arm '%s' in layer '%s'; layers must set disjoint keys", at,
                        path, k->path, name, layer);
        }
    }
    return FW_OK;
}

/* Every combination of one arm per layer obeys the cross-knob rules too: two layers may each
 * raise one share of a sum. Cell c takes arm layers[l].arm[(c / prod of earlier sizes) % size]. */
static fw_err check_cells(const fw_scenario *s, const fw_layer *layers, uint32_t n_layers, uint64_t cells,
                          const where *w, fw_diag *diag)
{
    char at[600], why[768], what[900], shown[80];
    fw_behaviour_cfg b;
    fw_engine_cfg e;
    uint32_t bad = 0;
    fw_err err = FW_OK;

    if (n_layers < 2)
        return FW_OK;  /* the combinations are the arms, already checked */
    for (uint64_t c = 0; c < cells && err == FW_OK; c++) {
        uint64_t rest = c;
        if (cfg_copy_base(s, &b, &e) != FW_OK)
            return fail(diag, FW_ERR_NOMEM, "%s: out of memory", w->file);
        size_t used = (size_t)snprintf(what, sizeof what, "experiment.arms (arms");
        for (uint32_t l = 0; l < n_layers && err == FW_OK; l++) {
            const fw_arm *a = &s->arms[layers[l].arm[rest % layers[l].n_arms]];
            rest /= layers[l].n_arms;
            err = apply_sets(a->set, a->n_set, &b, &e, &bad, why, sizeof why);
            assert(err == FW_OK || err == FW_ERR_NOMEM);  /* each arm resolved already */
            if (err != FW_OK)
                err = fail(diag, FW_ERR_NOMEM, "%s: out of memory", w->file);
            clean_text(shown, sizeof shown, a->name);
            if (used < sizeof what)
                used += (size_t)snprintf(what + used, sizeof what - used, "%s '%s' in layer '%s'",
                                         l > 0 ? "," : "", shown, layers[l].name);
        }
        if (used < sizeof what)
            snprintf(what + used, sizeof what - used, " together): ");
        if (err == FW_OK) {
            where_fmt(w, "experiment.arms", at, sizeof at);
            err = check_shares(&b, at, what, diag);
            if (err == FW_OK)
                err = check_delivery(&e, at, what, diag);
            if (err == FW_OK)
                err = check_search(&e, at, what, diag);
            if (err == FW_OK)
                err = check_privacy(&e, at, what, diag);
        }
        cfg_free_strings(&b, &e);
    }
    return err;
}

/* Every rule a finished scenario obeys: stored values in range, arm count, names, layers and
 * weights, arm overrides (and disjoint across layers), like_share + save_share <= 1 and
 * engine.shop.delivery_days_min <= delivery_days_max in the base,
 * each arm and each combination of arms, world.creator_share > 0 (someone posts the notes). Resolves the arms on the way and fills s->layers on
 * success (n_layers is 0 after a failure); an arm a program left without a layer is put in
 * DEFAULT_LAYER. */
/* The scenario name becomes a file name (output.dir/NAME.h5, NAME_bench.h5, NAME.prev.h5), so
 * it must be one safe path component: 1 to 100 bytes of ASCII letters, digits, '_', '-', '.'
 * or non-ASCII UTF-8, not starting with '.'. Anything else (a '/', "..", an empty or hidden
 * name, spaces, control characters) could write outside output.dir or hide the file. NULL
 * when name is safe, else what is wrong. */
static const char *name_problem(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0)
        return "is empty";
    if (n > 100)
        return "is longer than 100 bytes";
    if (name[0] == '.')
        return "starts with '.' (a hidden file, or a path like ..)";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return c == '/' ? "contains '/' (a path, not a name)"
                            : "contains a character other than a letter, digit, '_', '-' or '.'";
    }
    return NULL;
}

double fw_scenario_events_bytes(const fw_scenario *s)
{
    if (!s->output.events)
        return 0.0;
    double active = s->world.activity_a / (s->world.activity_a + s->world.activity_b);
    /* every user who may be present: the run's arrivals too (issue 18) */
    double users = (double)s->world.n_users + (double)s->world.arrivals_per_day * ((double)s->days + s->world.warmup_days);
    return users * s->output.events_sample * active * (double)s->days * s->world.sessions_mean *
           FW_EVENTS_ROWS_PER_SESSION * FW_EVENTS_BYTES_PER_ROW;
}

/* "1.23 GiB", "456 MiB" or "789 KiB". */
static void fmt_bytes(char *buf, size_t n, double b)
{
    if (b >= 1073741824.0)
        snprintf(buf, n, "%.2f GiB", b / 1073741824.0);
    else if (b >= 1048576.0)
        snprintf(buf, n, "%.0f MiB", b / 1048576.0);
    else
        snprintf(buf, n, "%.0f KiB", b / 1024.0);
}

/* ---------------------------------------------------------------------------------------
 * Promotions: coupons and promotion days. libcyaml skips the section; its values are read
 * here from the index (so every message names FILE:LINE and the key), with the parsers the
 * knobs use; the rules across sections (days of the run, brands, arms) are check_promotions'. */

static void promotions_free(fw_scenario *s)
{
    for (uint32_t i = 0; s->coupons != NULL && i < s->n_coupons; i++) {
        free(s->coupons[i].name);
        for (uint32_t j = 0; j < s->coupons[i].n_arms; j++)
            free(s->coupons[i].arms[j]);
        free(s->coupons[i].arms);
    }
    free(s->coupons);
    for (uint32_t i = 0; s->promo_days != NULL && i < s->n_promo_days; i++)
        free(s->promo_days[i].name);
    free(s->promo_days);
    s->coupons = NULL;
    s->promo_days = NULL;
    s->n_coupons = s->n_promo_days = 0;
}

/* The text of a promotions value as an integer in [lo, hi] or a number in [lo, hi] (open at
 * an end when open_lo / open_hi). */
static fw_err promo_u64(const char *file, const yentry *e, uint64_t lo, uint64_t hi, const char *what, uint64_t *out,
                        fw_diag *diag)
{
    char shown[80];
    uint64_t v = 0;
    int r = parse_u64(e->text, &v);
    if (r == 0 && v >= lo && v <= hi) {
        *out = v;
        return FW_OK;
    }
    clean_text(shown, sizeof shown, e->text);
    return fail(diag, r == 1 ? FW_ERR_PARSE : FW_ERR_RANGE, "%s:%zu: %s: expected %s, got '%s'", file, e->line,
                e->path, what, shown);
}

static fw_err promo_f64(const char *file, const yentry *e, double lo, double hi, bool open_lo, bool open_hi,
                        const char *what, double *out, fw_diag *diag)
{
    char shown[80];
    double v = 0.0;
    int r = parse_f64(e->text, &v);
    if (r == 0 && (open_lo ? v > lo : v >= lo) && (open_hi ? v < hi : v <= hi)) {
        *out = v;
        return FW_OK;
    }
    clean_text(shown, sizeof shown, e->text);
    return fail(diag, r == 1 ? FW_ERR_PARSE : FW_ERR_RANGE, "%s:%zu: %s: expected %s, got '%s'", file, e->line,
                e->path, what, shown);
}

#define PROMO_NO_DAY UINT32_MAX   /* last_day absent: the run's last day */

/* Reads promotions.coupons and promotions.days from the index into s (replacing none: a
 * scenario has them only from its file). */
static fw_err parse_promotions(const char *file, const yindex *ix, fw_scenario *s, fw_diag *diag)
{
    fw_coupon_cfg *cp = NULL;
    fw_promo_day *pd = NULL;
    uint64_t u = 0;
    fw_err err = FW_OK;
    for (size_t i = 0; i < ix->n && err == FW_OK; i++) {
        const yentry *e = &ix->v[i];
        const char *c = e->canon;
        if (strncmp(c, "promotions.", 11) != 0)
            continue;
        c += 11;
        if (strcmp(c, "coupons") == 0 && e->kind == NODE_SEQUENCE) {
            s->coupons = calloc(FW_MAX_COUPONS, sizeof *s->coupons);
            if (s->coupons == NULL)
                return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
        } else if (strcmp(c, "days") == 0 && e->kind == NODE_SEQUENCE) {
            s->promo_days = calloc(FW_MAX_PROMO_DAYS, sizeof *s->promo_days);
            if (s->promo_days == NULL)
                return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
        } else if (strcmp(c, "coupons[]") == 0) {
            assert(s->coupons != NULL && s->n_coupons < FW_MAX_COUPONS);
            cp = &s->coupons[s->n_coupons++];
            *cp = (fw_coupon_cfg){ .issuer = FW_COUPON_PLATFORM, .kind = FW_COUPON_FIXED, .last_day = PROMO_NO_DAY,
                                   .validity_days = 3, .claim_rate = 0.2 };
            if (e->kind != NODE_MAPPING)
                return fail(diag, FW_ERR_PARSE, "%s:%zu: %s: expected a coupon: a mapping (- name: NAME ...)", file,
                            e->line, e->path);
        } else if (strcmp(c, "days[]") == 0) {
            assert(s->promo_days != NULL && s->n_promo_days < FW_MAX_PROMO_DAYS);
            pd = &s->promo_days[s->n_promo_days++];
            *pd = (fw_promo_day){ .day = PROMO_NO_DAY, .traffic = 1.0, .intent = 1.0 };
            if (e->kind != NODE_MAPPING)
                return fail(diag, FW_ERR_PARSE, "%s:%zu: %s: expected a promotion day: a mapping (- day: N ...)",
                            file, e->line, e->path);
        } else if (strcmp(c, "coupons[].arms[]") == 0 && cp != NULL && e->kind == NODE_SCALAR) {
            if (cp->arms == NULL && (cp->arms = calloc(FW_MAX_ARMS, sizeof *cp->arms)) == NULL)
                return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
            if ((cp->arms[cp->n_arms] = strdup(e->text)) == NULL)
                return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
            cp->n_arms++;
        } else if (strncmp(c, "coupons[].", 10) == 0 && cp != NULL && e->kind == NODE_SCALAR) {
            const char *k = c + 10;
            if (strcmp(k, "name") == 0) {
                if (!layer_name_ok(e->text)) {
                    char shown[80];
                    clean_text(shown, sizeof shown, e->text);
                    return fail(diag, FW_ERR_PARSE, "%s:%zu: %s: expected a coupon name of letters, digits, '_' or "
                                "'-', got '%s'", file, e->line, e->path, shown);
                }
                free(cp->name);
                if ((cp->name = strdup(e->text)) == NULL)
                    return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
            } else if (strcmp(k, "issuer") == 0) {
                if (strcmp(e->text, "platform") == 0 || strcmp(e->text, "brand") == 0) {
                    cp->issuer = e->text[0] == 'p' ? FW_COUPON_PLATFORM : FW_COUPON_BRAND;
                } else {
                    char shown[80];
                    clean_text(shown, sizeof shown, e->text);
                    return fail(diag, FW_ERR_PARSE, "%s:%zu: %s: expected platform or brand, got '%s'", file,
                                e->line, e->path, shown);
                }
            } else if (strcmp(k, "brand") == 0) {
                err = promo_u64(file, e, 0, UINT32_MAX - 1, "a brand id", &u, diag);
                cp->brand = (uint32_t)u;
            } else if (strcmp(k, "off_cents") == 0) {
                err = promo_u64(file, e, 1, UINT64_C(1000000000000), "a discount in cents, an integer >= 1",
                                &cp->off_cents, diag);
            } else if (strcmp(k, "percent") == 0) {
                err = promo_f64(file, e, 0.0, 100.0, true, true, "a percentage in (0, 100)", &cp->percent, diag);
                cp->kind = FW_COUPON_PERCENT;
            } else if (strcmp(k, "threshold_cents") == 0) {
                err = promo_u64(file, e, 0, UINT64_C(1000000000000), "an order value in cents", &cp->threshold_cents,
                                diag);
            } else if (strcmp(k, "budget_cents") == 0) {
                err = promo_u64(file, e, 1, UINT64_C(1000000000000000), "a budget in cents, an integer >= 1",
                                &cp->budget_cents, diag);
            } else if (strcmp(k, "first_day") == 0 || strcmp(k, "last_day") == 0) {
                err = promo_u64(file, e, 0, 1000000, "a day of the run, an integer >= 0", &u, diag);
                *(k[0] == 'f' ? &cp->first_day : &cp->last_day) = (uint32_t)u;
            } else if (strcmp(k, "validity_days") == 0) {
                err = promo_u64(file, e, 1, 3650, "days a claim stays usable, an integer in [1, 3650]", &u, diag);
                cp->validity_days = (uint32_t)u;
            } else if (strcmp(k, "claim_rate") == 0) {
                err = promo_f64(file, e, 0.0, 1.0, false, false, "a probability in [0, 1]", &cp->claim_rate, diag);
            }
        } else if (strncmp(c, "days[].", 7) == 0 && pd != NULL && e->kind == NODE_SCALAR) {
            const char *k = c + 7;
            if (strcmp(k, "day") == 0) {
                err = promo_u64(file, e, 0, 1000000, "a day of the run, an integer >= 0", &u, diag);
                pd->day = (uint32_t)u;
            } else if (strcmp(k, "name") == 0) {
                free(pd->name);
                if ((pd->name = strdup(e->text)) == NULL)
                    return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
            } else if (strcmp(k, "traffic") == 0 || strcmp(k, "intent") == 0) {
                err = promo_f64(file, e, 1.0, 10.0, false, false, "a multiplier in [1, 10]",
                                k[0] == 't' ? &pd->traffic : &pd->intent, diag);
            } else if (strcmp(k, "discount_percent") == 0) {
                err = promo_f64(file, e, 0.0, 100.0, false, true, "a percentage in [0, 100)", &pd->discount_percent,
                                diag);
            }
        }
    }
    return err;
}

/* The promotions' rules across sections: coupons named once, with a discount (fixed within
 * its threshold, or a percentage), a brand that exists, claim days within the run and arms
 * that exist; promotion days within the run, each once. */
static fw_err check_promotions(fw_scenario *s, const where *w, fw_diag *diag)
{
    char at[600], path[96], shown[80];
    for (uint32_t i = 0; i < s->n_coupons; i++) {
        fw_coupon_cfg *cp = &s->coupons[i];
#define AT(key) (snprintf(path, sizeof path, "promotions.coupons[%" PRIu32 "]%s", i, key), where_fmt(w, path, at, sizeof at))
        if (cp->name == NULL) {
            AT("");
            return fail(diag, FW_ERR_PARSE, "%s: %s: expected a name (- name: NAME)", at, path);
        }
        clean_text(shown, sizeof shown, cp->name);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(s->coupons[j].name, cp->name) == 0) {
                AT(".name");
                return fail(diag, FW_ERR_PARSE, "%s: %s: coupon '%s' is defined twice", at, path, shown);
            }
        if (cp->kind == FW_COUPON_PERCENT && cp->off_cents > 0) {
            AT(".percent");
            return fail(diag, FW_ERR_PARSE, "%s: %s: coupon '%s' sets both off_cents and percent; expected one",
                        at, path, shown);
        }
        if (cp->kind == FW_COUPON_FIXED && cp->off_cents == 0) {
            AT("");
            return fail(diag, FW_ERR_PARSE, "%s: %s: coupon '%s' has no discount; expected off_cents or percent", at,
                        path, shown);
        }
        if (cp->kind == FW_COUPON_FIXED && cp->off_cents > cp->threshold_cents) {
            AT(".off_cents");
            return fail(diag, FW_ERR_RANGE,
                        "%s: %s: coupon '%s' takes %" PRIu64 " cents off orders from %" PRIu64 " cents: expected a "
                        "discount no greater than threshold_cents (an order is never paid below zero)",
                        at, path, shown, cp->off_cents, cp->threshold_cents);
        }
        if (cp->budget_cents == 0) {
            AT("");
            return fail(diag, FW_ERR_RANGE, "%s: %s: coupon '%s' has no budget; expected budget_cents >= 1", at, path,
                        shown);
        }
        if (cp->issuer == FW_COUPON_BRAND && cp->brand >= s->world.n_brands) {
            AT(".brand");
            return fail(diag, FW_ERR_RANGE, "%s: %s: expected a brand id below world.n_brands (%" PRIu32 "), got %" PRIu32,
                        at, path, s->world.n_brands, cp->brand);
        }
        uint32_t last = cp->last_day == PROMO_NO_DAY ? s->days - 1 : cp->last_day;
        if (cp->first_day >= s->days || last >= s->days || cp->first_day > last) {
            AT(cp->first_day >= s->days || cp->first_day > last ? ".first_day" : ".last_day");
            return fail(diag, FW_ERR_RANGE,
                        "%s: %s: coupon '%s' is claimable on days %" PRIu32 " to %" PRIu32 ": expected days of the run "
                        "(0 to %" PRIu32 "), first_day <= last_day",
                        at, path, shown, cp->first_day, last, s->days - 1);
        }
        for (uint32_t j = 0; j < cp->n_arms; j++) {
            uint32_t a = 0;
            while (a < s->n_arms && strcmp(s->arms[a].name, cp->arms[j]) != 0)
                a++;
            if (a == s->n_arms) {
                char an[80];
                snprintf(path, sizeof path, "promotions.coupons[%" PRIu32 "].arms[%" PRIu32 "]", i, j);
                where_fmt(w, path, at, sizeof at);
                clean_text(an, sizeof an, cp->arms[j]);
                return fail(diag, FW_ERR_PARSE, "%s: %s: no arm is called '%s' (experiment.arms)", at, path, an);
            }
        }
#undef AT
    }
    for (uint32_t i = 0; i < s->n_promo_days; i++) {
        const fw_promo_day *pd = &s->promo_days[i];
        snprintf(path, sizeof path, "promotions.days[%" PRIu32 "].day", i);
        where_fmt(w, path, at, sizeof at);
        if (pd->day == PROMO_NO_DAY)
            return fail(diag, FW_ERR_PARSE, "%s: %s: expected the day (- day: N)", at, path);
        if (pd->day >= s->days)
            return fail(diag, FW_ERR_RANGE,
                        "%s: %s: expected a day of the run, 0 to %" PRIu32 " (days: %" PRIu32 "), got %" PRIu32, at,
                        path, s->days - 1, s->days, pd->day);
        for (uint32_t j = 0; j < i; j++)
            if (s->promo_days[j].day == pd->day)
                return fail(diag, FW_ERR_PARSE, "%s: %s: day %" PRIu32 " is a promotion day twice", at, path, pd->day);
    }
    return FW_OK;
}

const fw_promo_day *fw_scenario_promo_day(const fw_scenario *s, uint32_t day)
{
    for (uint32_t i = 0; i < s->n_promo_days; i++)
        if (s->promo_days[i].day == day)
            return &s->promo_days[i];
    return NULL;
}

/* Knobs given a value other than their default where another knob switches their mechanism
 * off, so that they would do nothing: refused. The base's point at the key's own line; an
 * arm's (arm_at, what) at its set list. Value-based, so that a resolved scenario (every key
 * written at its value) reloads. */
/* A knob whose mechanism is off, given a value other than its default: it would do nothing. */
typedef struct idle_row {
    const char *key;
    double value;
    bool idle;          /* its mechanism is off */
    const char *off;    /* what is off, for the message */
} idle_row;

/* The default of knob k as a number (its F64 default, else its integer one). */
static double knob_default(const knob *k)
{
    return k->type == KNOB_F64 ? k->def_f : (double)k->def_u;
}

/* Refuses the first of rows[0..n) that is idle and not at its default: at the key's line in
 * the base (arm_at NULL), else at the arm's set list (arm_at, what), where world.* keys are
 * skipped (an arm cannot set them; the base's check speaks for them). */
static fw_err refuse_idle(const idle_row *rows, size_t n, const where *w, const char *arm_at, const char *what,
                          fw_diag *diag)
{
    char at[600];
    for (size_t r = 0; r < n; r++) {
        const knob *k = find_knob(rows[r].key, strlen(rows[r].key));
        if (k == NULL || !rows[r].idle || rows[r].value == knob_default(k) ||
            (arm_at != NULL && rows[r].key[0] == 'w'))
            continue;
        if (arm_at == NULL)
            where_fmt(w, rows[r].key, at, sizeof at);
        if (k->type == KNOB_ENUM)
            return fail(diag, FW_ERR_RANGE, "%s: %s: %s%s would do nothing: %s; leave it at its default %s",
                        arm_at != NULL ? arm_at : at, rows[r].key, what, enum_name(k, (uint64_t)rows[r].value),
                        rows[r].off, enum_name(k, k->def_u));
        return fail(diag, FW_ERR_RANGE, "%s: %s: %s%.6g would do nothing: %s; leave it at its default %.6g",
                    arm_at != NULL ? arm_at : at, rows[r].key, what, rows[r].value, rows[r].off, knob_default(k));
    }
    return FW_OK;
}

/* Whether arm named name can change what users of arm sees: it is arm itself, or an arm of
 * another layer (a cell combines one arm of every layer). */
static bool reaches_arm(const fw_scenario *s, const fw_arm *arm, const char *name)
{
    for (uint32_t i = 0; i < s->n_arms; i++)
        if (strcmp(s->arms[i].name, name) == 0)
            return &s->arms[i] == arm || strcmp(s->arms[i].layer, arm->layer) != 0;
    return false;
}

/* Whether a price is ever below its list price for users of arm (NULL: of any arm): a
 * promotion day's sale (every arm), a coupon offered to them, or live sessions' time-limited
 * prices where their cells show lives (behaviour.deal_weight weighs nothing else). */
static bool any_discount(const fw_scenario *s, const fw_arm *arm)
{
    for (uint32_t i = 0; i < s->n_promo_days; i++)
        if (s->promo_days[i].discount_percent > 0.0)
            return true;
    bool live_prices = s->world.live_sessions_per_day > 0.0 && s->world.live_discount > 0.0;
    if (arm == NULL)
        return s->n_coupons > 0 || live_prices;
    for (uint32_t c = 0; c < s->n_coupons; c++) {
        if (s->coupons[c].n_arms == 0)
            return true;
        for (uint32_t j = 0; j < s->coupons[c].n_arms; j++)
            if (reaches_arm(s, arm, s->coupons[c].arms[j]))
                return true;
    }
    for (uint32_t i = 0; live_prices && i < s->n_arms; i++)
        if (s->arms[i].engine.live.enabled && (&s->arms[i] == arm || strcmp(s->arms[i].layer, arm->layer) != 0))
            return true;
    return false;
}

/* Whether a cell configured so uses the recommender: serve 0, reads what it learns
 * (fw_engine_cfg_learns); serve 1, serves its feed (rec alone: a plug-in ranks the baseline's
 * candidates). */
static bool cfg_uses_rec(const fw_engine_cfg *e, int serve)
{
    return serve ? e->feed.algorithm == FW_FEED_REC : fw_engine_cfg_learns(e) != 0;
}

/* Whether users of arm (NULL: of any arm, or of the base when there are none) are in a cell
 * that uses the recommender so (cfg_uses_rec): the arm's own, or one of another layer's arms
 * (a cell combines one arm of every layer). */
static bool uses_rec_for(const fw_scenario *s, const fw_arm *arm, int serve)
{
    if (s->n_arms == 0)
        return cfg_uses_rec(&s->engine, serve);
    for (uint32_t i = 0; i < s->n_arms; i++)
        if (cfg_uses_rec(&s->arms[i].engine, serve) &&
            (arm == NULL || &s->arms[i] == arm || strcmp(s->arms[i].layer, arm->layer) != 0))
            return true;
    return false;
}

/* The recommender's own knobs (engine.rec.*) where they would do nothing: its training knobs
 * (scope iso: dim, lr, emb_lr, neg_sample, l2, train_mode) and search's weight of the learned
 * affinity (engine.search.w_personal) where no cell its users are in learns, its recall,
 * ranking and re-rank knobs where none serves the rec feed. The base's (arm NULL, e its
 * engine) refused at the key, an arm's (e the arm's, where it departs from the base) at
 * arm_at, like check_idle's. Walks the arms: needs them counted and resolved. */
static fw_err check_rec_knobs(const fw_scenario *s, const fw_arm *arm, const fw_engine_cfg *e, const where *w,
                              const char *arm_at, const char *what, fw_diag *diag)
{
    static const char *const off[2] = {
        "no feed its users see learns (engine.feed.algorithm is not rec, nor a plugin with plugin_vectors): "
        "nothing trains, nothing learned is read",
        "no feed its users see is the recommender's (engine.feed.algorithm is not rec)"};
    fw_err err = FW_OK;
    for (size_t i = 0; err == FW_OK && i < sizeof knobs / sizeof knobs[0]; i++) {
        const knob *k = &knobs[i];
        int personal = strcmp(k->path, "engine.search.w_personal") == 0;
        if ((strncmp(k->path, "engine.rec.", 11) != 0 && !personal) || k->type == KNOB_STR)
            continue;
        int serve = !personal && k->scope != FW_SCOPE_ISO;
        knob_value v = get_value(k, field_in_cfg(k, (fw_behaviour_cfg *)&s->behaviour, (fw_engine_cfg *)e));
        knob_value b = get_value(k, field_in(k, (fw_scenario *)s));
        double value = k->type == KNOB_F64 ? v.f : (double)v.u, base = k->type == KNOB_F64 ? b.f : (double)b.u;
        idle_row row = {k->path, value, (arm == NULL || value != base) && !uses_rec_for(s, arm, serve), off[serve]};
        err = refuse_idle(&row, 1, w, arm_at, what, diag);
    }
    return err;
}

static fw_err check_idle(const fw_scenario *s, const fw_arm *arm, const fw_behaviour_cfg *b, const fw_engine_cfg *e,
                         const where *w, const char *arm_at, const char *what, fw_diag *diag)
{
    double goals = s->world.goal_max_conversions + s->world.goal_target_cpa + s->world.goal_target_roas;
    const idle_row rows[] = {
        {"world.target_roas", s->world.target_roas, s->world.goal_target_roas == 0.0,
         "world.goal_target_roas is 0: no campaign targets a ROAS"},
        {"engine.ads.autobid_lr", e->ads.autobid_lr, goals == 0.0,
         "the world.goal_* shares are 0: no campaign autobids"},
        {"behaviour.satiation_half_life_hours", b->satiation_half_life_hours, b->satiation == 0.0,
         "behaviour.satiation is 0: no satiation to decay"},
        {"behaviour.unfollow_open_keep", b->unfollow_open_keep, b->unfollow_rate == 0.0,
         "behaviour.unfollow_rate is 0: nobody unfollows"},
        {"behaviour.ad_engagement", b->ad_engagement, s->world.n_campaigns == 0,
         "world.n_campaigns is 0: there are no ads to like"},
        {"world.budget_roas_ref", s->world.budget_roas_ref, s->world.budget_elasticity == 0.0,
         "world.budget_elasticity is 0: budgets are never revised"},
        {"world.join_days", (double)s->world.join_days, s->world.join_share == 0.0,
         "world.join_share is 0: no advertiser joins"},
        {"engine.search.product_slot", (double)e->search.product_slot, s->world.n_products == 0,
         "world.n_products is 0: there is no product to show"},
        {"behaviour.shop_eta", b->shop_eta, b->shop_visit_rate == 0.0,
         "behaviour.shop_visit_rate is 0: nobody looks at the shop tab"},
        {"engine.search.product_match", (double)e->search.product_match, e->search.product_slot == 0,
         "engine.search.product_slot is 0: search pages show no product"},
        {"engine.search.product_w_sales", e->search.product_w_sales,
         e->search.product_slot == 0 || e->search.product_match != FW_PRODUCT_MATCH_TITLE,
         "products are not matched by title (engine.search.product_slot 0 or product_match bestseller)"},
        /* An arm is judged on its own cells, and only where it departs from the base. */
        {"behaviour.deal_weight", b->deal_weight,
         arm == NULL ? !any_discount(s, NULL)
                     : b->deal_weight != s->behaviour.deal_weight && !any_discount(s, arm),
         "no price is ever cut for its users (no coupon offered to them, no promotion day's discount_percent, "
         "no live price)"},
    };
    return refuse_idle(rows, sizeof rows / sizeof rows[0], w, arm_at, what, diag);
}

/* ---- trust and safety (issue 20): world.violation_*, engine.safety.*, behaviour.report_* ----
 * Each creator type's class shares sum to at most 1; threshold_lo <= threshold_hi; reviewers
 * with no capacity refuse a policy that queues notes (a score band, or reports); knobs whose
 * mechanism is off are refused as doing nothing. The base's errors point at the key; an
 * arm's (arm_at, what) at its set list. The world's rules are the base's alone (RUN scope). */
static fw_err check_safety(const fw_scenario *s, const fw_behaviour_cfg *b, const fw_engine_cfg *e, const where *w,
                           const char *arm_at, const char *what, fw_diag *diag)
{
    char at[600];
    const fw_world_cfg *wc = &s->world;
#define SAFETY_AT(key) (arm_at != NULL ? arm_at : (where_fmt(w, key, at, sizeof at), at))
    if (arm_at == NULL) {
        double ord = wc->violation_spam + wc->violation_fake + wc->violation_clickbait + wc->violation_unsafe;
        double bad = wc->violation_bad_spam + wc->violation_bad_fake + wc->violation_bad_clickbait +
                     wc->violation_bad_unsafe;
        static const char *const ord_keys[] = {"world.violation_spam", "world.violation_fake",
                                               "world.violation_clickbait", "world.violation_unsafe"};
        static const char *const bad_keys[] = {"world.violation_bad_spam", "world.violation_bad_fake",
                                               "world.violation_bad_clickbait", "world.violation_bad_unsafe"};
        const char *key;
        if (ord > 1.0 + 1e-12) {
            where_fmt_group(w, ord_keys, 4, "world.violation_unsafe", &key, at, sizeof at);
            return fail(diag, FW_ERR_RANGE,
                        "%s: %s: world.violation_spam + fake + clickbait + unsafe: expected a sum <= 1 (the rest of an "
                        "ordinary creator's notes are clean), got %.6g",
                        at, key, ord);
        }
        if (bad > 1.0 + 1e-12) {
            where_fmt_group(w, bad_keys, 4, "world.violation_bad_unsafe", &key, at, sizeof at);
            return fail(diag, FW_ERR_RANGE,
                        "%s: %s: world.violation_bad_spam + bad_fake + bad_clickbait + bad_unsafe: expected a sum <= 1 "
                        "(the rest of a bad actor's notes are clean), got %.6g",
                        at, key, bad);
        }
    }
    /* An arm that changes none of these knobs has the base's values: the base's check,
     * which points at the key's line, speaks for it. */
    const fw_engine_cfg *be = &s->engine;
    const fw_behaviour_cfg *bb = &s->behaviour;
    int own = arm_at == NULL || e->safety.action != be->safety.action ||
              e->safety.threshold_lo != be->safety.threshold_lo || e->safety.threshold_hi != be->safety.threshold_hi ||
              e->safety.review_capacity != be->safety.review_capacity || b->report_none != bb->report_none ||
              b->report_spam != bb->report_spam || b->report_fake != bb->report_fake ||
              b->report_clickbait != bb->report_clickbait || b->report_unsafe != bb->report_unsafe;
    if (own && e->safety.threshold_lo > e->safety.threshold_hi) {
        static const char *const keys[] = {"engine.safety.threshold_lo", "engine.safety.threshold_hi"};
        const char *key;
        if (arm_at == NULL)
            where_fmt_group(w, keys, 2, keys[0], &key, at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: %sengine.safety.threshold_lo: expected at most engine.safety.threshold_hi (%.6g), got %.6g",
                    arm_at != NULL ? arm_at : at, what, e->safety.threshold_hi, e->safety.threshold_lo);
    }
    double reports = b->report_none + b->report_spam + b->report_fake + b->report_clickbait + b->report_unsafe;
    if (own && e->safety.action != FW_SAFETY_OFF && e->safety.review_capacity == 0 &&
        (e->safety.threshold_lo < e->safety.threshold_hi || reports > 0.0))
        return fail(diag, FW_ERR_RANGE,
                    "%s: %sengine.safety.review_capacity: 0 reviewers with a policy that queues notes (%s): the "
                    "queue could never drain; give reviewers capacity, or set threshold_lo = threshold_hi and every "
                    "behaviour.report_* to 0",
                    SAFETY_AT("engine.safety.review_capacity"), what,
                    e->safety.threshold_lo < e->safety.threshold_hi ? "a review band threshold_lo < threshold_hi"
                                                                    : "user reports feed the queue");
    /* Knobs that would do nothing. */
    int violations = wc->violation_spam + wc->violation_fake + wc->violation_clickbait + wc->violation_unsafe > 0.0 ||
                     (wc->violation_bad_share > 0.0 && wc->violation_bad_spam + wc->violation_bad_fake +
                                                              wc->violation_bad_clickbait + wc->violation_bad_unsafe >
                                                          0.0);
    int moderates = s->engine.safety.action != FW_SAFETY_OFF, downranks = s->engine.safety.action == FW_SAFETY_DOWNRANK;
    for (uint32_t i = 0; i < s->n_arms && s->arms != NULL; i++) {
        moderates |= s->arms[i].engine.safety.action != FW_SAFETY_OFF;
        downranks |= s->arms[i].engine.safety.action == FW_SAFETY_DOWNRANK;
    }
    /* The base's engine.safety.* serve every arm that moderates; an arm's own values its own. */
    int off = arm_at != NULL ? e->safety.action == FW_SAFETY_OFF : !moderates;
    double bad_shares = wc->violation_bad_spam + wc->violation_bad_fake + wc->violation_bad_clickbait +
                        wc->violation_bad_unsafe;
    const struct {
        const char *key;
        double value, base;
        bool idle;
        const char *why;
    } rows[] = {
        {"engine.safety.downrank", e->safety.downrank, s->engine.safety.downrank,
         arm_at != NULL ? e->safety.action != FW_SAFETY_DOWNRANK : !downranks, "engine.safety.action is not downrank"},
        {"engine.safety.threshold_lo", e->safety.threshold_lo, s->engine.safety.threshold_lo, off, "engine.safety.action is off"},
        {"engine.safety.threshold_hi", e->safety.threshold_hi, s->engine.safety.threshold_hi, off, "engine.safety.action is off"},
        {"engine.safety.review_capacity", e->safety.review_capacity, s->engine.safety.review_capacity, off, "engine.safety.action is off"},
        {"engine.safety.review_ticks", e->safety.review_ticks, s->engine.safety.review_ticks, off, "engine.safety.action is off"},
        {"engine.safety.review_error", e->safety.review_error, s->engine.safety.review_error, off, "engine.safety.action is off"},
        {"engine.safety.recall_spam", e->safety.recall_spam, s->engine.safety.recall_spam, off, "engine.safety.action is off"},
        {"engine.safety.precision_spam", e->safety.precision_spam, s->engine.safety.precision_spam, off, "engine.safety.action is off"},
        {"engine.safety.recall_fake", e->safety.recall_fake, s->engine.safety.recall_fake, off, "engine.safety.action is off"},
        {"engine.safety.precision_fake", e->safety.precision_fake, s->engine.safety.precision_fake, off, "engine.safety.action is off"},
        {"engine.safety.recall_clickbait", e->safety.recall_clickbait, s->engine.safety.recall_clickbait, off, "engine.safety.action is off"},
        {"engine.safety.precision_clickbait", e->safety.precision_clickbait, s->engine.safety.precision_clickbait, off, "engine.safety.action is off"},
        {"engine.safety.recall_unsafe", e->safety.recall_unsafe, s->engine.safety.recall_unsafe, off, "engine.safety.action is off"},
        {"engine.safety.precision_unsafe", e->safety.precision_unsafe, s->engine.safety.precision_unsafe, off, "engine.safety.action is off"},
        {"behaviour.report_none", b->report_none, s->behaviour.report_none, !violations && !moderates, "no note violates and no arm moderates"},
        {"behaviour.report_spam", b->report_spam, s->behaviour.report_spam, !violations, "no note violates (world.violation_* are 0)"},
        {"behaviour.report_fake", b->report_fake, s->behaviour.report_fake, !violations, "no note violates (world.violation_* are 0)"},
        {"behaviour.report_clickbait", b->report_clickbait, s->behaviour.report_clickbait, !violations, "no note violates (world.violation_* are 0)"},
        {"behaviour.report_unsafe", b->report_unsafe, s->behaviour.report_unsafe, !violations, "no note violates (world.violation_* are 0)"},
        {"world.violation_bad_share", wc->violation_bad_share, wc->violation_bad_share, bad_shares == 0.0,
         "the world.violation_bad_* shares are 0: bad actors would post like anyone"},
        {"world.violation_bad_spam", wc->violation_bad_spam, wc->violation_bad_spam, wc->violation_bad_share == 0.0,
         "world.violation_bad_share is 0: there are no bad actors"},
        {"world.violation_bad_fake", wc->violation_bad_fake, wc->violation_bad_fake, wc->violation_bad_share == 0.0,
         "world.violation_bad_share is 0: there are no bad actors"},
        {"world.violation_bad_clickbait", wc->violation_bad_clickbait, wc->violation_bad_clickbait, wc->violation_bad_share == 0.0,
         "world.violation_bad_share is 0: there are no bad actors"},
        {"world.violation_bad_unsafe", wc->violation_bad_unsafe, wc->violation_bad_unsafe, wc->violation_bad_share == 0.0,
         "world.violation_bad_share is 0: there are no bad actors"},
        {"world.violation_harm", wc->violation_harm, wc->violation_harm, !violations, "no note violates (world.violation_* are 0)"},
        {"world.violation_fake_plant", wc->violation_fake_plant, wc->violation_fake_plant, !violations, "no note violates (world.violation_* are 0)"},
        {"world.violation_fake_return", wc->violation_fake_return, wc->violation_fake_return, !violations, "no note violates (world.violation_* are 0)"},
        {"world.violation_fake_distrust", wc->violation_fake_distrust, wc->violation_fake_distrust, !violations,
         "no note violates (world.violation_* are 0)"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const knob *k = find_knob(rows[r].key, strlen(rows[r].key));
        double def = k == NULL ? rows[r].value : knob_default(k);
        if (k == NULL || !rows[r].idle || rows[r].value == def ||
            (arm_at != NULL && (rows[r].key[0] == 'w' || rows[r].value == rows[r].base)))
            continue;
        return fail(diag, FW_ERR_RANGE, "%s: %s: %s%.6g would do nothing: %s; leave it at its default %.6g",
                    SAFETY_AT(rows[r].key), rows[r].key, what, rows[r].value, rows[r].why, def);
    }
#undef SAFETY_AT
    return FW_OK;
}

/* Issue 20 (AIGC and the media pipeline): knobs of one value per run given a value other
 * than their default where their mechanism is off, so that they would do nothing: refused at
 * the key's line. Value-based, like check_idle. The arms' own knobs (the adoption rate, the
 * down-rank) are checked by the engine's and the shares' rules. */
static fw_err check_aigc20(const fw_scenario *s, const where *w, fw_diag *diag)
{
    bool adopt = s->behaviour.aigc_adoption_per_day > 0.0;
    for (uint32_t a = 0; a < s->n_arms; a++)
        adopt = adopt || s->arms[a].behaviour.aigc_adoption_per_day > 0.0;
    const fw_media_cfg *m = &s->engine.media;
    bool pipeline = m->upload_capacity > 0 || m->transcode_capacity > 0 || m->review_capacity > 0;
    bool detector = s->engine.aigc.detector != 0;
    const char *no_aigc = "behaviour.aigc_adoption_per_day is 0 in every arm: no note is AI-generated";
    const char *no_pipe = "every engine.media.*_capacity is 0 (unlimited): there is no pipeline";
    const char *no_det = "engine.aigc.detector is 0: no detector runs";
    const idle_row rows[] = {
        {"world.aigc_rate_boost", s->world.aigc_rate_boost, !adopt, no_aigc},
        {"world.aigc_quality_shift", s->world.aigc_quality_shift, !adopt, no_aigc},
        {"world.aigc_quality_sigma", s->world.aigc_quality_sigma, !adopt, no_aigc},
        {"world.aigc_homogenise", s->world.aigc_homogenise, !adopt, no_aigc},
        {"world.aigc_declare_share", s->world.aigc_declare_share, !adopt, no_aigc},
        {"engine.aigc.detector", s->engine.aigc.detector, !adopt, no_aigc},
        {"engine.aigc.detect_recall", s->engine.aigc.detect_recall, !detector, no_det},
        {"engine.aigc.detect_precision", s->engine.aigc.detect_precision, !detector, no_det},
        {"engine.aigc.label_detected", s->engine.aigc.label_detected, !detector, no_det},
        {"engine.aigc.downrank_unlabelled", s->engine.aigc.downrank_unlabelled, !detector, no_det},
        {"engine.media.video_upload_units", m->video_upload_units, !pipeline, no_pipe},
        {"engine.media.video_transcode_units", m->video_transcode_units, !pipeline, no_pipe},
        {"engine.media.video_review_units", m->video_review_units, !pipeline, no_pipe},
    };
    fw_err err = refuse_idle(rows, sizeof rows / sizeof rows[0], w, NULL, "", diag);
    if (err != FW_OK)
        return err;
    char at[600];
    /* An arm's down-rank (its own knob) acts on the detector's flags only. */
    for (uint32_t a = 0; a < s->n_arms && !detector; a++)
        if (s->arms[a].engine.aigc.downrank_unlabelled < 1.0) {
            char path[64], shown[80];
            snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "]", a);
            where_fmt(w, path, at, sizeof at);
            clean_text(shown, sizeof shown, s->arms[a].name != NULL ? s->arms[a].name : "");
            return fail(diag, FW_ERR_RANGE,
                        "%s: engine.aigc.downrank_unlabelled: arm '%s' sets %.6g, which would do nothing: %s; leave "
                        "it at 1",
                        at, shown, s->arms[a].engine.aigc.downrank_unlabelled, no_det);
        }
    return FW_OK;
}

/* Issue 18's living world (world.arrivals_*, churn_*, creator_*; run scope, so only the base
 * sets them): a knob that would do nothing is refused like check_idle's, and the population
 * with every arrival must fit world.n_users' range (memory is reserved for it up front). */
static fw_err check_living(const fw_scenario *s, const where *w, fw_diag *diag)
{
    const fw_world_cfg *c = &s->world;
    int creators_on = c->creator_response > 0.0 || c->creator_income_response > 0.0 || c->creator_fatigue > 0.0;
    int any_on = creators_on || c->arrivals_per_day > 0 || c->churn_base > 0.0;
    const idle_row rows[] = {
        {"world.arrivals_follows", c->arrivals_follows, c->arrivals_per_day == 0,
         "world.arrivals_per_day is 0: nobody arrives to follow anyone"},
        {"world.churn_dissatisfaction", c->churn_dissatisfaction, c->churn_base == 0.0,
         "world.churn_base is 0: nobody leaves for good"},
        {"world.creator_memory_days", c->creator_memory_days, !creators_on,
         "world.creator_response, creator_income_response and creator_fatigue are 0: creators remember nothing"},
        {"world.creator_quiet_days", c->creator_quiet_days, !any_on,
         "no creator response, arrivals or churn is on: the creator counts it sets are not recorded"},
        {"world.warmup_pilot_users", c->warmup_pilot_users, c->warmup_days == 0,
         "world.warmup_days is 0: there is no warm-up for a pilot to run in"},
        {"world.warmup_pilot_share", c->warmup_pilot_share, c->warmup_days == 0,
         "world.warmup_days is 0: there is no warm-up for a pilot to run in"},
        {"world.warmup_full_days", c->warmup_full_days, fw_scenario_pilot_users(s) == 0,
         "world.warmup_pilot_users and warmup_pilot_share are 0: every warm-up day simulates everyone"},
    };
    fw_err err = refuse_idle(rows, sizeof rows / sizeof rows[0], w, NULL, "", diag);
    if (err != FW_OK)
        return err;
    char at[600];
    /* The pilot (issue 18): one way to size it, a sample smaller than the world, and at least one
     * day to run in. */
    if (c->warmup_pilot_users > 0 && c->warmup_pilot_share > 0.0) {
        where_fmt(w, "world.warmup_pilot_share", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: world.warmup_pilot_share: expected 0 when world.warmup_pilot_users is set (%" PRIu32
                    "): the pilot is a count or a share of the users, not both; set one of them to 0",
                    at, c->warmup_pilot_users);
    }
    if (c->warmup_pilot_share > 0.0 && fw_scenario_pilot_users(s) >= c->n_users) {
        where_fmt(w, "world.warmup_pilot_share", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: world.warmup_pilot_share: expected a share that leaves users out of the pilot, got %g of "
                    "world.n_users (%" PRIu32 "): a pilot of everyone is the plain warm-up; set it to 0, or below 1",
                    at, c->warmup_pilot_share, c->n_users);
    }
    if (c->warmup_pilot_users > 0 && c->warmup_pilot_users >= c->n_users) {
        where_fmt(w, "world.warmup_pilot_users", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: world.warmup_pilot_users: expected fewer users than world.n_users (%" PRIu32 "), got %" PRIu32
                    ": a pilot of everyone is the plain warm-up; set it to 0, or to a sample (a few thousand)",
                    at, c->n_users, c->warmup_pilot_users);
    }
    if (fw_scenario_pilot_users(s) > 0 && c->warmup_full_days >= c->warmup_days) {
        /* At the full days where given, else at the warm-up's length. */
        where_fmt(w, "world.warmup_full_days", at, sizeof at);
        if (strncmp(at, "--set", 5) != 0 && (w->ix == NULL || index_find(w->ix, "world.warmup_full_days") == NULL))
            where_fmt(w, "world.warmup_days", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: world.warmup_full_days: expected fewer days than world.warmup_days (%" PRIu32 "), got %" PRIu32
                    ": the pilot runs on the warm-up's days before its full days, and "
                    "would have none; lengthen the warm-up or shorten its full days",
                    at, c->warmup_days, c->warmup_full_days);
    }
    uint64_t people = (uint64_t)c->n_users + (uint64_t)c->arrivals_per_day * ((uint64_t)s->days + c->warmup_days);
    if (people > 50000000) {
        where_fmt(w, "world.arrivals_per_day", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: world.arrivals_per_day: n_users + arrivals_per_day x (days + world.warmup_days) = %" PRIu32
                    " + %" PRIu32 " x (%" PRIu32 " + %" PRIu32 ") = %" PRIu64 " users, more than 50000000 (world.n_users' "
                    "limit; memory for every arrival is reserved up front)",
                    at, c->n_users, c->arrivals_per_day, s->days, c->warmup_days, people);
    }
    return FW_OK;
}

/* Issue 19 (live-stream selling; world.live_*, engine.live.*, behaviour.live_*): with sessions on
 * (world.live_sessions_per_day > 0) a session must have products (the world must sell some, and
 * world.live_products_per_session must be above 0), its duration range must be ordered, and
 * some arm must show live sessions (engine.live.enabled); with sessions off every live knob
 * would do nothing and is refused (the base's at its key, an arm's at its set list). Needs
 * the arms resolved. */
static fw_err check_live(const fw_scenario *s, const where *w, fw_diag *diag)
{
    char at[600], path[64], what[160], shown[80];
    const fw_world_cfg *c = &s->world;
    bool on = c->live_sessions_per_day > 0.0;
    bool shown_any = s->engine.live.enabled != 0;
    for (uint32_t a = 0; a < s->n_arms && s->arms != NULL; a++)
        shown_any = shown_any || s->arms[a].engine.live.enabled != 0;
    if (on) {
        if (c->live_products_per_session == 0) {
            where_fmt(w, "world.live_products_per_session", at, sizeof at);
            return fail(diag, FW_ERR_RANGE,
                        "%s: world.live_products_per_session: 0 while live sessions are on "
                        "(world.live_sessions_per_day %.6g): a live session without products; give each at least 1",
                        at, c->live_sessions_per_day);
        }
        if (c->n_products == 0) {
            where_fmt(w, "world.live_sessions_per_day", at, sizeof at);
            return fail(diag, FW_ERR_RANGE,
                        "%s: world.live_sessions_per_day: %.6g live sessions a day with world.n_products 0: a live "
                        "session without products; add products or set it to 0",
                        at, c->live_sessions_per_day);
        }
        if (c->live_duration_min_ticks > c->live_duration_max_ticks) {
            static const char *const keys[] = {"world.live_duration_min_ticks", "world.live_duration_max_ticks"};
            const char *key;
            where_fmt_group(w, keys, 2, keys[0], &key, at, sizeof at);
            return fail(diag, FW_ERR_RANGE,
                        "%s: world.live_duration_min_ticks: expected at most world.live_duration_max_ticks (%" PRIu32
                        "), got %" PRIu32,
                        at, c->live_duration_max_ticks, c->live_duration_min_ticks);
        }
        if (!shown_any) {
            where_fmt(w, "world.live_sessions_per_day", at, sizeof at);
            return fail(diag, FW_ERR_RANGE,
                        "%s: world.live_sessions_per_day: %.6g, but no arm shows live sessions: set "
                        "engine.live.enabled=1 in the base or in some arm, or set it to 0",
                        at, c->live_sessions_per_day);
        }
        return FW_OK;
    }
    const char *off = "world.live_sessions_per_day is 0: there is no live session";
    const fw_behaviour_cfg *b = &s->behaviour;
    const fw_engine_cfg *e = &s->engine;
    const idle_row rows[] = {
        {"world.live_brand_share", c->live_brand_share, true, off},
        {"world.live_duration_min_ticks", c->live_duration_min_ticks, true, off},
        {"world.live_duration_max_ticks", c->live_duration_max_ticks, true, off},
        {"world.live_products_per_session", c->live_products_per_session, true, off},
        {"world.live_flash_units", c->live_flash_units, true, off},
        {"world.live_discount", c->live_discount, true, off},
        {"world.live_price_ticks", c->live_price_ticks, true, off},
        {"engine.live.enabled", e->live.enabled, true, off},
        {"engine.live.notify", e->live.notify, true, off},
        {"behaviour.live_card_click", b->live_card_click, true, off},
        {"behaviour.live_follow_join", b->live_follow_join, true, off},
        {"behaviour.live_notify_open", b->live_notify_open, true, off},
        {"behaviour.live_leave", b->live_leave, true, off},
        {"behaviour.live_fatigue", b->live_fatigue, true, off},
        {"behaviour.live_buy", b->live_buy, true, off},
    };
    fw_err err = refuse_idle(rows, sizeof rows / sizeof rows[0], w, NULL, "", diag);
    for (uint32_t a = 0; err == FW_OK && a < s->n_arms && s->arms != NULL; a++) {
        const fw_behaviour_cfg *ab = &s->arms[a].behaviour;
        const fw_engine_cfg *ae = &s->arms[a].engine;
        const idle_row arow[] = {
            {"engine.live.enabled", ae->live.enabled, true, off},
            {"engine.live.notify", ae->live.notify, true, off},
            {"behaviour.live_card_click", ab->live_card_click, true, off},
            {"behaviour.live_follow_join", ab->live_follow_join, true, off},
            {"behaviour.live_notify_open", ab->live_notify_open, true, off},
            {"behaviour.live_leave", ab->live_leave, true, off},
            {"behaviour.live_fatigue", ab->live_fatigue, true, off},
            {"behaviour.live_buy", ab->live_buy, true, off},
        };
        snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "]", a);
        where_fmt(w, path, at, sizeof at);
        clean_text(shown, sizeof shown, s->arms[a].name != NULL ? s->arms[a].name : "");
        snprintf(what, sizeof what, "%s (arm '%s'): ", path, shown);
        err = refuse_idle(arow, sizeof arow / sizeof arow[0], w, at, what, diag);
    }
    return err;
}

/* The event log has a follow outcome per impression but no unfollow, no follow-back and no
 * suggested follow (which no impression causes): a run with any would log a graph other than the
 * one it grew. Refused until the log has them. */
static fw_err check_unfollow_events(const fw_scenario *s, const where *w, fw_diag *diag)
{
    char at[600];
    if (!s->output.events)
        return FW_OK;
    int unf = s->behaviour.unfollow_rate > 0.0, back = s->behaviour.follow_back > 0.0;
    int sug = s->behaviour.suggest_follow > 0.0;
    for (uint32_t a = 0; a < s->n_arms && s->arms != NULL; a++) {
        unf |= s->arms[a].behaviour.unfollow_rate > 0.0;
        back |= s->arms[a].behaviour.follow_back > 0.0;
        sug |= s->arms[a].behaviour.suggest_follow > 0.0;
    }
    if (!unf && !back && !sug)
        return FW_OK;
    where_fmt(w, "output.events", at, sizeof at);
    return fail(diag, FW_ERR_RANGE,
                "%s: output.events: the event log does not record %s, and behaviour.%s is above 0 (in the base or "
                "an arm): turn off one of the two",
                at, unf ? "unfollows" : back ? "follow-backs" : "suggested follows",
                unf ? "unfollow_rate" : back ? "follow_back" : "suggest_follow");
}

static fw_err check_rules(fw_scenario *s, const where *w, fw_diag *diag)
{
    char at[600], why[768], path[64], shown[80];
    fw_layer layers[FW_MAX_ARMS];
    uint32_t n_layers = 0;
    uint64_t cells;
    fw_err err;

    memset(s->layers, 0, sizeof s->layers);  /* filled again only when every rule holds */
    s->n_layers = 0;
    for (size_t i = 0; i < N_KNOBS; i++) {
        knob_value v = get_value(&knobs[i], field_in(&knobs[i], s));
        if ((err = check_stored(&knobs[i], &v, why, sizeof why)) != FW_OK) {
            where_fmt(w, knobs[i].path, at, sizeof at);
            return fail(diag, err, "%s: %s: %s", at, knobs[i].path, why);
        }
    }
    {
        size_t ll = where_line(w, "behaviour.like_share"), ls = where_line(w, "behaviour.save_share");
        static const char *const shares[] = {"behaviour.like_share", "behaviour.save_share"};
        static const char *const days[] = {"engine.shop.delivery_days_min", "engine.shop.delivery_days_max"};
        const char *key;
        where_fmt_group(w, shares, 2,
                        index_find(w->ix, "behaviour.save_share") != NULL && ls > ll ? shares[1] : shares[0], &key, at,
                        sizeof at);
        if ((err = check_shares(&s->behaviour, at, "", diag)) != FW_OK)
            return err;
        where_fmt_group(w, days, 2, days[0], &key, at, sizeof at);
        if ((err = check_delivery(&s->engine, at, "", diag)) != FW_OK)
            return err;
        where_fmt(w, index_find(w->ix, "engine.search.max_postings") != NULL ? "engine.search.max_postings"
                                                                           : "engine.search.retrieval",
                  at, sizeof at);
        if ((err = check_search(&s->engine, at, "", diag)) != FW_OK)
            return err;
        if ((err = check_privacy_base(s, w, diag)) != FW_OK)
            return err;
    }
    const char *name_why = name_problem(s->name);
    if (name_why != NULL) {
        where_fmt(w, "name", at, sizeof at);
        clean_text(shown, sizeof shown, s->name);
        return fail(diag, FW_ERR_PARSE,
                    "%s: name: '%s' %s: the scenario name is the result file's name (output.dir/NAME.h5), so "
                    "it must be 1 to 100 bytes: letters (any script), digits, '_', '-' or '.', not starting "
                    "with '.'",
                    at, shown, name_why);
    }
    double ev_bytes = fw_scenario_events_bytes(s);
    if (ev_bytes > (double)s->output.max_bytes) {
        char est[32], lim[32];
        fmt_bytes(est, sizeof est, ev_bytes);
        fmt_bytes(lim, sizeof lim, (double)s->output.max_bytes);
        where_fmt(w, "output.events", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: output.events: the event log would take about %s (estimate: %.3g impressions at %.0f "
                    "bytes each), more than output.max_bytes (%s, %" PRIu64 " bytes): log a sample of users "
                    "(output.events_sample), run fewer days or users, or raise output.max_bytes",
                    at, est, ev_bytes / FW_EVENTS_BYTES_PER_ROW, FW_EVENTS_BYTES_PER_ROW, lim, s->output.max_bytes);
    }
    double goals = s->world.goal_max_conversions + s->world.goal_target_cpa + s->world.goal_target_roas;
    if (goals > 1.0 + 1e-12) {
        static const char *const keys[] = {"world.goal_max_conversions", "world.goal_target_cpa",
                                           "world.goal_target_roas"};
        const char *key;
        where_fmt_group(w, keys, 3, "world.goal_target_roas", &key, at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: world.goal_max_conversions + goal_target_cpa + goal_target_roas: expected a sum <= 1 (the "
                    "rest of the campaigns bid manually), got %.6g + %.6g + %.6g = %.6g",
                    at, s->world.goal_max_conversions, s->world.goal_target_cpa, s->world.goal_target_roas, goals);
    }
    if ((err = check_idle(s, NULL, &s->behaviour, &s->engine, w, NULL, "", diag)) != FW_OK)
        return err;
    if ((err = check_living(s, w, diag)) != FW_OK)   /* issue 18 */
        return err;
    if (!(s->world.creator_share > 0.0)) {
        /* Notes are posted by creators only: none would ever exist. */
        where_fmt(w, "world.creator_share", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: world.creator_share: expected a share > 0 (for example 0.01), got 0: with no creators "
                    "nobody posts, so none of the world.n_notes (%" PRIu32 ") initial notes and no new note "
                    "would exist",
                    at, s->world.n_notes);
    }
    if (s->world.follow_graph == FW_FOLLOW_GRAPH_STATIC && s->world.follow_reciprocity != 0.0) {
        /* The static graph has no follow-backs: a value there would do nothing. Point at the
         * reciprocity where the file or --set gives it, else at the choice of graph. */
        where_fmt(w, "world.follow_reciprocity", at, sizeof at);
        if (strncmp(at, "--set", 5) != 0 && (w->ix == NULL || index_find(w->ix, "world.follow_reciprocity") == NULL))
            where_fmt(w, "world.follow_graph", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: world.follow_reciprocity: expected 0 with world.follow_graph: static (the static graph "
                    "makes no follow-backs), got %.6g: set it to 0 or use follow_graph: growth",
                    at, s->world.follow_reciprocity);
    }
    if (s->experiment_learners_per_arm > 1 &&
        (s->experiment_isolation != FW_ISOLATION_PER_ARM || s->experiment_unit == FW_UNIT_CREATOR)) {
        where_fmt(w, "experiment.learners_per_arm", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: experiment.learners_per_arm: %" PRIu32 " learners per arm need experiment.isolation: "
                    "per_arm with unit user or cluster (%s); use 0 (auto) or 1",
                    at, s->experiment_learners_per_arm,
                    s->experiment_isolation != FW_ISOLATION_PER_ARM
                        ? "with isolation shared every arm learns one model"
                        : "with unit creator every viewer is in the control, served by one learned state");
    }
    if (s->experiment_pre_days >= s->days) {
        where_fmt(w, "experiment.pre_days", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: experiment.pre_days: expected fewer than days (%" PRIu32 ") so the arms run "
                    "for at least one day, got %" PRIu32, at, s->days, s->experiment_pre_days);
    }
    if (s->n_arms < 1 || s->n_arms > FW_MAX_ARMS || s->arms == NULL) {
        where_fmt(w, "experiment.arms", at, sizeof at);
        return fail(diag, FW_ERR_RANGE, "%s: experiment.arms: expected 1 to %d arms, got %" PRIu32, at,
                    FW_MAX_ARMS, s->n_arms);
    }
    for (uint32_t i = 0; i < s->n_arms; i++) {
        fw_arm *a = &s->arms[i];
        snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "].name", i);
        where_fmt(w, path, at, sizeof at);
        if (a->name == NULL || a->name[0] == '\0')
            return fail(diag, FW_ERR_PARSE, "%s: %s: expected a non-empty arm name, got none", at, path);
        clean_text(shown, sizeof shown, a->name);
        if (strchr(a->name, '/') != NULL)
            return fail(diag, FW_ERR_PARSE,
                        "%s: %s: expected an arm name without '/' (it names result groups), got '%s'", at,
                        path, shown);
        if (arm_name_reserved(a->name))
            return fail(diag, FW_ERR_PARSE,
                        "%s: %s: '%s' cannot name an arm: result files use it beside the arms' groups (/days/day, "
                        "/experiment/metric, /experiment/days, /replicates/seed ...); choose another name",
                        at, path, shown);
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(s->arms[j].name, a->name) == 0) {
                char first[64];
                snprintf(first, sizeof first, "experiment.arms[%" PRIu32 "].name", j);
                size_t fl = where_line(w, first);
                if (fl > 0)
                    return fail(diag, FW_ERR_PARSE, "%s: %s: duplicate arm name '%s' (first at line %zu)",
                                at, path, shown, fl);
                return fail(diag, FW_ERR_PARSE, "%s: %s: duplicate arm name '%s' (also arm %" PRIu32 ")",
                            at, path, shown, j);
            }
        }
        if (a->n_set > FW_MAX_ARM_SETS || (a->n_set > 0 && a->set == NULL)) {
            snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "].set", i);
            where_fmt(w, path, at, sizeof at);
            return fail(diag, FW_ERR_RANGE, "%s: %s: expected at most %d overrides in an arm's set, got %" PRIu32,
                        at, path, FW_MAX_ARM_SETS, a->n_set);
        }
        if (a->layer == NULL && (a->layer = strdup(DEFAULT_LAYER)) == NULL)
            return fail(diag, FW_ERR_NOMEM, "%s: out of memory", w->file);
        if (!layer_name_ok(a->layer)) {
            snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "].layer", i);
            where_fmt(w, path, at, sizeof at);
            clean_text(shown, sizeof shown, a->layer);
            return fail(diag, FW_ERR_PARSE,
                        "%s: %s: expected a layer name: letters, digits, '_' or '-' (it names result "
                        "groups), got '%s'",
                        at, path, shown);
        }
        if (!(a->weight >= FW_ARM_WEIGHT_MIN && a->weight <= FW_ARM_WEIGHT_MAX)) {
            char d[40];
            snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "].weight", i);
            where_fmt(w, path, at, sizeof at);
            if (isfinite(a->weight))
                fmt_double(d, a->weight);
            else
                snprintf(d, sizeof d, "%s", isnan(a->weight) ? "nan" : "inf");
            return fail(diag, FW_ERR_RANGE, "%s: %s: expected " FW_ARM_WEIGHT_RANGE ", got %s", at, path, d);
        }
    }
    cells = group_layers(s, layers, &n_layers);
    if (cells > FW_MAX_CELLS) {
        where_fmt(w, "experiment.arms", at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: experiment.arms: the layers give %" PRIu64 " combinations of arms; expected at "
                    "most %d",
                    at, cells, FW_MAX_CELLS);
    }
    /* Every arm resolved before any is checked: an arm's checks may read the others (the
     * deal term: coupons and lives another layer's arms bring to its cells). */
    for (uint32_t i = 0; i < s->n_arms; i++)
        if ((err = resolve_arm(s, i, w, diag)) != FW_OK)
            return err;
    if ((err = check_rec_knobs(s, NULL, &s->engine, w, NULL, "", diag)) != FW_OK)
        return err;
    for (uint32_t i = 0; i < s->n_arms; i++) {
        char what[160];
        clean_text(shown, sizeof shown, s->arms[i].name);
        snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "]", i);
        snprintf(what, sizeof what, "%s (arm '%s'): ", path, shown);
        where_fmt(w, path, at, sizeof at);
        if ((err = check_shares(&s->arms[i].behaviour, at, what, diag)) != FW_OK ||
            (err = check_delivery(&s->arms[i].engine, at, what, diag)) != FW_OK ||
            (err = check_search(&s->arms[i].engine, at, what, diag)) != FW_OK ||
            (err = check_idle(s, &s->arms[i], &s->arms[i].behaviour, &s->arms[i].engine, w, at, what, diag)) != FW_OK ||
            (err = check_safety(s, &s->arms[i].behaviour, &s->arms[i].engine, w, at, what, diag)) != FW_OK ||
            (err = check_privacy(&s->arms[i].engine, at, what, diag)) != FW_OK ||
            (err = check_rec_knobs(s, &s->arms[i], &s->arms[i].engine, w, at, what, diag)) != FW_OK)
            return err;
    }
    if ((s->world.budget_elasticity > 0.0 || s->world.leave_roas > 0.0) && s->world.n_campaigns > 0 &&
        (!s->experiment_budget_split || s->experiment_unit == FW_UNIT_CREATOR) && cells > 1) {
        /* One budget for every arm: one arm's returns would move every arm's budgets. */
        const char *key = s->world.budget_elasticity > 0.0 ? "world.budget_elasticity" : "world.leave_roas";
        where_fmt(w, key, at, sizeof at);
        return fail(diag, FW_ERR_RANGE,
                    "%s: %s: advertisers revise each arm's share of a budget by that arm's returns, which needs "
                    "experiment.budget_split: true with unit user or cluster (%s); set the split, or %s to 0",
                    at, key, !s->experiment_budget_split ? "here every arm spends one budget" : "unit creator has one budget",
                    key);
    }
    /* The base's safety rules need the arms resolved (which of them moderate). Issue 20. */
    if ((err = check_safety(s, &s->behaviour, &s->engine, w, NULL, "", diag)) != FW_OK)
        return err;
    if ((err = check_aigc20(s, w, diag)) != FW_OK)   /* issue 20: needs the arms resolved */
        return err;
    if ((err = check_live(s, w, diag)) != FW_OK)   /* issue 19: needs the arms resolved */
        return err;
    if ((err = check_unfollow_events(s, w, diag)) != FW_OK)   /* issue 18: needs the arms resolved */
        return err;
    if ((err = check_privacy_clip(s, w, diag)) != FW_OK)
        return err;
    if ((err = check_disjoint(s, w, diag)) != FW_OK)
        return err;
    if ((err = check_cells(s, layers, n_layers, cells, w, diag)) != FW_OK)
        return err;
    if ((err = check_promotions(s, w, diag)) != FW_OK)
        return err;
    memcpy(s->layers, layers, sizeof layers);
    s->n_layers = n_layers;
    return FW_OK;
}

/* ---------------------------------------------------------------------------------------
 * The public calls. */

static void arms_free(fw_arm *arms, uint32_t n)
{
    for (uint32_t i = 0; arms != NULL && i < n; i++) {
        free(arms[i].name);
        free(arms[i].layer);
        for (uint32_t j = 0; j < arms[i].n_set; j++)
            free(arms[i].set[j]);
        free(arms[i].set);
        cfg_free_strings(&arms[i].behaviour, &arms[i].engine);
    }
    free(arms);
}

void fw_scenario_fini(fw_scenario *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < N_KNOBS; i++)
        if (knobs[i].type == KNOB_STR)
            free(*(char **)field_in(&knobs[i], s));
    arms_free(s->arms, s->n_arms);
    free(s->source_path);
    free(s->source_text);
    for (uint32_t i = 0; s->overrides != NULL && i < s->n_overrides; i++)
        free(s->overrides[i]);
    free(s->overrides);
    promotions_free(s);
    memset(s, 0, sizeof *s);
}

/* Issue 18's platform settings (scenario.h). Measured in README, "The default scenario". */
const char *const fw_scenario_platform[] = {
    "engine.feed.algorithm=rec",
    "world.warmup_days=60",
    "world.warmup_pilot_share=0.1",
    "behaviour.satiation=0.3",
    "behaviour.interact_rate=0.034",
    "behaviour.follow_rate=0.0012",
};
const size_t fw_scenario_platform_n = sizeof fw_scenario_platform / sizeof fw_scenario_platform[0];

uint32_t fw_scenario_pilot_users(const fw_scenario *s)
{
    const fw_world_cfg *c = &s->world;
    if (c->warmup_pilot_users > 0 || !(c->warmup_pilot_share > 0.0))
        return c->warmup_pilot_users;
    double p = floor(c->warmup_pilot_share * c->n_users + 0.5);
    return p < 1.0 ? 1u : p >= (double)c->n_users ? c->n_users : (uint32_t)p;
}

fw_err fw_scenario_defaults(fw_scenario *s)
{
    static const where nowhere = { "scenario", NULL, NULL, 0 };
    assert(s != NULL);
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < N_KNOBS; i++) {
        const knob *k = &knobs[i];
        knob_value v = { k->def_u, k->def_f, k->def_s };
        if (put_value(k, field_in(k, s), &v) != FW_OK)
            goto nomem;
    }
    s->arms = calloc(1, sizeof *s->arms);
    if (s->arms == NULL)
        goto nomem;
    s->n_arms = 1;
    s->arms[0].weight = 1.0;
    s->arms[0].name = strdup("all");
    s->arms[0].layer = strdup(DEFAULT_LAYER);
    if (s->arms[0].name == NULL || s->arms[0].layer == NULL || resolve_arm(s, 0, &nowhere, NULL) != FW_OK)
        goto nomem;
    s->layers[0] = (fw_layer){ .name = s->arms[0].layer, .n_arms = 1, .arm = { 0 } };
    s->n_layers = 1;
    return FW_OK;
nomem:
    fw_scenario_fini(s);
    return fail(NULL, FW_ERR_NOMEM, "out of memory");
}

/* Checks the text of every scalar value in the index (knobs and arm weights) with the parser
 * --set uses. Run before libcyaml sees the bytes, so a value libcyaml would choke on (an
 * integer of 5,000 digits) is reported at its FILE:LINE and key, with what was expected. */
static fw_err check_index_texts(const char *file, const yindex *ix, fw_diag *diag)
{
    char why[768];
    fw_err err = FW_OK;

    for (size_t i = 0; i < ix->n && err == FW_OK; i++) {
        const yentry *e = &ix->v[i];
        knob_value v;
        if (e->kind != NODE_SCALAR)
            continue;
        const knob *k = find_knob(e->canon, strlen(e->canon));
        if (k != NULL)
            err = check_text(k, e->text, &v, why, sizeof why);
        else if (strcmp(e->canon, "experiment.arms[].weight") == 0)
            err = check_weight_text(e->text, why, sizeof why);
        if (err != FW_OK)
            return fail(diag, err, "%s:%zu: %s: %s", file, e->line, e->path, why);
    }
    return FW_OK;
}

/* Copies the knobs present in the file from libcyaml's result (their text passed
 * check_index_texts) and replaces the arms when experiment.arms is present. */
static fw_err apply_doc(const char *file, const yindex *ix, const scenario_doc *doc, fw_scenario *s,
                        fw_diag *diag)
{
    for (size_t i = 0; i < ix->n; i++) {
        const yentry *e = &ix->v[i];
        if (e->kind != NODE_SCALAR)
            continue;
        const knob *k = find_knob(e->canon, strlen(e->canon));
        if (k != NULL) {
            knob_value v = get_value(k, (const char *)doc + k->doc_offset);
            if (put_value(k, field_in(k, s), &v) != FW_OK)
                return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
        }
    }
    if (index_find(ix, "experiment.arms") == NULL)
        return FW_OK;

    uint32_t n = doc->experiment.n_arms;
    arms_free(s->arms, s->n_arms);
    s->arms = NULL;
    s->n_arms = 0;
    if (n < 1 || n > FW_MAX_ARMS) {
        const yentry *e = index_find(ix, "experiment.arms");
        return fail(diag, FW_ERR_RANGE, "%s:%zu: experiment.arms: expected 1 to %d arms, got %" PRIu32, file,
                    e->line, FW_MAX_ARMS, n);
    }
    s->arms = calloc(n, sizeof *s->arms);
    if (s->arms == NULL)
        return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
    s->n_arms = n;
    for (uint32_t i = 0; i < n; i++) {
        const doc_arm *da = &doc->experiment.arms[i];
        fw_arm *a = &s->arms[i];
        char path[64];
        snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "].weight", i);
        a->weight = index_find(ix, path) != NULL ? da->weight : 1.0;
        a->name = strdup(da->name != NULL ? da->name : "");
        a->layer = strdup(da->layer != NULL ? da->layer : DEFAULT_LAYER);
        if (a->name == NULL || a->layer == NULL)
            return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
        if (da->n_set > 0) {
            a->set = calloc(da->n_set, sizeof *a->set);
            if (a->set == NULL)
                return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
        }
        for (uint32_t j = 0; j < da->n_set; j++) {
            a->set[j] = strdup(da->set[j] != NULL ? da->set[j] : "");
            if (a->set[j] == NULL)
                return fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
            a->n_set = j + 1;
        }
    }
    return FW_OK;
}

/* Loads the len bytes of buf (NUL-terminated, taken over: freed or kept as source_text) as the
 * scenario named name; shown is name as messages write it. */
static fw_err load_bytes(const char *name, const char *shown, unsigned char *buf, size_t len, fw_scenario *s,
                         fw_diag *diag)
{
    fw_scenario tmp;
    yindex ix = { NULL, 0, 0, NULL, 0 };
    scenario_doc *doc = NULL;
    cyaml_log_buf lb = { .len = 0 };
    const cyaml_config_t cfg = {
        .log_fn = capture_log,
        .log_ctx = &lb,
        .mem_fn = cyaml_mem,
        .mem_ctx = NULL,
        .log_level = CYAML_LOG_ERROR,
        .flags = CYAML_CFG_NO_ALIAS,
    };
    fw_err err;

    lb.text[0] = '\0';
    memset(&tmp, 0, sizeof tmp);
    if ((err = index_build(shown, buf, len, &ix, diag)) != FW_OK)
        goto cleanup;
    if ((err = fw_scenario_defaults(&tmp)) != FW_OK) {
        err = fail(diag, err, "%s: out of memory", shown);
        goto cleanup;
    }
    if ((err = check_index_texts(shown, &ix, diag)) != FW_OK)
        goto cleanup;
    if (ix.n > 0) {
        cyaml_err_t ce = cyaml_load_data(buf, len, &cfg, &doc_schema, (cyaml_data_t **)&doc, NULL);
        if (ce != CYAML_OK) {
            doc = NULL;
            /* libyaml failing inside libcyaml on bytes the index parsed is out of memory too */
            bool oom = ce == CYAML_ERR_OOM || ce == CYAML_ERR_LIBYAML_PARSER || ce == CYAML_ERR_LIBYAML_PARSER_INIT ||
                       ce == CYAML_ERR_LIBYAML_EVENT_INIT;
            err = oom ? fail(diag, FW_ERR_NOMEM, "%s: out of memory", shown) : explain_cyaml(shown, &ix, ce, &lb, diag);
            goto cleanup;
        }
        if (doc == NULL) {
            err = fail(diag, FW_ERR_INTERNAL, "%s: libcyaml returned no data", shown);
            goto cleanup;
        }
        if ((err = apply_doc(shown, &ix, doc, &tmp, diag)) != FW_OK ||
            (err = parse_promotions(shown, &ix, &tmp, diag)) != FW_OK)
            goto cleanup;
    }
    {
        const where w = { shown, &ix, NULL, 0 };
        if ((err = check_rules(&tmp, &w, diag)) != FW_OK)
            goto cleanup;
    }
    tmp.source_path = strdup(name);
    if (tmp.source_path == NULL) {
        err = fail(diag, FW_ERR_NOMEM, "%s: out of memory", shown);
        goto cleanup;
    }
    tmp.source_text = (char *)buf;
    buf = NULL;
    *s = tmp;
    memset(&tmp, 0, sizeof tmp);

cleanup:
    if (doc != NULL)
        cyaml_free(&cfg, &doc_schema, doc, 0);
    index_free(&ix);
    free(buf);
    if (err != FW_OK) {
        fw_scenario_fini(&tmp);
        memset(s, 0, sizeof *s);
    }
    return err;
}

fw_err fw_scenario_load(const char *path, fw_scenario *s, fw_diag *diag)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    fw_err err;

    assert(path != NULL && s != NULL);
    memset(s, 0, sizeof *s);
    char *shown = escape_dup(path);
    if (shown == NULL)
        return fail(diag, FW_ERR_NOMEM, "out of memory");
    err = read_file(path, shown, &buf, &len, diag);
    if (err == FW_OK)
        err = load_bytes(path, shown, buf, len, s, diag);
    free(shown);
    return err;
}

fw_err fw_scenario_load_mem(const char *name, const void *data, size_t len, fw_scenario *s, fw_diag *diag)
{
    assert(name != NULL && (data != NULL || len == 0) && s != NULL);
    memset(s, 0, sizeof *s);
    char *shown = escape_dup(name);
    if (shown == NULL)
        return fail(diag, FW_ERR_NOMEM, "out of memory");
    fw_err err = FW_OK;
    unsigned char *buf = NULL;
    if (len > FW_SCENARIO_MAX_BYTES)
        err = fail(diag, FW_ERR_RANGE, "%s: expected a scenario of at most %d MiB, got %zu bytes", shown,
                   FW_SCENARIO_MAX_BYTES >> 20, len);
    else if ((buf = malloc(len + 1)) == NULL)
        err = fail(diag, FW_ERR_NOMEM, "%s: out of memory", shown);
    if (err == FW_OK) {
        if (len > 0)
            memcpy(buf, data, len);
        buf[len] = '\0';
        err = load_bytes(name, shown, buf, len, s, diag);
    }
    free(shown);
    return err;
}

fw_err fw_scenario_set(fw_scenario *s, const char *assignment, fw_diag *diag)
{
    const knob *k = NULL;
    knob_value v;
    char why[768], shown[220];
    fw_err err;

    assert(s != NULL && assignment != NULL);
    escape_text(shown, sizeof shown, assignment, 200);  /* as typed, control characters escaped */
    err = parse_assignment(assignment, false, &k, &v, why, sizeof why);
    if (err != FW_OK)
        return fail(diag, err, "--set %s: %s", shown, why);
    char **o = realloc(s->overrides, (s->n_overrides + 1) * sizeof *o);
    if (o == NULL)
        return fail(diag, FW_ERR_NOMEM, "--set %s: out of memory", shown);
    s->overrides = o;
    char *dup = strdup(assignment);
    if (dup == NULL || put_value(k, field_in(k, s), &v) != FW_OK) {
        free(dup);
        return fail(diag, FW_ERR_NOMEM, "--set %s: out of memory", shown);
    }
    s->overrides[s->n_overrides++] = dup;
    return FW_OK;
}

fw_err fw_scenario_finish(fw_scenario *s, fw_diag *diag)
{
    assert(s != NULL);
    /* The file's index again, so that a rule --set broke (an arm's knob that a new
     * experiment.isolation makes one value per run) is still reported at its line. */
    yindex ix;
    memset(&ix, 0, sizeof ix);
    char *shown = s->source_path != NULL ? escape_dup(s->source_path) : NULL;
    const char *file = shown != NULL ? shown : "scenario";
    bool have_ix = s->source_text != NULL &&
                   index_build(file, (const unsigned char *)s->source_text, strlen(s->source_text), &ix, NULL) == FW_OK;
    const where w = { file, have_ix ? &ix : NULL, s->overrides, s->n_overrides };
    fw_err err = check_rules(s, &w, diag);
    index_free(&ix);   /* whatever a failed build left too */
    free(shown);
    return err;
}

/* Whether an arm's overrides set the knob at path. */
static bool sets_key(const fw_arm *a, const char *path)
{
    size_t n = strlen(path);
    for (uint32_t j = 0; j < a->n_set; j++)
        if (a->set[j] != NULL && strncmp(a->set[j], path, n) == 0 && a->set[j][n] == '=')
            return true;
    return false;
}

/* Checks one cell's ranker plug-in (cfg); at says where its knobs were set. */
static fw_err check_cell_plugin(const fw_scenario *s, const fw_engine_cfg *e, const char *at, const char *what,
                                fw_diag *diag)
{
    char why[1024];
    if (e->feed.plugin == NULL || e->feed.plugin[0] == '\0')
        return fail(diag, FW_ERR_RANGE,
                    "%s: engine.feed.plugin: %salgorithm plugin needs the path of a ranker plug-in (a shared object "
                    "exporting fw_ranker_plugin, see flywheel/policy.h), got none",
                    at, what);
    if (s->experiment_unit == FW_UNIT_CREATOR)
        return fail(diag, FW_ERR_RANGE,
                    "%s: engine.feed.algorithm: %splugin cannot serve a producer-side experiment (experiment.unit: "
                    "creator scores each note under its creator's arm; a plug-in ranks whole requests)",
                    at, what);
    fw_err rc = fw_policy_check_ranker(e, s->world.n_users, s->world.n_topics, s->world.ticks_per_day, s->seed, why,
                                       sizeof why);
    if (rc != FW_OK)
        return fail(diag, rc, "%s: engine.feed.plugin: %s%s", at, what, why);
    return FW_OK;
}

/* Checks one cell's bidder plug-in (cfg); at says where its knobs were set. */
static fw_err check_cell_bidder(const fw_scenario *s, const fw_engine_cfg *e, const char *at, const char *what,
                                fw_diag *diag)
{
    char why[1024];
    if (e->ads.bidder_plugin == NULL || e->ads.bidder_plugin[0] == '\0')
        return fail(diag, FW_ERR_RANGE,
                    "%s: engine.ads.bidder_plugin: %sbidder plugin needs the path of a bidder plug-in (a shared "
                    "object exporting fw_bidder_plugin, see flywheel/policy.h), got none",
                    at, what);
    if (s->world.n_campaigns == 0)
        return fail(diag, FW_ERR_RANGE,
                    "%s: engine.ads.bidder: %splugin, but world.n_campaigns is 0: there is nothing to bid for", at,
                    what);
    if (e->ads.bidder_campaigns > s->world.n_campaigns)
        return fail(diag, FW_ERR_RANGE,
                    "%s: engine.ads.bidder_campaigns: %sexpected at most world.n_campaigns (%" PRIu32 "), got %" PRIu32,
                    at, what, s->world.n_campaigns, e->ads.bidder_campaigns);
    fw_err rc = fw_policy_check_bidder(e, s->world.n_topics, s->world.ticks_per_day, s->seed, why, sizeof why);
    if (rc != FW_OK)
        return fail(diag, rc, "%s: engine.ads.bidder_plugin: %s%s", at, what, why);
    return FW_OK;
}

/* The plug-ins' knobs, by kind: the key its check is reported under, and the keys that choose
 * or configure it (an arm setting any of them is where its message points). */
typedef struct plug_kind {
    const char *key;
    const char *keys[4];
} plug_kind;

static const plug_kind plug_kinds[2] = {
    {"engine.feed.plugin",
     {"engine.feed.algorithm", "engine.feed.plugin", "engine.feed.plugin_args", "engine.feed.plugin_vectors"}},
    {"engine.ads.bidder_plugin",
     {"engine.ads.bidder", "engine.ads.bidder_plugin", "engine.ads.bidder_args", "engine.ads.bidder_campaigns"}},
};

fw_err fw_scenario_check_plugins(const fw_scenario *s, fw_diag *diag)
{
    assert(s != NULL && s->n_layers >= 1);
    yindex ix;
    memset(&ix, 0, sizeof ix);
    char *shown_file = s->source_path != NULL ? escape_dup(s->source_path) : NULL;
    const char *file = shown_file != NULL ? shown_file : "scenario";
    bool have_ix = s->source_text != NULL &&
                   index_build(file, (const unsigned char *)s->source_text, strlen(s->source_text), &ix, NULL) == FW_OK;
    const where w = { file, have_ix ? &ix : NULL, s->overrides, s->n_overrides };
    char at[2][600], why[768], what[2][200], path[64], shown[80];
    uint64_t cells = 1;
    bool used[2] = {false, false}, named[2] = {false, false};
    fw_err err = FW_OK;
    for (uint32_t l = 0; l < s->n_layers; l++)
        cells *= s->layers[l].n_arms;
    for (uint64_t c = 0; c < cells && err == FW_OK; c++) {
        fw_behaviour_cfg b;
        fw_engine_cfg e;
        uint64_t rest = c;
        uint32_t bad = 0;
        if (cfg_copy_base(s, &b, &e) != FW_OK) {
            err = fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
            break;
        }
        for (int k = 0; k < 2; k++) {
            where_fmt(&w, plug_kinds[k].key, at[k], sizeof at[k]);
            what[k][0] = '\0';
        }
        for (uint32_t l = 0; l < s->n_layers && err == FW_OK; l++) {
            uint32_t ai = s->layers[l].arm[rest % s->layers[l].n_arms];
            const fw_arm *a = &s->arms[ai];
            rest /= s->layers[l].n_arms;
            if (apply_sets(a->set, a->n_set, &b, &e, &bad, why, sizeof why) != FW_OK)
                err = fail(diag, FW_ERR_NOMEM, "%s: out of memory", file);
            for (int k = 0; k < 2; k++) {
                bool sets = false;
                for (int j = 0; j < 4 && plug_kinds[k].keys[j]; j++)
                    sets = sets || sets_key(a, plug_kinds[k].keys[j]);
                if (!sets)
                    continue;
                snprintf(path, sizeof path, "experiment.arms[%" PRIu32 "].set", ai);
                where_fmt(&w, path, at[k], sizeof at[k]);
                clean_text(shown, sizeof shown, a->name);
                snprintf(what[k], sizeof what[k], "(arm '%s') ", shown);
            }
        }
        if (err == FW_OK && e.feed.algorithm == FW_FEED_PLUGIN) {
            used[0] = true;
            err = check_cell_plugin(s, &e, at[0], what[0], diag);
        } else if (err == FW_OK && ((e.feed.plugin && e.feed.plugin[0]) || (e.feed.plugin_args && e.feed.plugin_args[0]) ||
                                    e.feed.plugin_vectors))
            named[0] = true;
        if (err == FW_OK && e.ads.bidder == FW_BIDDER_PLUGIN) {
            used[1] = true;
            err = check_cell_bidder(s, &e, at[1], what[1], diag);
        } else if (err == FW_OK && ((e.ads.bidder_plugin && e.ads.bidder_plugin[0]) ||
                                    (e.ads.bidder_args && e.ads.bidder_args[0]) || e.ads.bidder_campaigns))
            named[1] = true;
        cfg_free_strings(&b, &e);
    }
    if (err == FW_OK && named[0] && !used[0]) {
        where_fmt(&w, "engine.feed.plugin", at[0], sizeof at[0]);
        err = fail(diag, FW_ERR_RANGE,
                   "%s: engine.feed.plugin: a ranker plug-in, its arguments or plugin_vectors are set but no arm sets "
                   "engine.feed.algorithm: plugin, so they would do nothing; set the algorithm or remove "
                   "engine.feed.plugin, plugin_args and plugin_vectors",
                   at[0]);
    }
    if (err == FW_OK && named[1] && !used[1]) {
        where_fmt(&w, "engine.ads.bidder_plugin", at[1], sizeof at[1]);
        err = fail(diag, FW_ERR_RANGE,
                   "%s: engine.ads.bidder_plugin: a bidder plug-in, its arguments or its campaigns are set but no arm "
                   "sets engine.ads.bidder: plugin, so they would do nothing; set the bidder or remove "
                   "engine.ads.bidder_plugin, bidder_args and bidder_campaigns",
                   at[1]);
    }
    index_free(&ix);
    free(shown_file);
    return err;
}

fw_err fw_scenario_cfg_copy(const fw_scenario *s, fw_behaviour_cfg *b, fw_engine_cfg *e)
{
    return cfg_copy_base(s, b, e);
}

void fw_scenario_cfg_free(fw_behaviour_cfg *b, fw_engine_cfg *e)
{
    fw_behaviour_cfg none;   /* behaviour.* holds no string; b may be NULL */
    cfg_free_strings(b != NULL ? b : &none, e);
}

/* The arms' own code path (apply_sets), with "arm override KEY=VALUE" in place of FILE:LINE.
 * A STR knob's old string is freed and replaced by a copy, as in an arm, so b and e must own
 * their strings (fw_scenario_cfg_copy makes such a copy of the base; engine.feed.plugin and
 * plugin_args are strings: a plain struct copy of the base is not valid). */
fw_err fw_scenario_apply(char *const *sets, uint32_t n, fw_behaviour_cfg *b, fw_engine_cfg *e,
                         fw_diag *diag)
{
    char why[768], shown[80];
    uint32_t bad = 0;
    fw_err err;

    assert((sets != NULL || n == 0) && b != NULL && e != NULL);
    err = apply_sets(sets, n, b, e, &bad, why, sizeof why);
    if (err == FW_ERR_NOMEM)
        return fail(diag, FW_ERR_NOMEM, "out of memory");
    if (err != FW_OK) {
        clean_text(shown, sizeof shown, sets[bad]);
        return fail(diag, FW_ERR_INVAL, "arm override %s: %s", shown, why);
    }
    return FW_OK;
}

/* ---------------------------------------------------------------------------------------
 * Writing YAML. */

/* The escapes of a double-quoted YAML scalar that are a backslash and one character:
 * yaml_escape[c] is that character for c, 0 where c has none (other control characters are
 * written as \xHH). */
static const char yaml_escape[128] = {['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\t'] = 't', ['\r'] = 'r'};

/* A double-quoted YAML scalar: always reads back as the same string. */
static void put_quoted(FILE *f, const char *str)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(str != NULL ? str : ""); *p != '\0'; p++) {
        if (*p < sizeof yaml_escape && yaml_escape[*p] != '\0') {
            fputc('\\', f);
            fputc(yaml_escape[*p], f);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\x%02x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* A comment line: control characters become spaces so it stays one line. */
static void put_comment(FILE *f, int indent, const char *text)
{
    fprintf(f, "%*s# ", indent, "");
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
        fputc(*p < 0x20 ? ' ' : *p, f);
    fputc('\n', f);
}

static void put_knob_comment(FILE *f, int indent, const knob *k)
{
    char text[1024], def[256], range[600];
    knob_value v = { k->def_u, k->def_f, k->def_s };
    fmt_value(k, &v, def, sizeof def);
    switch (k->type) {
    case KNOB_U32:
    case KNOB_U64:
    case KNOB_F64:
        describe(k, range, sizeof range);
        snprintf(text, sizeof text, "%s%s%s%s (default %s, range %s)", k->doc, k->unit[0] ? " [" : "", k->unit,
                 k->unit[0] ? "]" : "", def, strchr(range, '['));
        break;
    case KNOB_STR:
        snprintf(text, sizeof text, "%s (default \"%s\")", k->doc, def);
        break;
    default:
        describe(k, range, sizeof range);
        snprintf(text, sizeof text, "%s (default %s; %s)", k->doc, def, range);
        break;
    }
    /* Every knob's scope: who may set it (arm or run; some only when the experiment gives
     * each arm its own copy of the state the knob configures). */
    {
        size_t len = strlen(text);
        snprintf(text + len, sizeof text - len, " [scope: %s]",
                 sections[k->sec].part == PART_NONE ? "run" : fw_knob_scope_name(k->scope));
    }
    put_comment(f, indent, text);
}

/* Does section sec hold anything to write (its knobs or a sub-section's)? */
static bool section_has_content(int sec)
{
    size_t plen = strlen(sections[sec].path);
    if (sec == SEC_EXPERIMENT)
        return true;
    for (size_t i = 0; i < N_KNOBS; i++) {
        const char *p = sections[knobs[i].sec].path;
        if ((int)knobs[i].sec == sec || (strncmp(p, sections[sec].path, plen) == 0 && p[plen] == '.'))
            return true;
    }
    return false;
}

static void write_arms(const fw_scenario *s, FILE *f, int comments)
{
    if (comments) {
        put_comment(f, 2, "arms: each unit is assigned to one arm with probability weight / sum of weights;");
        put_comment(f, 2, "set overrides behaviour.* and engine.* keys of the base for that arm, in order;");
        put_comment(f, 2, "layer (default " DEFAULT_LAYER "): each layer splits the units among its own arms");
        put_comment(f, 2, "independently of the others (weights are relative within it; its first arm is");
        put_comment(f, 2, "its control), and arms of different layers must set different keys");
    }
    fprintf(f, "  arms:\n");
    for (uint32_t i = 0; i < s->n_arms; i++) {
        const fw_arm *a = &s->arms[i];
        char w[40];
        fmt_double(w, a->weight);
        fprintf(f, "    - name: ");
        put_quoted(f, a->name);
        if (a->layer != NULL && strcmp(a->layer, DEFAULT_LAYER) != 0) {
            fprintf(f, "\n      layer: ");
            put_quoted(f, a->layer);
        }
        fprintf(f, "\n      weight: %s\n", w);
        if (a->n_set == 0)
            continue;
        fprintf(f, "      set: [");
        for (uint32_t j = 0; j < a->n_set; j++) {
            if (j > 0)
                fputs(", ", f);
            put_quoted(f, a->set[j]);
        }
        fprintf(f, "]\n");
    }
}

/* The promotions section, when the scenario has one (absent otherwise, as in the file). */
static void write_promotions(const fw_scenario *s, FILE *f, int comments)
{
    char v[40];
    if (s->n_coupons == 0 && s->n_promo_days == 0)
        return;
    if (comments) {
        fputc('\n', f);
        put_comment(f, 0, "coupons (offered by the arms they name, every arm when none) and promotion days");
    }
    fprintf(f, "promotions:\n");
    if (s->n_coupons > 0)
        fprintf(f, "  coupons:\n");
    for (uint32_t i = 0; i < s->n_coupons; i++) {
        const fw_coupon_cfg *c = &s->coupons[i];
        fprintf(f, "    - name: ");
        put_quoted(f, c->name);
        fprintf(f, "\n      issuer: %s\n", c->issuer == FW_COUPON_BRAND ? "brand" : "platform");
        if (c->issuer == FW_COUPON_BRAND)
            fprintf(f, "      brand: %" PRIu32 "\n", c->brand);
        if (c->kind == FW_COUPON_PERCENT) {
            fmt_double(v, c->percent);
            fprintf(f, "      percent: %s\n", v);
        } else {
            fprintf(f, "      off_cents: %" PRIu64 "\n", c->off_cents);
        }
        fmt_double(v, c->claim_rate);
        fprintf(f, "      threshold_cents: %" PRIu64 "\n      budget_cents: %" PRIu64 "\n      first_day: %" PRIu32 "\n",
                c->threshold_cents, c->budget_cents, c->first_day);
        if (c->last_day != PROMO_NO_DAY)
            fprintf(f, "      last_day: %" PRIu32 "\n", c->last_day);
        fprintf(f, "      validity_days: %" PRIu32 "\n      claim_rate: %s\n", c->validity_days, v);
        if (c->n_arms == 0)
            continue;
        fprintf(f, "      arms: [");
        for (uint32_t j = 0; j < c->n_arms; j++) {
            if (j > 0)
                fputs(", ", f);
            put_quoted(f, c->arms[j]);
        }
        fprintf(f, "]\n");
    }
    if (s->n_promo_days > 0)
        fprintf(f, "  days:\n");
    for (uint32_t i = 0; i < s->n_promo_days; i++) {
        const fw_promo_day *d = &s->promo_days[i];
        fprintf(f, "    - day: %" PRIu32 "\n      name: ", d->day);
        put_quoted(f, d->name != NULL ? d->name : "");
        fmt_double(v, d->traffic);
        fprintf(f, "\n      traffic: %s\n", v);
        fmt_double(v, d->intent);
        fprintf(f, "      intent: %s\n", v);
        fmt_double(v, d->discount_percent);
        fprintf(f, "      discount_percent: %s\n", v);
    }
}

fw_err fw_scenario_write_yaml(const fw_scenario *s, FILE *f, int comments)
{
    assert(s != NULL && f != NULL);
    if (comments) {
        put_comment(f, 0, "Flywheel scenario. Every key is optional: an absent key takes the default shown");
        put_comment(f, 0, "in its comment. Override any knob for one run with --set key.path=value.");
        if (s->source_path != NULL) {
            char line[1100];
            snprintf(line, sizeof line, "loaded from %s", s->source_path);
            put_comment(f, 0, line);
        }
        for (uint32_t i = 0; i < s->n_overrides; i++) {
            char line[1100];
            snprintf(line, sizeof line, "--set %s", s->overrides[i]);
            put_comment(f, 0, line);
        }
        fputc('\n', f);
    }
    for (int sec = 0; sec < SEC__COUNT; sec++) {
        const char *p = sections[sec].path;
        int depth = 0;
        if (p[0] != '\0') {
            depth = 1;
            for (const char *c = p; *c != '\0'; c++)
                depth += *c == '.';
            if (comments && depth == 1)
                fputc('\n', f);
            if (comments)
                put_comment(f, 2 * (depth - 1), sections[sec].doc);
            fprintf(f, "%*s%s:%s\n", 2 * (depth - 1), "", last_part(p), section_has_content(sec) ? "" : " {}");
        }
        for (size_t i = 0; i < N_KNOBS; i++) {
            const knob *k = &knobs[i];
            char val[1024];
            if ((int)k->sec != sec)
                continue;
            if (comments)
                put_knob_comment(f, 2 * depth, k);
            knob_value v = get_value(k, (const char *)s + k->offset);
            fprintf(f, "%*s%s: ", 2 * depth, "", k->name);
            if (k->type == KNOB_STR) {
                put_quoted(f, v.s);
            } else {
                fmt_value(k, &v, val, sizeof val);
                fputs(val, f);
            }
            fputc('\n', f);
        }
        if (sec == SEC_EXPERIMENT)
            write_arms(s, f, comments);
    }
    write_promotions(s, f, comments);
    if (fflush(f) != 0 || ferror(f))
        return fail(NULL, FW_ERR_IO, "cannot write the scenario: %s", strerror(errno));
    return FW_OK;
}

uint32_t fw_scenario_learners(const fw_scenario *s)
{
    if (s->n_arms < 2 || s->experiment_isolation != FW_ISOLATION_PER_ARM || s->experiment_unit == FW_UNIT_CREATOR)
        return 1;
    return s->experiment_learners_per_arm > 0 ? s->experiment_learners_per_arm : FW_LEARNERS_AUTO;
}
