"""Wrong link settings are refused when they are built, with an error that names the setting
and says why, instead of a sensor that is never retried or a scan that ends at once."""

import math

import pytest

from sensors.ble.errors import BleError, LinkSettingsError
from sensors.ble.link import LinkSettings


@pytest.mark.parametrize(
    ("changes", "named", "why"),
    [
        ({"rate_hz": 0.0}, "rate_hz", "sensor rate"),
        ({"rate_hz": -100.0}, "rate_hz", "sensor rate"),
        ({"rate_hz": math.inf}, "rate_hz", "finite"),
        ({"scan_timeout_s": 0.0}, "scan_timeout_s", "never see one"),
        ({"connect_timeout_s": -1.0}, "connect_timeout_s", "connection attempt"),
        ({"connect_timeout_s": math.nan}, "connect_timeout_s", "finite"),
        ({"give_up_after_s": 0.0}, "give_up_after_s", "reported lost"),
        ({"decode_error_log_interval_s": -5.0}, "decode_error_log_interval_s", "logged"),
        ({"reconnect_delays_s": ()}, "reconnect_delays_s", "never retried"),
        ({"reconnect_delays_s": [0.1, 1.0]}, "reconnect_delays_s", "tuple"),
        ({"reconnect_delays_s": (0.1, -1.0)}, "reconnect_delays_s[1]", "reconnection attempt"),
        ({"reconnect_delays_s": (0.0,)}, "reconnect_delays_s", "busy loop"),
        ({"acc_range_g": 0.0}, "acc_range_g", "full scale"),
        ({"gyr_range_dps": -2000.0}, "gyr_range_dps", "full scale"),
        ({"connect_timeout_s": "10"}, "connect_timeout_s", "must be a number"),
        ({"give_up_after_s": True}, "give_up_after_s", "must be a number"),
    ],
)
def test_a_wrong_link_setting_is_refused_naming_it_and_why(changes, named, why):
    with pytest.raises(LinkSettingsError) as caught:
        LinkSettings(**changes)
    message = str(caught.value)
    assert f"LinkSettings.{named} " in message and why in message
    given = next(iter(changes.values()))
    shown = given[1] if named.endswith("[1]") else given  # one wrong wait: that wait
    assert f"got {shown!r}" in message
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, BleError)


def test_the_defaults_and_edge_values_that_work_are_accepted():
    LinkSettings()
    LinkSettings(rate_hz=2000.0, reconnect_delays_s=(0.0, 0.5), give_up_after_s=1.0, scan_timeout_s=0.5)
