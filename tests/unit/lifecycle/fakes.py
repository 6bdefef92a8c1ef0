"""Stand-ins for the Docker SDK's containers and an Engine, for the node commands' logic."""

from __future__ import annotations

from typing import Any

from docker.errors import APIError

from clusterdeploy.core import labels


class FakeContainer:
    def __init__(self, member: str, status: str = "running", exit_code: int = 0,
                 stop_timeout: int | None = 7, cluster: str = "ci",
                 fail: str = "") -> None:
        self.id = f"id-{member}"
        self.name = f"{cluster}_{member}"
        self.labels = {labels.CLUSTER: cluster, labels.MEMBER: member}
        self.attrs: dict[str, Any] = {
            "State": {"Status": status, "ExitCode": exit_code, "OOMKilled": False,
                      "StartedAt": "2026-11-28T09:00:00.000000001Z",
                      "FinishedAt": "0001-01-01T00:00:00Z"},
            "Config": {"StopTimeout": stop_timeout}}
        self.calls: list[tuple[Any, ...]] = []
        self.fail = fail
        self.log_chunks: list[bytes] = []

    @property
    def status(self) -> str:
        return self.attrs["State"]["Status"]

    def _set(self, status: str, exit_code: int | None = None) -> None:
        self.attrs["State"]["Status"] = status
        if exit_code is not None:
            self.attrs["State"]["ExitCode"] = exit_code

    def stop(self, timeout: int | None = None) -> None:
        self.calls.append(("stop", timeout))
        self._set("exited", 0)

    def kill(self) -> None:
        self.calls.append(("kill",))
        self._set("exited", 137)

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        return {"StatusCode": self.attrs["State"]["ExitCode"]}

    def start(self) -> None:
        self.calls.append(("start",))
        if self.fail:
            raise APIError("start failed", explanation=self.fail)
        self._set("running")
        self.attrs["State"]["StartedAt"] = "2026-11-28T09:30:00.000000001Z"

    def reload(self) -> None:
        pass

    def logs(self, **options: Any) -> Any:
        self.calls.append(("logs", options))
        return iter(self.log_chunks) if options.get("stream") else b"".join(self.log_chunks)


class FakeEngine:
    def __init__(self, *containers: FakeContainer, name: str = "local") -> None:
        self.name = name
        self.containers = list(containers)

    def cluster_containers(self, cluster: str, sparse: bool = False) -> list[FakeContainer]:
        return [c for c in self.containers if c.labels[labels.CLUSTER] == cluster]


class FakeContainers:
    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def list(self, filters: dict[str, Any] | None = None, **options: Any,
             ) -> list[FakeContainer]:
        wanted = dict(f.split("=", 1) for f in (filters or {}).get("label", []))
        return [c for c in self.engine.containers
                if all(c.labels.get(k) == v for k, v in wanted.items())]


class FakeClient:
    def __init__(self, engine: FakeEngine) -> None:
        self.containers = FakeContainers(engine)


def with_client(engine: FakeEngine) -> FakeEngine:
    engine.client = FakeClient(engine)  # type: ignore[attr-defined]
    return engine
