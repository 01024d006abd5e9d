"""A boot-scenario world: scripted hosts, the deployer's machine and a virtual clock, in
one directory. The project's rendered scripts run in it unchanged under bash:

- `boot(host, script)` runs a rendered bootstrap (EC2 user data) as cloud-init's final
  stage does, as root on the host, from the moment the scenario says the stage starts;
  what it does (groups added, Docker installed, the SSM agent restarted, files written)
  is recorded with its virtual time, and cloud-init's verdict follows from its exit.
- `run_locally(script)` runs a rendered local script (the readiness check, the image
  prune) as pulumi-command's `local.Command` does (`/bin/bash -c`), with the fake `ssh`
  first on PATH; remote commands run in a bash on the host with the session's groups.

Times are seconds after the host's launch. The bootstrap runs to its end first, so its
files exist from then on; the scripts under test look at them only once cloud-init
reports the boot finished, which is when they exist on a real host too.

The one translation: the host's absolute paths (the directories of
`renderers.cloud_init.HOST_FILES`) are moved under the host's root directory, in the
bootstrap and in every remote command; the harness refuses a script that still names
another system path, so nothing is ever written outside the world.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from renderers.cloud_init import HOST_FILES, HostRole
from tests.support.boot import fakes

DEPLOYER_SCRIPTS = {
    "sleep": """#!/bin/bash
# coreutils sleep on the virtual clock: `sleep N` (whole seconds) lets N seconds pass.
read -r now < "$FAKE_WORLD/clock"
echo "$(( ${now%.*} + $1 )).0" > "$FAKE_WORLD/clock"
""",
    "date": f"""#!/bin/bash
