"""The composition root: settings -> engines, store, queue, services, server, worker, farm.

The only place that constructs engines and picks implementations; the CLI modules parse
arguments and call in here, the desktop app and the tests build through it too. Adding a voice
engine is its module, its catalogue entry (assets/models.toml, `kind = "voice"`) and one line in
`VOICE_ENGINES`; the catalogue's kind decides which seam a pulled model serves (`pulled`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filmstudio.config import Settings
from filmstudio.pipeline.engines import Engines, Motion, MotionAdvice, Pictures, VoiceLibrary, Voices, Writer

if TYPE_CHECKING:  # the server stack is imported only by the commands that need it
    from fastapi import FastAPI

    from filmstudio.app.live import LiveEngines
    from filmstudio.domain.jobs import JobRow
    from filmstudio.pipeline.context import CancelToken, ProgressFn
    from filmstudio.pipeline.request import RenderRequest
    from filmstudio.pipeline.writer import Brief, RoundStream, Screenplay
    from filmstudio.queue import StudioQueue, WorkerPool
    from filmstudio.services.executor import JobHandler
    from filmstudio.services.render import Renderer
    from filmstudio.services.secrets import SecretStore
    from filmstudio.services.studio import Studio
    from filmstudio.services.targets import PublishTarget


@dataclass(frozen=True)
class VoiceSetup:
    """What a voice engine is built from: the pulled models the catalogue gives it, and the machine's share."""

    models: tuple[Path, ...]  # folders of installed models of kind "voice" for this engine (catalogue order)
    jobs: int  # lines spoken at a time
    cache_dir: Path | None  # where it may keep what it derives from its models (None: keep nothing)


VoiceMaker = Callable[[VoiceSetup], "Voices | None"]
"""Builds one voice engine (None: it cannot speak here, e.g. no voice installed)."""


def espeak_voices(setup: VoiceSetup) -> Voices:
    from filmstudio.pipeline.providers.tts import EspeakTts

    return EspeakTts(jobs=setup.jobs)


def piper_voices(setup: VoiceSetup) -> Voices | None:
    from filmstudio.pipeline.providers.piper import PiperVoices, bundled_voice, voice_files_in

    files = [found] if (found := bundled_voice()) is not None else []
    files += voice_files_in(list(setup.models))  # `filmstudio models pull en_US-...`
    if not files or importlib.util.find_spec("onnxruntime") is None:
        return None
    return PiperVoices(files, jobs=setup.jobs,
                       compiled_dir=setup.cache_dir / "piper-compiled" if setup.cache_dir is not None else None)


# The voice engines, by the catalogue's `engine` name: one line per engine. Casting prefers neural voices
# where they read the film's language; espeak-ng reads every language and is the fallback.
VOICE_ENGINES: Mapping[str, VoiceMaker] = {
    "espeak": espeak_voices,  # every language, robotic: the fallback (no model)
    "piper": piper_voices,  # neural: the bundled voice and pulled Piper voices
}
FALLBACK_VOICES = "espeak"
ANIMATEDIFF_ENGINE = "diffusers-animatediff"  # the catalogue's engine for a motion adapter over a picture model


