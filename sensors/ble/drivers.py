"""What the host does with each protocol family over bleak: recognise it in a scan, read its
identity and battery, configure and start streaming, stop. The notification callback it
registers is the link's: it only stamps the host clock and enqueues the bytes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from bleak import BleakClient
from bleak.backends.scanner import AdvertisementData

from sensors.ble.codecs import movella_dot as dot
from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.codecs import stabmon as profile
from sensors.ble.codecs import standard
from sensors.ble.codecs import witmotion as wit
from sensors.ble.errors import ConnectionFailedError, DecodeError
from sensors.ble.polar_decoder import PolarDecoder
from sensors.ble.stream_decoders import DotDecoder, StabmonDecoder, StreamDecoder, WitDecoder
from sensors.identity import SensorFamily

log = logging.getLogger(__name__)

#: on_notify(characteristic uuid, bytes): the link's callback.
NotifyCallback = Callable[[str, bytearray], None]


@dataclass(frozen=True)
class DeviceDetails:
    serial: str = ""
    firmware: str = ""
    model: str = ""
    battery_pct: float = float("nan")


def _closest(rates: tuple[int, ...], wanted: float) -> int:
    """The supported rate nearest to, and preferably not below, the wanted one."""
    above = [r for r in rates if r >= wanted]
    return min(above) if above else max(rates)


async def _read_text(client: BleakClient, uuid: str) -> str:
    try:
        return standard.text(await client.read_gatt_char(uuid))
    except Exception:  # optional characteristic
        return ""


async def _standard_details(client: BleakClient) -> DeviceDetails:
    battery = float("nan")
    try:
        battery = float(standard.battery_level(await client.read_gatt_char(standard.BATTERY_LEVEL)))
    except Exception as error:  # optional service
        log.debug("%s: no battery level: %s", client.address, error)
    return DeviceDetails(
        await _read_text(client, standard.SERIAL_NUMBER),
        await _read_text(client, standard.FIRMWARE_REVISION),
        await _read_text(client, standard.MODEL_NUMBER),
        battery,
    )


class Driver:
    """One protocol family."""

    family: SensorFamily
    rates_hz: tuple[int, ...] = ()

    def matches(self, name: str | None, advertisement: AdvertisementData) -> bool:
        raise NotImplementedError

    async def details(self, client: BleakClient) -> DeviceDetails:
        return await _standard_details(client)

    async def start(self, client: BleakClient, rate_hz: float, on_notify: NotifyCallback) -> StreamDecoder:
        raise NotImplementedError

    async def stop(self, client: BleakClient) -> None:
        raise NotImplementedError

    def unusable(self, name: str) -> str:
        """Why a sensor of this family advertising `name` cannot be used by stabmon ("" if it can)."""
        return ""


class StabmonDriver(Driver):
    family = SensorFamily.STABMON
    rates_hz = (25, 50, 100, 200, 400)
    samples_per_packet = 4

    def matches(self, name: str | None, advertisement: AdvertisementData) -> bool:
        return profile.SERVICE_UUID in advertisement.service_uuids

    async def start(self, client: BleakClient, rate_hz: float, on_notify: NotifyCallback) -> StreamDecoder:
        rate = _closest(self.rates_hz, rate_hz)
        await client.start_notify(
            profile.IMU_DATA_UUID, lambda _, data: on_notify(profile.IMU_DATA_UUID, data)
        )
        configure = profile.Command(profile.Opcode.CONFIGURE, rate, 2, 3, self.samples_per_packet)
        await client.write_gatt_char(profile.CONTROL_POINT_UUID, configure.to_bytes(), response=True)
        status = profile.Status.from_bytes(await client.read_gatt_char(profile.STATUS_UUID))
        if status.result is not profile.Result.OK:
            raise ConnectionFailedError(f"{client.address}: configuration refused ({status.result.name})")
        await client.write_gatt_char(
            profile.CONTROL_POINT_UUID, profile.Command(profile.Opcode.START).to_bytes(), response=True
        )
        return StabmonDecoder()

    async def stop(self, client: BleakClient) -> None:
        await client.write_gatt_char(
            profile.CONTROL_POINT_UUID, profile.Command(profile.Opcode.STOP).to_bytes(), response=True
        )


class DotDriver(Driver):
    family = SensorFamily.MOVELLA_DOT
    rates_hz = dot.LIVE_RATES_HZ

    def matches(self, name: str | None, advertisement: AdvertisementData) -> bool:
        return dot.COMPANY_ID in advertisement.manufacturer_data or (name or "").lower().endswith(" dot")

    async def details(self, client: BleakClient) -> DeviceDetails:
        info = dot.DeviceInfo.from_bytes(await client.read_gatt_char(dot.DEVICE_INFO_UUID))
        battery = dot.Battery.from_bytes(await client.read_gatt_char(dot.BATTERY_UUID))
        return DeviceDetails(
            str(info.serial), info.firmware_version, f"Movella DOT {info.product_code}", battery.level_pct
        )

    async def start(self, client: BleakClient, rate_hz: float, on_notify: NotifyCallback) -> StreamDecoder:
        rate = _closest(self.rates_hz, rate_hz)
        await client.write_gatt_char(
            dot.DEVICE_CONTROL_UUID, dot.DeviceControl(output_rate_hz=rate).to_bytes(), response=True
        )
        # Specification §3.8: enable notifications first, then start.
        await client.start_notify(
            dot.MEDIUM_PAYLOAD_UUID, lambda _, data: on_notify(dot.MEDIUM_PAYLOAD_UUID, data)
        )
        await client.write_gatt_char(dot.CONTROL_UUID, dot.ControlCommand(1).to_bytes(), response=True)
        return DotDecoder(rate)

    async def stop(self, client: BleakClient) -> None:
        await client.write_gatt_char(dot.CONTROL_UUID, dot.ControlCommand(0).to_bytes(), response=True)


class PolarDriver(Driver):
    """Polar PMD: the sensor says what it streams (feature read) and which rates, resolutions and
    ranges it offers (get settings); the driver starts ACC and GYRO at a rate both offer."""

    family = SensorFamily.POLAR_PMD
    rates_hz = (26, 52, 104, 208, 416)  # the Verity Sense's; a sensor's own offer decides
    #: Full-scale range wanted (G, °/s): the widest a stance-to-stumble session needs.
    preferred_range: ClassVar[dict[pmd.MeasurementType, int]] = {
        pmd.MeasurementType.ACC: 8,
        pmd.MeasurementType.GYRO: 2000,
    }

    def matches(self, name: str | None, advertisement: AdvertisementData) -> bool:
        return (name or "").startswith(("Polar Sense", "Polar H10"))

    def unusable(self, name: str) -> str:
        if name.startswith("Polar H10"):  # ECG and ACC only (documentation/products/PolarH10.md)
            return "no gyroscope: cannot be used (use a Polar Verity Sense)"
        return ""

    async def start(self, client: BleakClient, rate_hz: float, on_notify: NotifyCallback) -> StreamDecoder:
        kinds = tuple(self.preferred_range)
        try:
            features = pmd.Features.from_bytes(await client.read_gatt_char(pmd.CONTROL_POINT_UUID))
        except DecodeError as error:
            raise ConnectionFailedError(f"{client.address}: reading the PMD features: {error}") from None
        missing = [kind.name for kind in kinds if kind not in features.measurements]
        if missing:
            offered = ", ".join(sorted(kind.name for kind in features.measurements)) or "nothing"
            raise ConnectionFailedError(
                f"{client.address}: this Polar sensor streams {offered} but no {' or '.join(missing)}; "
                "stabmon needs an accelerometer and a gyroscope (a Polar H10 has no gyroscope: "
                "use a Polar Verity Sense)"
            )
        responses: asyncio.Queue[pmd.ControlResponse] = asyncio.Queue()

        def on_control(_: object, data: bytearray) -> None:
            try:
                responses.put_nowait(pmd.ControlResponse.from_bytes(data))
            except DecodeError as error:
                log.warning("%s: %s", client.address, error)

        async def request(message: pmd.ControlRequest) -> pmd.ControlResponse:
            await client.write_gatt_char(pmd.CONTROL_POINT_UUID, message.to_bytes(), response=True)
            response = await asyncio.wait_for(responses.get(), 5.0)
            if response.status not in (pmd.Status.SUCCESS, pmd.Status.ALREADY_IN_STATE):
                raise ConnectionFailedError(
                    f"{client.address}: {message.op.name} {message.measurement.name} refused "
                    f"({response.status.name})"
                )
            return response

        await client.start_notify(pmd.CONTROL_POINT_UUID, on_control)
        await client.start_notify(pmd.DATA_UUID, lambda _, data: on_notify(pmd.DATA_UUID, data))
        offers = {}
        for kind in kinds:
            response = await request(pmd.ControlRequest(pmd.OpCode.GET_SETTINGS, kind))
            try:
                offers[kind] = response.settings
            except DecodeError as error:
                raise ConnectionFailedError(f"{client.address}: {kind.name} settings: {error}") from None
        rate = _closest(_common_rates(offers, client.address), rate_hz)
        factors = {}
        for kind in kinds:
            settings = _start_settings(offers[kind], rate, self.preferred_range[kind])
            response = await request(pmd.ControlRequest(pmd.OpCode.START, kind, settings))
            try:
                factors[kind] = response.factor
            except DecodeError as error:
                raise ConnectionFailedError(f"{client.address}: starting {kind.name}: {error}") from None
        return PolarDecoder(rate, factors[pmd.MeasurementType.ACC], factors[pmd.MeasurementType.GYRO])

    async def stop(self, client: BleakClient) -> None:
        for kind in self.preferred_range:
            await client.write_gatt_char(
                pmd.CONTROL_POINT_UUID, pmd.ControlRequest(pmd.OpCode.STOP, kind).to_bytes(), response=True
            )


def _common_rates(
    offers: dict[pmd.MeasurementType, dict[pmd.Setting, tuple[pmd.SettingValue, ...]]], address: str
) -> tuple[int, ...]:
    """The sample rates (Hz) every stream offers."""
    common: set[int] | None = None
    for kind, offer in offers.items():
        rates = {int(r) for r in offer.get(pmd.Setting.SAMPLE_RATE, ()) if isinstance(r, int | float)}
        if not rates:
            raise ConnectionFailedError(f"{address}: {kind.name} offers no sample rate")
        common = rates if common is None else common & rates
    if not common:
        raise ConnectionFailedError(f"{address}: ACC and GYRO offer no sample rate in common")
    return tuple(sorted(common))


def _start_settings(
    offer: dict[pmd.Setting, tuple[pmd.SettingValue, ...]], rate_hz: int, range_wanted: int
) -> dict[pmd.Setting, pmd.SettingValue]:
    """One value for every setting the stream offers (a Polar sensor refuses a start that leaves
    one out: polar-ble-sdk #124, #438), and rate, resolution and range always: `rate_hz`, 16 bits,
    `range_wanted` (G or °/s) and 3 channels where offered, else the largest value offered."""
    wanted = {
        pmd.Setting.SAMPLE_RATE: rate_hz,
        pmd.Setting.RESOLUTION: 16,
        pmd.Setting.RANGE: range_wanted,
        pmd.Setting.CHANNELS: pmd.CHANNELS,
    }
    settings: dict[pmd.Setting, pmd.SettingValue] = {}
    for setting in [*wanted, *(s for s in offer if s not in wanted)]:
        values = offer.get(setting, ())
        numbers = [int(v) for v in values if isinstance(v, int | float)]
        if setting in wanted and (not values or wanted[setting] in numbers):
            if values or setting is not pmd.Setting.CHANNELS:  # channels only when offered
                settings[setting] = wanted[setting]
        elif numbers:
            settings[setting] = max(numbers)
        elif values:
            settings[setting] = values[0]  # bytes (a security key): as offered
    return settings


class WitDriver(Driver):
    family = SensorFamily.WITMOTION
    rates_hz = tuple(sorted(wit.RATE_CODES_HZ.values()))

    def matches(self, name: str | None, advertisement: AdvertisementData) -> bool:
        return (name or "").startswith(("WT901", "BWT901")) or wit.SERVICE_UUID in advertisement.service_uuids

    async def details(self, client: BleakClient) -> DeviceDetails:
        return DeviceDetails(model="WitMotion WT901BLE")

    async def start(self, client: BleakClient, rate_hz: float, on_notify: NotifyCallback) -> StreamDecoder:
        rate = _closest(self.rates_hz, rate_hz)
        for write in (wit.UNLOCK, wit.rate_write(rate)):
            await client.write_gatt_char(wit.WRITE_UUID, write.to_bytes(), response=True)
        await client.start_notify(wit.NOTIFY_UUID, lambda _, data: on_notify(wit.NOTIFY_UUID, data))
        return WitDecoder(rate)

    async def stop(self, client: BleakClient) -> None:
        await client.stop_notify(wit.NOTIFY_UUID)


DRIVERS: tuple[Driver, ...] = (StabmonDriver(), DotDriver(), PolarDriver(), WitDriver())


def driver_for(name: str | None, advertisement: AdvertisementData) -> Driver | None:
    """The driver of a scanned device, or None if it is not a supported sensor."""
    return next((d for d in DRIVERS if d.matches(name, advertisement)), None)
