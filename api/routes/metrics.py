from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import MetricsDep
from api.metrics import CONTENT_TYPE

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def metrics(metrics: MetricsDep) -> Response:
    """Prometheus metrics in the text exposition format."""
    return Response(metrics.render(), media_type=CONTENT_TYPE)