def build_engines(*, jobs: int | None = None, models_dir: Path | None = None, encoder: str | None = None,
                  cache_dir: Path | None = None, voice_engines: Mapping[str, VoiceMaker] = VOICE_ENGINES,
                  picture_model: str | None = None, pictures_device: str | None = None,
                  writer: Writer | None = None, hardware_encoding: bool = True) -> Engines:
    """The engines of this machine: bundled ones always, plus whatever models the user pulled.

    `picture_model`, `pictures_device`: the settings' choice of picture model and device (None: the
    catalogue's first installed picture model; the best device found).

    `hardware_encoding`: False keeps the encoder on libx264 (`Settings.no_hwenc`).
    `cache_dir`: where engines keep what they derive from their models (the neural voice's edited,
    optimised graph, so a fresh process loads it in ~0.06 s instead of ~0.5 s); None keeps nothing.
    `voice_engines`: the voice engines by catalogue engine name (`VOICE_ENGINES`; a caller may add
    its own, as the tests' tone voice does); each gets the pulled models of kind "voice" for its name.
    """
    from filmstudio.pipeline.media.ffmpeg import FfmpegEncoder
    from filmstudio.pipeline.providers.music import SynthMusic
    from filmstudio.pipeline.providers.translate import InstalledTranslator

    workers = jobs or os.cpu_count() or 2
    motion = motion_choice(models_dir, device=pictures_device) if models_dir is not None else MotionChoice(None)
    voices: dict[str, Voices] = {}
    for name, make in voice_engines.items():
        made = make(VoiceSetup(tuple(pulled(models_dir, kind="voice", engine=name)), workers, cache_dir))
        if made is not None:
            voices[name] = made
    return Engines(
        voices=VoiceLibrary(voices, fallback=FALLBACK_VOICES),
        music=SynthMusic(),
        translator=InstalledTranslator(),
        encoder=FfmpegEncoder(encoder, hardware=hardware_encoding),
        pictures=picture_engine(models_dir, picture_model, device=pictures_device) if models_dir is not None else None,
        writer=writer,
        motion=motion.engine,
        motion_advice=motion.advice,
    )


def pulled(models_dir: Path | None, *, kind: str, engine: str) -> list[Path]:
    """Folders of installed models that serve the `kind` seam through `engine` (the catalogue says; never downloads)."""
    if models_dir is None or not models_dir.is_dir():
        return []
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.library import ModelLibrary, serving

    return [m.path for m in serving(ModelLibrary(models_dir), load_catalogue(), kind=kind, engine=engine)]


def picture_engine(models_dir: Path, model_id: str | None = None, *, device: str | None = None) -> Pictures | None:
    """A diffusers engine on the installed picture model (`model_id`, else the catalogue's first
    installed picture entry, else any other installed model of kind "picture" for diffusers); None:
    procedural backdrops. Only a model of kind "picture" is ever loaded (never another kind's
    folder, even with a `model_index.json`). An installed IP-Adapter that fits the model comes with it."""
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.library import ModelLibrary, serving
    from filmstudio.pipeline.providers.pictures import DiffusersPictures
    from filmstudio.pipeline.providers.reference_adapter import find_reference_adapter

    catalogue = load_catalogue()
    candidates = {m.id: m for m in serving(ModelLibrary(models_dir), catalogue, kind="picture", engine="diffusers")}
    order = [model_id] if model_id else []
    order += [e.id for e in catalogue if e.kind == "picture"]
    order += sorted(candidates)
    for mid in order:
        model = candidates.get(mid) if mid else None
        if model is not None and (model.path / "model_index.json").is_file():
            adapter, why = find_reference_adapter(models_dir, model.path, model.id)
            return DiffusersPictures(model.path, model_id=model.id, revision=model.revision, adapter=adapter,
                                     references_advice=why, forced_device=device)
    return None


@dataclass(frozen=True)
class MotionChoice:
    """The video engine built from the installed models, else None and (when a video model is
    installed that cannot run alone, AnimateDiff's adapter without sd15) what to pull."""

    engine: Motion | None
    advice: MotionAdvice | None = None


def motion_engine(models_dir: Path, *, device: str | None = None) -> Motion | None:
    """The video engine on the installed video models (`motion_choice`); None: every shot is its still
    with the camera move."""
    return motion_choice(models_dir, device=device).engine


