from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpcore._core.config import (
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_POOL_LIMITS,
    DEFAULT_TIMEOUT_CONFIG,
    PoolLimits,
    TimeoutConfig,
)

# --- TimeoutConfig -------------------------------------------------------------------------


def timeouts(config: TimeoutConfig) -> tuple[float | None, ...]:
    return (
        config.connect_timeout,
        config.read_timeout,
        config.write_timeout,
        config.pool_timeout,
    )


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, (5.0, 5.0, 5.0, 5.0)),
        ((1.5,), {}, (1.5, 1.5, 1.5, 1.5)),
        ((3,), {}, (3.0, 3.0, 3.0, 3.0)),
        ((0,), {}, (0.0, 0.0, 0.0, 0.0)),
        ((None,), {}, (None, None, None, None)),
        ((math.inf,), {}, (math.inf,) * 4),
        ((), {"connect_timeout": 1}, (1.0, 5.0, 5.0, 5.0)),
        ((), {"read_timeout": None}, (5.0, None, 5.0, 5.0)),
        ((None,), {"write_timeout": 2.5}, (None, None, 2.5, None)),
        ((10,), {"pool_timeout": 0.5}, (10.0, 10.0, 10.0, 0.5)),
        (
            (None,),
            {"connect_timeout": 1, "read_timeout": 2, "write_timeout": 3, "pool_timeout": 4},
            (1.0, 2.0, 3.0, 4.0),
        ),
        ((TimeoutConfig(1, read_timeout=None),), {}, (1.0, None, 1.0, 1.0)),
        ((TimeoutConfig(1, read_timeout=None),), {"pool_timeout": 7}, (1.0, None, 1.0, 7.0)),
    ],
)
def test_timeout_config_forms(
    args: tuple[object, ...], kwargs: dict[str, object], expected: tuple[float | None, ...]
) -> None:
    config = TimeoutConfig(*args, **kwargs)  # type: ignore[arg-type]
    assert timeouts(config) == expected
    assert all(value is None or type(value) is float for value in timeouts(config))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"timeout": -1}, ValueError, "timeout must be >= 0"),
        ({"timeout": -0.001}, ValueError, "timeout must be >= 0"),
        ({"timeout": math.nan}, ValueError, "timeout must be >= 0"),
        ({"connect_timeout": -1}, ValueError, "connect_timeout"),
        ({"read_timeout": -2.0}, ValueError, "read_timeout"),
        ({"write_timeout": -3}, ValueError, "write_timeout"),
        ({"pool_timeout": -4}, ValueError, "pool_timeout"),
        ({"timeout": "5"}, TypeError, "timeout must be a number"),
        ({"timeout": True}, TypeError, "timeout must be a number"),
        ({"timeout": (1, 2, 3, 4)}, TypeError, "timeout must be a number"),
        ({"read_timeout": "1"}, TypeError, "read_timeout must be a number"),
    ],
)
def test_timeout_config_errors(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        TimeoutConfig(**kwargs)  # type: ignore[arg-type]


def test_timeout_config_copy_is_equal_not_same() -> None:
    original = TimeoutConfig(2, connect_timeout=9)
    copy = TimeoutConfig(original)
    assert copy == original
    assert copy is not original


def test_timeout_config_is_read_only() -> None:
    config = TimeoutConfig()
    with pytest.raises(AttributeError):
        config.read_timeout = 1.0  # type: ignore[misc]
    assert config.read_timeout == 5.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (None, None, None, None)),
        (2, (2.0, 2.0, 2.0, 2.0)),
        (0.25, (0.25, 0.25, 0.25, 0.25)),
    ],
)
def test_timeout_config_coerce(value: float | None, expected: tuple[float | None, ...]) -> None:
    assert timeouts(TimeoutConfig.coerce(value)) == expected


def test_timeout_config_coerce_keeps_instance() -> None:
    config = TimeoutConfig(3, pool_timeout=None)
    assert TimeoutConfig.coerce(config) is config
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        TimeoutConfig.coerce(-1)


def test_timeout_config_equality_and_hash() -> None:
    assert TimeoutConfig(5) == TimeoutConfig(5.0) == DEFAULT_TIMEOUT_CONFIG
    assert hash(TimeoutConfig(5)) == hash(DEFAULT_TIMEOUT_CONFIG)
    assert TimeoutConfig(5) != TimeoutConfig(5, pool_timeout=None)
    assert TimeoutConfig(None) != TimeoutConfig(0)
    assert TimeoutConfig(5) != 5.0
    assert len({TimeoutConfig(1), TimeoutConfig(1.0), TimeoutConfig(2)}) == 2


