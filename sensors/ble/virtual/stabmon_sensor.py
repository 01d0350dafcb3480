"""A virtual sensor speaking the stabmon open profile (firmware_notes/stabmon-gatt-profile.md)."""

from __future__ import annotations

import asyncio

import numpy as np
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, Service

from sensors.ble.codecs import stabmon as profile
from sensors.ble.errors import DecodeError
from sensors.ble.virtual.base import VirtualSensor, counts, gatt_value
from sensors.ble.virtual.gatt_common import battery_service, device_information_service
from sensors.constants import GRAVITY_M_S2
from sensors.identity import SensorFamily
from sensors.samples import SampleBlock

_SUPPORTED_RATES_HZ = (25, 50, 100, 200, 400)


class StabmonVirtualSensor(VirtualSensor):
    family = SensorFamily.STABMON
    model = "stabmon-imu (virtual)"
    firmware = "1.0.0"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.acc_code, self.gyr_code = 2, 3  # ±8 g, ±2000 °/s
        self.samples_per_packet = self.settings.radio.samples_per_packet
        self.rate_hz = int(self.settings.rate_hz)
        self._result = profile.Result.OK
        self.data = Characteristic(
            profile.IMU_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self.status = Characteristic(
            profile.STATUS_UUID,
            Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE,
            gatt_value(read=lambda connection: self._status().to_bytes()),
        )
        self.control = Characteristic(
            profile.CONTROL_POINT_UUID,
            Characteristic.Properties.WRITE,
            Characteristic.WRITEABLE,
            gatt_value(write=self._on_control),
        )

    @property
    def name(self) -> str:
        return f"stabmon-IMU {self.address[-5:].replace(':', '')}"

    def services(self) -> list[Service]:
        return [
            Service(profile.SERVICE_UUID, [self.data, self.control, self.status]),
            battery_service(lambda: self.battery_pct),
            device_information_service("stabmon", self.model, self.serial, self.firmware),
        ]

    def advertising_data(self) -> AdvertisingData:
        return AdvertisingData(
            [
                (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                (
                    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                    UUID(profile.SERVICE_UUID).to_bytes(),
                ),
                (
                    AdvertisingData.SERVICE_DATA_16_BIT_UUID,
                    UUID.from_16_bits(0x180F).to_bytes() + bytes([self.battery_pct]),
                ),
            ]
        )

    def _status(self) -> profile.Status:
        state = profile.State.STREAMING if self.link.streaming else profile.State.IDLE
        return profile.Status(
            state, self._result, self.rate_hz, self.acc_code, self.gyr_code, self.samples_per_packet
        )

    def _on_control(self, connection: Connection, value: bytes) -> None:
        try:
            command = profile.Command.from_bytes(value)
        except DecodeError:
            self._result = profile.Result.UNKNOWN_OPCODE
        else:
            self._result = profile.Result.OK
            if command.opcode is profile.Opcode.CONFIGURE:
                valid = (
                    command.rate_hz in _SUPPORTED_RATES_HZ
                    and command.acc_range_code in profile.ACC_RANGE_G
                    and command.gyr_range_code in profile.GYR_RANGE_DPS
                    and 1 <= command.samples_per_packet <= profile.MAX_SAMPLES
                )
                if not valid or self.link.streaming:
                    self._result = profile.Result.INVALID_PARAMETER if not valid else profile.Result.BUSY
                else:
                    self.rate_hz, self.acc_code = command.rate_hz, command.acc_range_code
                    self.gyr_code, self.samples_per_packet = (
                        command.gyr_range_code,
                        command.samples_per_packet,
                    )
            elif command.opcode is profile.Opcode.START:
                self.start_streaming(self.rate_hz, self.samples_per_packet)
            else:
                self.stop_streaming()
        if self.device is not None:
            asyncio.get_running_loop().create_task(
                self.device.notify_subscribers(self.status, self._status().to_bytes())
            )

    def encode(self, block: SampleBlock) -> list[tuple[Characteristic, bytes]]:
        acc = counts(block.acc_m_s2, profile.ACC_RANGE_G[self.acc_code] * GRAVITY_M_S2)
        gyr = counts(block.gyr_rad_s, np.radians(profile.GYR_RANGE_DPS[self.gyr_code]))
        packets = []
        for start in range(0, len(block), profile.MAX_SAMPLES):
            stop = min(start + profile.MAX_SAMPLES, len(block))
            packet = profile.ImuPacket(
                first_sequence=int(block.sequence[start]),
                first_time_us=round(float(block.device_time_s[start]) * 1e6),
                period_us=round(1e6 / self.rate_hz),
                acc_range_code=self.acc_code,
                gyr_range_code=self.gyr_code,
                acc_counts=acc[start:stop],
                gyr_counts=gyr[start:stop],
                flags=profile.FLAG_CLOCK_RESTARTED if self.restart_pending else 0,
            )
            self.restart_pending = False
            packets.append((self.data, packet.to_bytes()))
        return packets
