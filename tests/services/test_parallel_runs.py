"""`benchmark run --parallel N`: up to N models at once, outcomes in the benchmark's order, errors and interrupts."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from medperf_core.containers import cancel
from medperf_core.errors import ContainerFailedError
from medperf_core.profiles import Profile
from medperf_core.services.client import Client
from medperf_core.services.execution import ModelOutcome, run_parallel


class Models:
    """A scripted `one(client, model)`: sleeps, counts how many run at once, fails or interrupts when told."""

    def __init__(self, fail: int | None = None, interrupt: int | None = None, term: int | None = None) -> None:
        self.fail, self.interrupt, self.term = fail, interrupt, term
        self.lock = threading.Lock()
        self.running = self.most = 0
        self.started: list[int] = []
        self.clients: set[int] = set()

    def __call__(self, client: Client, model: int) -> ModelOutcome:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.started.append(model)
            self.clients.add(id(client))
        try:
            time.sleep(0.05 * (model % 3 + 1))
            if model == self.fail:
                raise ContainerFailedError(f"model {model} failed")
            if model == self.interrupt:
                raise KeyboardInterrupt
            if model == self.term:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            return ModelOutcome(model, f"uid-{model}", False, {"model": model})
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def client() -> Client:
    return Client(Profile(name="p"))


def test_outcomes_keep_the_model_order_and_at_most_n_run_at_once(client: Client) -> None:
    models = Models()
    outcomes = run_parallel(client, [5, 1, 3, 2, 4, 6], models, 3)
    assert [o.model for o in outcomes] == [5, 1, 3, 2, 4, 6]
    assert models.most == 3
    assert len(models.clients) == 6  # each model gets a client (its own store connection) of its own


def test_a_model_error_lets_the_running_finish_and_starts_no_new_one(client: Client) -> None:
    models = Models(fail=1)
    with pytest.raises(ContainerFailedError, match="model 1"):
        run_parallel(client, [1, 2, 3, 4, 5, 6, 7, 8], models, 2)
    assert len(models.started) < 8 and models.running == 0
    assert not cancel.cancelled()


def test_an_interrupt_tells_the_runners_to_stop(client: Client) -> None:
    models = Models(interrupt=2)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_parallel(client, [1, 2, 3, 4], models, 2)
        assert cancel.cancelled()
    finally:
        cancel.reset()


def test_sigterm_unwinds_like_an_interrupt_and_the_handler_is_restored(client: Client) -> None:
    before = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as info:
            run_parallel(client, [1, 2, 3, 4], Models(term=2), 2)
        assert info.value.code == 128 + signal.SIGTERM
        assert cancel.cancelled()
        assert signal.getsignal(signal.SIGTERM) == before
    finally:
        cancel.reset()
