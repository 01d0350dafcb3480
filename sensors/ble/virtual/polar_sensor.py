"""A virtual Polar Verity Sense streaming PMD ACC and GYRO as delta-compressed frames (one ACC
and one GYRO frame per simulated notification, same timestamps), 52 Hz by default."""

from __future__ import annotations

import asyncio

import numpy as np
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, Service

from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.errors import DecodeError
from sensors.ble.virtual.base import VirtualSensor, gatt_value
from sensors.ble.virtual.gatt_common import battery_service, device_information_service
from sensors.constants import GRAVITY_M_S2
from sensors.identity import SensorFamily
from sensors.samples import SampleBlock

#: Counts → units: ACC 1 count = 1 mG; GYRO 1 count = GYRO_FACTOR °/s (±2000 °/s in int16).
ACC_FACTOR = 1.0
GYRO_FACTOR = 2000.0 / 32768.0
SUPPORTED_RATES_HZ = (26, 52, 104, 208, 416)
#: The virtual sensor's clock was set to this Polar time (ns since 2000) when it started.
CLOCK_BASE_NS = pmd.polar_time_ns(1_795_000_000.0)


class PolarVirtualSensor(VirtualSensor):
    family = SensorFamily.POLAR_PMD
    model = "Polar Verity Sense (virtual)"
    firmware = "2.1.8"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.started: dict[pmd.MeasurementType, float] = {}
        self.data = Characteristic(
            pmd.DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self.control = Characteristic(
            pmd.CONTROL_POINT_UUID,
            Characteristic.Properties.WRITE
            | Characteristic.Properties.INDICATE
            | Characteristic.Properties.READ,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            gatt_value(read=lambda c: bytes([0x0F, 0x00]), write=self._on_control),
        )

    @property
    def name(self) -> str:
        return f"Polar Sense {self.serial[-8:]}"

    def advertising_data(self) -> AdvertisingData:
        return AdvertisingData(
            [
                (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                (
                    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                    UUID.from_16_bits(0xFEEE).to_bytes(),
                ),
            ]
        )

    def services(self) -> list[Service]:
        return [
            Service(pmd.SERVICE_UUID, [self.control, self.data]),
            battery_service(lambda: self.battery_pct),
            device_information_service("Polar Electro Oy", self.model, self.serial, self.firmware),
        ]

    def _on_control(self, connection: Connection, value: bytes) -> None:
        try:
            request = pmd.ControlRequest.from_bytes(value)
        except DecodeError:
            return
        status, settings = pmd.Status.SUCCESS, {}
        if request.op is pmd.OpCode.START and request.measurement in (
            pmd.MeasurementType.ACC,
            pmd.MeasurementType.GYRO,
        ):
            rate = request.settings.get(pmd.Setting.SAMPLE_RATE, 52)
            if rate not in SUPPORTED_RATES_HZ or (self.started and rate not in self.started.values()):
                status = pmd.Status.INVALID_PARAMETER
            elif request.measurement in self.started:
                status = pmd.Status.ALREADY_IN_STATE
            else:
                self.started[request.measurement] = rate
                factor = ACC_FACTOR if request.measurement is pmd.MeasurementType.ACC else GYRO_FACTOR
                settings = {pmd.Setting.FACTOR: factor}
                if len(self.started) == 2:
                    self.start_streaming(rate)
        elif request.op is pmd.OpCode.STOP:
            self.started.pop(request.measurement, None)
            self.stop_streaming()
        else:
            status = pmd.Status.NOT_SUPPORTED
        response = pmd.ControlResponse(request.op, request.measurement, status, settings)
        if self.device is not None:
            asyncio.get_running_loop().create_task(
                self.device.indicate_subscriber(connection, self.control, response.to_bytes())
            )

    def _on_disconnection(self) -> None:
        self.started.clear()
        super()._on_disconnection()

    def encode(self, block: SampleBlock) -> list[tuple[Characteristic, bytes]]:
        timestamp = CLOCK_BASE_NS + round(float(block.device_time_s[-1]) * 1e9)
        acc_mg = np.round(block.acc_m_s2 / GRAVITY_M_S2 * 1000.0 / ACC_FACTOR)
        gyr = np.round(np.degrees(block.gyr_rad_s) / GYRO_FACTOR)
        frames = [
            pmd.DataFrame(
                pmd.MeasurementType.ACC, timestamp, 1, True, np.clip(acc_mg, -32768, 32767).astype(np.int64)
            ),
            pmd.DataFrame(
                pmd.MeasurementType.GYRO, timestamp, 0, True, np.clip(gyr, -32768, 32767).astype(np.int64)
            ),
        ]
        return [(self.data, frame.to_bytes()) for frame in frames]
