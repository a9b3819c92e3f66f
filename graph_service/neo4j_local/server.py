"""Start, stop and inspect a local Neo4j server without Docker or a Neo4j download.

Neo4j Community 5.26 is published on Maven Central as libraries: Maven copies them once into
`<home>/lib` (the only step that needs a network), `javac` compiles the one-file launcher next to
this module, and the launcher runs as its own process with Bolt on 127.0.0.1. The pid and port are
kept in `<home>/run/` so that `start` is idempotent and `stop` finds the server again.

With `gds=True` the server also gets Neo4j's Graph Data Science (OpenGDS from Maven Central, by
`gds-pom.xml`): its jars go into the plugins directory once, on the class path (the extension) and
scanned by Neo4j for procedures, as a Neo4j server does with its `plugins/` folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from loaders.errors import MissingTool, Neo4jUnavailable

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
GDS_POM = HERE / "gds-pom.xml"
GDS_GROUP = "org.neo4j.gds"
LAUNCHER = HERE / "Launcher.java"

JVM_FLAGS = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-XX:+UseG1GC",
)


@dataclass(frozen=True, slots=True)
class ServerStatus:
    running: bool
    pid: int | None
    uri: str
    home: Path
    log: Path

    def describe(self) -> str:
        if self.running:
            return f"running (pid {self.pid}) at {self.uri}; data {self.home / 'data'}; log {self.log}"
        return f"stopped; data {self.home / 'data'}; log {self.log}"


def require_tool(name: str, package: str) -> str:
    """The path of a program, or a one-line error naming the Debian package to install."""
    path = shutil.which(name)
    if path is None:
        raise MissingTool(f"{name} not found: install it (Debian: apt-get install {package})")
    return path


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A port nobody listens on now, for test servers that must not collide with the demo's."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child that ended) still answers kill(0): ask for its exit without blocking.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _same_artifact(jar: str, artifact: str) -> bool:
    """True when `jar` (a file name as Maven copies it, `<artifact>-<version>.jar`) is of `artifact`."""
    rest = jar.removeprefix(artifact + "-")
    return rest != jar and rest[:1].isdigit() and rest.endswith(".jar")


@dataclass(slots=True)
class LocalNeo4j:
    """One server: its data under `home`, its jars in `lib` (shareable between homes)."""

    home: Path
    port: int = 7687
    heap: str = "4g"
    pagecache: str = "4g"
    lib: Path | None = None
    gds: bool = False
    plugins: Path | None = None

    @property
    def lib_dir(self) -> Path:
        return self.lib or self.home / "lib"

    @property
    def plugins_dir(self) -> Path:
        """Where the GDS jars go (shareable between homes, like `lib`)."""
        return self.plugins or self.home / "plugins"

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "logs" / "launcher.log"

    @property
    def _pidfile(self) -> Path:
        return self.home / "run" / "neo4j.pid"

    def _pid(self) -> int | None:
        try:
            pid = int(self._pidfile.read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    def status(self) -> ServerStatus:
        pid = self._pid()
        running = pid is not None and port_answers(self.port)
        return ServerStatus(running, pid, self.uri, self.home, self.log)

    def ensure_jars(self) -> None:
        """Fetch Neo4j's jars with Maven once; later starts use the copy and need no network."""
        marker = self.lib_dir / ".complete"
        if marker.exists():
            return
        mvn = require_tool("mvn", "maven")
        require_tool("java", "openjdk-17-jdk-headless")
        self.lib_dir.mkdir(parents=True, exist_ok=True)
        cmd = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
               f"-DoutputDirectory={self.lib_dir.resolve()}"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            raise Neo4jUnavailable("Maven could not fetch Neo4j's jars: " + " | ".join(tail))
        marker.write_text("neo4j jars fetched by Maven from " + POM.name + "\n")

    def ensure_gds(self) -> None:
        """Fetch Graph Data Science's jars with Maven once, into the plugins directory.

        Maven lays them out by group and artifact, so that a third-party jar Neo4j's lib already has
        (jackson, caffeine…) is left out by its exact name and Neo4j's version is the one loaded;
        every `org.neo4j.gds` module is kept, even one whose name Neo4j also uses (`annotations`).
        """
        target = self.plugins_dir
        marker = target / ".complete"
        if marker.exists():
            return
        mvn = require_tool("mvn", "maven")
        staging = target / ".maven"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        cmd = [mvn, "-q", "-B", "-f", str(GDS_POM), "dependency:copy-dependencies",
               "-Dmdep.useRepositoryLayout=true", f"-DoutputDirectory={staging.resolve()}"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            raise Neo4jUnavailable("Maven could not fetch Graph Data Science's jars: " + " | ".join(tail))
        have = {jar.name for jar in self.lib_dir.glob("*.jar")}
        for jar in sorted(staging.rglob("*.jar")):
            version_dir = jar.parent
            artifact, group = version_dir.parent.name, ".".join(version_dir.parent.parent.relative_to(staging).parts)
            if group != GDS_GROUP and any(_same_artifact(name, artifact) for name in have):
                continue
            shutil.copy2(jar, target / f"{group}.{jar.name}")
        shutil.rmtree(staging)
        marker.write_text("Graph Data Science jars fetched by Maven from " + GDS_POM.name + "\n")

    def compile(self) -> Path:
        """Compile the launcher once (a compiled start answers in seconds, not tens of them)."""
        classes = self.home / "classes"
        target = classes / "Launcher.class"
        if not target.exists() or target.stat().st_mtime < LAUNCHER.stat().st_mtime:
            javac = require_tool("javac", "openjdk-17-jdk-headless")
            classes.mkdir(parents=True, exist_ok=True)
            cp = f"{self.lib_dir.resolve()}/*"
            subprocess.run([javac, "-cp", cp, "-d", str(classes), str(LAUNCHER)], check=True,
                           capture_output=True)
        return classes

    def _write_settings(self) -> Path:
        conf = self.home / "neo4j.properties"
        lines = {
            "server.bolt.enabled": "true",
            "server.bolt.listen_address": f"127.0.0.1:{self.port}",
            "server.bolt.advertised_address": f"127.0.0.1:{self.port}",
            "server.bolt.tls_level": "DISABLED",
            # Local development server on loopback only; a shared server is named by NEO4J_URI.
            "dbms.security.auth_enabled": "false",
            "server.memory.pagecache.size": self.pagecache,
            "db.tx_log.rotation.retention_policy": "2 files",
            "server.directories.logs": str((self.home / "logs").resolve()),
        }
        if self.gds:
            lines["server.directories.plugins"] = str(self.plugins_dir.resolve())
            lines["dbms.security.procedures.unrestricted"] = "gds.*"
        conf.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        return conf

    def start(self, timeout: float = 300.0) -> ServerStatus:
        """Start the server unless it runs already; return once Bolt answers."""
        current = self.status()
        if current.running:
            return current
        if self._pid() is None and port_answers(self.port):
            raise Neo4jUnavailable(
                f"port {self.port} is taken by another program; set GRACEGRAPH_NEO4J_PORT to a free one")
        if self._pid() is None:
            self.ensure_jars()
            if self.gds:
                self.ensure_gds()
            java = require_tool("java", "openjdk-17-jre-headless")
            classes = self.compile()
            for sub in ("data", "logs", "run"):
                (self.home / sub).mkdir(parents=True, exist_ok=True)
            conf = self._write_settings()
            cp = f"{classes.resolve()}:{self.lib_dir.resolve()}/*"
            if self.gds:
                cp += f":{self.plugins_dir.resolve()}/*"
            cmd = [java, *JVM_FLAGS, f"-Xmx{self.heap}", "-cp", cp, "Launcher",
                   str(self.home.resolve()), str(conf.resolve())]
            with self.log.open("ab") as log:
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
            self._pidfile.write_text(f"{proc.pid} {self.port}\n")
        return self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> ServerStatus:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pid() is None:
                raise Neo4jUnavailable(f"Neo4j exited while starting; see {self.log}:\n"
                                       + self._log_tail())
            if port_answers(self.port) and "READY" in self._log_tail(4000):
                return self.status()
            time.sleep(0.5)
        raise Neo4jUnavailable(f"Neo4j did not answer on {self.uri} within {timeout:.0f}s; "
                               f"see {self.log}")

    def _log_tail(self, size: int = 2000) -> str:
        try:
            with self.log.open("rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - size))
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 120.0) -> bool:
        """Stop cleanly (SIGTERM runs Neo4j's shutdown); wait for the process to end.

        Returns False when nothing was running. Falls back to SIGKILL only after `timeout`.
        """
        pid = self._pid()
        if pid is None:
            self._pidfile.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self._pidfile.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL, as a crash would: for crash-safety tests."""
        pid = self._pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
