"""WitMotion's own bytes and scalings for the BWT901BLE (BLE 5.0), from WitMotion's SDKs.

No published capture of 0x55 0x61 notifications with their decoded values was found (WitMotion's
SDK repositories parse but do not record any); the packet layout and scaling below are the SDK's
parser's, so the packet tests build packets from them.
"""

SDK_REPO = "WITMOTION/WitBluetooth_BWT901BLE5_0"
SDK_COMMIT = "9efaab0fdd6a06dc807bf80402e58aa91b431c6f"
REG_REPO = "WITMOTION/WitStandardProtocol_JY901"
REG_COMMIT = "e8f4e3afc02263e2ef15052dc758f45efaebe12f"

ANDROID_DEVICE_MODEL = (
    "Android_Java/wit-example-ble5/WitSDK/src/main/java/com/wit/witsdk/Device/DeviceModel.java"
)
UNITY_UI = "Unity_C#/Android/Assets/Scenes/Bwt901ble5/UI/Scripts/Bwt901ble5UI.cs"
WINDOWS_FORM = "Windows_C#/Wit.Example_BWT901BLE/Form1.cs"
WINDOWS_SENSOR = "Windows_C#/Wit.Example_BWT901BLE/ble5/BWT901BLE.cs"
WINDOWS_PROCESSOR = "Windows_C#/Wit.Example_BWT901BLE/ble5/Components/Bwt901bleProcessor.cs"
REG_H = "Linux_C/normal/REG.h"

# Output-rate register writes: rate Hz -> bytes, and where WitMotion's code writes them.
# DeviceModel.SetRRate(int) maps 10 -> 6, 50 -> 8, 100 -> 9, 200 -> 11 and writes
# {0xff, 0xaa, 0x03, value, 0}; 20 Hz is REG.h's RRATE_20HZ = 0x07.
RATE_WRITES = {
    10: (
        "ffaa030600",
        (
            ANDROID_DEVICE_MODEL + ": SetRRate",
            UNITY_UI + ": SetRRate10",
            WINDOWS_FORM + ": returnRate10_Click",
        ),
    ),
    20: ("ffaa030700", (REG_H + ": RRATE_20HZ 0x07",)),
    50: ("ffaa030800", (ANDROID_DEVICE_MODEL + ": SetRRate", WINDOWS_FORM + ": returnRate50_Click")),
    100: ("ffaa030900", (ANDROID_DEVICE_MODEL + ": SetRRate", REG_H + ": RRATE_100HZ 0x09")),
    200: (
        "ffaa030b00",
        (ANDROID_DEVICE_MODEL + ": SetRRate", UNITY_UI + ": SetRRate200", REG_H + ": RRATE_200HZ 0x0b"),
    ),
}
# REG.h: 0x0a is RRATE_125HZ, "only WT931": not a BWT901BLE rate.
NOT_A_BWT901_RATE = 0x0A

UNLOCK = ("ffaa6988b5", WINDOWS_SENSOR + ": UnlockReg")
SAVE = ("ffaa000000", ANDROID_DEVICE_MODEL + ": SendData(data, isSave = true)")

# Bwt901bleProcessor.cs: (short)reg / 32768.0 * full scale, for the 0x55 0x61 packet's
# acc x, y, z (g), angular velocity x, y, z (°/s), angle x, y, z (°), little-endian from byte 2.
FULL_SCALE = {"acc_g": 16.0, "gyr_deg_s": 2000.0, "angle_deg": 180.0}

# DeviceModel.java: SERVICE_UUID, READ_UUID (notify), WRITE_UUID.
UUIDS = (
    "0000ffe5-0000-1000-8000-00805f9a34fb",
    "0000ffe4-0000-1000-8000-00805f9a34fb",
    "0000ffe9-0000-1000-8000-00805f9a34fb",
)
