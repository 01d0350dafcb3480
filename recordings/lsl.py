"""Lab Streaming Layer: publish a running session, and take marker streams from other programs.

Outlets (`LslOutletSink`, a session sink; off unless asked for):
  stabmon-<placement>  type "IMU": synchronised acc x,y,z (m/s²) and gyr x,y,z (rad/s), sensor frame
  stabmon-angles       type "Angles": per placement sagittal, frontal, axial (deg), then lumbar
                       sagittal, frontal, axial (deg)
  stabmon-markers      type "Markers": one string per event, "<kind>:<label>"
Each carries channel labels, units, placement and sensor identity in its description, and LSL
timestamps on the LSL clock (the host monotonic clock the session is stamped with).

Inlet (`LslMarkerInlet`; `with_lsl_markers` adds its markers to a source): resolves a marker
stream by name or type, and turns its samples into
session events using LSL's clock offset estimate (`time_correction`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sensors.errors import StabmonError
from sensors.events import Event, EventKind
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink
from sensors.samples import Frame
from sensors.scripted import WithEvents
from sensors.source import Source

if TYPE_CHECKING:  # loaded only when a stream is opened: liblsl is a native library
    import pylsl

log = logging.getLogger(__name__)


class LslError(StabmonError):
    """liblsl could not be used, or a stream was not found."""


def _pylsl():
    try:
        import pylsl
    except (ImportError, RuntimeError, OSError) as error:  # pylsl raises RuntimeError without liblsl
        raise LslError(f"the Lab Streaming Layer library cannot be loaded: {error}") from None
    return pylsl


def _describe(info, channels: list[tuple[str, str]], extra: Mapping[str, str]) -> None:
    desc = info.desc()
    for key, value in extra.items():
        desc.append_child_value(key, value)
    chans = desc.append_child("channels")
    for label, unit in channels:
        ch = chans.append_child("channel")
        ch.append_child_value("label", label)
        ch.append_child_value("unit", unit)
    desc.append_child("acquisition").append_child_value("manufacturer", "stabmon")


class LslOutletSink(NullSink):
    """Publishes a session on LSL. `sensors`: the source's sensor identities by placement."""

    def __init__(
        self, sensors: Mapping[Placement, SensorIdentity], rate_hz: float, prefix: str = "stabmon"
    ) -> None:
        pylsl = _pylsl()
        self._pylsl = pylsl
        self.placements = tuple(sensors)
        self.rate_hz = rate_hz
        self.origin_s = 0.0
        self.imu = {}
        for placement, identity in sensors.items():
            info = pylsl.StreamInfo(
                f"{prefix}-{placement.value}", "IMU", 6, rate_hz, "double64", f"{prefix}-{identity.address}"
            )
            channels = [(f"acc_{a}", "m/s^2") for a in "xyz"] + [(f"gyr_{a}", "rad/s") for a in "xyz"]
            _describe(
                info,
                channels,
                {
                    "placement": placement.value,
                    "anatomical_site": placement.anatomical_site,
                    "family": identity.family.value,
                    "address": identity.address,
                    "serial": identity.serial,
                    "firmware": identity.firmware,
                    "model": identity.model,
                    "reference_frame": "sensor",
                },
            )
            self.imu[placement] = pylsl.StreamOutlet(info, 32, 360)
        labels = [
            (f"{p.value}_{plane}", "deg")
            for p in self.placements
            for plane in ("sagittal", "frontal", "axial")
        ]
        labels += [(f"lumbar_angle_{plane}", "deg") for plane in ("sagittal", "frontal", "axial")]
        info = pylsl.StreamInfo(
            f"{prefix}-angles", "Angles", len(labels), rate_hz, "double64", f"{prefix}-angles"
        )
        _describe(info, labels, {"placements": ",".join(p.value for p in self.placements)})
        self.angles = pylsl.StreamOutlet(info, 32, 360)
        info = pylsl.StreamInfo(
            f"{prefix}-markers", "Markers", 1, pylsl.IRREGULAR_RATE, "string", f"{prefix}-markers"
        )
        _describe(info, [("event", "")], {"format": "<kind>:<label>"})
        self.markers = pylsl.StreamOutlet(info)

    def on_start(self, host_origin_ns: int) -> None:
        self.origin_s = host_origin_ns * 1e-9

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        stamps = self.origin_s + frame.time_s
        for k, placement in enumerate(frame.placements):
            rows = np.concatenate([frame.acc_m_s2[:, k], frame.gyr_rad_s[:, k]], axis=1)
            self.imu[placement].push_chunk(rows.tolist(), stamps.tolist())
        incl = np.degrees(angles.inclination_rad)
        axial = np.degrees(angles.axial_rad)[:, :, None]
        per_segment = np.concatenate([incl, axial], axis=2).reshape(len(frame), -1)
        values = np.concatenate([per_segment, np.degrees(angles.lumbar_rad)], axis=1)
        self.angles.push_chunk(values.tolist(), stamps.tolist())

    def on_event(self, event: Event) -> None:
        self.markers.push_sample([f"{event.kind.value}:{event.label}"], self.origin_s + event.time_s)


_MARKER_KINDS = {kind.value: kind for kind in EventKind}


def marker_event(text: str, time_s: float, stream: str) -> Event:
    """An event from a marker string: '<kind>:<label>' for a known kind (e.g. 'perturbation:push'),
    a bare known kind, or any other text as an annotation."""
    kind_text, sep, label = text.partition(":")
    kind = _MARKER_KINDS.get(kind_text.strip().lower())
    if kind is None:
        return Event(time_s, EventKind.ANNOTATION, text, source=f"lsl:{stream}")
    return Event(time_s, kind, label.strip() if sep else "", source=f"lsl:{stream}")


@dataclass
class LslMarkerInlet:
    """A resolved external marker stream. Call `pull(origin_s)` for the events received since."""

    name: str
    inlet: pylsl.StreamInlet

    @classmethod
    def resolve(
        cls, name: str | None = None, type_: str | None = None, timeout_s: float = 5.0
    ) -> LslMarkerInlet:
        pylsl = _pylsl()
        if name:
            found = pylsl.resolve_byprop("name", name, 1, timeout_s)
        else:
            found = pylsl.resolve_byprop("type", type_ or "Markers", 1, timeout_s)
        if not found:
            what = f"named {name!r}" if name else f"of type {type_ or 'Markers'!r}"
            raise LslError(f"no LSL stream {what} found on the network within {timeout_s:.0f} s")
        info = found[0]
        inlet = pylsl.StreamInlet(info, max_buflen=360, processing_flags=0)
        inlet.open_stream(timeout=timeout_s)
        return cls(info.name(), inlet)

    def pull(self, origin_s: float) -> list[Event]:
        """Markers received so far, at session time = remote time + clock offset − origin."""
        samples, stamps = self.inlet.pull_chunk(timeout=0.0)
        if not stamps:
            return []
        correction = self.inlet.time_correction(timeout=1.0)
        return [
            marker_event(str(s[0]), t + correction - origin_s, self.name)
            for s, t in zip(samples, stamps, strict=True)
        ]

    def close(self) -> None:
        self.inlet.close_stream()


def with_lsl_markers(source: Source, inlet: LslMarkerInlet) -> WithEvents:
    """`source` plus the markers of an LSL inlet, each yielded before the next sample block."""
    return WithEvents(source, lambda now_s, origin_ns: inlet.pull(origin_ns * 1e-9))
