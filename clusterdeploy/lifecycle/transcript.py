"""The suite's output as it streams, with when each piece arrived, for the run folder:
`suite.log` (the bytes, as the terminal showed them) and `suite.json` (the command, the
container, start and end, the exit code, and when each line of suite.log arrived, so the
report can place each test on the timeline)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..docker.logs import private_bytes, private_file
from ..docker.runfacts import rfc3339


def _stamp(seconds: float) -> str:
    return rfc3339(int(seconds * 1e9))


@dataclass
class Transcript:
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    container: str = ""
    command: Sequence[str] = ()
    started: float | None = None
    finished: float | None = None
    exit_code: int | None = None

    def begin(self, container: str, command: Sequence[str]) -> None:
        self.container, self.command, self.started = container, list(command), time.time()

    def append(self, chunk: bytes) -> None:
        self.chunks.append((time.time(), chunk))

    def end(self, exit_code: int) -> None:
        self.finished, self.exit_code = time.time(), exit_code

    def __bool__(self) -> bool:
        return self.started is not None

    def line_times(self) -> list[str]:
        """When each line of the output arrived (its last piece)."""
        times: list[str] = []
        pending = False
        for arrived, chunk in self.chunks:
            times += [_stamp(arrived)] * chunk.count(b"\n")
            pending = not chunk.endswith(b"\n") if chunk else pending
        if pending:
            times.append(_stamp(self.chunks[-1][0]))
        return times

    def write(self, run_dir: Path) -> None:
        with private_bytes(run_dir / "suite.log") as out:
            out.write(b"".join(chunk for _, chunk in self.chunks))
        record = {
            "container": self.container, "command": list(self.command),
            "started": _stamp(self.started) if self.started else None,
            "finished": _stamp(self.finished) if self.finished else None,
            "exit_code": self.exit_code, "interrupted": self.finished is None,
            "line_times": self.line_times(),
        }
        with private_file(run_dir / "suite.json") as out:
            out.write(json.dumps(record, indent=1) + "\n")