def motion_choice(models_dir: Path, *, device: str | None = None) -> MotionChoice:
    """The first installed video model in the catalogue's order, the non-commercial ones last (Wan 2.2,
    Wan 2.1, AnimateDiff, Stable Video Diffusion), then any other so recorded.

    A diffusers video folder is its own engine; AnimateDiff's motion adapter runs over the installed
    sd15 (with the IP-Adapter that fits it, when installed, to pass the still in), and without sd15
    there is no AnimateDiff engine and the choice says to pull it. Only a model of kind "video" is
    ever loaded as one (a picture model's folder is never taken for it)."""
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.library import ModelLibrary, serving
    from filmstudio.pipeline.providers.animatediff import BASE_MODEL, AnimateDiffMotion
    from filmstudio.pipeline.providers.motion import DiffusersMotion
    from filmstudio.pipeline.providers.reference_adapter import find_reference_adapter

    if not models_dir.is_dir():
        return MotionChoice(None)
    catalogue, library = load_catalogue(), ModelLibrary(models_dir)
    folders = {m.id: m for m in serving(library, catalogue, kind="video", engine="diffusers")}
    adapters = {m.id: m for m in serving(library, catalogue, kind="video", engine=ANIMATEDIFF_ENGINE)}
    listed = sorted(catalogue.of_kind("video"), key=lambda e: not e.licence.commercial_use)  # stable: catalogue order
    advice: MotionAdvice | None = None
    for mid in dict.fromkeys([*(e.id for e in listed), *sorted(folders), *sorted(adapters)]):
        if (model := folders.get(mid)) is not None and (model.path / "model_index.json").is_file():
            return MotionChoice(DiffusersMotion(model.path, model_id=model.id, revision=model.revision,
                                                forced_device=device))
        if (model := adapters.get(mid)) is None or not (model.path / "config.json").is_file():
            continue
        bases = catalogue.get(mid).addon_for if mid in catalogue else ()
        base = next((m for m in serving(library, catalogue, kind="picture", engine="diffusers")
                     if m.id in (bases or (BASE_MODEL,)) and (m.path / "model_index.json").is_file()), None)
        if base is None:
            advice = advice or MotionAdvice(
                reason=(f"the AnimateDiff motion adapter {mid} runs over Stable Diffusion 1.5, which is not "
                        f"installed: `filmstudio models pull {BASE_MODEL}` to animate the moving shots"),
                pull=BASE_MODEL)
            continue
        reference, why = find_reference_adapter(models_dir, base.path, base.id)
        return MotionChoice(AnimateDiffMotion(model.path, model_id=model.id, revision=model.revision, base=base.path,
                                              base_id=base.id, base_revision=base.revision, reference=reference,
                                              references_advice=why, forced_device=device))
    return MotionChoice(None, advice)


def engines_for(settings: Settings, *, jobs: int | None = None, encoder: str | None = None,
                secrets: SecretStore | None = None) -> Engines:
    """The engines for a studio home (its pulled models live in <home>/models)."""
    use_machine_tools(settings)
    return build_engines(jobs=jobs, models_dir=settings.models_dir, encoder=encoder, cache_dir=settings.cache_dir,
                         picture_model=settings.picture_model, pictures_device=settings.pictures_device,
                         writer=writer_engine(settings, secrets), hardware_encoding=not settings.no_hwenc)


def use_machine_tools(settings: Settings) -> None:
    """Give the media layer the settings' ffmpeg and ffprobe (every entry point comes through here)."""
    from filmstudio.pipeline.media.ffmpeg import Tools, use_tools

    use_tools(Tools(ffmpeg=settings.ffmpeg, ffprobe=settings.ffprobe))


def writer_engine(settings: Settings, secrets: SecretStore | None = None) -> Writer:
    """The screenplay writer: the built-in model when pulled (and no server address was set), else the
    OpenAI-compatible server at `writer_url` (loopback by default). Nothing is contacted here."""
    from filmstudio.pipeline.providers.writer_server import DEFAULT_URL, ServerWriter

    if settings.writer != "server" and (settings.writer == "builtin" or settings.writer_url is None):
        builtin = builtin_writer(settings.models_dir, settings.writer_model if settings.writer == "builtin" else None,
                                 catalogue=settings.model_catalogue)
        if builtin is not None:
            return builtin
    url = settings.writer_url or DEFAULT_URL
    key = None
    if secrets is not None:
        try:
            key = secrets.get(f"writer-key:{url.rstrip('/')}")
        except Exception:  # a keyring that cannot be read: a keyless server still works
            key = None
    return ServerWriter(url, model=settings.writer_model, api_key=key, explicit=settings.writer_url is not None,
                        stall_seconds=settings.writer_stall_seconds)


