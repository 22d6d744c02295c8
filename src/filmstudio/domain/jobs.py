"""What a job carries in its `params`, one model per kind, parsed once from the row's JSON.

A render's params: the stills it was expected to draw (the estimate) and, when generate asked for it,
the publish request to queue after the film. A model pull's: the model. A publish job's params are
its resumable upload state, owned by the publish code (`services/youtube/publish.py`), and stay a
dict here until the publish target seam gives them a model.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Params(BaseModel):
    # Frozen; unknown keys kept (an older or newer studio may have written more), never dropped.
    model_config = ConfigDict(frozen=True, extra="allow")


class StillsPlanned(_Params):
    """The stills a render was counted to need when it was queued (`StillPlan.as_dict`)."""

    shots: int = 0
    to_draw: int = 0
    seconds_per_still: float = 0.0
    measured: bool = False

    @property
    def seconds(self) -> float:
        return self.to_draw * self.seconds_per_still


class RenderParams(_Params):
    stills: StillsPlanned | None = None
    write_first: bool | None = None  # True: the project had only an idea: the job writes its screenplay, then renders it
    idea: str | None = None
    publish: dict[str, Any] | None = None  # the publish target, its options and destination, for after the film


class ModelPullParams(_Params):
    model_id: str  # a set's first model
    model_ids: tuple[str, ...] | None = None  # a set pulled as one job (POST /models/pull), in this order


def _loaded(raw: str | None) -> dict[str, Any]:
    found = json.loads(raw or "{}")
    return found if isinstance(found, dict) else {}


def render_params(row: Any) -> RenderParams:
    """A render job row's parsed params (a row without the column, e.g. a partial select: none)."""
    keys = row.keys() if hasattr(row, "keys") else ()
    return RenderParams.model_validate(_loaded(row["params"]) if "params" in keys else {})


def pull_params(row: Any) -> ModelPullParams:
    return ModelPullParams.model_validate(_loaded(row["params"]))


def params_json(params: _Params) -> str:
    """The `params` column for a new job."""
    return params.model_dump_json(exclude_none=True)
