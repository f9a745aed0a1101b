from __future__ import annotations

from fastapi import APIRouter

from api.errors import APIError
from api.schemas import ACCEPTED_MODELS, ModelCard, ModelList

router = APIRouter(tags=["models"])


def check_model(model_id: str) -> str:
    """Raise a 404 in OpenAI's shape unless ``model_id`` is one we serve."""
    if model_id not in ACCEPTED_MODELS:
        raise APIError(
            404,
            f"The model '{model_id}' does not exist; use one of {', '.join(ACCEPTED_MODELS)}.",
            param="model",
            code="model_not_found",
        )
    return model_id


@router.get("/v1/models")
async def list_models() -> ModelList:
    return ModelList(data=[ModelCard(id=model_id) for model_id in ACCEPTED_MODELS])


@router.get("/v1/models/{model_id}")
async def get_model(model_id: str) -> ModelCard:
    return ModelCard(id=check_model(model_id))
