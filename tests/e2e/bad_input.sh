#!/usr/bin/env bash
# Bad input: exit code 2, a message naming file, line, key and what was expected, and
# nothing created under results/.
. "$(dirname "$0")/lib.sh"
cd "$TMP"

# expect_bad NAME "needle1|needle2|..." flywheel-args...
expect_bad() {
  local name=$1 needles=$2
  shift 2
  "$FLYWHEEL" "$@" >out.txt 2>err.txt
  local rc=$?
  if [ $rc -ne 2 ]; then fail "$name: exit $rc, expected 2 ($(cat err.txt))"; return; fi
  local IFS='|'
  for n in $needles; do
    if ! grep -qF -- "$n" err.txt; then fail "$name: message lacks '$n': $(cat err.txt)"; return; fi
  done
  pass "$name: $(head -1 err.txt)"
}

printf 'name: t\nworld:\n  n_userz: 100\n' >unknown.yaml
expect_bad "unknown key" "unknown.yaml:3|world.n_userz|world.n_users" run unknown.yaml
printf 'name: t\nbehavior:\n  open_rate: 0.1\n' >section.yaml
expect_bad "misspelt section" "section.yaml:2|behavior|behaviour" run section.yaml
printf 'name: t\nbehaviour:\n  stop_base: 0.1\n  open_rate: abc\n' >type.yaml
expect_bad "wrong type" "type.yaml:4|behaviour.open_rate|expected" run type.yaml
printf 'world:\n  n_topics: 8\n  n_users: 5\n' >range.yaml
expect_bad "out of range" "range.yaml:3|world.n_users|10" run range.yaml
printf 'days: -3\n' >neg.yaml
expect_bad "negative unsigned" "neg.yaml:1|days" run neg.yaml
printf 'engine:\n  feed:\n    algorithm: magic\n' >enum.yaml
expect_bad "bad enum" "enum.yaml:3|engine.feed.algorithm|baseline" run enum.yaml
printf 'engine:\n  shop:\n    delivery_days_min: 5\n    delivery_days_max: 2\n' >delivery.yaml
expect_bad "delivery min above max" "delivery.yaml:3|engine.shop.delivery_days_min|delivery_days_max (2)" run delivery.yaml
# Knobs that would do nothing where another switches their mechanism off: refused.
printf 'world:\n  target_roas: 5\n' >idle_roas.yaml
expect_bad "target_roas without ROAS campaigns" "idle_roas.yaml:2|world.target_roas|goal_target_roas is 0" run idle_roas.yaml
printf 'engine:\n  ads:\n    autobid_lr: 0.2\n' >idle_lr.yaml
expect_bad "autobid_lr without goal campaigns" "idle_lr.yaml:3|engine.ads.autobid_lr|no campaign autobids" run idle_lr.yaml
printf 'experiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["behaviour.satiation_half_life_hours=5"]\n' >idle_sat.yaml
expect_bad "an arm's satiation half-life without satiation" "idle_sat.yaml:4|arm 'b'|behaviour.satiation is 0" run idle_sat.yaml
printf 'engine:\n  rec:\n    train_mode: tick\n' >idle_train.yaml
expect_bad "train_mode tick without the recommender" "idle_train.yaml:3: engine.rec.train_mode: tick would do nothing|no feed its users see learns" validate idle_train.yaml
# Every engine.rec.* knob: its re-rank knobs where no feed is the recommender's, its training
# knobs in a baseline arm beside a rec arm (nothing reads what that arm's learner learns).
printf 'engine:\n  rec:\n    max_per_topic: 10\n' >idle_cap.yaml
expect_bad "max_per_topic without the rec feed" "idle_cap.yaml:3: engine.rec.max_per_topic: 10 would do nothing|is the recommender's" validate idle_cap.yaml
printf 'experiment:\n  arms:\n    - name: rec\n      set: ["engine.feed.algorithm=rec"]\n    - name: b\n      set: ["engine.rec.lr=0.5"]\n' >idle_lr_arm.yaml
expect_bad "a baseline arm's lr beside a rec arm" "idle_lr_arm.yaml:5|arm 'b'|engine.rec.lr|nothing trains" validate idle_lr_arm.yaml
printf 'engine:\n  rec:\n    scoring: exhaustive\n' >idle_scoring.yaml
expect_bad "scoring exhaustive without the rec feed" "idle_scoring.yaml:3: engine.rec.scoring: exhaustive would do nothing|is the recommender's" validate idle_scoring.yaml
# ... and an arm may not set it: a test oracle with the same pages, so run scope (one value per run)
printf 'experiment:\n  arms:\n    - name: a\n      set: ["engine.feed.algorithm=rec"]\n    - name: b\n      set: ["engine.feed.algorithm=rec", "engine.rec.scoring=exhaustive"]\n' >arm_scoring.yaml
expect_bad "an arm's scoring" "arm_scoring.yaml:6: engine.rec.scoring: arm 'b' sets it|one value per run" validate arm_scoring.yaml
printf 'experiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.rec.train_mode=tick"]\n' >idle_train_arm.yaml
expect_bad "an arm's train_mode tick without the recommender" "idle_train_arm.yaml:4|arm 'b'|nothing trains" validate idle_train_arm.yaml
printf 'behaviour:\n  shop_visit_rate: 0\n  shop_eta: 1\n' >idle_shop_eta.yaml
expect_bad "shop_eta without shop-tab visits" "idle_shop_eta.yaml:3: behaviour.shop_eta: 1 would do nothing|shop_visit_rate is 0" validate idle_shop_eta.yaml
printf 'engine:\n  search:\n    product_match: bestseller\n' >idle_match.yaml
expect_bad "product_match without product results" "idle_match.yaml:3: engine.search.product_match: bestseller would do nothing|product_slot is 0|default title" validate idle_match.yaml
printf 'engine:\n  search:\n    product_slot: 2\n    product_match: bestseller\n    product_w_sales: 3\n' >idle_sales.yaml
expect_bad "product_w_sales with best sellers" "idle_sales.yaml:5: engine.search.product_w_sales: 3 would do nothing|not matched by title" validate idle_sales.yaml
# Personal search reads the learned affinity, which only a cell whose feed learns has: in a
# baseline-only scenario, or a baseline arm beside a rec arm, w_personal would do nothing.
printf 'engine:\n  search:\n    w_personal: 1\n' >idle_personal.yaml
expect_bad "w_personal without a learning feed" "idle_personal.yaml:3: engine.search.w_personal: 1 would do nothing|no feed its users see learns" validate idle_personal.yaml
printf 'experiment:\n  arms:\n    - name: rec\n      set: ["engine.feed.algorithm=rec"]\n    - name: b\n      set: ["engine.search.w_personal=2"]\n' >idle_personal_arm.yaml
expect_bad "an arm's w_personal on the baseline feed" "idle_personal_arm.yaml:5|arm 'b'|engine.search.w_personal|no feed its users see learns" run idle_personal_arm.yaml
# Issue 20: AIGC and the media pipeline -- shares above 1, negative or zero sizes, knobs whose
# mechanism is off, a run-wide knob in an arm.
printf 'world:\n  aigc_declare_share: 1.5\n' >aigc_share.yaml
expect_bad "AIGC declare share above 1" "aigc_share.yaml:2|world.aigc_declare_share|[0.0, 1.0]" run aigc_share.yaml
printf 'behaviour:\n  aigc_adoption_per_day: 2\n' >aigc_adopt.yaml
expect_bad "AIGC adoption above 1" "aigc_adopt.yaml:2|behaviour.aigc_adoption_per_day|[0.0, 1.0]" run aigc_adopt.yaml
printf 'engine:\n  media:\n    review_capacity: -5\n' >media_neg.yaml
expect_bad "negative media capacity" "media_neg.yaml:3|engine.media.review_capacity|[0, 100000000]" run media_neg.yaml
printf 'engine:\n  media:\n    review_capacity: 3\n    video_review_units: 0\n' >media_units.yaml
expect_bad "zero video units" "media_units.yaml:4|engine.media.video_review_units|[1, 1000]" run media_units.yaml
printf 'engine:\n  media:\n    video_transcode_units: 20\n' >media_idle.yaml
expect_bad "video units without a pipeline" "media_idle.yaml:3|engine.media.video_transcode_units|there is no pipeline" run media_idle.yaml
printf 'experiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.media.upload_capacity=5"]\n' >media_arm.yaml
expect_bad "media capacity in an arm" "media_arm.yaml:5|engine.media.upload_capacity|one value per run" run media_arm.yaml
printf 'engine:\n  aigc:\n    detector: 1\n' >aigc_det.yaml
expect_bad "detector without adoption" "aigc_det.yaml:3|engine.aigc.detector|no note is AI-generated" run aigc_det.yaml
printf 'world:\n  aigc_homogenise: 0.9\n' >aigc_idle.yaml
expect_bad "AIGC world knob without adoption" "aigc_idle.yaml:2|world.aigc_homogenise|no note is AI-generated" run aigc_idle.yaml
printf 'behaviour:\n  aigc_adoption_per_day: 0.1\nengine:\n  aigc:\n    detect_precision: 0.5\n' >aigc_prec.yaml
expect_bad "precision without the detector" "aigc_prec.yaml:5|engine.aigc.detect_precision|no detector runs" run aigc_prec.yaml
printf 'behaviour:\n  aigc_adoption_per_day: 0.1\nengine:\n  aigc:\n    detector: 1\n    detect_precision: 0\n' >aigc_prec0.yaml
expect_bad "precision 0" "aigc_prec0.yaml:6|engine.aigc.detect_precision|[0.01, 1.0]" run aigc_prec0.yaml
printf 'behaviour:\n  aigc_adoption_per_day: 0.1\nexperiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.aigc.downrank_unlabelled=0.5"]\n' >aigc_down.yaml
expect_bad "down-rank in an arm without the detector" "aigc_down.yaml:6|engine.aigc.downrank_unlabelled|arm 'b'|no detector runs" run aigc_down.yaml
printf 'world:\n  goal_target_cpa: 0.7\n  goal_target_roas: 0.5\n' >goals.yaml
expect_bad "goal shares above 1" "goals.yaml:3|world.goal_max_conversions + goal_target_cpa + goal_target_roas|0.7 + 0.5" run goals.yaml
# A --set that makes a sum pass its bound, or a minimum pass its maximum, is the one named
# (the file's line would point at a key the override did not touch).
printf 'world:\n  violation_unsafe: 0.5\n' >viol.yaml
expect_bad "a --set breaking a sum is named" "--set world.violation_spam=0.6: world.violation_spam:|expected a sum <= 1|got 1.1" validate viol.yaml --set world.violation_spam=0.6
printf 'world:\n  violation_spam: 0.6\n  violation_unsafe: 0.5\n' >viol2.yaml
expect_bad "a sum broken in the file: its line" "viol2.yaml:3: world.violation_unsafe:|got 1.1" validate viol2.yaml
printf 'world:\n  goal_target_cpa: 0.7\n' >goals2.yaml
expect_bad "a --set breaking the goal shares is named" "--set world.goal_max_conversions=0.5:|0.5 + 0.7" validate goals2.yaml --set world.goal_max_conversions=0.5
printf 'engine:\n  shop:\n    delivery_days_min: 3\n' >days.yaml
expect_bad "a --set putting a maximum under its minimum is named" "--set engine.shop.delivery_days_max=1:|delivery_days_min: expected at most engine.shop.delivery_days_max (1), got 3" validate days.yaml --set engine.shop.delivery_days_max=1
# Money past what the books count: each knob in its range, together more than int64 millicents
# hold (10,000 daily budgets around 1e12 cents). The engine refuses them when it is created
# (exit 2, naming the knobs), before any file is written.
printf 'name: money\ndays: 1\nworld:\n  n_users: 300\n  n_notes: 600\n  n_products: 200\n  n_campaigns: 10000\n  ad_budget_cents: 1.0e12\n' >money.yaml
expect_bad "ad budgets past what the books count" "world.ad_budget_cents|world.n_campaigns|64-bit millicents" run money.yaml -q -t 1 -o money.h5
[ ! -e money.h5 ] && [ ! -e money.h5.partial ] && pass "ad budgets past the books: no file written" || fail "ad budgets past the books left $(ls money.h5*)"
# engine.search.max_postings only under retrieval newest (issue 22), in the file and in an arm.
printf 'engine:\n  search:\n    max_postings: 2000\n' >maxpost.yaml
expect_bad "max_postings under exact" "maxpost.yaml:3: engine.search.max_postings: 2000 does nothing unless engine.search.retrieval is newest" validate maxpost.yaml
printf 'engine:\n  search:\n    retrieval: newest\n' >newest0.yaml
expect_bad "newest without max_postings" "newest0.yaml:3: engine.search.max_postings: retrieval newest needs the postings to read per word, at least 1" validate newest0.yaml
printf 'experiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.search.max_postings=50"]\n' >armpost.yaml
expect_bad "an arm's max_postings under exact" "armpost.yaml|arm 'b'|engine.search.max_postings: 50 does nothing" validate armpost.yaml
# engine.privacy (issue 20): off is unambiguous, on needs a budget epsilon > 0; base, arm, --set.
printf 'engine:\n  privacy:\n    dp: laplace\n    epsilon: -1\n' >eps_neg.yaml
expect_bad "negative epsilon" "eps_neg.yaml:4|engine.privacy.epsilon|[0.0, 1000.0]" validate eps_neg.yaml
printf 'engine:\n  privacy:\n    dp: laplace\n    epsilon: 0\n' >eps_zero.yaml
expect_bad "dp on with epsilon 0" "eps_zero.yaml:4: engine.privacy.epsilon: differential privacy needs a budget epsilon > 0" validate eps_zero.yaml
printf 'engine:\n  privacy:\n    dp: laplace\n' >eps_none.yaml
expect_bad "dp on without epsilon" "eps_none.yaml:3: engine.privacy.epsilon: differential privacy needs a budget" validate eps_none.yaml
printf 'engine:\n  privacy:\n    epsilon: 2\n' >eps_off.yaml
expect_bad "epsilon with dp off" "eps_off.yaml:3: engine.privacy.epsilon: does nothing while engine.privacy.dp is off" validate eps_off.yaml
printf 'engine:\n  privacy:\n    dp: gaussian\n    epsilon: 0.5\n    delta: 1.5\n' >delta_big.yaml
expect_bad "gaussian delta above 1" "delta_big.yaml:5|engine.privacy.delta|[0.0, 1.0]" validate delta_big.yaml
printf 'engine:\n  privacy:\n    dp: gaussian\n    epsilon: 0.5\n    delta: 0\n' >delta_zero.yaml
expect_bad "gaussian delta 0" "delta_zero.yaml:5: engine.privacy.delta: the Gaussian mechanism needs delta in (0, 1)" validate delta_zero.yaml
printf 'engine:\n  privacy:\n    dp: gaussian\n    epsilon: 3\n    delta: 0.001\n' >gauss_eps.yaml
expect_bad "gaussian epsilon 3" "gauss_eps.yaml:4: engine.privacy.epsilon: the classic Gaussian mechanism is proven for epsilon < 1" validate gauss_eps.yaml
printf 'experiment:\n  isolation: per_arm\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.privacy.dp=laplace"]\n' >arm_eps.yaml
expect_bad "an arm's dp without epsilon" "arm_eps.yaml:5|arm 'b'|engine.privacy.epsilon: differential privacy needs a budget" validate arm_eps.yaml
printf 'experiment:\n  isolation: shared\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.privacy.dp=laplace", "engine.privacy.epsilon=1"]\n' >arm_shared.yaml
expect_bad "an arm's dp under shared isolation" "arm_shared.yaml:6: engine.privacy.dp: arm 'b' sets it|isolation: shared" validate arm_shared.yaml
printf 'engine:\n  privacy:\n    releases_per_day: 4\n' >rel_off.yaml
expect_bad "releases_per_day with dp off" "rel_off.yaml:3: engine.privacy.releases_per_day: 4 does nothing while engine.privacy.dp is off" validate rel_off.yaml
printf 'engine:\n  privacy:\n    clip: 4\n' >clip_off.yaml
expect_bad "clip with dp off" "clip_off.yaml:3: engine.privacy.clip: 4 would do nothing" validate clip_off.yaml
printf 'engine:\n  privacy:\n    retention_days: 3\n' >ret_base.yaml
expect_bad "retention without the recommender" "ret_base.yaml:3: engine.privacy.retention_days: 3 does nothing" validate ret_base.yaml
printf 'experiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.privacy.honour_optout=0"]\n' >honour.yaml
expect_bad "ignoring opt-outs nobody made" "honour.yaml|engine.privacy.honour_optout: 0|world.optout_share is 0" validate honour.yaml
printf 'world:\n  optout_share: 1.5\n' >optout.yaml
expect_bad "opt-out share above 1" "optout.yaml:2|world.optout_share|[0.0, 1.0]" validate optout.yaml
expect_bad "--set negative epsilon" "--set|engine.privacy.epsilon" validate "$SRC/tests/data/tiny.yaml" --set engine.privacy.dp=laplace --set engine.privacy.epsilon=-0.5
printf 'world: [1, 2\n' >malformed.yaml
# Trust and safety (issue 20): class shares above 1 (per creator type), a prevalence above 1,
# thresholds crossed, no reviewers with a policy that queues notes (base and arm), knobs of
# mechanisms that are off.
printf 'world:\n  violation_spam: 0.5\n  violation_unsafe: 0.6\n' >viol_sum.yaml
expect_bad "violation shares above 1" "viol_sum.yaml:3|world.violation_unsafe|sum <= 1|1.1" run viol_sum.yaml
printf 'world:\n  violation_bad_share: 0.1\n  violation_bad_spam: 0.7\n  violation_bad_unsafe: 0.7\n' >viol_bad.yaml
expect_bad "bad actors' shares above 1" "viol_bad.yaml:4|world.violation_bad_unsafe|sum <= 1" run viol_bad.yaml
printf 'world:\n  violation_fake: 1.5\n' >viol_range.yaml
expect_bad "prevalence above 1" "viol_range.yaml:2|world.violation_fake|1.5" run viol_range.yaml
printf 'world:\n  violation_spam: 0.1\nengine:\n  safety:\n    action: remove\n    threshold_lo: 0.95\n' >thr.yaml
expect_bad "threshold_lo above threshold_hi" "thr.yaml:6|engine.safety.threshold_lo|threshold_hi (0.9)" run thr.yaml
printf 'world:\n  violation_spam: 0.1\nengine:\n  safety:\n    action: remove\n    review_capacity: 0\n' >cap0.yaml
expect_bad "no reviewers with a review band" "cap0.yaml:6|engine.safety.review_capacity|never drain|review band" run cap0.yaml
printf 'world:\n  violation_spam: 0.1\nengine:\n  safety:\n    action: remove\n    review_capacity: 0\n    threshold_lo: 0.9\n' >cap0r.yaml
expect_bad "no reviewers with user reports" "cap0r.yaml:6|engine.safety.review_capacity|user reports feed the queue" run cap0r.yaml
printf 'world:\n  violation_spam: 0.1\nexperiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.safety.action=downrank", "engine.safety.review_capacity=0"]\n' >cap0arm.yaml
expect_bad "an arm with no reviewers" "cap0arm.yaml|arm 'b'|engine.safety.review_capacity|never drain" run cap0arm.yaml
printf 'engine:\n  safety:\n    threshold_hi: 0.8\n' >idle_thr.yaml
expect_bad "thresholds without moderation" "idle_thr.yaml:3|engine.safety.threshold_hi|action is off" run idle_thr.yaml
printf 'behaviour:\n  report_unsafe: 0.2\n' >idle_rep.yaml
expect_bad "report rates without violations" "idle_rep.yaml:2|behaviour.report_unsafe|no note violates" run idle_rep.yaml
printf 'world:\n  violation_spam: 0.1\nengine:\n  safety:\n    action: remove\n    downrank: 0.5\n' >idle_dr.yaml
expect_bad "downrank under remove" "idle_dr.yaml:6|engine.safety.downrank|not downrank" run idle_dr.yaml
printf 'world:\n  violation_spam: 0.1\nexperiment:\n  unit: creator\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.safety.action=remove"]\n' >mod_pc.yaml
expect_bad "an arm's moderation in a producer-side experiment" "mod_pc.yaml|arm 'b'|engine.safety.action|unit creator" run mod_pc.yaml
expect_bad "malformed YAML" "malformed.yaml" run malformed.yaml
expect_bad "missing file" "nope.yaml" run nope.yaml
mkdir adir.yaml
expect_bad "directory as scenario" "adir.yaml" run adir.yaml
expect_bad "--set unknown key" "--set|world.n_user|world.n_users" run "$SRC/tests/data/tiny.yaml" --set world.n_user=5
expect_bad "--set bad value" "--set|world.n_users|abc" run "$SRC/tests/data/tiny.yaml" --set world.n_users=abc
# issue 15: each message at its own level, with what was expected; control characters escaped
expect_bad "--set a section" "--set engine.feed=5|engine.feed is a section|its keys: algorithm" validate "$SRC/tests/data/tiny.yaml" --set engine.feed=5
expect_bad "--set a sub-key of a knob" "world.n_users is a knob|no sub-keys|an integer in [10, 50000000]" validate "$SRC/tests/data/tiny.yaml" --set world.n_users.x=5
expect_bad "--set control characters" 'beh\x1b[31maviour|valid keys there: name, seed' validate "$SRC/tests/data/tiny.yaml" --set "$(printf 'beh\033[31maviour.x=5')"
if grep -q "$(printf '\033')" err.txt; then fail "--set control characters: ESC reached the message"; fi
{ printf 'days: 3\nworld:\n  n_users: 1'; head -c 5000 /dev/zero | tr '\0' 0; printf '\n'; } >bignum.yaml
expect_bad "a number of 5,000 digits" "bignum.yaml:3: world.n_users: expected an integer in [10, 50000000]" validate bignum.yaml
expect_bad "nobody posts (--set)" "--set world.creator_share=0: world.creator_share: expected a share > 0|world.n_notes" run "$SRC/tests/data/tiny.yaml" --set world.creator_share=0
printf 'world:\n  n_notes: 400\n  creator_share: 0\n' >nocreators.yaml
expect_bad "nobody posts" "nocreators.yaml:3: world.creator_share: expected a share > 0 (for example 0.01)|(400)" run nocreators.yaml
expect_bad "--days out of range" "days" run "$SRC/tests/data/tiny.yaml" --days 0
expect_bad "--threads 0" "--threads" run "$SRC/tests/data/tiny.yaml" --threads 0
expect_bad "unwritable output" "/proc/flywheel-nope" run "$SRC/tests/data/tiny.yaml" -o /proc/flywheel-nope/x.h5
expect_bad "validate bad file" "unknown.yaml:3" validate unknown.yaml
expect_bad "unknown command" "unknown command" frobnicate

