"""Everything the container image and the systemd units run, run here outside them.

This machine has no container runtime, so the image is tested by what it executes: the
Dockerfile's environment, its model build step, its HEALTHCHECK, its ENTRYPOINT + CMD, and the
compose file's ingest and backup jobs are read from deploy/ and run as written, with only /data
moved to a temporary directory (and the metrics endpoint kept on 127.0.0.1). The systemd units
are checked by systemd-analyze where it exists, and their newsqa options against --help.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from tests.sample_values import QUESTION, READER, SAMPLE_PAGE
from tests.telegram.harness import TelegramEmulator
from tests.telegram.processes import NEWSQA, bot_process, free_port

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
TOKEN = "5550004:NEWSQA-deploy-token"


@dataclass
class Image:
    env: dict[str, str]  # the runtime stage's ENV
    health: list[str]  # HEALTHCHECK CMD
    entry: list[str]  # ENTRYPOINT + CMD
    build_runs: list[str]  # RUN lines of the build stage


def dockerfile_runtime() -> Image:
    """ENV, HEALTHCHECK, ENTRYPOINT, CMD of the Dockerfile's last stage, RUN of the first."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    stages = re.split(r"^FROM ", text, flags=re.M)
    runtime, build = stages[-1], stages[-2]
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", runtime, re.M):
        for word in shlex.split(line):
            name, _, value = word.partition("=")
            env[name] = value
    health = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", runtime, re.M)
    entry = re.search(r"^ENTRYPOINT (\[.*\])$", runtime, re.M)
    cmd = re.search(r"^CMD (\[.*\])$", runtime, re.M)
    assert health and entry and cmd
    return Image(env, json.loads(health.group(1)),
                 json.loads(entry.group(1)) + json.loads(cmd.group(1)),
                 re.findall(r"^RUN (.+)$", build, re.M))


def on_this_machine(argv: list[str], data: Path) -> list[str]:
    """The image's command with its paths mapped here: newsqa → the venv's, /data → ``data``."""
    mapped = [NEWSQA if a == "newsqa" else a.replace("/data", str(data)) for a in argv]
    return [str(Path(sys.executable).with_name(a[len("/opt/newsqa/bin/"):]))
            if a.startswith("/opt/newsqa/bin/") else a for a in mapped]


def image_env(image: Image, data: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in image.env.items():
        if name == "PATH":
            env[name] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
        elif name != "NEWSQA_CACHE_DIR":  # the models were built into this machine's cache
            env[name] = value.replace("/data", str(data))
    return env


def test_what_the_image_runs_works_from_build_to_a_healthy_bot(
        telegram_emulator: TelegramEmulator, tmp_path: Path) -> None:
    image = dockerfile_runtime()
    data = tmp_path / "data"
    data.mkdir()
    env = image_env(image, data)

    # Build stage: the model step (here it verifies the cache the tests already built).
    [model_step] = [r for r in image.build_runs if "model build" in r]
    built = subprocess.run(on_this_machine(shlex.split(model_step.split("&&")[0]), data),
                           env=env, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr
    assert "reader ready" in built.stdout
    assert "pre-processing before quantization" not in built.stdout + built.stderr

    # Before any ingest the health check fails, saying why.
    unhealthy = subprocess.run(on_this_machine(image.health, data), env=env,
                               capture_output=True, text=True, timeout=120)
    assert unhealthy.returncode == 1 and "manifest.json is missing" in unhealthy.stdout

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    shutil.copy(SAMPLE_PAGE, incoming)
    ingest = [a.replace("/incoming", str(incoming))
              for a in compose["services"]["ingest"]["command"]]
    ingested = subprocess.run(on_this_machine(["newsqa", *ingest], data), env=env,
                              capture_output=True, text=True, timeout=900)
    assert ingested.returncode == 0, ingested.stderr
    assert (data / "index" / "manifest.json").is_file()

    healthy = subprocess.run(on_this_machine(image.health, data), env=env,
                             capture_output=True, text=True, timeout=120)
    assert (healthy.returncode, healthy.stdout) == (0, "ok\n")

    port = free_port()
    serve = [{"9108": str(port), "0.0.0.0": "127.0.0.1"}.get(a, a) for a in image.entry]
    bot_env = {k: v for k, v in env.items() if k.startswith(("NEWSQA_", "HF_", "PYTHON"))}
    with bot_process(on_this_machine(serve, data), telegram_emulator, token=TOKEN,
                     env=bot_env, log=tmp_path / "serve.log", ready_timeout=300):
        user = telegram_emulator.client(token=TOKEN, user=READER)
        user.send_message(QUESTION)
        [answer] = user.wait_for_bot_messages(count=1, timeout=60)
        assert "冠县" in answer.plain_text
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).text == "ok\n"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert 'newsqa_questions_total{outcome="answered"} 1.0' in metrics
        # Everything the bot writes is on the volume.
        assert {p.name for p in data.iterdir()} >= {"index", "state.sqlite"}

        backup = compose["services"]["backup"]
        job = on_this_machine([*backup["entrypoint"], *backup["command"]], data)
        job[-1] = job[-1].replace("$$", "$").replace("exec newsqa", f"exec {NEWSQA}")
        done = subprocess.run(job, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        [copy] = (data / "backups").iterdir()
        assert (copy / "backup.json").is_file()


def unit_commands(unit: str) -> list[list[str]]:
    text = (DEPLOY / unit).read_text(encoding="utf-8")
    lines = re.findall(r"^Exec(?:Start|StartPre)=(.+)$", text, re.M)
    commands = []
    for line in lines:
        words = shlex.split(line)
        if words[0] == "/bin/sh":  # sh -c '… newsqa …'
            words = shlex.split(words[-1].replace("exec ", ""))
        commands.extend([words[words.index(w) + 1:] for w in words if w.endswith("/newsqa")])
    return commands


@pytest.mark.parametrize("unit", ["newsqa-bot.service", "newsqa-backup.service"])
def test_systemd_units_run_real_newsqa_options(unit: str) -> None:
    commands = unit_commands(unit)
    assert commands
    for args in commands:
        command = list(itertools.takewhile(str.isalpha, args))  # "serve", "model build"
        help_text = subprocess.run([NEWSQA, *command, "--help"], capture_output=True,
                                   text=True, check=True).stdout
        for option in (a for a in args if a.startswith("--")):
            assert option in help_text, f"{unit}: newsqa {args[0]} has no {option}"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_units_pass_systemd_analyze(tmp_path: Path) -> None:
    units = [str(DEPLOY / n) for n in
             ("newsqa-bot.service", "newsqa-backup.service", "newsqa-backup.timer")]
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *units],
                            capture_output=True, text=True, check=False)
    # The venv path exists only once installed as docs/bot.md says; anything else is a defect.
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.strip() and "is not executable" not in line]
    assert problems == []
