"""BLE layer: device codecs, connection manager and virtual sensors. The only package that
imports bleak or bumble.

- `codecs/`: one typed class per packet (`from_bytes`/`to_bytes`) for the stabmon open profile
  (firmware_notes/stabmon-gatt-profile.md), Movella DOT, Polar PMD and WitMotion.
- `stream_decoders`: per sensor, notification bytes → SI samples with device time and counter.
- `drivers`: per family, how to recognise, identify, configure, start and stop a sensor.
- `scan`, `link`: `scan()` lists sensors in range; `BleSource` is the connection manager behind
  the common source interface (reconnection, health, decode-error counting).
- `virtual/`: bumble's in-process radio with GATT peripherals speaking each protocol, fed by the
  simulator, and bleak backends that drive it — so the code above runs unchanged in tests.

Import the submodules you need; importing this package loads neither bleak nor bumble.
"""
