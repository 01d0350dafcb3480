"""bleak backends (`BleakScanner(backend=…)`, `BleakClient(backend=…)`) implemented on a bumble
central, so the production BLE code runs unchanged against virtual sensors.

Bind them to a radio with `VirtualRadio.backend()`; the `radio` class attribute is what binds.
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuid_module
from collections.abc import Callable
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Peer
from bumble.gatt import Characteristic

from sensors.ble.virtual.radio import CentralRadio

log = logging.getLogger(__name__)

_PROPERTIES = {
    Characteristic.Properties.READ: "read",
    Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    Characteristic.Properties.WRITE: "write",
    Characteristic.Properties.NOTIFY: "notify",
    Characteristic.Properties.INDICATE: "indicate",
}
_REQUESTED_MTU = 247


def uuid_text(uuid: UUID) -> str:
    """bleak's normalised form of a bumble UUID: lower-case 128-bit text."""
    return str(uuid_module.UUID(bytes=bytes(reversed(uuid.uuid_128_bytes))))


def advertisement_fields(data: AdvertisingData, rssi: int) -> AdvertisementData:
    """bleak's AdvertisementData from a bumble advertisement's data."""
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
    uuids: list[str] = []
    for kind in (
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    ):
        for uuid in data.get_all(kind) or []:
            uuids += [uuid_text(u) for u in (uuid if isinstance(uuid, list) else [uuid])]
    manufacturer: dict[int, bytes] = {}
    for entry in data.get_all(AdvertisingData.MANUFACTURER_SPECIFIC_DATA) or []:
        company, payload = entry
        manufacturer[int(company)] = bytes(payload)
    service_data: dict[str, bytes] = {}
    for service_entry in data.get_all(AdvertisingData.SERVICE_DATA_16_BIT_UUID) or []:
        service_uuid, payload = service_entry
        service_data[uuid_text(service_uuid)] = bytes(payload)
    tx_power = data.get(AdvertisingData.TX_POWER_LEVEL)
    return AdvertisementData(name, manufacturer, service_data, uuids, tx_power, rssi, (data,))


class BumbleScanner(BaseBleakScanner):
    """Scans the virtual link with the radio's central (legacy advertising, as bumble needs)."""

    radio: CentralRadio

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode == "active"

    async def start(self) -> None:
        radio = self.radio
        await radio.power_on()
        self.seen_devices = {}
        radio.central.on("advertisement", self._on_advertisement)
        await radio.central.start_scanning(legacy=True, active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        self.radio.central.remove_listener("advertisement", self._on_advertisement)
        await self.radio.central.stop_scanning(legacy=True)

    def _on_advertisement(self, advertisement: Any) -> None:
        fields = advertisement_fields(advertisement.data, advertisement.rssi)
        if not self.is_allowed_uuid(fields.service_uuids):
            return
        address = str(advertisement.address).split("/")[0].upper()
        device = self.create_or_update_device(
            address, address, fields.local_name, (self.radio, address), fields
        )
        self.call_detection_callbacks(device, fields)


class BumbleClient(BaseBleakClient):
    """Connects through the radio's central: connect, MTU exchange, full discovery, notifications."""

    radio: CentralRadio

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}
        self._closing = False

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        radio = self.radio
        await radio.power_on()
        try:
            connection = await asyncio.wait_for(radio.central.connect(self.address), self._timeout)
        except (TimeoutError, Exception) as error:  # bumble raises its own error types
            raise BleakError(f"{self.address}: connection failed: {error}") from error
        self._connection = connection
        self._closing = False
        connection.on("disconnection", self._on_disconnection)
        peer = Peer(connection)
        self._peer = peer
        await peer.request_mtu(_REQUESTED_MTU)
        self.services = await self._discover(peer)

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        await peer.discover_services()
        for service in peer.services:
            await peer.discover_characteristics(service=service)
            bleak_service = BleakGATTService(service, service.handle, uuid_text(service.uuid))
            collection.add_service(bleak_service)
            for characteristic in service.characteristics:
                await peer.discover_descriptors(characteristic=characteristic)
                properties = [name for flag, name in _PROPERTIES.items() if characteristic.properties & flag]
                bleak_char = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    uuid_text(characteristic.uuid),
                    properties,  # type: ignore[arg-type]
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for descriptor in characteristic.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor, descriptor.handle, uuid_text(descriptor.type), bleak_char
                        )
                    )
        return collection

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._peer = None
        self._subscriptions.clear()
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        done = asyncio.get_running_loop().create_future()

        def finished(*_: object) -> None:
            if not done.done():
                done.set_result(None)

        connection.once("disconnection", finished)
        await connection.disconnect()
        await asyncio.wait_for(done, 5.0)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("virtual sensors need no pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("virtual sensors need no pairing")

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"{self.address}: not connected")
        return self._peer

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        return bytearray(await self._require_peer().read_value(characteristic.obj))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        return bytearray(await self._require_peer().read_value(descriptor.obj))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        await self._require_peer().write_value(characteristic.obj, bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        await self._require_peer().write_value(descriptor.obj, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        def deliver(value: bytes) -> None:
            callback(bytearray(value))

        self._subscriptions[characteristic.handle] = deliver
        await self._require_peer().subscribe(characteristic.obj, deliver)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        deliver = self._subscriptions.pop(characteristic.handle, None)
        if self._peer is not None:
            await self._peer.unsubscribe(characteristic.obj, deliver)