def builtin_writer(models_dir: Path, model_id: str | None = None, *, catalogue: Path | None = None) -> Writer | None:
    """The built-in writer on a pulled model of kind "writer" (`model_id`, else the catalogue's first pulled)."""
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.library import ModelLibrary, serving
    from filmstudio.pipeline.providers.writer_builtin import BuiltinWriter

    if not models_dir.is_dir():
        return None
    found = load_catalogue(catalogue)
    candidates = {m.id: m for m in serving(ModelLibrary(models_dir), found, kind="writer", engine="transformers")}
    order = [model_id] if model_id in candidates else [*(e.id for e in found.of_kind("writer")), *sorted(candidates)]
    for mid in order:
        model = candidates.get(mid)
        if model is not None and (model.path / "config.json").is_file():
            return BuiltinWriter(model.path, model_id=model.id, revision=model.revision)
    return None


def render_here(request: RenderRequest, *, progress: ProgressFn | None = None,
                cancel: CancelToken | None = None) -> dict[str, Any]:
    """`filmstudio render`: one film in this process with this machine's engines."""
    from filmstudio.config import load_settings
    from filmstudio.pipeline.runner import render

    engines = engines_for(load_settings(), jobs=request.jobs, encoder=request.encoder)
    return render(request, engines, progress=progress, cancel=cancel)


def write_here(brief: Brief, *, on_text: RoundStream | None = None, cancel: CancelToken | None = None,
               settings: Settings | None = None) -> Screenplay:
    """`filmstudio write`: a screenplay from an idea, by this studio's writer, checked against its voices."""
    from filmstudio.config import load_settings
    from filmstudio.pipeline.context import CancelToken
    from filmstudio.pipeline.engines import Completion
    from filmstudio.pipeline.writer import write_screenplay

    settings = settings or load_settings()
    engines = engines_for(settings, secrets=_secrets_or_none(settings))
    assert engines.writer is not None
    options = Completion(max_tokens=max(600, brief.words * 4 + 300), temperature=settings.writer_temperature,
                         seed=settings.writer_seed)
    return write_screenplay(engines.writer, brief, cancel=cancel or CancelToken(), voices=engines.voices.voices(),
                            options=options, on_text=on_text)


def _secrets_or_none(settings: Settings) -> SecretStore | None:
    """The studio's secret store, or None where there is none to open (a keyless writer still works)."""
    from filmstudio.domain.errors import FilmStudioError
    from filmstudio.services.secrets import open_secrets

    try:
        return open_secrets(settings.secrets_backend, settings.home)
    except FilmStudioError:
        return None


def pipeline_renderer(engines: Engines) -> Renderer:
    from filmstudio.services.render import PipelineRenderer

    return PipelineRenderer(engines)


def job_handlers(studio: Studio, renderer: Renderer, writer: Writer | None = None) -> dict[str, JobHandler]:
    """Every job kind this process can run, by kind."""
    from filmstudio.services.models import ModelPullJobs
    from filmstudio.services.publish import PublishJobs
    from filmstudio.services.render import RenderJobs
    from filmstudio.services.writing import WriteJobs

    return {"render": RenderJobs(studio, renderer, writer), "model_pull": ModelPullJobs(studio),
            "publish": PublishJobs(studio), "write": WriteJobs(studio, writer)}


def publish_targets(studio: Studio, extra: Mapping[str, PublishTarget] | None = None) -> Studio:
    """The studio with every publish target, by name: adding a target is its module and one line here."""
    from filmstudio.services.youtube.target import YouTubeTarget

    targets: dict[str, PublishTarget] = {"youtube": YouTubeTarget(studio, chunk_bytes=studio.settings.youtube_chunk_bytes)}
    return studio.with_targets({**targets, **(extra or {})})


def local_studio(settings: Settings) -> Studio:
    """A Studio for a command in this process (no queue: what it starts, it runs itself)."""
    from filmstudio.services.factory import open_studio

    use_machine_tools(settings)
    return publish_targets(open_studio(settings))


