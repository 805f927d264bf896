/* The knob X-macro convention shared by engine and simulator configuration.
 * Owns: nothing; only macros.  Borrows: nothing.  Never touches: parsing (sim/scenario does).
 *
 * A knob list is an X-macro whose entries read
 *     X(TYPE, name, default, min, max, unit, "one-line description")
 * with TYPE one of U32, U64, F64, BOOL, STR, ENUM. For ENUM, min is the name of a value
 * list macro V(ENUM_CONSTANT, "yaml-name") and max is unused (0); the default is an enum
 * constant. For STR, min/max are unused (0). The list is the one place where a knob's
 * default lives: structs, YAML schema, range checks, --set and the documentation dump are
 * all expanded from it. */
#ifndef FLYWHEEL_KNOB_H
#define FLYWHEEL_KNOB_H

#include <stdbool.h>
#include <stdint.h>

#define FW_KNOB_CTYPE_U32  uint32_t
#define FW_KNOB_CTYPE_U64  uint64_t
#define FW_KNOB_CTYPE_F64  double
#define FW_KNOB_CTYPE_BOOL bool
#define FW_KNOB_CTYPE_STR  char *
#define FW_KNOB_CTYPE_ENUM int

/* Expands one knob into a struct member. */
#define FW_KNOB_FIELD(type, name, def, lo, hi, unit, doc) FW_KNOB_CTYPE_##type name;

/* Expands a value list into enum constants. */
#define FW_KNOB_ENUM_CONST(constant, yaml) constant,

#endif
