"""Byte-exact codecs, one typed class per packet with `from_bytes`/`to_bytes`, per protocol:
the same code decodes a real sensor and drives a virtual one. Malformed bytes raise
`sensors.ble.errors.DecodeError`, never anything else."""
