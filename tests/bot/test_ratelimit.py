"""The per-user question limit."""

from __future__ import annotations

from bot.ratelimit import QuestionLimiter, limit_message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_user_within_a_sliding_minute() -> None:
    clock = Clock()
    limiter = QuestionLimiter(2, clock=clock)
    assert limiter.check(1) == 0 and limiter.check(1) == 0
    assert limiter.check(2) == 0  # other users are not affected
    clock.now += 10
    assert limiter.check(1) == 50.0
    clock.now += 50  # both earlier questions have left the window
    assert limiter.check(1) == 0 and limiter.check(1) == 0
    assert limiter.check(1) > 0


def test_refused_questions_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = QuestionLimiter(1, clock=clock)
    assert limiter.check(1) == 0
    for _ in range(5):
        clock.now += 10
        limiter.check(1)
    clock.now += 10.5
    assert limiter.check(1) == 0


def test_zero_turns_the_limit_off() -> None:
    limiter = QuestionLimiter(0)
    assert all(limiter.check(1) == 0 for _ in range(1000))


def test_message_says_how_long_to_wait() -> None:
    assert "about 42 s" in limit_message(41.6)
    assert "about 1 s" in limit_message(0.1)


def test_a_user_over_the_limit_is_told_once_per_wait() -> None:
    clock = Clock()
    limiter = QuestionLimiter(1, clock=clock)
    assert limiter.check(1) == 0
    wait = limiter.check(1)
    assert limiter.first_refusal(1, wait)
    clock.now += 30
    assert not limiter.first_refusal(1, limiter.check(1))
    assert limiter.first_refusal(2, 10)  # per user
    clock.now += 30  # the wait is over: the next refusal is told again
    assert limiter.check(1) == 0
    assert limiter.first_refusal(1, limiter.check(1))
