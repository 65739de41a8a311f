"""The friction cases (cx_signals.generate.friction_cases) each rule gets wrong, as the friction tests expect."""

# The friction cases each rule gets wrong on every session against what happened in the scenario, and right on every
# session of the other cases: the rules as specified miss frustrated users just past a threshold and flag calm users
# and answered clicks just inside one; the naive rules (before PostHog's and Datadog's fixes) also flag every false
# positive those vendors fixed, and get two cases right that the fixes now miss (a broken link, a lone rage burst).
RULE_MISSES = {"rage_slow_hammer", "dead_broken_link", "session_one_burst"}
RULE_FALSE_ALARMS = {"rage_habit_double_click", "dead_slow_load_more", "session_two_habit_bursts"}
NAIVE_MISSES = {"rage_slow_hammer", "dead_scroll_late"}
NAIVE_FALSE_ALARMS = {
    "rage_habit_double_click", "rage_text_input", "rage_stepper", "rage_next_previous", "rage_selection",
    "dead_slow_load_more", "dead_selection_within", "dead_link", "dead_form_field", "session_one_habit_burst",
    "session_two_habit_bursts",
}  # fmt: skip
