"""Movella DOT bytes as Movella's own code writes and reads them.

Source: xsens/xsens_dot_server (Xsens', now Movella's, reference BLE client) at commit
SERVER_COMMIT, bleHandler.js. It publishes the command bytes and the payload layout, but no
notification bytes with their decoded values; no public capture of mode-20 notifications was
found either. So the payload fixture gives field offsets and types (to build payloads from),
not a capture.
"""

SERVER_REPO = "xsens/xsens_dot_server"
SERVER_COMMIT = "364d521ab3f40690649bf281c054c6d798889a12"

# enableSensor / disableSensor: Buffer.from([0x01, SENSOR_ENABLE | SENSOR_DISABLE, payloadId])
# written to BLE_UUID_CONTROL; communication.js MEASURING_PAYLOAD_TYPE_RATE_QUANTITIES_WITH_MAG = 20.
START_RATE_QUANTITIES_WITH_MAG = ("010114", "bleHandler.js: enableSensor")
STOP_RATE_QUANTITIES_WITH_MAG = ("010014", "bleHandler.js: disableSensor")
CONTROL_UUID = "15172001-4947-11e9-8646-d663bd873d93"  # BLE_UUID_CONTROL
MEDIUM_PAYLOAD_UUID = "15172003-4947-11e9-8646-d663bd873d93"  # BLE_UUID_MEASUREMENT_MEDIATE_PAYLOAD

# convertSensorData, payload 20: field -> (byte offset, struct format, scale to units).
# getSensorTimestamp: readUInt32LE(0); getAcceleration(data, 4); getAngularVelocity(data, 16);
# getCalibratedMag(data, 28): readInt16LE / TWO_POW_TWELVE.
RATE_QUANTITIES_WITH_MAG_LAYOUT = {
    "timestamp_us": (0, "<I", 1.0),
    "acc_m_s2": (4, "<3f", 1.0),
    "gyr_deg_s": (16, "<3f", 1.0),
    "mag_au": (28, "<3h", 1.0 / 4096),
}
