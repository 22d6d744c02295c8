"""What a stage is: a small frozen value with a name and `run(plan, ctx) -> plan`."""

from __future__ import annotations

from typing import ClassVar, Protocol

from filmstudio.pipeline.context import StageContext
from filmstudio.pipeline.plan import RenderPlan


class Stage(Protocol):
    name: ClassVar[str]
    weight: ClassVar[float]  # share of the whole render's time, for progress

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan: ...