@pytest.mark.parametrize(
    ("config", "text"),
    [
        (TimeoutConfig(), "TimeoutConfig(timeout=5.0)"),
        (TimeoutConfig(None), "TimeoutConfig(timeout=None)"),
        (
            TimeoutConfig(1, read_timeout=None),
            "TimeoutConfig(connect_timeout=1.0, read_timeout=None, "
            "write_timeout=1.0, pool_timeout=1.0)",
        ),
    ],
)
def test_timeout_config_repr(config: TimeoutConfig, text: str) -> None:
    assert repr(config) == text
    assert eval(text) == config


optional_seconds = st.none() | st.floats(min_value=0, allow_nan=False) | st.integers(0, 10**6)


@given(
    timeout=optional_seconds,
    connect=optional_seconds,
    read=optional_seconds,
    write=optional_seconds,
    pool=optional_seconds,
)
def test_timeout_config_properties(
    timeout: float | None,
    connect: float | None,
    read: float | None,
    write: float | None,
    pool: float | None,
) -> None:
    coerced = TimeoutConfig.coerce(timeout)
    assert coerced == TimeoutConfig(timeout)
    assert hash(coerced) == hash(TimeoutConfig(timeout))
    config = TimeoutConfig(
        timeout, connect_timeout=connect, read_timeout=read, write_timeout=write, pool_timeout=pool
    )
    expected = tuple(None if v is None else float(v) for v in (connect, read, write, pool))
    assert timeouts(config) == expected
    assert eval(repr(config), {"TimeoutConfig": TimeoutConfig, "inf": math.inf}) == config


# --- PoolLimits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, (10, 100, None, 5.0)),
        ((0, 1), {}, (0, 1, None, 5.0)),
        ((5, 5), {"max_per_host": 1}, (5, 5, 1, 5.0)),
        ((), {"max_per_host": 20, "keepalive_expiry": None}, (10, 100, 20, None)),
        ((), {"keepalive_expiry": 0}, (10, 100, None, 0.0)),
        ((), {"keepalive_expiry": 30}, (10, 100, None, 30.0)),
    ],
)
def test_pool_limits_forms(
    args: tuple[int, ...], kwargs: dict[str, object], expected: tuple[object, ...]
) -> None:
    limits = PoolLimits(*args, **kwargs)  # type: ignore[arg-type]
    assert (
        limits.soft_limit,
        limits.hard_limit,
        limits.max_per_host,
        limits.keepalive_expiry,
    ) == expected


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hard_limit": 0, "soft_limit": 0}, ValueError, "hard_limit must be >= 1"),
        ({"soft_limit": -1}, ValueError, "soft_limit must be >= 0"),
        ({"max_per_host": 0}, ValueError, "max_per_host must be >= 1"),
        ({"keepalive_expiry": -1}, ValueError, "keepalive_expiry must be >= 0"),
        ({"soft_limit": 1.5}, TypeError, "soft_limit must be an int"),
        ({"hard_limit": "100"}, TypeError, "hard_limit must be an int"),
        ({"hard_limit": True}, TypeError, "hard_limit must be an int"),
        ({"max_per_host": 2.0}, TypeError, "max_per_host must be an int"),
        ({"keepalive_expiry": "5"}, TypeError, "keepalive_expiry must be a number"),
    ],
)
def test_pool_limits_errors(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        PoolLimits(**kwargs)  # type: ignore[arg-type]


def test_pool_limits_equality_hash_repr() -> None:
    assert PoolLimits() == DEFAULT_POOL_LIMITS
    assert hash(PoolLimits()) == hash(DEFAULT_POOL_LIMITS)
    assert PoolLimits(max_per_host=2) != PoolLimits()
    assert PoolLimits() != (10, 100, None, 5.0)
    limits = PoolLimits(1, 2, max_per_host=3, keepalive_expiry=None)
    text = "PoolLimits(soft_limit=1, hard_limit=2, max_per_host=3, keepalive_expiry=None)"
    assert repr(limits) == text
    assert eval(text) == limits
    with pytest.raises(AttributeError):
        limits.soft_limit = 5  # type: ignore[misc]


def test_defaults() -> None:
    assert DEFAULT_MAX_REDIRECTS == 20
    assert timeouts(DEFAULT_TIMEOUT_CONFIG) == (5.0, 5.0, 5.0, 5.0)
    assert (DEFAULT_POOL_LIMITS.soft_limit, DEFAULT_POOL_LIMITS.hard_limit) == (10, 100)
