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
    learning_days: int = Field(7, ge=1, le=60,
                               description="Days of the person's own data before learned routines replace defaults.")
    half_life_days: float = Field(30.0, gt=1, le=365,
                                  description="Forgetting: how many days until an old day counts half as much.")