def publish_here(studio: Studio, project_id: str, options: Any) -> JobRow:
    """`filmstudio publish PROJECT`: queue (or resume) the project's publish job and run it in this process."""
    from filmstudio.domain.models import PublishRequest
    from filmstudio.services.executor import JobExecutor
    from filmstudio.services.keys import Principal
    from filmstudio.services.publish import PublishJobs, start_publish
    from filmstudio.store import jobs as job_rows
    from filmstudio.store.projects import get_project

    found = get_project(studio.store, project_id)
    if found is None:
        from filmstudio.domain.errors import NotFound

        raise NotFound(f"no project {project_id} (give a project id or a film .mp4)", code="PROJECT_NOT_FOUND")
    earlier = job_rows.orphaned_publish(studio.store, project_id, time.time())  # its worker gone: resume it
    if earlier is not None:
        job_id = earlier
    else:
        owner = Principal(found["account_id"], "cli", frozenset({"admin"}))
        job_id = start_publish(studio, owner, project_id, PublishRequest(youtube=options)).job_id
    JobExecutor(studio, {"publish": PublishJobs(studio)}).run(job_id)
    row = job_rows.get_job(studio.store, job_id)
    assert row is not None
    return row


@dataclass
class ServerParts:
    """What `serve` runs, built without starting anything (tests start the pieces themselves)."""

    settings: Settings
    studio: Studio
    queue: StudioQueue
    app: FastAPI
    pool: WorkerPool | None
    engines: Engines  # as built at the start; `live.current()` is the engines of now
    live: LiveEngines | None = None  # None: the engines were given (a test's) and never change


def build_server(settings: Settings, *, renderer: Renderer | None = None, secrets: SecretStore | None = None,
                 engines: Engines | None = None, targets: Mapping[str, PublishTarget] | None = None) -> ServerParts:
    """The app, its Studio, and (when settings.workers > 0) an in-process worker pool.

    `targets`: publish targets beside the built-in ones (tests register a folder target this way)."""
    from filmstudio.app.live import LiveWriter
    from filmstudio.config import check_exposure
    from filmstudio.queue import StudioQueue, WorkerPool, make_huey
    from filmstudio.server.app import create_app
    from filmstudio.services.factory import open_studio

    check_exposure(settings)
    use_machine_tools(settings)
    live = None if engines is not None else live_engines(settings, secrets)  # given engines stay as given
    engines = engines or live.current()  # type: ignore[union-attr]
    writer = LiveWriter(live) if live is not None else engines.writer
    if renderer is None:
        renderer = _renderer(settings, engines, live)
    queue = StudioQueue(make_huey(settings.queue_url, settings.queue_path))
    studio = open_studio(settings, queue=queue, secrets=secrets).with_voices(engines.voices.voices())
    studio = publish_targets(studio.with_pictures(engines.pictures)
                             .with_motion(engines.motion, engines.motion_advice).with_engine_source(live), targets)
    pool = None
    if settings.workers > 0:
        pool = WorkerPool(queue, studio, job_handlers(studio, renderer, writer), workers=settings.workers,
                          reconcile_seconds=settings.reconcile_seconds)
    return ServerParts(settings, studio, queue, create_app(studio, settings, engines), pool, engines, live)


def live_engines(settings: Settings, secrets: SecretStore | None = None) -> LiveEngines:
    """This home's engines, rebuilt whenever its model library changes (a pull or removal, in any process)."""
    from filmstudio.app.live import LiveEngines

    return LiveEngines(lambda: engines_for(settings, secrets=secrets), settings.models_dir)


def _renderer(settings: Settings, engines: Engines, live: LiveEngines | None) -> Renderer:
    """The pipeline (or the farm) on the live engines when there are some, else on `engines`."""
    from filmstudio.app.live import LiveRenderer

    def make(e: Engines) -> Renderer:
        return farm_renderer(settings, e) if settings.segment_farm else pipeline_renderer(e)

    return LiveRenderer(live, make) if live is not None else make(engines)


