import pytest

from tunekit_worker.errors import WorkerError
from tunekit_worker.schedule import make_lr_lambda


def values(*args, n):
    f = make_lr_lambda(*args)
    return [round(f(s), 6) for s in range(n)]


def test_cosine_with_warmup():
    assert values("cosine", 2, 6, 0.0, n=7) == [0.5, 1.0, 1.0, 0.853553, 0.5, 0.146447, 0.0]


def test_cosine_with_min_lr_ratio():
    assert values("cosine", 0, 4, 0.1, n=5) == [1.0, 0.868198, 0.55, 0.231802, 0.1]


def test_linear():
    assert values("linear", 1, 5, 0.0, n=6) == [1.0, 1.0, 0.75, 0.5, 0.25, 0.0]


def test_constant():
    assert values("constant", 3, 10, 0.0, n=5) == [0.333333, 0.666667, 1.0, 1.0, 1.0]


def test_bad_type():
    with pytest.raises(WorkerError) as e:
        make_lr_lambda("exp", 0, 10)
    assert (e.value.code, e.value.message) == ("WORKER_BAD_PARAMS", "schedule.type is 'exp'")
