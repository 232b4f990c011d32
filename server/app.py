"""build_server(settings): wire store, scheduler, servicers, health and reflection.

Everything the server is made of is visible here. Collaborators are injected
(engine_factory) so tests can substitute them where that is legitimate (scheduler
unit tests); the real server always uses LlamaEngine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from server.auth import AuthInterceptor, authenticator_for
from server.drain import Drain
from server.inprocess import Handlers, InProcessChannel
from server.interceptors import ErrorInterceptor
from server.metrics import collector
from server.metrics.interceptor import MetricsInterceptor
from server.metrics.observer import ModelEvents
from server.registry.auth import Credentials, OllamaKey
from server.registry.client import RegistryClient, RegistryOptions
from server.scheduler import EngineFactory, Scheduler
from server.services.inference import InferenceService
from server.services.models import ModelService, VersionService
from server.services.status import StatusService
from server.settings import Settings
from server.store.heal import heal
from server.store.models import ModelStore
from server.store.seed import seed_default_model
from server.tracing import TracingInterceptor
from server.workers import Workers
from tokenwire.v1 import (
    inference_pb2,
    inference_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
)
from tokenwire_common import tracing
from tokenwire_common.settings import SettingError
from tokenwire_common.wire import MESSAGE_SIZE_OPTIONS

SERVICE_NAMES = (
    inference_pb2.DESCRIPTOR.services_by_name["InferenceService"].full_name,
    models_pb2.DESCRIPTOR.services_by_name["ModelService"].full_name,
    models_pb2.DESCRIPTOR.services_by_name["VersionService"].full_name,
    status_pb2.DESCRIPTOR.services_by_name["StatusService"].full_name,
)


@dataclass
class Server:
    grpc_server: grpc.aio.Server
    health: health.aio.HealthServicer
    scheduler: Scheduler
    port: int
    drain: Drain
    channel: InProcessChannel  # the same services and interceptors, for an in-process shim

    async def set_serving(self, serving: bool) -> None:
        """The whole server's readiness: "", every service, and (draining) each loaded model."""
        models = () if serving else tuple(load.model for load in self.scheduler.loads())
        for name in ("", *SERVICE_NAMES, *models):
            await self.health.set(name, _health_status(serving))


def _health_status(serving: bool) -> int:
    return health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING


def _default_engine_factory():
    from server.engine.llama import LlamaEngine  # imports llama_cpp only when serving

    return LlamaEngine


def _quantizer(src, dest, quant_type: str) -> None:
    from server.engine.quantize import quantize

    quantize(src, dest, quant_type)


def build_server(settings: Settings, engine_factory: EngineFactory | None = None) -> Server:
    store = ModelStore(settings.models_dir)
    heal(store, prune=settings.prune, max_partial_age_s=settings.partial_max_age_s)
    if settings.default_model:
        seed_default_model(store, settings.cache_dir)
    events = ModelEvents()
    scheduler = Scheduler(
        engine_factory or _default_engine_factory(),
        default_keep_alive_ns=settings.keep_alive_ns,
        max_loaded=settings.max_loaded_models,
        max_queue=settings.max_queue,
        observer=events,
    )
    collector.watch(scheduler)
    drain = Drain()
    interceptors: list[grpc.aio.ServerInterceptor] = [drain]
    if settings.metrics:
        interceptors.insert(0, MetricsInterceptor(lambda: drain.draining))
    if tracing.enabled():  # outermost: everything below runs, and logs, inside the RPC's span
        interceptors.insert(0, TracingInterceptor())
    authenticator = authenticator_for(settings.basic_auth, settings.api_keys_file)
    if authenticator.enabled:
        interceptors.append(AuthInterceptor(authenticator))
    interceptors.append(ErrorInterceptor())
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            *MESSAGE_SIZE_OPTIONS,
            # Accept client keepalive pings down to every 10 s; a stricter server
            # answers GOAWAY too_many_pings to clients tuned for long streams.
            ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ],
    )
    workers = Workers()
    services = Handlers(server)  # tokenwire's four, also for the in-process channel
    inference_pb2_grpc.add_InferenceServiceServicer_to_server(
        InferenceService(settings, store, scheduler, workers), services
    )
    registry = RegistryClient(
        RegistryOptions(
            credentials=Credentials.load(settings.registry_auth),
            ollama_key=OllamaKey(settings.ollama_key),
            part_size=settings.registry_part_size,
            retries=settings.registry_retries,
            backoff_s=settings.registry_backoff_s,
        )
    )
    models_pb2_grpc.add_ModelServiceServicer_to_server(
        ModelService(store, _quantizer, scheduler, registry, workers), services
    )
    models_pb2_grpc.add_VersionServiceServicer_to_server(VersionService(), services)
    status_pb2_grpc.add_StatusServiceServicer_to_server(
        StatusService(store, scheduler, lambda: drain.draining), services
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    events.report_health(lambda model, up: health_servicer.set(model, _health_status(up)))
    if settings.reflection:
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
    port = _listen(server, settings)
    if port == 0:
        raise OSError(f"cannot listen on {settings.grpc_addr}")
    # A co-located shim's hop over a Unix socket instead of loopback TCP: REST's time to
    # first token beyond prefill was 0.2-1.2 ms shorter at one stream (DEVELOPERS.md).
    if settings.grpc_socket and not server.add_insecure_port(f"unix:{settings.grpc_socket}"):
        raise OSError(f"cannot listen on unix:{settings.grpc_socket}")
    return Server(server, health_servicer, scheduler, port, drain, InProcessChannel(services, interceptors))


def _listen(server: grpc.aio.Server, settings: Settings) -> int:
    """Plain, TLS, or mutual TLS (a client CA: a client certificate is required)."""
    if settings.tls_cert is None or settings.tls_key is None:
        return server.add_insecure_port(settings.grpc_addr)
    credentials = grpc.ssl_server_credentials(
        [(_pem(settings.tls_key, "TOKENWIRE_TLS_KEY"), _pem(settings.tls_cert, "TOKENWIRE_TLS_CERT"))],
        root_certificates=_pem(settings.tls_client_ca, "TOKENWIRE_TLS_CLIENT_CA")
        if settings.tls_client_ca
        else None,
        require_client_auth=settings.tls_client_ca is not None,
    )
    return server.add_secure_port(settings.grpc_addr, credentials)


def _pem(path: Path, variable: str) -> bytes:
    """A file a setting names; unreadable, it stops the start with the variable named."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise SettingError(f"{variable}={str(path)!r}: {e.strerror}") from None
