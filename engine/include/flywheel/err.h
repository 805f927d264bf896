/* Error codes shared by the engine and the simulator.
 * Owns: the fw_err enum and its messages, generated from one table (libuv's errno map).
 * Borrows: nothing.  Never touches: I/O; reporting a failure to a person is the caller's job. */
#ifndef FLYWHEEL_ERR_H
#define FLYWHEEL_ERR_H

/* X(NAME, message).  FW_OK must stay first and zero. */
#define FW_ERR_TABLE(X)                                                   \
    X(OK,        "success")                                               \
    X(NOMEM,     "out of memory")                                         \
    X(INVAL,     "invalid argument")                                      \
    X(RANGE,     "value out of range")                                    \
    X(IO,        "input/output error")                                    \
    X(PARSE,     "malformed input")                                       \
    X(NOTFOUND,  "not found")                                             \
    X(INTERRUPT, "interrupted by a signal")                               \
    X(INTERNAL,  "internal error (a bug in flywheel)")                    \
    X(PLUGIN,    "a plug-in broke its contract (flywheel/policy.h)")

typedef enum fw_err {
#define FW_ERR_ENUM(name, msg) FW_ERR_##name,
    FW_ERR_TABLE(FW_ERR_ENUM)
#undef FW_ERR_ENUM
    FW_ERR__COUNT
} fw_err;

#define FW_OK FW_ERR_OK

/* Returns a static, human-readable message for code; never NULL, also for unknown codes. */
const char *fw_err_str(fw_err code);

/* Returns the symbolic name ("NOMEM") of code; never NULL. */
const char *fw_err_name(fw_err code);

#endif
