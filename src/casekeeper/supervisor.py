"""``casekeeper serve --processes N``: N server processes sharing the gRPC and HTTP ports.

Each child is a plain ``casekeeper serve --reuse-port``: it binds both ports with SO_REUSEPORT
and the kernel spreads new connections across the children. The supervisor binds nothing; it
checks the ports are free (so a stray server is never silently joined), starts the children,
restarts one that dies (with a growing delay if it keeps dying young), replaces them one by one
on SIGHUP, and on SIGTERM/SIGINT asks every child to drain and stop. Coordination between the
children is the database's alone (docs/SCALING.md). Children get SIGTERM if the supervisor
itself dies (PR_SET_PDEATHSIG), so a kill -9 of the supervisor leaves no orphan serving.

Only child 0 runs the timed transitions and the delivery worker (unless they are off): they are
safe to run in every process, but N pollers of the same tables would only cost N times the
queries.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from types import FrameType

from casekeeper.settings import split_address  # not runner: the supervisor stays small

log = logging.getLogger("casekeeper.supervisor")

READY_FD = "CASEKEEPER_READY_FD"  # the child writes one byte there once both servers listen
INDEX = "CASEKEEPER_PROCESS_INDEX"
STOP_TIMEOUT = 40.0  # HTTP drains for 10 s, gRPC for 5 s more; then SIGKILL
YOUNG = 10.0  # a child that dies younger than this counts as a failed start
GIVE_UP_AFTER = 5  # failed starts in a row of one child before the supervisor gives up
_PR_SET_PDEATHSIG = 1


class PortBusy(Exception):
    """A port the processes would share is already taken by something else."""


def check_free(address: str) -> None:
    """Raise PortBusy unless nothing listens on ``address``: a bind without SO_REUSEPORT
    fails while any socket holds the port (SO_REUSEADDR only forgives TIME_WAIT)."""
    host, port = split_address(address)
    if port == 0:
        raise PortBusy(f"{address}: processes cannot share port 0; give a port number")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise PortBusy(f"{address} is already in use") from None
            raise PortBusy(f"cannot listen on {address}: {err.strerror}") from None


def _die_with_parent(parent: int) -> None:
    """In the child before exec: SIGTERM when the supervisor dies (Linux). A supervisor that
    died before the prctl took effect is caught by the parent check after it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: orphans are then the operator's to stop
        return
    if os.getppid() != parent:
        os._exit(1)


@dataclass
class Child:
    index: int
    process: subprocess.Popen[bytes]
    ready_fd: int  # read end of the readiness pipe; -1 once read or closed
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    stopping: bool = False


