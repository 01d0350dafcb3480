"""A virtual Polar Verity Sense streaming PMD ACC and GYRO as a real one does outside SDK mode
(polar-ble-sdk documentation/products/PolarVeritySense.md: ACC 52 Hz ±8 G, GYRO 52 Hz ±2000 °/s;
26–416 Hz and other ranges only in SDK mode, which stabmon does not enter): it offers exactly
those settings, with 16-bit resolution and 3 channels (a real one's settings read, fsmeraldi/
bleakheart PR #11), and refuses a start that leaves out a setting it offers (INVALID_PARAMETER, as
Polar's maintainer describes for the H10 in polar-ble-sdk #124) or asks for a value it does not
offer. Frames are delta-compressed, of the types the Polar SDK decodes (ACC 0x80: counts × factor
= G, factor 2.44e-4 G for ±8 G; GYRO 0x80: counts × factor = °/s, or 0x81: float32 °/s), of
FRAME_SAMPLES samples as a real one sends (~71, 1–2 s apart: polar-ble-sdk #317), split where a
frame would not fit one notification (ATT MTU 247). The two streams are framed and timed
independently (GYRO frames hold back part of a frame's samples to the next, so their sizes and
last-sample timestamps mostly differ from the ACC frames')."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

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
#: Samples in a frame of a real Verity Sense outside SDK mode (polar-ble-sdk issue #317).
FRAME_SAMPLES = 71
#: The most a notification carries: ATT MTU 247 (what the host asks for) less the 3-byte header.
MAX_NOTIFICATION_BYTES = 244
#: What a Verity Sense reads back as its features, and offers per stream outside SDK mode (rate
#: Hz, resolution bits, range G or °/s, channels).
VERITY_STREAMS = frozenset(
    {
        pmd.MeasurementType.PPG,
        pmd.MeasurementType.ACC,
        pmd.MeasurementType.PPI,
        pmd.MeasurementType.GYRO,
        pmd.MeasurementType.MAG,
    }
)
VERITY_OFFERS: dict[pmd.MeasurementType, dict[pmd.Setting, tuple[int, ...]]] = {
    pmd.MeasurementType.ACC: {
        pmd.Setting.SAMPLE_RATE: (52,),
        pmd.Setting.RESOLUTION: (16,),
        pmd.Setting.RANGE: (8,),
        pmd.Setting.CHANNELS: (3,),
    },
    pmd.MeasurementType.GYRO: {
        pmd.Setting.SAMPLE_RATE: (52,),
        pmd.Setting.RESOLUTION: (16,),
        pmd.Setting.RANGE: (2000,),
        pmd.Setting.CHANNELS: (3,),
    },
}
#: How a start naming a value the sensor does not offer is refused, per setting.
_REFUSALS = {
    pmd.Setting.SAMPLE_RATE: pmd.Status.INVALID_SAMPLE_RATE,
    pmd.Setting.RESOLUTION: pmd.Status.INVALID_RESOLUTION,
    pmd.Setting.RANGE: pmd.Status.INVALID_RANGE,
    pmd.Setting.CHANNELS: pmd.Status.INVALID_NUMBER_OF_CHANNELS,
}
#: A Polar H10 (documentation/products/PolarH10.md of the Polar BLE SDK): ECG and ACC only, ACC at
#: 25/50/100/200 Hz, ±2/4/8 G. No gyroscope.
H10_STREAMS = frozenset({pmd.MeasurementType.ECG, pmd.MeasurementType.ACC})
H10_OFFERS: dict[pmd.MeasurementType, dict[pmd.Setting, tuple[int, ...]]] = {
    pmd.MeasurementType.ACC: {
        pmd.Setting.SAMPLE_RATE: (25, 50, 100, 200),
        pmd.Setting.RESOLUTION: (16,),
        pmd.Setting.RANGE: (2, 4, 8),
    },
}
#: The virtual sensor's clock was set to this Polar time (ns since 2000) when it started.
CLOCK_BASE_NS = pmd.polar_time_ns(1_795_000_000.0)


class PolarVirtualSensor(VirtualSensor):
    family = SensorFamily.POLAR_PMD
    model = "Polar Verity Sense (virtual)"
    firmware = "2.1.8"

    #: 0x80 (int16 counts × factor) or 0x81 (float32 °/s, factor 1).
    gyro_frame_byte = 0x80
    #: What the sensor can stream (its feature read) and what it offers per stream.
    streams: frozenset[pmd.MeasurementType] = VERITY_STREAMS
    offers: dict[pmd.MeasurementType, dict[pmd.Setting, tuple[int, ...]]] = VERITY_OFFERS

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
            gatt_value(read=lambda c: pmd.Features(self.streams).to_bytes(), write=self._on_control),
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
        status, settings = pmd.Status.SUCCESS, b""
        offer = self.offers.get(request.measurement)
        if request.op is pmd.OpCode.GET_SETTINGS:
            if offer is None:
                status = pmd.Status.NOT_SUPPORTED
            else:
                settings = pmd.offer_bytes(offer)
        elif request.op is pmd.OpCode.START and offer is not None:
            rate = request.settings.get(pmd.Setting.SAMPLE_RATE, 0)
            refused = _refusal(offer, request.settings)
            if refused is not None:
                status = refused
            elif self.started and rate not in self.started.values():
                status = pmd.Status.INVALID_SAMPLE_RATE
            elif request.measurement in self.started:
                status = pmd.Status.ALREADY_IN_STATE
            else:
                self.started[request.measurement] = float(rate)
                factor: dict[pmd.Setting, pmd.SettingValue] = {
                    pmd.Setting.FACTOR: self._factor(request.measurement)
                }
                settings = pmd.ControlResponse.with_settings(
                    request.op, request.measurement, status, factor
                ).parameters
                if len(self.started) == 2:
                    self._held_gyro = None
                    self.start_streaming(int(rate), samples_per_packet=FRAME_SAMPLES)
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

    def _factor(self, kind: pmd.MeasurementType) -> float:
        if kind is pmd.MeasurementType.ACC:
            return ACC_FACTOR
        return GYRO_FACTOR if self.gyro_frame_byte == 0x80 else 1.0

    def _frames(
        self, kind: pmd.MeasurementType, frame_byte: int, times_s: np.ndarray, values: np.ndarray
    ) -> Iterator[bytes]:
        """The frame of these samples (device times s (n,), values (n, 3) in the frame's units),
        or, if it would not fit one notification, frames of its halves in turn."""
        timestamp = CLOCK_BASE_NS + round(float(times_s[-1]) * 1e9)
        frame = pmd.DataFrame.of_values(kind, timestamp, frame_byte, values, self._factor(kind)).to_bytes()
        if len(frame) <= MAX_NOTIFICATION_BYTES or len(values) == 1:
            yield frame
            return
        half = len(values) // 2
        yield from self._frames(kind, frame_byte, times_s[:half], values[:half])
        yield from self._frames(kind, frame_byte, times_s[half:], values[half:])

    def encode(self, block: SampleBlock) -> list[tuple[Characteristic, bytes]]:
        acc_mg = block.acc_m_s2 / GRAVITY_M_S2 * 1000.0
        acc_frames = self._frames(pmd.MeasurementType.ACC, ACC_FRAME_BYTE, block.device_time_s, acc_mg)
        out = [(self.data, frame) for frame in acc_frames]
        # GYRO: (device times s, °/s, sequence) of this block, after any held from the last one.
        gyro = (block.device_time_s, np.degrees(block.gyr_rad_s), block.sequence)
        held = self._held_gyro
        if held is not None:
            if int(block.sequence[0]) == int(held[2][-1]) + 1:  # contiguous: one frame
                gyro = tuple(np.concatenate([a, b]) for a, b in zip(held, gyro, strict=True))  # type: ignore[assignment]
            else:  # samples were lost between them: the held ones go in a frame of their own
                out.extend((self.data, frame) for frame in self._gyro_frames_of(held, len(held[0])))
        # Hold back 0, 1/3 or 1/6 of the block in turn: frame ends wander against the ACC ones
        # (as a real sensor's do), and line up now and then.
        self._gyro_frames += 1
        keep = len(gyro[0]) - (0, len(block) // 3, len(block) // 6)[self._gyro_frames % 3]
        self._held_gyro = tuple(a[keep:] for a in gyro) if keep < len(gyro[0]) else None  # type: ignore[assignment]
        if keep > 0:
            out.extend((self.data, frame) for frame in self._gyro_frames_of(gyro, keep))
        return out

    def _gyro_frames_of(self, gyro: tuple[np.ndarray, np.ndarray, np.ndarray], stop: int) -> Iterator[bytes]:
        times, values, _ = gyro
        return self._frames(pmd.MeasurementType.GYRO, self.gyro_frame_byte, times[:stop], values[:stop])


def _refusal(
    offer: dict[pmd.Setting, tuple[int, ...]], asked: dict[pmd.Setting, pmd.SettingValue]
) -> pmd.Status | None:
    """Why a start asking for `asked` is refused by a sensor that offers `offer`, or None: a
    setting it offers left out (INVALID_PARAMETER), or a value it does not offer."""
    if any(setting not in asked for setting in offer):
        return pmd.Status.INVALID_PARAMETER
    for setting, value in asked.items():
        if setting in offer and value not in offer[setting]:
            return _REFUSALS.get(setting, pmd.Status.INVALID_PARAMETER)
    return None


class PolarH10VirtualSensor(PolarVirtualSensor):
    """A virtual Polar H10 chest strap: it streams ECG and ACC only (no gyroscope)."""

    model = "Polar H10 (virtual)"
    streams = H10_STREAMS
    offers = H10_OFFERS

    @property
    def name(self) -> str:
        return f"Polar H10 {self.serial[-8:]}"
