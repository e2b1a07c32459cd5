"""The Dockerfile, compose.yaml and systemd unit name the settings and paths the code reads
(images cannot be built here, so this is what keeps them right), and the image's health
check really answers against a running webhook bot."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from test_webhook import StartWebhookBot, free_port, start_webhook_bot  # noqa: F401

from bot.config import DEFAULT_WEBHOOK_PORT
from bot.webhook import HEALTH_PATH

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (REPO / "compose.yaml").read_text(encoding="utf-8")
UNIT = (REPO / "deploy" / "qabot.service").read_text(encoding="utf-8")
# Every setting bot/config.py reads, by the literal name it reads.
READ = set(re.findall(r'env, "([A-Z][A-Z_]+)"', (REPO / "bot" / "config.py").read_text()))
PLATFORM = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "XDG_DATA_HOME"}


def readme_install() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Install", 1)[1]
    return section.split("```sh\n", 1)[1].split("\n```", 1)[0].strip()


def dockerfile_env() -> dict[str, str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in joined.splitlines():
        if line.startswith("ENV "):
            env.update(re.findall(r"([A-Z_]+)=(\S+)", line))
    return env


def test_the_settings_read_are_found() -> None:
    assert {"CORPUS_DIR", "DATABASE_PATH", "WEBHOOK_LISTEN", "WEBHOOK_SECRET"} <= READ


def test_dockerfile() -> None:
    assert re.search(r"^FROM python:3\.\d+-slim$", DOCKERFILE, re.M)
    assert readme_install() in DOCKERFILE.replace("\\\n", " ")
    env = dockerfile_env()
    assert set(env) - PLATFORM <= READ
    assert env["CORPUS_DIR"] == "/corpus"
    assert Path(env["DATABASE_PATH"]).parent == Path("/data")
    assert env["XDG_DATA_HOME"] == "/data"
    assert env["WEBHOOK_LISTEN"].endswith(f":{DEFAULT_WEBHOOK_PORT}")
    [user] = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert user not in ("root", "0")
    assert 'VOLUME ["/data", "/corpus"]' in DOCKERFILE
    assert f"EXPOSE {DEFAULT_WEBHOOK_PORT}" in DOCKERFILE
    assert DOCKERFILE.rstrip().endswith('CMD ["qabot", "run"]')
    assert HEALTH_PATH in health_command()[-1]


def test_compose() -> None:
    names = set(re.findall(r"^\s{6}([A-Z][A-Z_]+):", COMPOSE, re.M))
    assert names and names <= READ
    assert "CORPUS_DIR: /corpus" in COMPOSE and "DATABASE_PATH: /data/qabot.sqlite3" in COMPOSE
    assert ":/data" in COMPOSE and ":/corpus" in COMPOSE
    assert f"127.0.0.1:{DEFAULT_WEBHOOK_PORT}:{DEFAULT_WEBHOOK_PORT}" in COMPOSE
    assert "build: ." in COMPOSE and "env_file: .env" in COMPOSE


def test_systemd_unit() -> None:
    assert readme_install() in UNIT
    settings = dict(re.findall(r"^Environment=([A-Z_]+)=(\S+)$", UNIT, re.M))
    assert set(settings) - PLATFORM <= READ
    data = Path(settings["XDG_DATA_HOME"])
    assert Path(settings["DATABASE_PATH"]).parent == data
    assert Path(settings["CORPUS_DIR"]).parent == data
    assert f"ReadWritePaths={data}" in UNIT and f"StateDirectory={data.name}" in UNIT
    [start] = re.findall(r"^ExecStart=(\S+) run$", UNIT, re.M)
    assert start == "/opt/qabot/.venv/bin/qabot"  # the README's venv in the clone of the comment
    assert "git clone <this repository> /opt/qabot" in UNIT
    assert "RestartPreventExitStatus=2" in UNIT  # configuration errors exit with 2
    assert re.search(r"^User=qabot$", UNIT, re.M)


def health_command() -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    [command] = re.findall(r"^HEALTHCHECK .*? CMD (\[.*\])$", joined, re.M)
    parsed: list[str] = json.loads(command)
    return parsed


async def test_the_health_check_passes_against_a_running_bot_and_fails_without(
    start_webhook_bot: StartWebhookBot,  # noqa: F811
) -> None:
    command = [sys.executable if c == "python" else c for c in health_command()]

    def check(port: int) -> int:
        env = {**os.environ, "WEBHOOK_LISTEN": f"0.0.0.0:{port}"}
        return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode

    harness, port = await start_webhook_bot()
    assert await asyncio.to_thread(check, port) == 0
    await harness.stop()
    assert await asyncio.to_thread(check, port) != 0
    assert await asyncio.to_thread(check, free_port()) != 0
