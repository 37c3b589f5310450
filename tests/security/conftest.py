"""Fixtures for the adversarial cases: host places a hostile program would aim at."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest


@pytest.fixture
def world_writable_dir():
    """A 0777 directory in the host's /tmp: any uid, a throw-away one included, could write here."""
    path = Path(tempfile.mkdtemp(prefix="egur-sec-", dir="/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def planted_name():
    """A file name in /tmp and /dev/shm that nothing else uses; removed afterwards whatever happened."""
    name = f"egur-planted-{uuid.uuid4().hex[:10]}"
    yield name
    for folder in ("/tmp", "/dev/shm"):
        Path(folder, name).unlink(missing_ok=True)


@pytest.fixture
def root_only_secret(world_writable_dir):
    """Like /etc/shadow: owned by root, mode 0600, in a directory anyone can traverse."""
    path = world_writable_dir / "shadow"
    path.write_text("root:$6$SECRET-HASH-41:19000:0:99999:7:::\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def other_users_secret(world_writable_dir):
    """A 0600 file that belongs to another uid (a root-only .env of another service)."""
    path = world_writable_dir / ".env"
    path.write_text("OTHER_SERVICE_TOKEN=tok-OTHER-UID-77\n")
    os.chown(path, 4242, 4242)
    path.chmod(0o600)
    return path


@pytest.fixture
def host_unix_socket(world_writable_dir):
    """A listening UNIX socket on the host that anyone may connect to (mode 0777)."""
    path = world_writable_dir / "host.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    path.chmod(0o777)
    server.listen(5)
    server.settimeout(0.3)
    yield path, server
    server.close()


def accepted_anything(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
        return True
    except TimeoutError:
        return False
