"""BLE layer: device codecs, connection manager and virtual sensors.

The only package that imports bleak or bumble. It arrives with the BLE issue; until then the
simulator (`sensors.simulator.SimulatedSource`) is the only source.
"""