if [ -e results ]; then fail "bad input created results/: $(ls -R results)"; else pass "nothing created under results/"; fi
if "$FLYWHEEL" validate "$SRC/scenarios/default.yaml" >out.txt 2>&1; then pass "validate default.yaml"; else fail "validate default.yaml: $(cat out.txt)"; fi
# A FIFO (or a device) is not a scenario: refused at once rather than waiting for a writer.
mkfifo fifo.yaml
timeout 10 "$FLYWHEEL" validate fifo.yaml >out.txt 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -qF "fifo.yaml: expected a regular file" err.txt && grep -qF "a pipe" err.txt; then
  pass "FIFO as the scenario: $(head -1 err.txt)"
else
  fail "FIFO as the scenario: exit $rc (124: it waited for a writer), $(cat err.txt)"
fi
expect_bad "device as the scenario" "/dev/null: expected a regular file|a device" validate /dev/null
# The name becomes the result's file name: a path is refused at its file:line:key.
printf 'days: 1\nname: "../escaped"\n' >pathname.yaml
expect_bad "scenario name is a path" "pathname.yaml:2: name: '../escaped' starts with '.'" validate pathname.yaml
printf 'days: 1\n' >unknown_free.yaml
expect_bad "scenario name is a path (--set)" "--set name=a/b: name: 'a/b' contains '/'" validate unknown_free.yaml --set name=a/b
# Arm names the result file uses beside the arms' groups, and HDF5's "." and "..", are refused.
for reserved in days day metric units counterfactual look alpha_spent seed srm_p . ..; do
  printf 'experiment:\n  arms:\n    - name: a\n    - name: "%s"\n' "$reserved" >armres.yaml
  expect_bad "arm named '$reserved'" "armres.yaml:4: experiment.arms[1].name: '$reserved' cannot name an arm" validate armres.yaml
