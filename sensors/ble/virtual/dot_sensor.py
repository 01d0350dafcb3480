"""A virtual Movella DOT streaming payload mode 20 (rate quantities with mag) on the medium
payload characteristic, one sample per notification, at its configured output rate (≤ 60 Hz)."""

from __future__ import annotations

import numpy as np
from bumble.core import AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, Service

from sensors.ble.codecs import movella_dot as dot
from sensors.ble.errors import DecodeError
from sensors.ble.virtual.base import VirtualSensor, gatt_value
from sensors.identity import SensorFamily
from sensors.samples import SampleBlock


class DotVirtualSensor(VirtualSensor):
    family = SensorFamily.MOVELLA_DOT
    model = "Movella DOT (virtual)"
    firmware = "2.6.0"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.output_rate_hz = 60
        self.payload_mode = dot.PAYLOAD_RATE_QUANTITIES_WITH_MAG
        self.medium = Characteristic(
            dot.MEDIUM_PAYLOAD_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        mac = bytes(reversed(bytes.fromhex(self.address.replace(":", ""))))
        self.info = dot.DeviceInfo(
            mac, (2, 6, 0), (2024, 5, 1, 12, 0, 0), 7, int(self.address.replace(":", "")[-6:], 16), "XS-T02"
        )
        self.serial = str(self.info.serial)

    @property
    def name(self) -> str:
        return "Movella DOT"

    def advertising_data(self) -> AdvertisingData:
        return AdvertisingData(
            [
                (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                (AdvertisingData.MANUFACTURER_SPECIFIC_DATA, dot.COMPANY_ID.to_bytes(2, "little") + b"\x00"),
            ]
        )

    def services(self) -> list[Service]:
        rw = Characteristic.Properties.READ | Characteristic.Properties.WRITE
        both = Characteristic.READABLE | Characteristic.WRITEABLE
        return [
            Service(
                dot.CONFIGURATION_SERVICE_UUID,
                [
                    Characteristic(
                        dot.DEVICE_INFO_UUID,
                        Characteristic.Properties.READ,
                        Characteristic.READABLE,
                        self.info.to_bytes(),
                    ),
                    Characteristic(
                        dot.DEVICE_CONTROL_UUID,
                        rw,
                        both,
                        gatt_value(
                            read=lambda c: dot.DeviceControl(output_rate_hz=self.output_rate_hz).to_bytes(),
                            write=self._on_device_control,
                        ),
                    ),
                ],
            ),
            Service(
                dot.MEASUREMENT_SERVICE_UUID,
                [
                    Characteristic(
                        dot.CONTROL_UUID,
                        rw,
                        both,
                        gatt_value(
                            read=lambda c: dot.ControlCommand(
                                int(self.link.streaming), self.payload_mode
                            ).to_bytes(),
                            write=self._on_control,
                        ),
                    ),
                    self.medium,
                ],
            ),
            Service(
                dot.BATTERY_SERVICE_UUID,
                [
                    Characteristic(
                        dot.BATTERY_UUID,
                        Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
                        Characteristic.READABLE,
                        gatt_value(read=lambda c: dot.Battery(self.battery_pct, False).to_bytes()),
                    )
                ],
            ),
        ]

    def _on_device_control(self, connection: Connection, value: bytes) -> None:
        try:
            control = dot.DeviceControl.from_bytes(value)
        except DecodeError:
            return  # the sensor ignores malformed writes
        if (
            control.visit_index & dot.VISIT_OUTPUT_RATE
            and control.output_rate_hz in dot.LIVE_RATES_HZ
            and not self.link.streaming
        ):
            self.output_rate_hz = control.output_rate_hz

    def _on_control(self, connection: Connection, value: bytes) -> None:
        try:
            command = dot.ControlCommand.from_bytes(value)
        except DecodeError:
            return
        if command.action == 1 and command.payload_mode == dot.PAYLOAD_RATE_QUANTITIES_WITH_MAG:
            self.payload_mode = command.payload_mode
            self.start_streaming(self.output_rate_hz, samples_per_packet=1)
        elif command.action == 0:
            self.stop_streaming()

    def encode(self, block: SampleBlock) -> list[tuple[Characteristic, bytes]]:
        out = []
        gyr_deg_s = np.degrees(block.gyr_rad_s)
        for k in range(len(block)):
            timestamp = round(float(block.device_time_s[k]) * 1e6) % dot.TIMESTAMP_WRAP_US
            payload = dot.RateQuantities(timestamp, tuple(block.acc_m_s2[k]), tuple(gyr_deg_s[k]), (0, 0, 0))
            out.append((self.medium, payload.to_bytes()))
        return out
