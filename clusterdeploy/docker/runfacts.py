"""What a run's report needs besides the logs, written into the run folder at collection time.

    cluster.json   the cluster's shape, from the containers' labels and `docker inspect`:
                   per container its node name, hostname, addresses, published ports, image
                   (reference, ID, content hash), created time
    events.json    the containers' lifecycle events from Docker (create, start, health_status,
                   kill, die with exit code, oom, stop, restart, ...)

Docker keeps only its last 256 events in memory, for every container of the engine (each
health check alone adds three `exec_*` events), so reading `docker events --since` when the
logs are collected misses most of a run. `run` therefore records the events while it runs
(`EventRecorder`, from before the deploy to the collection); `logs` and teardown have only
what the engine still holds, and `events.json` says which (`"complete"`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..core import labels
from .engine import Engine

if TYPE_CHECKING:
    from docker.models.containers import Container

# Lifecycle events only: health checks' exec_create/exec_start/exec_die would drown them.
DIE_WAIT = 2.0  # seconds the stream may take to show the dies of the containers just stopped
ACTIONS = ("create", "start", "restart", "health_status", "kill", "die", "oom", "stop",
           "pause", "unpause", "destroy")


def rfc3339(nanoseconds: int) -> str:
    """Docker's nanosecond time as RFC 3339 UTC with nanoseconds (it sorts as text)."""
    seconds, nanos = divmod(nanoseconds, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def _filters(cluster: str) -> dict[str, Any]:
    return {"label": [f"{labels.CLUSTER}={cluster}"], "type": ["container"],
            "event": list(ACTIONS)}


def normalize(raw: dict[str, Any]) -> dict[str, Any] | None:
    """One Docker event as the report reads it; None for what it does not show."""
    action = str(raw.get("Action") or raw.get("status") or "")
    kind, _, detail = action.partition(": ")
    if kind not in ACTIONS:
        return None
    attributes = (raw.get("Actor") or {}).get("Attributes") or {}
    nanos = raw.get("timeNano") or int(raw.get("time", 0)) * 1_000_000_000
    event: dict[str, Any] = {"time": rfc3339(int(nanos)), "container": attributes.get("name", ""),
                             "action": kind}
    if kind == "health_status":
        event["health"] = detail.strip()
    if "exitCode" in attributes:
        event["exit_code"] = int(attributes["exitCode"])
    if "signal" in attributes:
        event["signal"] = int(attributes["signal"])
    return event


def _key(event: dict[str, Any]) -> tuple[str, str, str]:
    return event["time"], event["container"], event["action"]


def merge(*batches: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events of several reads, each once, in time order."""
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for batch in batches:
        for event in batch:
            seen.setdefault(_key(event), event)
    return [seen[key] for key in sorted(seen)]


def events_window(since: float, until: float, exact: bool) -> tuple[int, str]:
    """The `since` and `until` of an events read (Unix seconds; Docker takes nanoseconds
    after a dot). The engine streams until `until` has passed on its clock, so a bound in
    the future is waited for.

    `exact`: `until` itself, for a read of our own clock's engine that no just-finished
    action precedes (a collection before containers stop). Otherwise the next whole second:
    slack for another host's clock, and for a `die` the engine may log just after `docker
    stop` returned (a read at the end of a run)."""
    return int(since), f"{until:.9f}" if exact else str(int(until) + 1)


def buffered_events(engine: Engine, cluster: str, since: float, until: float,
                    exact: bool = False) -> list[dict[str, Any]]:
    """The cluster's events the engine still holds between two times (Unix seconds); see
    `events_window` for `exact`."""
    first, last = events_window(since, until, exact)
    # the SDK passes `until` through; its type hints know only whole seconds
    stream = engine.client.events(since=first, until=last,  # type: ignore[call-overload]
                                  filters=_filters(cluster), decode=True)
    found = [normalize(raw) for raw in stream]
    start = rfc3339(int(since * 1e9))
    return [e for e in found if e is not None and e["time"] >= start]


class EventRecorder:
    """The cluster's events as they happen, from `start()` to `stop()` (a thread reading
    Docker's event stream)."""

    def __init__(self, engine: Engine, cluster: str) -> None:
        self.engine, self.cluster = engine, cluster
        self.since = time.time()
        self._events: list[dict[str, Any]] = []
        self._stream: Any = None
        self._thread: threading.Thread | None = None

    def start(self, since: float | None = None) -> EventRecorder:
        """Subscribe to the engine's events from `since` (default: now; Docker replays what it
        buffered since then); an engine that cannot be reached leaves the recorder empty
        (whatever fails next says why), and stop() then returns None."""
        self.since = time.time() if since is None else since
        try:
            self._stream = self.engine.client.events(
                since=int(self.since), filters=_filters(self.cluster), decode=True)
        except Exception:
            self._stream = None
            return self
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        try:
            for raw in self._stream:
                event = normalize(raw)
                if event is not None:
                    self._events.append(event)
        except Exception:  # the stream ends by being closed under the reader
            return

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def stop(self, stopped: Collection[str] = (), stopping_since: float | None = None,
             ) -> dict[str, Any] | None:
        """Everything since `start()`, with what reached the engine after the last event
        read (the stream is asynchronous): the content of events.json; None when the
        recorder never got the stream.

        That late read keeps a whole second of slack, because a container's `die` can reach
        the engine's log just after `docker stop` returned, unless this is the local engine
        and the stream has shown the `die` of every container in `stopped` (the ones just
        stopped, since `stopping_since`): then it reads up to now, at once (up to 1 s less)."""
        if self._stream is None:
            return None
        exact = self.engine.host.is_local and (
            not stopped or (stopping_since is not None
                            and self._saw_dies(stopped, stopping_since, DIE_WAIT)))
        until = time.time()
        self.close()
        start = rfc3339(int(self.since * 1e9))
        recorded = [e for e in self._events if e["time"] >= start]
        try:
            late = buffered_events(self.engine, self.cluster, self.since, until, exact=exact)
        except Exception:
            late = []
        return events_record(merge(recorded, late), self.since, until, complete=True)

    def _saw_dies(self, names: Collection[str], since: float, timeout: float) -> bool:
        """Whether the stream shows a `die` of each container since `since`, within
        `timeout` seconds."""
        after = rfc3339(int(since * 1e9))
        deadline = time.monotonic() + timeout
        while True:
            died = {e["container"] for e in list(self._events)
                    if e["action"] == "die" and e["time"] >= after}
            if set(names) <= died:
                return True
            if time.monotonic() > deadline or self._thread is None \
                    or not self._thread.is_alive():
                return False
            time.sleep(0.01)


def events_record(events: Sequence[dict[str, Any]], since: float, until: float,
                  complete: bool) -> dict[str, Any]:
    return {"since": rfc3339(int(since * 1e9)), "until": rfc3339(int(until * 1e9)),
            "complete": complete, "events": list(events)}


def _created_seconds(container: Container) -> float:
    created = str(container.attrs.get("Created", ""))
    try:
        return datetime.fromisoformat(created[:26].rstrip("Z") + "+00:00").timestamp()
    except ValueError:
        return time.time()


def container_shape(container: Container) -> dict[str, Any]:
    """What cluster.json says about one container."""
    attrs = container.attrs
    config = attrs.get("Config") or {}
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    addresses = {name: (net.get("IPAMConfig") or {}).get("IPv4Address") or net.get("IPAddress")
                 or "" for name, net in sorted(networks.items())}
    bindings = (attrs.get("HostConfig") or {}).get("PortBindings") or {}
    ports = [f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}->{port}"
             for port, found in sorted(bindings.items()) for b in (found or [])]
    member = container.labels.get(labels.MEMBER, "")
    return {
        "name": container.name or "",
        "member": member,
        "role": "tester" if member == "tester" else "node",
        "hostname": config.get("Hostname", ""),
        "addresses": addresses,
        "ports": ports,
        "image": config.get("Image", ""),
        "image_id": attrs.get("Image", ""),
        "image_hash": container.labels.get(labels.IMAGE_HASH, ""),
        "image_key": container.labels.get(labels.IMAGE_KEY, ""),
        "created": attrs.get("Created", ""),
    }


def run_facts(engine: Engine, cluster: str, containers: Sequence[Container],
              recorded: dict[str, Any] | None = None, before_stop: bool = False,
              ) -> dict[str, Any]:
    """File name -> content of cluster.json and events.json (`recorded`: an EventRecorder's;
    otherwise what the engine still holds since the oldest container was created, read up to
    this moment on the local engine when the caller says no stop just ended: `before_stop`)."""
    now = time.time()
    if recorded is None:
        since = min((_created_seconds(c) for c in containers), default=now)
        try:
            found = buffered_events(engine, cluster, since, now,
                                    exact=before_stop and engine.host.is_local)
        except Exception as exc:  # the logs matter more than the timeline: say it, go on
            recorded = {**events_record([], since, now, complete=False), "error": str(exc)}
        else:
            recorded = events_record(found, since, now, complete=False)
    return {
        "cluster.json": {"cluster": cluster, "host": engine.name,
                         "collected_at": rfc3339(int(now * 1e9)),
                         "containers": [container_shape(c) for c in containers]},
        "events.json": recorded,
    }


def merge_facts(facts: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The run facts of several hosts as one (host name, its run_facts() per host): every
    container and event names its host; events.json is complete when every host's was. One
    host (named "") gives its facts unchanged."""
    if len(facts) == 1 and not facts[0][0]:
        return facts[0][1]
    hosts = [host for host, _ in facts]
    clusters = [f["cluster.json"] for _, f in facts]
    events = [f["events.json"] for _, f in facts]
    return {
        "cluster.json": {**clusters[0], "host": ", ".join(hosts), "hosts": hosts,
                         "containers": [{**c, "host": host} for host, f in facts
                                        for c in f["cluster.json"]["containers"]]},
        "events.json": {**events[0], "since": min(e["since"] for e in events),
                        "until": max(e["until"] for e in events),
                        "complete": all(e["complete"] for e in events),
                        "events": sorted(({**e, "host": host} for host, f in facts
                                          for e in f["events.json"]["events"]),
                                         key=_key)},
    }
