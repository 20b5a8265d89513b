"""Technician-tunable settings of the routine core (the ``routines:`` section of a home's config).

Cold-start defaults are used until enough of the person's own days have been learned.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RoutineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_wake_time: str = Field("08:30", pattern=r"^\d{2}:\d{2}$",
                                   description="Cold start: latest usual getting-up time (HH:MM) until learned.")
    default_bed_time: str = Field("23:00", pattern=r"^\d{2}:\d{2}$",
                                  description="Cold start: usual bed time (HH:MM) until learned.")
    default_outing_min: float | None = Field(
        None, gt=0, le=480,
        description="Cold start: minutes out by the front door before 'not back when usual' is told, until the "
                    "person's own outings are learned (at most 480: a departure with no return is told within "
                    "8 h). None (the default): no length limit until then, as real people cross any such limit "
                    "often (the recordings: 10 of 56 outings in house C and 18 of 44 in house A lasted over 8 h); "
                    "set it for a person known to go out only briefly.")
    learning_days: int = Field(7, ge=1, le=60,
                               description="Days of the person's own data before learned routines replace defaults.")
    population_prior: bool = Field(True, description="Start a new person's limits from the population prior "
                                                     "(routines/priors/population.json) rather than from the "
                                                     "fixed starting settings alone.")
    prior_days: float = Field(3.0, ge=0, le=30,
                              description="The population prior counts as this many days of the person's own "
                                          "evidence on their first day.")
    own_routine_days: int = Field(14, ge=1, le=90,
                                  description="Days of a check's own evidence after which the prior has faded "
                                              "out and the check watches with the person's own routine only.")
    half_life_days: float = Field(30.0, gt=1, le=365,
                                  description="Forgetting: how many days until an old day counts half as much.")
    day_start_hour: int = Field(4, ge=0, le=12,
                                description="Local hour at which a 'person day' starts (the night before belongs "
                                            "to the previous day).")
    default_first_kitchen_time: str = Field("11:00", pattern=r"^\d{2}:\d{2}$",
                                            description="Cold start: latest usual first kitchen use (HH:MM).")
    default_night_exit_min: float = Field(45.0, ge=5, le=600,
                                          description="Cold start: minutes out of bed at night before alerting.")
    default_silence_min: float = Field(180.0, ge=15, le=1440,
                                       description="Cold start: minutes of daytime stillness at home before alerting.")
    default_appliance_on_min: float = Field(120.0, ge=5, le=1440,
                                            description="Cold start: minutes an appliance may stay on before a warning.")
    usual_quantile: float = Field(0.9, ge=0.5, le=0.99,
                                  description="'Usual' means this share of the person's own days (0.9 = 9 days in 10).")
    deadline_quantile: float = Field(0.97, ge=0.5, le=1.0,
                                     description="'Not up' and 'no meal' wait for the person's LATEST usual time: "
                                                 "this share of their own days (0.97: about the latest in a month).")
    settle_unconfirmed_days: int = Field(2, ge=0, le=14,
                                         description="An alert nobody marked 'real' within this many days, whose "
                                                     "situation ended by itself soon after (the person got up, "
                                                     "moved again, came back to bed), is then learned as part of "
                                                     "the person's normal (0: only when marked a false alarm).")
    not_up_still_min: float = Field(45.0, ge=10, le=600,
                                    description="Past the usual (not the latest) wake time plus the margin, 'not up' "
                                                "alerts sooner if nothing at all, not even the bed mat, has moved "
                                                "for this long (minutes): a sleeper turns over, a person who "
                                                "cannot get up is still. The shortest such limit: once the "
                                                "person's own mornings are learned (situation_min_days), the limit "
                                                "comes from them and the false-alarm budget "
                                                "(routines.detectors.situations, 'morning_still'); until then "
                                                "morning_still_start_min.")
    morning_still_start_min: float | None = Field(
        None, ge=10, le=720,
        description="The 'still in bed in the morning' limit (minutes, see not_up_still_min) until the person's "
                    "own mornings are learned. None (the default): morning_still_cap_min, so the usual 'not up' "
                    "deadline decides in the first weeks and the limit only ever tightens: real people lie still "
                    "past their usual wake for hours (house C up to 3 h 51 min), and a 45-min start told 'not up' "
                    "on one of C's late mornings again and again (first month, 5 seeds, leave-one-home-out: C 2.2 "
                    "-> 1.6 care alerts, B 10.4 -> 10.2; after learning C 2.3 -> 1.5 false alarms a month, for "
                    "'not up' C 48 -> 42 of 82 and B 32 -> 30 of 101 caught within the deadline, the ones in "
                    "the first 28 days told at the usual deadline instead).")
    still_wake_quantile: float | None = Field(None, ge=0.5, le=0.99,
                                              description="'Still in bed' may alert sooner from this share of the "
                                                          "person's own wake times plus the margin (None: "
                                                          "usual_quantile). 0.5, the median wake, measured "
                                                          "(benchmarks/README.md): 'not up' C 48 -> 80/82 at no "
                                                          "cost, B 32 -> 54/101 for 1.2 more false alarms a month.")
    morning_still_cap_min: float = Field(300.0, ge=10, le=720,
                                         description="The learned 'still in bed in the morning' limit is never "
                                                     "longer than this (minutes): past it the usual 'not up' "
                                                     "deadline decides anyway.")
    night_still_away_min: float | None = Field(
        None, ge=5, le=240,
        description="Out of bed at night, last seen OUTSIDE the bedroom (toilet, hall, kitchen) and nothing has "
                    "moved for this long (minutes): alert, however long the person's usual night trips are. The "
                    "starting limit, until the person's own nights are learned; None (the default): "
                    "night_quiet_cap_min (see night_first_sign_start_min).")
    night_bedroom_start_min: float | None = Field(
        None, ge=5, le=240,
        description="Out of bed at night, last seen by a bedroom sensor that is not the bed mat (bedroom motion, "
                    "the dresser, the bedroom door) and nothing has moved for this long (minutes): the starting "
                    "limit, until the person's own nights are learned; None (the default): night_quiet_cap_min "
                    "(see night_first_sign_start_min).")
    night_up_after_min: float = Field(
        30.0, ge=5, le=240,
        description="Out of bed at night and up and about this long (minutes) before the quiet began: the person "
                    "is up, not on a trip to the toilet, and the quiet is judged as 'up at night, then still' "
                    "(situation 'night_up'), not by the night's quiet limits. Longer than a night-time toilet "
                    "trip; the injected night exits (one step, then nothing) are never this.")
    night_up_start_min: float | None = Field(
        None, ge=10, le=720,
        description="Up at night (night_up_after_min) and then nothing moving for this long (minutes): the starting "
                    "limit, until the person's own nights are learned. None (the default): night_up_cap_min.")
    night_up_cap_min: float = Field(
        120.0, ge=10, le=720,
        description="The learned 'up at night, then still' limit is never longer than this (minutes): the daytime "
                    "collapse's aim (found within 2 h of its start, issue 11). Some people are up for an hour at "
                    "night and then doze in a chair with no sensor (house B: still 50 min or more after 12 min to "
                    "2 h up), which the night's 50-min quiet limit told carers as a possible fall.")
    wake_margin_min: float = Field(30.0, ge=0, le=600,
                                   description="Minutes after the usual latest wake time before 'not up' alerts.")
    kitchen_margin_min: float = Field(90.0, ge=0, le=720,
                                      description="Minutes after the usual first kitchen use before 'no meal' warns.")
    silence_quantile: float = Field(0.98, ge=0.5, le=0.999,
                                    description="Share of the person's own quiet spells (at that time of day) "
                                                "that count as normal.")
    silence_margin: float = Field(2.0, ge=1.0, le=5.0,
                                  description="Multiplier on the learned longest-normal quiet spell before alerting "
                                              "(until situation_min_days are learned; then the budget's limits).")
    stillness_context_min_gaps: float = Field(300.0, ge=20, le=100000,
                                              description="Stillness judged from WHERE the person was last seen: "
                                                          "a sensor's own quiet spells count only once this many "
                                                          "gaps after it (weighted, forgetting) have been learned.")
    stillness_context_min_days: int = Field(14, ge=1, le=365,
                                            description="...and on at least this many days (a few days cannot "
                                                        "show how long the quiet after a sensor can last).")
    stillness_context_alpha: float = Field(0.002, gt=0, le=0.1,
                                           description="Share of the gaps after the last sensor that may outlast "
                                                       "its usual length (0.002: 1 in 500, about its longest).")
    stillness_context_margin: float = Field(2.0, ge=1.0, le=10.0,
                                            description="Multiplier on that usual length before alerting.")
    stillness_context_floor_min: float = Field(20.0, ge=5, le=600,
                                               description="Never alert on stillness after a sensor shorter than "
                                                           "this (minutes), however brief its gaps usually are.")
    blind_silence_quantile: float = Field(0.995, ge=0.5, le=0.9999,
                                          description="No working front door (going out cannot be seen): the "
                                                      "daytime silence limit covers this share of the person's own "
                                                      "quiet spells at ANY hour (their usual outings), times "
                                                      "silence_margin.")
    blind_silence_cap_min: float = Field(960.0, ge=30, le=2880,
                                         description="...but never more than this (minutes): a silence this long "
                                                     "alerts even where outings cannot be seen.")
    silence_floor_min: float = Field(45.0, ge=5, le=600,
                                     description="Never alert on a daytime quiet spell shorter than this (minutes).")
    silence_cap_min: float = Field(360.0, ge=30, le=1440,
                                   description="Always alert on a daytime quiet spell longer than this (minutes).")
    false_alarm_budget_per_30d: float = Field(1.0, gt=0, le=30,
                                              description="The person's false-alarm budget: waiting limits learned "
                                                          "per situation (just out of bed at night, up at night, "
                                                          "just stood up from the chair, just come home, daytime quiet at "
                                                          "home (each hour's limit and each sensor's), and an "
                                                          "appliance left on) are set so "
                                                          "that the person's own learned days would have raised no "
                                                          "more care alerts than this per 30 days, shared evenly "
                                                          "among the situations the home can see.")
    situation_margin: float = Field(1.25, ge=1.0, le=2.0,
                                    description="Multiplier on a situation's budgeted wait, for what a few weeks "
                                                "of days cannot show.")
    situation_min_days: int = Field(28, ge=1, le=90,
                                    description="Days learned before a situation's own limit replaces its starting "
                                                "limit: about a month, as the budget is per 30 days and fewer days "
                                                "cannot show how often a long quiet comes.")
    night_first_sign_start_min: float | None = Field(
        None, ge=2, le=240,
        description="Out of bed at night and no sign of life anywhere since (minutes): the starting limit, until "
                    "the person's own nights are learned. None (the default): night_quiet_cap_min, the longest "
                    "wait the hour a fall at night must be caught in allows, so a limit only ever tightens as "
                    "the person's own nights are learned. The recordings cannot justify a shorter start "
                    "leave-one-home-out: house B's real nights outlast 30 min before a sign of life on 11 of 140 "
                    "stream days (C's on none), and its quiet once seen about the home on 22 "
                    "(python -m benchmarks.night_quiet).")
    night_first_sign_floor_min: float = Field(10.0, ge=1, le=240,
                                              description="...never shorter than this (minutes), however soon life "
                                                          "usually shows.")
    just_home_start_min: float = Field(180.0, ge=5, le=960,
                                       description="Came home by the front door and no sign of life indoors since "
                                                   "(minutes): the starting limit, until the person's own "
                                                   "returns are learned (situation_min_days). As long as daytime "
                                                   "stillness waits at cold start (default_silence_min): a door "
                                                   "while out is not always a return (a doorstep visit).")
    day_bed_exit_start_min: float | None = Field(
        None, ge=5, le=360,
        description="Out of bed by day after getting up (up from a nap, a lie-down) and no sign of life since but "
                    "a first step (minutes): the starting limit, until the person's own days are learned "
                    "(situation_min_days); the daytime limits still apply, the sooner decides. None (the "
                    "default): silence_cap_min, so until then the daytime limits decide and the limit only "
                    "tightens as the person's own days are learned. The recordings cannot justify a shorter "
                    "start leave-one-home-out (python -m benchmarks.day_bed_exit --evidence: the quiet after a "
                    "bed exit by day on the days recorded; only B and C have bed mats): from C, whose quiet "
                    "never outlasted 10 min (20 days), 12.5 min, which B's days outlast on 8 of 27 (B cannot "
                    "see going out: up and out for hours); from B, past the cap (4 h on 1 of 27 days).")
    night_quiet_cap_min: float = Field(50.0, ge=5, le=240,
                                       description="Out of bed at night and nothing moving for this long (minutes) "
                                                   "alerts, whatever the person's own nights: within the hour a "
                                                   "fall at night must be caught by.")
    night_back_start_min: float | None = Field(
        None, ge=10, le=720,
        description="Out of bed at night this long (minutes), however active, and then still: the starting limit "
                    "on the length of a night-time trip, until the person's own nights are learned "
                    "(situation_min_days). None (the default): night_back_cap_min, as the length of a trip is the "
                    "person's own (house B's real trips ran past 50 min); the quiet limits above watch from the "
                    "first night.")
    night_back_cap_min: float = Field(240.0, ge=10, le=720,
                                      description="Out of bed at night this long (minutes) and then still alerts, "
                                                  "however long the person's own nights up last.")
    night_exit_margin: float = Field(2.0, ge=1.0, le=10.0,
                                     description="Multiplier on the usual longest night-time bed exit before alerting.")
    night_exit_floor_min: float = Field(20.0, ge=5, le=600,
                                        description="Never alert on a night bed exit shorter than this (minutes).")
    night_exit_quiet_min: float = Field(10.0, ge=0, le=120,
                                        description="A long night exit alerts only after this many minutes without "
                                                    "any movement (someone pottering about is fine).")
    appliance_margin: float = Field(2.0, ge=1.0, le=20.0,
                                    description="Multiplier on the usual longest on-time of an appliance.")
    appliance_floor_min: float = Field(30.0, ge=1, le=1440,
                                       description="Never warn about an appliance on for less than this (minutes).")
    bed_exit_min_s: float = Field(90.0, ge=0, le=1800,
                                  description="A bed vacancy shorter than this (seconds) is mat noise, not a bed exit.")
    up_confirm_min: float = Field(30.0, ge=1, le=240,
                                  description="Out of bed this long (minutes) in the morning means the person is up.")
    back_to_bed_max_up_min: float = Field(120.0, ge=0, le=720,
                                          description="Up for less than this (minutes) and back in bed before the "
                                                      "latest usual wake, staying there settle_min: a night-time "
                                                      "trip, not getting up (longer up, then bed, is a nap).")
    settle_min: float = Field(20.0, ge=1, le=240,
                              description="In bed this long (minutes) in the evening means the person went to bed.")
    away_confirm_min: float = Field(10.0, ge=1, le=120,
                                    description="Front door then no activity for this long (minutes) means out.")
    night_door_wait_min: float = Field(15.0, ge=1, le=240,
                                       description="Front door at night then no sign of the person for this long "
                                                   "(minutes) alerts.")
    battery_low_percent: float = Field(15.0, ge=1, le=60,
                                       description="Battery at or below this percent (twice running) is reported.")
    offline_grace_min: float = Field(15.0, ge=0, le=1440,
                                     description="A device reported unavailable this long (minutes) is offline.")
    silent_min_active_hours: int = Field(6, ge=1, le=240,
                                         description="Never call a sensor silent before this many hours in which "
                                                     "the person was active but the sensor said nothing.")
    silent_margin: float = Field(2.0, ge=1.0, le=10.0,
                                 description="Multiplier on a sensor's own longest usual quiet run (active hours).")
    trend_ratio: float = Field(1.5, ge=1.1, le=5.0,
                               description="Weekly report: a marker this many times its earlier level is a trend.")
