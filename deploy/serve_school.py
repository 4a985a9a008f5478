"""Serve MNIST Lab as a school: N dashboard processes on one model store, behind HAProxy with sticky sessions.

    python -m deploy.serve_school --workers 4 --port 8501      # what `make serve-school WORKERS=4` runs

Dashboard process i listens on first_port + i (8601, 8602, …); HAProxy (Debian's, run as this user) listens on
--port with a config written from deploy/haproxy.cfg.template into --run-dir. Every process gets the same
cookie secret, so a student moved to another process keeps a valid session cookie. Ctrl-C stops them all.
"""

import argparse
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "haproxy.cfg.template"
START_SECONDS = 120  # a cold dashboard process imports TensorFlow and warms a training worker


def haproxy_binary() -> str:
    """Debian's haproxy (in /usr/sbin, which a user's PATH may leave out); SystemExit with the install command."""
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if found is None:
        raise SystemExit("HAProxy is not installed: run `make haproxy` (apt-get install haproxy).")
    return found


def render_config(run_dir: Path, listen_port: int, ports: list[int], host: str = "127.0.0.1") -> Path:
    """Write run_dir/haproxy.cfg for one process per port (servers p1, p2, …); returns its path."""
    servers = "\n".join(f"    server p{number} 127.0.0.1:{port} cookie p{number}"
                        for number, port in enumerate(ports, start=1))
    text = string.Template(TEMPLATE.read_text()).substitute(run_dir=run_dir, listen=f"{host}:{listen_port}",
                                                            servers=servers)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "haproxy.cfg"
    path.write_text(text)
    return path


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


class School:
    """The running dashboard processes and HAProxy (each in its own process group, so stop() ends their children)."""

    def __init__(self, ports: list[int], listen_port: int, run_dir: Path, environment: dict | None = None):
        self.ports, self.listen_port, self.run_dir = ports, listen_port, run_dir
        self.environment = {**os.environ, **(environment or {})}
        self.environment.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
        self.dashboards: dict[int, subprocess.Popen] = {}
        self.proxy: subprocess.Popen | None = None

    def __repr__(self):
        return f"School({len(self.ports)} processes, proxy on :{self.listen_port})"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listen_port}"

    def start_dashboard(self, port: int) -> subprocess.Popen:
        log = open(self.run_dir / f"dashboard-{port}.log", "a")
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=REPO, env=self.environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.dashboards[port] = process
        return process

    def start(self) -> "School":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for port in self.ports:
            self.start_dashboard(port)
        self.wait_healthy(self.ports)
        config = render_config(self.run_dir, self.listen_port, self.ports)
        check = subprocess.run([haproxy_binary(), "-c", "-q", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"HAProxy refused {config}: {check.stderr.strip() or check.stdout.strip()}")
        log = open(self.run_dir / "haproxy.log", "a")
        self.proxy = subprocess.Popen([haproxy_binary(), "-db", "-f", str(config)], stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_SECONDS
        while not healthy(self.url):
            if self.proxy.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy did not start; see {self.run_dir / 'haproxy.log'}")
            time.sleep(0.2)
        return self

    def wait_healthy(self, ports: list[int]) -> None:
        deadline = time.monotonic() + START_SECONDS
        for port in ports:
            while not healthy(f"http://127.0.0.1:{port}"):
                if self.dashboards[port].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"The dashboard on port {port} did not start; see "
                                       f"{self.run_dir / f'dashboard-{port}.log'}")
                time.sleep(0.2)

    def kill(self, port: int) -> None:
        """SIGKILL one dashboard process and its training workers (a crash, as the tests need it)."""
        process = self.dashboards[port]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)

    def stop(self) -> None:
        """SIGTERM everything (then SIGKILL what is still there after 15 s), the proxy first."""
        for process in [self.proxy, *self.dashboards.values()]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [self.proxy, *self.dashboards.values()]:
            if process is None:
                continue
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the school like Ctrl-C


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4, help="dashboard processes (1 to 32)")
    parser.add_argument("--port", type=int, default=8501, help="where HAProxy listens")
    parser.add_argument("--first-port", type=int, default=8601, help="the first dashboard process's port")
    parser.add_argument("--run-dir", type=Path, default=REPO / "run" / "school", help="config and logs")
    options = parser.parse_args(argv)
    if not 1 <= options.workers <= 32:
        print(f"--workers must be 1 to 32, not {options.workers}.", file=sys.stderr)
        return 2
    ports = [options.first_port + number for number in range(options.workers)]
    school = School(ports, options.port, options.run_dir)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        school.start()
        print(f"MNIST Lab for a school: {school.url} → {options.workers} dashboard process(es) on ports "
              f"{ports[0]}–{ports[-1]}; logs in {options.run_dir}. Ctrl-C stops them all.", flush=True)
        while True:
            for port, process in list(school.dashboards.items()):
                if process.poll() is not None:  # a crashed process is started again; HAProxy sends students on
                    print(f"The dashboard on port {port} stopped (exit {process.returncode}); starting it again.",
                          flush=True)
                    school.start_dashboard(port)
            if school.proxy.poll() is not None:
                print(f"HAProxy stopped (exit {school.proxy.returncode}); see {options.run_dir / 'haproxy.log'}.",
                      file=sys.stderr)
                return 1
            time.sleep(1.0)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        school.stop()


if __name__ == "__main__":
    sys.exit(main())