@dataclass
class Supervisor:
    count: int
    env: Mapping[str, str]
    argv: list[str] = field(default_factory=lambda: [sys.executable, "-m", "casekeeper"])
    children: dict[int, Child] = field(default_factory=dict)
    retiring: list[Child] = field(default_factory=list)  # replaced on SIGHUP, draining
    failures: dict[int, int] = field(default_factory=dict)
    served: bool = False  # every child has been ready at once: failures now only retry
    restart_at: dict[int, float] = field(default_factory=dict)
    _signals: list[int] = field(default_factory=list)

    def _spawn(self, index: int) -> Child:
        read_fd, write_fd = os.pipe()
        env = {**self.env, INDEX: str(index), READY_FD: str(write_fd)}
        if index > 0:  # see the module docstring
            env["CASEKEEPER_SCHEDULER"] = "false"
            env["CASEKEEPER_NOTIFY_WORKER"] = "false"
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [*self.argv, "serve", "--reuse-port"],
                env=env,
                pass_fds=(write_fd,),
                start_new_session=True,  # the terminal's Ctrl-C reaches the supervisor only
                preexec_fn=partial(_die_with_parent, os.getpid()),
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        log.info("process %d started (pid %d)", index, process.pid)
        return Child(index, process, read_fd)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals.append(signum)

    def run(self) -> int:
        """Supervise until SIGTERM/SIGINT (0) or until a child cannot start (1)."""
        for handled in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(handled, self._on_signal)
        for index in range(self.count):
            self.children[index] = self._spawn(index)
        code = 0
        try:
            while True:
                if self._signals:
                    sig = self._signals.pop(0)
                    if sig == signal.SIGHUP:
                        self._replace_all()
                        continue
                    log.info("stopping %d processes (signal %d)", len(self.children), sig)
                    break
                self._wait_ready(0.2)
                children = self.children.values()
                if (
                    not self.served
                    and len(children) == self.count
                    and all(c.ready for c in children)
                ):
                    self.served = True
                    log.info("%d processes serving", self.count)
                if not self._reap():
                    code = 1
                    break
        finally:
            self._stop_all()
        return code

    def _wait_ready(self, timeout: float) -> None:
        waiting = {c.ready_fd: c for c in (*self.children.values(), *self.retiring)}
        waiting.pop(-1, None)
        if not waiting:
            time.sleep(timeout)
            return
        try:
            readable, _, _ = select.select(list(waiting), [], [], timeout)
        except InterruptedError:  # a signal: the loop looks at it
            return
        for fd in readable:
            child = waiting[fd]
            child.ready = os.read(fd, 1) == b"1"  # b"" when it died before listening
            os.close(fd)
            child.ready_fd = -1
            if child.ready:
                self.failures[child.index] = 0

    def _reap(self) -> bool:
        """Restart children that died; False when one keeps failing before the fleet ever
        served (a setting or the database is wrong). Once it has served, a child that dies
        is restarted however often (at most every 10 s): one slot failing during a database
        blip must not take the healthy ones down with it."""
        now = time.monotonic()
        for child in list(self.retiring):
            if child.process.poll() is not None:
                self._close(child)
                self.retiring.remove(child)
        for index, child in list(self.children.items()):
            code = child.process.poll()
            if code is None:
                continue
            self._close(child)
            young = now - child.started < YOUNG or not child.ready
            self.failures[index] = self.failures.get(index, 0) + 1 if young else 0
            if self.failures[index] >= GIVE_UP_AFTER and not self.served:
                log.error("process %d failed to start %d times in a row; stopping",
                          index, GIVE_UP_AFTER)  # fmt: skip
                del self.children[index]
                return False
            delay = 0.0 if not young else min(0.5 * 2 ** (self.failures[index] - 1), 10.0)
            log.warning("process %d (pid %d) exited with %s; restarting in %.1fs",
                        index, child.process.pid, _status(code), delay)  # fmt: skip
            del self.children[index]
            self.restart_at[index] = now + delay
        for index, at in list(self.restart_at.items()):
            if at <= now:
                del self.restart_at[index]
                try:
                    self.children[index] = self._spawn(index)
                except OSError as err:  # out of processes or memory for a moment
                    log.error("process %d could not be started (%s); retrying", index, err)
                    self.restart_at[index] = now + 1.0
        return True

    def _replace_all(self) -> None:
        """SIGHUP: a new child for each old one; the old one stops once the new one listens,
        so the ports never go unserved (a reload after an upgrade or a settings change)."""
        log.info("replacing %d processes one by one", len(self.children))
        for index in sorted(self.children):
            old = self.children[index]
            new = self._spawn(index)
            self.children[index] = new
            deadline = time.monotonic() + 60
            while new.ready_fd != -1 and time.monotonic() < deadline and not self._stopping():
                self._wait_ready(0.2)
            if not new.ready:
                log.error("process %d's replacement did not start; keeping the old one", index)
                self._terminate(new)
                self.children[index] = old
                self.retiring.append(new)
                return
            self._terminate(old)
            self.retiring.append(old)

    def _stopping(self) -> bool:
        return any(sig != signal.SIGHUP for sig in self._signals)

    def _terminate(self, child: Child) -> None:
        if child.process.poll() is None and not child.stopping:
            child.stopping = True
            child.process.send_signal(signal.SIGTERM)

    def _stop_all(self) -> None:
        everyone = [*self.children.values(), *self.retiring]
        for child in everyone:
            self._terminate(child)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in everyone:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("process %d did not stop in time; killing it", child.index)
                child.process.kill()
                child.process.wait()
            self._close(child)

    @staticmethod
    def _close(child: Child) -> None:
        if child.ready_fd != -1:
            os.close(child.ready_fd)
            child.ready_fd = -1


def _status(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"code {code}"


def signal_ready() -> None:
    """In a child: tell the supervisor both servers listen (no-op when not supervised)."""
    fd = os.environ.pop(READY_FD, "")
    if fd.isdigit():
        try:
            os.write(int(fd), b"1")
            os.close(int(fd))
        except OSError:  # the supervisor is gone; PR_SET_PDEATHSIG stops us
            pass
