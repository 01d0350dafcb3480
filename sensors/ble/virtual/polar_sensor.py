"""A virtual Polar Verity Sense streaming PMD ACC and GYRO as a real one does: delta-compressed
frames of the types the Polar SDK decodes (ACC 0x80: counts × factor = G, factor 2.44e-4 G for
±8 G; GYRO 0x80: counts × factor = °/s, or 0x81: float32 °/s), the two streams framed and timed
independently (GYRO frames hold back part of a notification's samples to the next, so their
sizes and last-sample timestamps mostly differ from the ACC frames'), 52 Hz by default."""

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

#: Counts → units (as float32, as sent): ACC 1 count = ACC_FACTOR G (±8 G in int16, the
#: factor of the Polar SDK's ACC type-0 test vector); GYRO 1 count = GYRO_FACTOR °/s (±2000 °/s).
ACC_FACTOR = float(np.float32(2.44e-4))
GYRO_FACTOR = float(np.float32(2000.0 / 32768.0))
ACC_FRAME_BYTE = 0x80
SUPPORTED_RATES_HZ = (26, 52, 104, 208, 416)
#: The virtual sensor's clock was set to this Polar time (ns since 2000) when it started.
CLOCK_BASE_NS = pmd.polar_time_ns(1_795_000_000.0)


class PolarVirtualSensor(VirtualSensor):
    family = SensorFamily.POLAR_PMD
    model = "Polar Verity Sense (virtual)"
    firmware = "2.1.8"

    #: 0x80 (int16 counts × factor) or 0x81 (float32 °/s, factor 1).
    gyro_frame_byte = 0x80

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.started: dict[pmd.MeasurementType, float] = {}
        # GYRO samples (device times s, °/s, sequence) waiting for the next frame
        self._held_gyro: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._gyro_frames = 0
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
        status = pmd.Status.SUCCESS
        settings: dict[pmd.Setting, pmd.SettingValue] = {}
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
                settings = {pmd.Setting.FACTOR: self._factor(request.measurement)}
                if len(self.started) == 2:
                    self._held_gyro = None
                    self.start_streaming(rate)
        elif request.op is pmd.OpCode.STOP:
            self.started.pop(request.measurement, None)
            self.stop_streaming()
        else:
            status = pmd.Status.NOT_SUPPORTED
        response = pmd.ControlResponse.with_settings(request.op, request.measurement, status, settings)
        if self.device is not None:
            asyncio.get_running_loop().create_task(
                self.device.indicate_subscriber(connection, self.control, response.to_bytes())
            )

    def _on_disconnection(self) -> None:
        self.started.clear()
        super()._on_disconnection()

    def _factor(self, kind: pmd.MeasurementType) -> float:
        if kind is pmd.MeasurementType.ACC:
            return ACC_FACTOR
        return GYRO_FACTOR if self.gyro_frame_byte == 0x80 else 1.0

    def _frame(
        self, kind: pmd.MeasurementType, frame_byte: int, last_time_s: float, values: np.ndarray
    ) -> bytes:
        timestamp = CLOCK_BASE_NS + round(last_time_s * 1e9)
        return pmd.DataFrame.of_values(kind, timestamp, frame_byte, values, self._factor(kind)).to_bytes()

    def encode(self, block: SampleBlock) -> list[tuple[Characteristic, bytes]]:
        acc_mg = block.acc_m_s2 / GRAVITY_M_S2 * 1000.0
        last_s = float(block.device_time_s[-1])
        out = [(self.data, self._frame(pmd.MeasurementType.ACC, ACC_FRAME_BYTE, last_s, acc_mg))]
        # GYRO: (device times s, °/s, sequence) of this block, after any held from the last one.
        gyro = (block.device_time_s, np.degrees(block.gyr_rad_s), block.sequence)
        held = self._held_gyro
        if held is not None:
            if int(block.sequence[0]) == int(held[2][-1]) + 1:  # contiguous: one frame
                gyro = tuple(np.concatenate([a, b]) for a, b in zip(held, gyro, strict=True))  # type: ignore[assignment]
            else:  # samples were lost between them: the held ones go in a frame of their own
                out.append((self.data, self._gyro_frame(held, len(held[0]))))
        # Hold back 0, 1/3 or 1/6 of the block in turn: frame ends wander against the ACC ones
        # (as a real sensor's do), and line up now and then.
        self._gyro_frames += 1
        keep = len(gyro[0]) - (0, len(block) // 3, len(block) // 6)[self._gyro_frames % 3]
        self._held_gyro = tuple(a[keep:] for a in gyro) if keep < len(gyro[0]) else None  # type: ignore[assignment]
        if keep > 0:
            out.append((self.data, self._gyro_frame(gyro, keep)))
        return out

    def _gyro_frame(self, gyro: tuple[np.ndarray, np.ndarray, np.ndarray], stop: int) -> bytes:
        times, values, _ = gyro
        return self._frame(
            pmd.MeasurementType.GYRO, self.gyro_frame_byte, float(times[stop - 1]), values[:stop]
        )
