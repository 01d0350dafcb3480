"""One simulated IMU on a body segment: ideal signals, errors, its clock and its radio link."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sensors import quaternion as quat
from sensors.placements import Placement, nominal_mount
from sensors.samples import SampleBlock
from sensors.simulator.drills.base import Drill
from sensors.simulator.errors_model import ImuErrorDraw, ImuErrorProcess, ImuErrorSettings
from sensors.simulator.imu import ideal_imu
from sensors.simulator.radio import ClockSettings, RadioLink, RadioSettings


@dataclass(frozen=True)
class SimulatedSensorSettings:
    """Everything configurable about one simulated sensor.

    clock None draws a random clock from the seed: offset 10–3600 s (powered on earlier),
    drift ±40 ppm. start_s is the true session time of the first sample.
    """

    rate_hz: float = 100.0
    errors: ImuErrorSettings = field(default_factory=ImuErrorSettings)
    clock: ClockSettings | None = None
    radio: RadioSettings = field(default_factory=RadioSettings)
    start_s: float = 0.0

    @staticmethod
    def ideal(rate_hz: float = 100.0) -> SimulatedSensorSettings:
        """A perfect sensor: no errors, perfect clock, lossless instant radio."""
        return SimulatedSensorSettings(
            rate_hz, ImuErrorSettings.ideal(), ClockSettings(), RadioSettings.perfect()
        )


@dataclass(frozen=True)
class SensorTruth:
    """Ground truth about one simulated sensor.

    mount_q (4,): actual sensor→segment rotation (nominal mount with misalignment).
    """

    placement: Placement
    rate_hz: float
    mount_q: np.ndarray
    nominal_mount_q: np.ndarray
    errors: ImuErrorDraw
    clock: ClockSettings
    first_device_time_s: float

    def sample_true_time(self, sequence: np.ndarray) -> np.ndarray:
        """True session time, s, at which samples with these sequence numbers were taken."""
        device = self.first_device_time_s + np.asarray(sequence) / self.rate_hz
        return self.clock.true_time(device)


class SimulatedSensor:
    """Generates the notifications one sensor would deliver, in order, chunk by chunk.

    Generating in any chunking gives the same samples: every random process carries its state.
    """

    def __init__(
        self,
        drill: Drill,
        placement: Placement,
        settings: SimulatedSensorSettings,
        seed: np.random.SeedSequence,
    ) -> None:
        self.drill = drill
        self.placement = placement
        self.settings = settings
        draw_seed, clock_seed, noise_seed, radio_seed = seed.spawn(4)
        clock = settings.clock
        if clock is None:
            rng = np.random.default_rng(clock_seed)
            clock = ClockSettings(
                offset_s=float(rng.uniform(10.0, 3600.0)), drift_ppm=float(rng.uniform(-40.0, 40.0))
            )
        draw = ImuErrorDraw.draw(settings.errors, np.random.default_rng(draw_seed))
        nominal_q = quat.from_matrix(nominal_mount(placement))
        self.truth = SensorTruth(
            placement=placement,
            rate_hz=settings.rate_hz,
            mount_q=quat.multiply(draw.misalignment_q, nominal_q),
            nominal_mount_q=nominal_q,
            errors=draw,
            clock=clock,
            first_device_time_s=float(clock.device_time(settings.start_s)),
        )
        self._errors = ImuErrorProcess(settings.errors, draw, settings.rate_hz, noise_seed)
        self._radio = RadioLink(settings.radio, radio_seed)
        self._next_sample = 0  # index of the next sample to simulate
        self._handed = 0  # index of the next sample to hand out (≤ _next_sample)
        self._ahead: list[SampleBlock] = []  # simulated, delivered, not handed out yet
        self.lost_sequences: list[np.ndarray] = []

    def generate_until(
        self, true_time_s: float, host_origin_ns: int, ahead_s: float = 0.0
    ) -> SampleBlock | None:
        """Samples of every packet whose last sample is taken by `true_time_s` (and the drill's end).

        Returns the delivered samples with host receive stamps (origin + arrival), or None.
        ahead_s > 0: simulate up to ahead_s beyond `true_time_s` at once and hand out of that what
        is due (the same samples, bit for bit: a real-time sender calling every few ms pays the
        simulation's per-call cost once per ahead_s instead); host_origin_ns must then be the same
        on every call, and `lost_sequences` runs up to ahead_s ahead of what was handed out.
        """
        if ahead_s <= 0 and self._handed == self._next_sample:
            block = self._simulate(true_time_s, host_origin_ns)
            self._handed = self._next_sample
            return block
        due = self._handed + self._whole_packets(true_time_s, self._handed)
        if due > self._next_sample:
            block = self._simulate(true_time_s + max(ahead_s, 0.0), host_origin_ns)
            if block is not None:
                self._ahead.append(block)
        return self._hand_out(due)

    def _whole_packets(self, true_time_s: float, k0: int) -> int:
        """Samples from index k0 on that fill whole packets whose last sample is taken by
        `true_time_s` (and the drill's end): a multiple of samples_per_packet, ≥ 0."""
        spp = self.settings.radio.samples_per_packet
        until = min(true_time_s, self.drill.duration_s)
        device_until = self.truth.clock.device_time(until)
        rate = self.settings.rate_hz
        last_index = int(np.floor((device_until - self.truth.first_device_time_s) * rate + 1e-9))
        return max((last_index - k0 + 1) // spp, 0) * spp

    def _hand_out(self, due: int) -> SampleBlock | None:
        """The simulated samples with indices below `due` not handed out yet, as one block."""
        self._handed = max(self._handed, min(due, self._next_sample))
        pieces = []
        while self._ahead:
            block = self._ahead[0]
            cut = int(np.searchsorted(block.sequence, due))
            if cut == 0:
                break
            pieces.append(block if cut == len(block) else block.rows(0, cut))
            if cut < len(block):
                self._ahead[0] = block.rows(cut, len(block))
                break
            self._ahead.pop(0)
        if not pieces:
            return None
        if len(pieces) == 1:
            return pieces[0]
        return SampleBlock(
            placement=self.placement,
            device_time_s=np.concatenate([p.device_time_s for p in pieces]),
            acc_m_s2=np.concatenate([p.acc_m_s2 for p in pieces]),
            gyr_rad_s=np.concatenate([p.gyr_rad_s for p in pieces]),
            sequence=np.concatenate([p.sequence for p in pieces]),
            host_receive_ns=np.concatenate([p.host_receive_ns for p in pieces]),
        )

    def _simulate(self, true_time_s: float, host_origin_ns: int) -> SampleBlock | None:
        """Simulate every packet whose last sample is taken by `true_time_s` and was not simulated
        yet: the delivered samples, or None."""
        spp = self.settings.radio.samples_per_packet
        k0 = self._next_sample
        count = self._whole_packets(true_time_s, k0)
        if count <= 0:
            return None
        rate = self.settings.rate_hz
        sequence = np.arange(k0, k0 + count, dtype=np.int64)
        self._next_sample = k0 + count
        t = self.truth.sample_true_time(sequence)
        ideal = ideal_imu(self.drill, self.placement, self.truth.mount_q, t, 1.0 / rate)
        gyr, acc = self._errors.apply(ideal.gyr_rad_s, ideal.acc_m_s2)
        delivered_packets, arrival_s = self._radio.transmit(t[spp - 1 :: spp])
        delivered = np.repeat(delivered_packets, spp)
        if not delivered.all():
            self.lost_sequences.append(sequence[~delivered])
        if not delivered.any():
            return None
        host_ns = host_origin_ns + np.round(np.repeat(arrival_s, spp) * 1e9).astype(np.int64)
        return SampleBlock(
            placement=self.placement,
            device_time_s=self.truth.first_device_time_s + sequence[delivered] / rate,
            acc_m_s2=acc[delivered],
            gyr_rad_s=gyr[delivered],
            sequence=sequence[delivered],
            host_receive_ns=host_ns[delivered],
        )

    def all_lost_sequences(self) -> np.ndarray:
        """Sequence numbers of every sample lost on the radio so far."""
        return np.concatenate(self.lost_sequences) if self.lost_sequences else np.zeros(0, dtype=np.int64)
