/* libFuzzer target: the resume checkpoint's reader (sim/driver/ckpt.c) on arbitrary bytes, as
 * `flywheel run --resume` reads NAME.h5.ckpt. A checkpoint that decodes is encoded again and
 * must give back exactly the bytes it came from (the format has one encoding), and decode
 * again. Nothing here may exit(): a crash, a sanitizer report, a leak or a mismatch is a
 * finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "driver/ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fw_ckpt c;
    char why[256];
    fw_err rc = fw_ckpt_decode(data, size, &c, why, sizeof why);
    if (rc == FW_OK) {
        unsigned char *buf = NULL;
        size_t len = 0;
        if (fw_ckpt_encode(&c, &buf, &len) == FW_OK) {
            if (len != size || memcmp(buf, data, size) != 0)
                abort();
            fw_ckpt d;
            if (fw_ckpt_decode(buf, len, &d, why, sizeof why) != FW_OK)
                abort();
            fw_ckpt_fini(&d);
        }
        free(buf);
    } else if (rc == FW_ERR_PARSE && !why[0]) {
        abort();   /* every refusal says why */
    }
    fw_ckpt_fini(&c);
    return 0;
}
