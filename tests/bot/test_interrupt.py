"""Ctrl-C within ``ctrl_c_interrupts`` reaches a main thread blocked where Python cannot see it."""

from __future__ import annotations

import ctypes
import signal
import threading
import time

import pytest

from bot.interrupt import ctrl_c_interrupts

libc = ctypes.CDLL(None, use_errno=True)
WAIT = 30  # seconds a blocked call would last if the signal were lost


def sigint_from_another_thread() -> threading.Thread:
    """A SIGINT whose C-level handler runs on another thread: Python notes it, but the
    main thread's wait is not interrupted (as when it lands just before readline waits)."""

    def send_to_itself() -> None:
        time.sleep(0.2)
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    thread = threading.Thread(target=send_to_itself)
    thread.start()
    return thread


def test_a_sigint_the_main_thread_did_not_take_still_ends_its_wait() -> None:
    with ctrl_c_interrupts():
        started = time.monotonic()
        sender = sigint_from_another_thread()
        with pytest.raises(KeyboardInterrupt):
            libc.sleep(WAIT)  # a C call: only a signal delivered to this thread ends it early
    sender.join()
    assert time.monotonic() - started < WAIT / 2


def test_without_it_the_same_sigint_is_noticed_only_when_the_wait_ends() -> None:
    """The failure the helper exists for (a shorter wait, so the test stays quick)."""
    started = time.monotonic()
    sender = sigint_from_another_thread()
    with pytest.raises(KeyboardInterrupt):
        libc.sleep(2)
    sender.join()
    assert time.monotonic() - started >= 1.9


def test_only_one_keyboard_interrupt_and_the_previous_handler_comes_back() -> None:
    before = signal.getsignal(signal.SIGINT)
    interrupts = 0
    with ctrl_c_interrupts():
        for _ in range(3):
            try:
                signal.raise_signal(signal.SIGINT)
                time.sleep(0.01)
            except KeyboardInterrupt:
                interrupts += 1
    assert interrupts == 1
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.set_wakeup_fd(-1) == -1  # the wakeup fd was given back as well