done
# The living world of issue 18: out of range, idle knobs (their mechanism off), the population
# cap with every arrival, and an arm setting a run-scope knob.
printf 'world:\n  churn_base: 1.5\n' >living_range.yaml
expect_bad "churn_base above 1" "living_range.yaml:2|world.churn_base|1" run living_range.yaml
printf 'world:\n  creator_response: -1\n' >living_neg.yaml
expect_bad "negative creator_response" "living_neg.yaml:2|world.creator_response" run living_neg.yaml
printf 'world:\n  arrivals_follows: 5\n' >living_idle1.yaml
expect_bad "arrivals_follows without arrivals" "living_idle1.yaml:2|world.arrivals_follows|arrivals_per_day is 0" run living_idle1.yaml
printf 'world:\n  churn_dissatisfaction: 4\n' >living_idle2.yaml
expect_bad "churn_dissatisfaction without churn" "living_idle2.yaml:2|world.churn_dissatisfaction|churn_base is 0" run living_idle2.yaml
printf 'world:\n  creator_memory_days: 3\n' >living_idle3.yaml
expect_bad "creator_memory_days without a response" "living_idle3.yaml:2|world.creator_memory_days|creators remember nothing" run living_idle3.yaml
printf 'world:\n  creator_quiet_days: 3\n' >living_idle4.yaml
expect_bad "creator_quiet_days with nothing recorded" "living_idle4.yaml:2|world.creator_quiet_days|not recorded" run living_idle4.yaml
printf 'days: 100\nworld:\n  n_users: 40000000\n  arrivals_per_day: 200000\n' >living_cap.yaml
expect_bad "arrivals past the population cap" "living_cap.yaml:4|world.arrivals_per_day|50000000" validate living_cap.yaml
printf 'name: t\n' >living_ok.yaml
expect_bad "creator_fatigue by --set out of range" "--set world.creator_fatigue=101|world.creator_fatigue" validate living_ok.yaml --set world.creator_fatigue=101
printf 'experiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["world.churn_base=0.1"]\n' >living_arm.yaml
expect_bad "an arm setting world.churn_base" "living_arm.yaml|arm 'b'|world.churn_base" validate living_arm.yaml
# The memory estimate counts every arrival of the run (10,000 users alone fit in 1000 MiB).
printf 'days: 10\nworld:\n  n_users: 10000\n  arrivals_per_day: 100000\noutput:\n  max_memory: 1000\n' >living_mem.yaml
expect_bad "memory estimate with a million arrivals" "1010000 users with the run's arrivals|output.max_memory" run living_mem.yaml
if "$FLYWHEEL" validate living_ok.yaml --set world.arrivals_follows=5 --set world.arrivals_per_day=10 >out.txt 2>err.txt; then
  pass "arrivals_follows with arrivals accepted"
