/* A program of one's own against an installed Flywheel (tests/install/install.sh builds it
 * out of tree with pkg-config and with CMake): the engine alone -- a configuration from the
 * defaults, a two-note catalog, a feed request -- then the simulator through flywheel.h, on
 * the installed default scenario made tiny, and a ranker plug-in's ABI version.
 * Usage: embed SCENARIO OUT.h5 [PLUGIN.so]. Exit 0 when everything answered as documented. */
#include <stdio.h>
#include <string.h>

#include <flywheel/engine.h>
#include <flywheel/flywheel.h>
#include <flywheel/policy.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: embed SCENARIO OUT.h5 [PLUGIN.so]\n");
        return 2;
    }
    printf("flywheel %s, policy ABI %u\n", fw_flywheel_version(), FW_POLICY_ABI_VERSION);

    fw_engine_cfg cfg;
    char why[1024];
    fw_engine_cfg_defaults(&cfg);
    if (fw_engine_cfg_check(&cfg, why, sizeof why) != FW_OK) {
        fprintf(stderr, "embed: defaults refused: %s\n", why);
        return 1;
    }
    fw_note_info notes[2] = {{.creator = 0, .topic = 0, .created_tick = -1}, {.creator = 1, .topic = 1, .created_tick = -2}};
    uint64_t off[3] = {0, 1, 1};
    uint32_t follows[1] = {1};
    fw_catalog cat = {.n_users = 2, .n_topics = 2, .ticks_per_day = 4, .n_notes = 2, .notes = notes,
                      .follow_offsets = off, .follows = follows};
    fw_err err;
    fw_engine *e = fw_engine_create(&cat, &cfg, 1, &err);
    fw_engine_ctx *ctx = e ? fw_engine_ctx_create(e) : NULL;
    if (!ctx) {
        fprintf(stderr, "embed: cannot create an engine: %s\n", fw_err_str(err));
        return 1;
    }
    fw_feed_req req = {.user = 0, .arm = 0, .tick = 0};
    uint32_t page[10];
    uint32_t n = fw_feed_request(e, ctx, &req, page, 10);
    printf("engine: user 0's feed has %u note(s), first %u\n", n, n ? page[0] : FW_NONE);
    fw_engine_ctx_destroy(ctx);
    fw_engine_destroy(e);
    if (n == 0)
        return 1;

    if (argc > 3) {
        fw_engine_cfg p = cfg;
        p.feed.algorithm = FW_FEED_PLUGIN;
        p.feed.plugin = argv[3];
        if (fw_policy_check_ranker(&p, 100, 4, 8, 1, why, sizeof why) != FW_OK) {
            fprintf(stderr, "embed: %s\n", why);
            return 1;
        }
        printf("plug-in %s loads\n", argv[3]);
    }

    const char *sets[] = {"world.n_users=300", "world.n_notes=600", "world.n_brands=5", "world.n_products=40",
                          "world.n_campaigns=5", "world.ticks_per_day=8", "days=1"};
    int rc = fw_flywheel_run(argv[1], sets, sizeof sets / sizeof sets[0], argv[2], 1, why, sizeof why);
    printf("simulator: fw_flywheel_run returned %d%s%s\n", rc, rc ? ": " : "", rc ? why : "");
    const char *bad[] = {"world.n_users=nope"};
    int rc2 = fw_flywheel_run(argv[1], bad, 1, argv[2], 1, why, sizeof why);
    printf("bad override: %d (%s)\n", rc2, why);
    return rc == 0 && rc2 == 2 && strstr(why, "world.n_users") ? 0 : 1;
}
