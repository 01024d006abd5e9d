"""Health checks: durations written as the Docker provider reads them back."""

import pytest

from renderers.probes import HttpProbe, go_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (10, "10s"), (60, "1m0s"), (90, "1m30s"), (1200, "20m0s"), (3600, "1h0m0s"),
     (3661, "1h1m1s"), (72 * 3600 + 180, "72h3m0s")],
)  # fmt: skip
def test_durations_are_written_as_go_prints_them(seconds, text):
    assert go_duration(seconds) == text


def test_a_negative_duration_is_refused():
    with pytest.raises(ValueError, match="never negative"):
        go_duration(-1)


def test_a_probe_writes_every_duration_canonically():
    probe = HttpProbe(port=8000, path="/health", start_period_seconds=20 * 60)
    assert (probe.interval, probe.timeout, probe.start_period) == ("30s", "10s", "20m0s")