else fail "arrivals_follows with arrivals: $(cat err.txt)"; fi

# An arm may set only knobs whose scope lets it (flywheel defaults shows each one's).
printf 'experiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["world.n_users=100"]\n' >armworld.yaml
expect_bad "arm sets a world knob" "armworld.yaml:5: world.n_users: arm 'b' sets it|is one value per run; arms may not set it" run armworld.yaml
printf 'experiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.market.matching=stable"]\n' >armdim.yaml
expect_bad "arm sets a run knob" "armdim.yaml:5: engine.market.matching: arm 'b' sets it|is one value per run; arms may not set it" validate armdim.yaml
printf 'experiment:\n  isolation: shared\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.rec.lr=0.1"]\n' >armlr.yaml
expect_bad "arm sets a learning knob under shared isolation" "armlr.yaml:6: engine.rec.lr|experiment.isolation: shared|is one value per run; arms may not set it" run armlr.yaml
# Learner groups need learned state per arm, and viewers in the arms (not producer-side).
printf 'experiment:\n  isolation: shared\n  learners_per_arm: 4\n  arms:\n    - name: a\n    - name: b\n' >groups_shared.yaml
expect_bad "learner groups under shared isolation" "groups_shared.yaml:3: experiment.learners_per_arm: 4 learners per arm need experiment.isolation: per_arm|use 0 (auto) or 1" validate groups_shared.yaml
printf 'experiment:\n  unit: creator\n  arms:\n    - name: a\n    - name: b\n' >groups_creator.yaml
expect_bad "learner groups with creator units (--set)" "experiment.learners_per_arm: 2 learners per arm need|with unit creator every viewer is in the control" run groups_creator.yaml --set experiment.learners_per_arm=2
printf 'experiment:\n  learners_per_arm: 65\n' >groups_many.yaml
expect_bad "more learner groups than the engine holds" "groups_many.yaml:2: experiment.learners_per_arm|64" validate groups_many.yaml
printf 'experiment:\n  arms:\n    - name: a\n    - name: b\n      set: ["engine.ads.pacing=none"]\n' >armpacing.yaml
expect_bad "arm sets pacing with one budget (--set)" "armpacing.yaml:5: engine.ads.pacing|experiment.budget_split: false|is one value per run" validate armpacing.yaml --set experiment.budget_split=false
# every knob line (the arms' aside) follows its comment, which ends with the knob's scope
if "$FLYWHEEL" defaults >defaults.txt 2>&1 &&
  bad=$(awk '/^ *[a-z_]+: / && $1 != "weight:" && prev !~ /\[scope: [^]]+\]$/ { n++ } { prev = $0 } END { print n + 0 }' defaults.txt) &&
  [ "$bad" -eq 0 ] && [ "$(grep -c '\[scope: ' defaults.txt)" -gt 150 ]; then
  pass "defaults: every knob shows its scope ($(grep -c '\[scope: arm' defaults.txt) arm, $(grep -c '\[scope: run' defaults.txt) run)"
