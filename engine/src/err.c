#include "flywheel/err.h"

static const char *const messages[] = {
#define FW_ERR_MSG(name, msg) msg,
    FW_ERR_TABLE(FW_ERR_MSG)
#undef FW_ERR_MSG
};

static const char *const names[] = {
#define FW_ERR_NAME(name, msg) #name,
    FW_ERR_TABLE(FW_ERR_NAME)
#undef FW_ERR_NAME
};

const char *fw_err_str(fw_err code)
{
    if ((unsigned)code >= FW_ERR__COUNT)
        return "unknown error";
    return messages[code];
}

const char *fw_err_name(fw_err code)
{
    if ((unsigned)code >= FW_ERR__COUNT)
        return "UNKNOWN";
    return names[code];
}