# coreutils date on the virtual clock: `date +%s` prints seconds since the epoch.
if [ "$*" != "+%s" ]; then echo "fake date: only +%s" >&2; exit 1; fi
read -r now < "$FAKE_WORLD/clock"
echo $(( {fakes.EPOCH} + ${{now%.*}} ))
""",
}
"""On the deployer's side `sleep` and `date` run hundreds of times a scenario: bash, not
Python (virtual time there is whole seconds; the host's fakes honour sessions and timeouts)."""
HOST_PROGRAMS = ("cloud-init", "apt-get", "usermod", "systemctl", "sleep", "timeout", "python3")
GPU_IMAGE_PROGRAMS = ("docker", "nvidia-smi", "nvidia-ctk")
"""What the Deep Learning Base OSS Nvidia Driver GPU AMI ships; plain Ubuntu has none."""
REAL_TOOLS = ("bash", "sh", "tail", "tee", "install", "date", "seq", "cat")
"""Real programs the scripts use besides the fakes (nothing else from the machine)."""
DLAMI_DAEMON_JSON = {"runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}}
"""/etc/docker/daemon.json as `nvidia-ctk runtime configure` leaves it on the GPU AMI."""
LOGIN_GROUPS = ["adm", "cdrom", "sudo", "dip", "lxd"]
"""ubuntu's groups on an Ubuntu cloud image (cloud-init's default user)."""


@dataclass(frozen=True)
class AptLock:
    """An apt lock held at first boot (apt-daily, unattended-upgrades) until `until`."""

    name: str
    """The holder's process name as apt prints it, e.g. `unattended-upgr` (15 chars)."""
    until: float
    pid: int = 2311


@dataclass(frozen=True)
class HostSpec:
    """How one EC2 instance behaves over its first minutes."""

    instance_id: str = "i-0a1b2c3d4e5f60001"
    address: str = "203.0.113.10"
    """Public (Elastic) IP: what ssh mode connects to."""
    role: HostRole = "gpu"
    reachable: bool = True
    """False: packets to port 22 are dropped (ssh times out)."""
    sshd_from: float = 45.0
    bootstrap_starts_at: float = 60.0
    """cloud-init's final stage, which runs the user data; sshd accepts logins before it."""
    cloud_init_warnings: bool = False
    """Another module logged a recoverable warning: `status --wait` exits 2 (cloud-init 23.4+)."""
    ssm_registers_at: float = 50.0
    ssm_backs_off: bool = False
    """The agent started before the instance role was usable and sleeps until
    `ssm_backoff_ends_at`, unless restarted."""
    ssm_backoff_ends_at: float = 30.0 + 25 * 60
    ssm_unit: str = "snap.amazon-ssm-agent.amazon-ssm-agent.service"
    dpkg_lock: AptLock | None = None
    lists_lock: AptLock | None = None
    gpus: tuple[tuple[str, int], ...] = (("NVIDIA L4", 23034),)
    without: frozenset[str] = frozenset()
    """Programs the image lacks (a broken AMI)."""


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    finished_at: float
    """Virtual seconds after the host's launch."""


@dataclass
class BootWorld:
    directory: Path
    hosts: dict[str, HostSpec] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bin = self.directory / "bin"
        self.tools = self.directory / "tools"
        self.home = self.directory / "deployer"
        for folder in (self.bin, self.tools, self.home / ".ssh", self.directory / "hosts"):
            folder.mkdir(parents=True, exist_ok=True)
        self._install(self.bin, ["ssh"])
        for name, script in DEPLOYER_SCRIPTS.items():
            (self.bin / name).write_text(script)
            (self.bin / name).chmod(0o755)
        for tool in REAL_TOOLS:
            found = shutil.which(tool)
            assert found, f"the boot harness needs {tool} on this machine"
            (self.tools / tool).symlink_to(found)
        self.set_clock(0.0)
        self._save()

    @property
    def host_dirs(self) -> list[str]:
        return sorted({str(PurePosixPath(path).parent) for path in HOST_FILES})

    def add(self, host: HostSpec) -> None:
        """Launch a host; a later one at the same address replaces the earlier there."""
        self.hosts[host.instance_id] = host
        self.addresses[host.address] = host.instance_id
        folder = self.host_dir(host.instance_id)
        at_launch = folder / "root.before"
        for path in ("var/log", "var/lib", "home/ubuntu", "var/lib/cloud/instance/scripts"):
            (at_launch / path).mkdir(parents=True, exist_ok=True)
        if host.role == "gpu":
            (at_launch / "etc/docker").mkdir(parents=True)
            (at_launch / "etc/docker/daemon.json").write_text(json.dumps(DLAMI_DAEMON_JSON))
        shutil.copytree(at_launch, folder / "root.after", symlinks=True)
        (folder / "root").symlink_to("root.before")
        programs = HOST_PROGRAMS + (GPU_IMAGE_PROGRAMS if host.role == "gpu" else ())
        self._install(folder / "bin", [p for p in programs if p not in host.without])
        self._save()

    def host_dir(self, host_id: str) -> Path:
        return self.directory / "hosts" / host_id

    def host_file(self, host_id: str, path: str) -> Path:
        """A file of the host as the bootstrap left it, by its path on the host."""
        return self.host_dir(host_id) / "root.after" / path.lstrip("/")

    def events(self, host_id: str) -> list[dict]:
        path = self.host_dir(host_id) / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def set_images(self, host_id: str, images: list[dict]) -> None:
        """Images on the host: `{"name", "gb", "used"}` (used: a container runs it)."""
        (self.host_dir(host_id) / "images.json").write_text(json.dumps(images))

    def images(self, host_id: str) -> list[dict]:
        return json.loads((self.host_dir(host_id) / "images.json").read_text())

    def set_clock(self, moment: float) -> None:
        (self.directory / "clock").write_text(repr(moment))
        self._in_world(fakes.show_files_as_of, moment)

    def now(self) -> float:
        return float((self.directory / "clock").read_text())

    def boot(self, host_id: str, bootstrap: str) -> Outcome:
        """Run a rendered bootstrap as cloud-init's final stage (as root, from the scripted
        moment) and record cloud-init's verdict: error (1) if it failed, else done (0), or
        degraded done (2) when another module left warnings."""
        host = self.hosts[host_id]
        booted = self.host_dir(host_id) / "root.after"
        script = fakes.translate(bootstrap, str(booted), self.host_dirs)
        stray = fakes.untranslated(script)
        assert not stray, f"the bootstrap names host paths the harness does not map: {stray}"
        path = self.host_file(host_id, "/var/lib/cloud/instance/scripts/part-001")
        path.write_text(script)
        self.set_clock(host.bootstrap_starts_at)
        result = subprocess.run(
            ["bash", str(path)],
            cwd=booted,
            env={**self._host_env(host_id), "FAKE_ROOT": str(booted)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        done_at = self.now() + 1
        verdict = 1 if result.returncode else (2 if host.cloud_init_warnings else 0)
        record = {"done_at": done_at, "cloud_init_exit": verdict, "script_exit": result.returncode}
        (self.host_dir(host_id) / "boot.json").write_text(json.dumps(record))
        shown = [
            fakes.untranslate(text, self.host_dir(host_id))
            for text in (result.stdout, result.stderr)
        ]
        return Outcome(result.returncode, *shown, done_at)

    def run_locally(self, script: str, at: float = 15.0) -> Outcome:
        """Run a local script as pulumi-command does (`/bin/bash -c`), from virtual time
        `at` (the instance reported running)."""
        self.set_clock(at)
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=self.home,
            env={
                "PATH": f"{self.bin}:{self.tools}",
                "HOME": str(self.home),
                "LANG": "C.UTF-8",
                "FAKE_WORLD": str(self.directory),
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Outcome(result.returncode, result.stdout, result.stderr, self.now())

    def _host_env(self, host_id: str) -> dict[str, str]:
        return {
            "PATH": f"{self.host_dir(host_id) / 'bin'}:{self.tools}",
            "HOME": str(self.host_dir(host_id) / "root.after" / "root"),
            "LANG": "C.UTF-8",
            "FAKE_WORLD": str(self.directory),
            "FAKE_HOST": host_id,
            "FAKE_USER": "root",
        }

    def _in_world(self, function, *args):
        """Call a fakes function as if from a fake running in this world."""
        previous = os.environ.get("FAKE_WORLD")
        os.environ["FAKE_WORLD"] = str(self.directory)
        try:
            return function(*args)
        finally:
            if previous is None:
                del os.environ["FAKE_WORLD"]
            else:
                os.environ["FAKE_WORLD"] = previous

    def _install(self, bin_dir: Path, programs) -> None:
        bin_dir.mkdir(parents=True, exist_ok=True)
        entry = bin_dir / ".fake"
        entry.write_text(
            f"#!{sys.executable} -IS\n"
            "import sys\n"
            f"sys.path.insert(0, {str(Path(fakes.__file__).parent.parent)!r})\n"
            "import fakes\n"
            "sys.exit(fakes.main())\n"
        )
        entry.chmod(0o755)
        for program in programs:
            fakes.link_program(bin_dir, program)

    def _save(self) -> None:
        hosts = {}
        for host_id, host in self.hosts.items():
            spec = asdict(host)
            spec["apt_locks"] = {
                "dpkg": spec.pop("dpkg_lock"),
                "lists": spec.pop("lists_lock"),
            }
            spec["without"] = sorted(host.without)
            spec["groups"] = {"ubuntu": LOGIN_GROUPS}
            spec["system_groups"] = ["docker"] if host.role == "gpu" else []
            hosts[host_id] = spec
        document = {"hosts": hosts, "addresses": self.addresses, "host_dirs": self.host_dirs}
        (self.directory / "world.json").write_text(json.dumps(document))