else
  fail "defaults: not every knob shows its scope"
fi
# Output captured first: `cmd | grep -q` under pipefail fails when grep exits before cmd's last write.
help=$("$FLYWHEEL" --help); run_help=$("$FLYWHEEL" run --help); version=$("$FLYWHEEL" --version)
if grep -q "usage: flywheel" <<<"$help" && grep -q -- "--set" <<<"$run_help"; then pass "--help"; else fail "--help"; fi
grep -q "^flywheel " <<<"$version" && pass "--version" || fail "--version"
# ---- run --resume (issue 21): a partial file and its checkpoint, from a run stopped (SIGINT)
# once its first day is checkpointed (slowed by a busy wait planted in end_tick; timings only)
R=("$SRC/tests/data/tiny.yaml" --days 3 --set world.n_users=400 --set world.n_notes=800 --set world.ticks_per_day=12)
FLYWHEEL_PLANT_DELAY=end_tick=30000000 "$FLYWHEEL" run -q -t 1 "${R[@]}" -o res.h5 2>/dev/null &
pid=$!
for _ in $(seq 1 1200); do [ -f res.h5.ckpt ] && break; sleep 0.05; done
kill -INT $pid; wait $pid
[ -f res.h5.partial ] && [ -f res.h5.ckpt ] || fail "resume fixtures: no partial and checkpoint ($(ls))"
"$FLYWHEEL" run -q -t 1 "${R[@]}" -o done.h5 2>/dev/null || fail "resume fixtures: complete run"
# ckpt_edit IN OUT SECTION-TAG PYTHON-EXPR: rewrites one section's payload p (bytes) as the
# expression, with a valid checksum -- a well-formed checkpoint with one thing changed.
ckpt_edit() {
  "$PY" - "$@" <<'PY'
import struct, sys
src, dst, tag, expr = sys.argv[1:5]
b = open(src, 'rb').read()
def fnv(d):
    h = 0xcbf29ce484222325
    for x in d:
        h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
    return h
out, at = bytearray(b[:64]), 64
while at < len(b):
    t, _, n, _ = struct.unpack_from('<IIQQ', b, at)
    p = b[at + 24:at + 24 + n]
    if t == struct.unpack('<I', tag.encode())[0]:
        p = eval(expr)
    out += struct.pack('<IIQQ', t, 0, len(p), fnv(p)) + p
    at += 24 + n
open(dst, 'wb').write(out)
PY
}
cp res.h5.partial copy.h5.partial
expect_bad "resume: a complete file" "done.h5|complete|nothing to resume" run --resume done.h5
expect_bad "resume: no such file" "nothere.h5.partial" run --resume nothere.h5.partial
expect_bad "resume: no checkpoint" "no checkpoint|copy.h5.ckpt" run --resume copy.h5.partial
head -c 100 res.h5.ckpt >copy.h5.ckpt
expect_bad "resume: truncated checkpoint" "copy.h5.ckpt|corrupt|truncated" run --resume copy.h5.partial
cp res.h5.ckpt copy.h5.ckpt && printf 'X' | dd of=copy.h5.ckpt bs=1 seek=$(($(stat -c %s res.h5.ckpt) - 40)) conv=notrunc 2>/dev/null
expect_bad "resume: corrupt checkpoint" "copy.h5.ckpt|corrupt|checksum" run --resume copy.h5.partial
ckpt_edit res.h5.ckpt copy.h5.ckpt VERS "b'0.0.1\0oldrev\0'"
expect_bad "resume: another version" "made by flywheel 0.0.1|oldrev" run --resume copy.h5.partial
cp res.h5.ckpt copy.h5.ckpt
expect_bad "resume: another seed" "seed 99|seed 7" run --resume copy.h5.partial -s 99
expect_bad "resume: another scenario" "another scenario" run --resume copy.h5.partial "${R[@]}" --set behaviour.open_rate=0.2
expect_bad "resume: another scenario file" "another scenario|tiny_ab.yaml" run --resume copy.h5.partial "$SRC/tests/data/tiny_ab.yaml" -s 7 -d 3
expect_bad "resume: other days" "5 days|planned for 3" run --resume copy.h5.partial -d 5
expect_bad "resume: other replicates" "--replicates 3|run with 1" run --resume copy.h5.partial --replicates 3
expect_bad "resume: -o" "-o and --force" run --resume copy.h5.partial -o elsewhere.h5
expect_bad "resume: not a result file" "res.h5.ckpt|not a readable result file" run --resume res.h5.ckpt
# A checkpoint whose day digest disagrees with the re-simulated day: the run fails (exit 1)
# and leaves the partial file as it was.
ckpt_edit res.h5.ckpt copy.h5.ckpt DAYD "bytes([p[0] ^ 1]) + p[1:]"
before=$(md5sum <copy.h5.partial)
"$FLYWHEEL" run -q -t 1 --resume copy.h5.partial >out.txt 2>err.txt
rc=$?
[ $rc -eq 1 ] && grep -q "re-simulating finished day 1 gave a different day" err.txt && [ "$(md5sum <copy.h5.partial)" = "$before" ] &&
  pass "resume: a day that does not reproduce stops the run (exit 1), partial untouched" || fail "resume digest mismatch: exit $rc, $(cat err.txt)"
# The untouched pair still resumes (the cases above changed nothing).
"$FLYWHEEL" run -q -t 1 --resume res.h5.partial 2>err.txt && [ -f res.h5 ] && pass "resume: the good pair resumes" || fail "resume of the good pair: $(cat err.txt)"

finish
