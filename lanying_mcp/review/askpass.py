"""askpass: a yes from a local program the operator chose, for hosts that cannot show our question.

The convention is OpenSSH's `SSH_ASKPASS` (and sudo's `SUDO_ASKPASS`): a program with no terminal is
started with the prompt as its first argument, shows it to the human, and exits. For a confirmation,
as with `ssh-add -c`, only the exit status counts: 0 is a yes, anything else a no. Stock helpers
(`ssh-askpass`, `ksshaskpass`) therefore work as they are; `SSH_ASKPASS_PROMPT=confirm` is set for
those that draw a yes/no dialog when asked.

A GUI helper cannot always take a long question through its command line (Windows caps it at 32,767
characters, and quoting through `cmd` mangles it), so the full question is given three ways:
- `argv[1]`: the question, shortened beyond `ARGV_CHARS` (none for a Windows `.bat`/`.cmd`: see `argv`);
- standard input: the full question (UTF-8), then end of file;
- `LANYING_ASKPASS_QUESTION` and `LANYING_ASKPASS_TITLE` in the helper's environment.

Anything but a clean exit 0 is a no, with the reason logged on stderr: a helper that is missing or not
executable, crashes, is killed by a signal, or does not answer within `timeout` (then its whole
process group is killed and reaped, so no dialog outlives the question and no zombie stays behind;
Windows has no process groups, so there the helper and its children are ended with `taskkill /T`).
The helper never sees this server's settings: every `LANYING_*` variable (the access token among
them) is removed from its environment.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping

import anyio
import anyio.abc

log = logging.getLogger("lanying_mcp")

ARGV_CHARS = 4000  # argv[1] past this is cut (with "…"); stdin and the environment keep the whole question
ENV_CHARS = 30_000  # Windows caps one environment block at 32,767 characters
QUESTION_VAR = "LANYING_ASKPASS_QUESTION"
TITLE_VAR = "LANYING_ASKPASS_TITLE"
REAP_SECONDS = 10.0  # after SIGKILL, how long to wait for the helper to be reaped (it always is, at once)
ERR_CHARS = 300  # how much of a failing helper's stderr is quoted in the log
STDERR_GRACE = 1.0  # seconds to read what an exited helper wrote on stderr


def helper_env(title: str, text: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The helper's environment: ours without any LANYING_* setting, plus the question and its title."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.upper().startswith("LANYING_")}
    env[QUESTION_VAR] = _cut(text, ENV_CHARS)
    env[TITLE_VAR] = _cut(title, 200)
    env["SSH_ASKPASS_PROMPT"] = "confirm"
    return env


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def argv(path: str, text: str, *, windows: bool) -> list[str]:
    """The helper's command line: the question as argv[1], except for a Windows batch file.

    Windows runs a `.bat` or `.cmd` through `cmd.exe`, which reads quotes, `&` and `%` in its arguments
    as its own syntax: a group name could then run a command. Such a helper reads the question from
    its environment or standard input instead."""
    if windows and os.path.splitext(path)[1].lower() in (".bat", ".cmd"):
        return [path]
    return [path, _cut(text, ARGV_CHARS)]


def problem(program: str) -> str | None:
    """Why `program` cannot be started as a helper (missing, a folder, not executable), or None."""
    if not program:
        return "no helper is set (LANYING_ASKPASS)"
    path = os.path.expanduser(program)
    if not os.path.isabs(path):
        return f"the helper must be given by its full path, got {program!r}"
    if not os.path.exists(path):
        return f"the helper {program} does not exist"
    if os.path.isdir(path):
        return f"the helper {program} is a folder, not a program"
    if sys.platform != "win32" and not os.access(path, os.X_OK):
        return f"the helper {program} is not executable (chmod +x it)"
    return None


async def ask(program: str, text: str, *, title: str, timeout: float) -> bool:
    """Show `text` through the askpass helper `program`; True only when it exited 0 within `timeout` seconds."""
    why = problem(program)
    if why is not None:
        log.warning("askpass: %s; the call is treated as declined", why)
        return False
    path = os.path.expanduser(program)
    windows = sys.platform == "win32"
    try:
        process = await anyio.open_process(
            argv(path, text, windows=windows),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=helper_env(title, text),
            start_new_session=not windows,  # its own process group, killed as one at the timeout
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if windows else 0,
        )
    except OSError as exc:  # vanished since the check, no interpreter for its #! line, wrong format
        log.warning("askpass: the helper %s could not be started (%s); the call is treated as declined", program, exc)
        return False
    err = bytearray()
    drained = anyio.Event()
    status: int | None = None
    try:
        with anyio.move_on_after(timeout):
            async with anyio.create_task_group() as tg:
                tg.start_soon(_feed, process, text)
                tg.start_soon(_drain, process, err, drained)
                status = await process.wait()
                with anyio.move_on_after(STDERR_GRACE):  # its last words; a child it left may hold the pipe
                    await drained.wait()
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            if status is None:  # timed out, or the call itself was cancelled: the dialog must not outlive it
                await _kill(process)
            await _close(process, REAP_SECONDS if status is None else STDERR_GRACE)
    if status is None:
        log.warning(
            "askpass: the helper %s gave no answer within %g s; it was stopped and the call is treated as declined",
            program,
            timeout,
        )
        return False
    if status == 0:
        log.info("askpass: the helper %s answered yes", program)
        return True
    said = " ".join(err.decode("utf-8", "replace").split())[:ERR_CHARS]
    if status < 0:
        name = _signal_name(-status)
        log.warning(
            "askpass: the helper %s was killed by %s; the call is treated as declined%s", program, name, _tail(said)
        )
    elif said:
        log.warning("askpass: the helper %s exited with status %d (a no)%s", program, status, _tail(said))
    else:
        log.info("askpass: the helper %s answered no (exit status %d)", program, status)
    return False


def _tail(said: str) -> str:
    return f"; it wrote: {said}" if said else ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


async def _feed(process: anyio.abc.Process, text: str) -> None:
    """The full question on the helper's stdin; a helper that does not read it is no error."""
    stream = process.stdin
    if stream is None:
        return
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        await stream.send(text.encode("utf-8"))
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        await stream.aclose()


async def _drain(process: anyio.abc.Process, err: bytearray, drained: anyio.Event) -> None:
    """Read the helper's stderr to its end (so it never blocks on a full pipe), keeping the start for the log."""
    stream = process.stderr
    try:
        if stream is not None:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                async for chunk in stream:
                    if len(err) < 4 * ERR_CHARS:
                        err.extend(chunk[: 4 * ERR_CHARS - len(err)])
    finally:
        drained.set()


async def _kill(process: anyio.abc.Process) -> None:
    """End the helper and everything it started, then reap it."""
    if process.returncode is None:
        if sys.platform == "win32":
            with contextlib.suppress(OSError), anyio.move_on_after(REAP_SECONDS):
                await anyio.run_process(["taskkill", "/F", "/T", "/PID", str(process.pid)], check=False)
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, OSError):
            process.kill()
    with anyio.move_on_after(REAP_SECONDS):
        await process.wait()


async def _close(process: anyio.abc.Process, wait: float) -> None:
    """Close our ends of its pipes (the process itself was waited for, or killed and reaped).

    Its stderr is read to the end first: the pipe's transport only closes itself at end of file, which
    comes once the helper's process group is gone, and an open transport would outlive the call."""
    if process.stderr is not None:
        with anyio.move_on_after(wait):
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                async for _ in process.stderr:
                    pass
    for stream in (process.stdin, process.stderr):
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.aclose()
