"""A virtual WitMotion BWT901BLE: 20-byte 0x55 0x61 packets (one per sample, several per
notification when the link groups them), no timestamp, no counter."""

from __future__ import annotations

import numpy as np
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, Service

from sensors.ble.codecs import witmotion as wit
from sensors.ble.errors import DecodeError
from sensors.ble.virtual.base import VirtualSensor, counts, gatt_value
from sensors.constants import GRAVITY_M_S2
from sensors.identity import SensorFamily
from sensors.samples import SampleBlock


def _triple(row: np.ndarray) -> tuple[int, int, int]:
    """One sample's three axis counts, shape (3,), as Python ints."""
    return int(row[0]), int(row[1]), int(row[2])


class WitVirtualSensor(VirtualSensor):
    family = SensorFamily.WITMOTION
    model = "WitMotion BWT901BLE (virtual)"
    firmware = "unknown"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rate_hz = int(self.settings.rate_hz)
        self.notify = Characteristic(
            wit.NOTIFY_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        # The sensor streams whenever notifications are on: there is no start command.
        self.notify.on("subscription", self._on_subscription)
        self.write = Characteristic(
            wit.WRITE_UUID,
            Characteristic.Properties.WRITE_WITHOUT_RESPONSE | Characteristic.Properties.WRITE,
            Characteristic.WRITEABLE,
            gatt_value(write=self._on_write),
        )

    @property
    def name(self) -> str:
        return f"WT901BLE{self.address[-2:]}"

    def advertising_data(self) -> AdvertisingData:
        return AdvertisingData(
            [
                (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                (
                    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                    UUID.from_16_bits(0xFFE5).to_bytes(),
                ),
            ]
        )

    def services(self) -> list[Service]:
        return [Service(wit.SERVICE_UUID, [self.notify, self.write])]

    def _on_write(self, connection: Connection, value: bytes) -> None:
        try:
            write = wit.RegisterWrite.from_bytes(value)
        except DecodeError:
            return
        # WitMotion's own Android SDK sets the rate without unlocking first (an unlock is accepted
        # and changes nothing here).
        if write.register == wit.RATE_REGISTER and write.value in wit.RATE_CODES_HZ:
            self.rate_hz = wit.RATE_CODES_HZ[write.value]

    def _on_subscription(self, bearer: object, notify_enabled: bool, indicate_enabled: bool) -> None:
        if notify_enabled:
            self.start_streaming(self.rate_hz)
        else:
            self.stop_streaming()

    def encode(self, block: SampleBlock) -> list[tuple[Characteristic, bytes]]:
        acc = counts(block.acc_m_s2, 16.0 * GRAVITY_M_S2)
        gyr = counts(block.gyr_rad_s, np.radians(2000.0))
        payload = b"".join(
            wit.ImuPacket(_triple(acc[k]), _triple(gyr[k])).to_bytes() for k in range(len(block))
        )
        return [(self.notify, payload[i : i + 240]) for i in range(0, len(payload), 240)]
