"""The cluster lock, its scripts run by a real shell on a directory of this machine."""

from __future__ import annotations

import dataclasses
import subprocess
import time

import pytest

from clusterdeploy.docker import lock as locks
from clusterdeploy.docker.lock import ClusterLock, Holder, lock_dir, parse_holder, show_script
from clusterdeploy.errors import DeployError


def local(script: str) -> tuple[int, str]:
    done = subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True)
    return done.returncode, done.stdout


@pytest.fixture
def directory(tmp_path):
    return lock_dir(str(tmp_path / "state"), "ci")


def taker(directory, command="deploy.py", token=None):
    return ClusterLock(local, "local", directory, Holder.here(command, token))


def test_the_first_taker_gets_the_lock_and_it_names_its_holder(directory, tmp_path):
    first = taker(directory)
    first.acquire(timeout=1)
    assert first.taken
    holder = parse_holder(local(show_script(directory))[1])
    assert holder == first.holder
    assert holder.describe().startswith(f"{holder.user}@")
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700


def test_a_second_taker_waits_then_fails_naming_the_holder(directory, monkeypatch):
    monkeypatch.setattr(locks, "POLL", 0.05)
    first = taker(directory, "pyinfra -y inventory.py deploy.py")
    first.acquire(timeout=1)
    second = taker(directory)
    began = time.monotonic()
    with pytest.raises(DeployError) as info:
        second.acquire(timeout=0.3)
    assert time.monotonic() - began >= 0.3
    assert str(info.value).startswith(
        f"local: the cluster is locked by {first.holder.describe()}; waited 0.3 s")
    assert "`clusterdeploy lock release`" in str(info.value)
    first.release()
    second.acquire(timeout=1)
    assert second.taken


def test_a_lock_whose_process_died_on_this_machine_is_broken(directory):
    first = taker(directory)
    first.acquire(timeout=1)
    dead = dataclasses.replace(first.holder, pid=2 ** 22 + 1, started="1")
    local(locks.remove_script(directory, first.holder))
    local(locks.acquire_script(directory, dead))
    said: list[str] = []
    second = taker(directory)
    second.acquire(timeout=1, say=said.append)
    assert second.taken
    assert said == [f"local: breaking the lock of {dead.describe()}: that process is gone"]


def test_a_lock_of_another_machine_is_never_broken(directory, monkeypatch):
    monkeypatch.setattr(locks, "POLL", 0.05)
    elsewhere = dataclasses.replace(Holder.here("deploy.py"), machine="lab9/0123456789ab",
                                    pid=1)
    local(locks.acquire_script(directory, elsewhere))
    with pytest.raises(DeployError, match="locked by"):
        taker(directory).acquire(timeout=0.2)
    assert parse_holder(local(show_script(directory))[1]) == elsewhere


def test_the_token_a_run_hands_to_its_deploy_lets_it_in_without_taking_it(directory):
    run = taker(directory, "clusterdeploy run")
    run.acquire(timeout=1)
    deploy = taker(directory, "pyinfra deploy.py", token=run.holder.token)
    deploy.acquire(timeout=0.1)
    assert not deploy.taken
    deploy.release()  # nothing: the run holds it
    assert parse_holder(local(show_script(directory))[1]) == run.holder


def test_release_removes_only_the_holders_own_lock(directory):
    first = taker(directory)
    first.acquire(timeout=1)
    other = taker(directory)
    local(locks.remove_script(directory, other.holder))
    assert parse_holder(local(show_script(directory))[1]) == first.holder
    first.release()
    assert local(show_script(directory))[1] == ""


def test_timeouts_read_seconds_or_durations():
    assert [locks.timeout_seconds(v) for v in (30, "45", "1m30s", 2.5)] == [30, 45, 90, 2.5]
    with pytest.raises(DeployError, match="lock_timeout 'soon' is not a number"):
        locks.timeout_seconds("soon")
