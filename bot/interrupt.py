"""Ctrl-C that always interrupts ``qabot chat``, even while readline waits for a key.

Python runs a signal's handler only between bytecodes. readline's ``input()`` waits in
``select()`` and gives Python that chance only when the wait ends with EINTR. A SIGINT that
lands just before the wait starts (while readline echoes the last key), or that the kernel
hands to another thread, is noted by Python's C-level handler but interrupts nothing, and
the terminal sits until the next key. So a helper thread learns of every SIGINT through
``signal.set_wakeup_fd`` and, until the handler has run, re-sends it to the main thread,
whose wait it then ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

_STOP = b"\0"  # not a signal number: tells the helper to end
_RESEND_EVERY = 0.05  # seconds; a person does not notice this delay after Ctrl-C


@contextlib.contextmanager
def ctrl_c_interrupts() -> Iterator[None]:
    """Within the block (on the main thread), SIGINT raises KeyboardInterrupt once,
    wherever the main thread waits; later ones are ignored until the block ends."""
    raised = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if not raised.is_set():
            raised.set()
            raise KeyboardInterrupt

    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # set_wakeup_fd's requirement: a handler never blocks
    main = threading.main_thread().ident
    assert main is not None

    def resend() -> None:
        while True:
            received = os.read(read_end, 64)
            if not received or _STOP in received:
                return
            if bytes([signal.SIGINT]) in received:
                while not raised.wait(_RESEND_EVERY):
                    signal.pthread_kill(main, signal.SIGINT)
                return

    previous_handler = signal.signal(signal.SIGINT, handler)
    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    # Started with SIGINT blocked, the helper never takes a Ctrl-C meant for the main thread.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        helper = threading.Thread(target=resend, name="ctrl-c", daemon=True)
        helper.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        raised.set()  # from here on, a SIGINT is ignored and the helper stops re-sending
        with contextlib.suppress(BlockingIOError):
            os.write(write_end, _STOP)
        helper.join()
        # Restored only now: a re-sent SIGINT still on its way finds `handler`, which ignores it.
        signal.set_wakeup_fd(previous_fd)
        signal.signal(signal.SIGINT, previous_handler)
        os.close(read_end)
        os.close(write_end)
