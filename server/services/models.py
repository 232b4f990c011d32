"""ModelService and VersionService. Model management arrives with issues 3 and 6."""

from __future__ import annotations

from server.errors import Unimplemented
from server.version import OLLAMA_API_VERSION
from tokenwire.v1 import models_pb2, models_pb2_grpc


def _not_yet(method: str, issue: int, streaming: bool = False):
    message = f"{method} is not implemented yet (tokenwire issue {issue})"

    if streaming:

        async def stream_handler(self, request, context):
            raise Unimplemented(message)
            yield  # pragma: no cover - makes this an async generator

        return stream_handler

    async def handler(self, request, context):
        raise Unimplemented(message)

    return handler


class ModelService(models_pb2_grpc.ModelServiceServicer):
    ListModels = _not_yet("ListModels", 3)
    ShowModel = _not_yet("ShowModel", 3)
    ListRunningModels = _not_yet("ListRunningModels", 4)
    CreateModel = _not_yet("CreateModel", 3, streaming=True)
    CopyModel = _not_yet("CopyModel", 3)
    DeleteModel = _not_yet("DeleteModel", 3)
    PullModel = _not_yet("PullModel", 6, streaming=True)
    PushModel = _not_yet("PushModel", 6, streaming=True)
    BlobExists = _not_yet("BlobExists", 3)
    CreateBlob = _not_yet("CreateBlob", 3)


class VersionService(models_pb2_grpc.VersionServiceServicer):
    async def GetVersion(self, request, context) -> models_pb2.GetVersionResponse:
        return models_pb2.GetVersionResponse(version=OLLAMA_API_VERSION)