def farm_renderer(settings: Settings, engines: Engines) -> Renderer:
    """The pipeline with its segment encodes sent over the Redis segment queue (serve --farm-segments)."""
    from filmstudio.distributed import SegmentQueue, make_segment_huey
    from filmstudio.services.farm import FarmRenderer

    dispatch = SegmentQueue(make_segment_huey(settings.queue_url))
    # Parts stay under the API's body limit; the lease is the job lease (a worker that misses it is gone).
    return FarmRenderer(engines, dispatch, chunk_bytes=max(512, settings.max_body_bytes - 1024),
                        lease_seconds=settings.lease_seconds)


def run_server(parts: ServerParts, *, on_started: Callable[[Any], None] | None = None) -> None:
    """Serve `parts` until a signal (main thread) or `server.should_exit` (tests)."""
    from filmstudio.server.run import serve
    from filmstudio.services.backup import holding_home

    with holding_home(parts.settings.home):  # `filmstudio restore` refuses while this is held
        serve(parts.app, parts.settings.host, parts.settings.port, background=parts.pool, on_started=on_started)


def load_renderer(spec: str | None, engines: Engines) -> Renderer:
    """The pipeline's renderer, or `module:attribute` (a renderer, or a factory named make_*)."""
    if not spec:
        return pipeline_renderer(engines)
    module, _, attr = spec.partition(":")
    obj = getattr(importlib.import_module(module), attr)
    made: Renderer = obj() if attr.startswith("make_") else obj
    return made


def run_worker(settings: Settings, *, workers: int, renderer_spec: str | None = None) -> None:
    """A job worker beside the server (same home): the queue's consumer, the reconciler, the webhook sender."""
    from huey.consumer import Consumer

    from filmstudio.queue import Reconciler, StudioQueue, consumer_kwargs, make_huey
    from filmstudio.services.backup import holding_home
    from filmstudio.services.factory import open_studio
    from filmstudio.services.webhook_sender import WebhookSender

    queue = StudioQueue(make_huey(settings.queue_url, settings.queue_path))
    from filmstudio.app.live import LiveWriter

    live = live_engines(settings)  # a model this worker (or another process) pulls is used by the next job
    engines = live.current()
    studio = publish_targets(open_studio(settings, queue=queue).with_voices(engines.voices.voices())
                             .with_pictures(engines.pictures).with_motion(engines.motion, engines.motion_advice)
                             .with_engine_source(live))
    renderer = _renderer(settings, engines, live) if not renderer_spec else load_renderer(renderer_spec, engines)
    queue.bind(studio, job_handlers(studio, renderer, LiveWriter(live)))
    reconciler = Reconciler(studio, settings.reconcile_seconds)
    reconciler.start()
    sender = WebhookSender(studio)
    sender.start()
    print(f"FilmStudio worker on {settings.queue_path if settings.queue_url == 'sqlite' else settings.queue_url}",
          flush=True)
    try:
        with holding_home(settings.home):  # `filmstudio restore` refuses while this is held
            # Main thread of its own process: huey's own signal handling is right here.
            Consumer(queue.huey, **consumer_kwargs(workers)).run()
    finally:
        sender.stop()
        reconciler.stop()


def run_segment_worker(settings: Settings, *, server: str, key: str, workers: int, name: str | None,
                       work_dir: Path | None) -> None:
    """A render worker on another machine: segment orders from Redis, results over HTTP, no studio.db."""
    from huey.consumer import Consumer

    from filmstudio.distributed import RemoteSegmentWorker, SegmentClient, SegmentQueue, make_segment_huey
    from filmstudio.queue import consumer_kwargs
    from filmstudio.services.farm import worker_name

    use_machine_tools(settings)
    queue = SegmentQueue(make_segment_huey(settings.queue_url))
    name = name or worker_name()
    client = SegmentClient(server, key)
    queue.worker = RemoteSegmentWorker(client, work_dir or settings.home / "segment-work", name)
    print(f"FilmStudio segment worker {name}: orders from {settings.queue_url}, results to {server}", flush=True)
    try:
        Consumer(queue.huey, **consumer_kwargs(workers)).run()
    finally:
        client.close()

