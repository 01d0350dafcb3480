"""Reading a Mobilise-D lab participant folder (`data.mat`, `infoForAlgo.mat`, as mobgap's
example data and ../shared/data/mobgap_lab_HA001): every test and trial of the lower-back
sensor, with its INDIP walking bouts and their reference contacts in mobgap's convention
(sample = round(time · rate) − 1; the bout spans [round(Start · rate) − 1, round(End · rate)))."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

MOBILISED_G = 9.81  # the Mobilise-D files store acceleration in g; mobgap converts with 9.81


@dataclass(frozen=True)
class Bout:
    start: int  # first sample
    end: int  # one past the last sample
    contacts: np.ndarray  # reference contact samples (mobgap convention)
    sides: tuple[str, ...]
    cadence_steps_per_min: float
    stride_length_m: float
    speed_m_s: float
    turning: bool
    untimed: int = 0  # contacts the reference lists without a time (NaN: turns, shuffles)
    listed_s: np.ndarray = field(default_factory=lambda: np.array([]))  # every listed contact, s; untimed NaN
    listed_sides: tuple[str, ...] = ()  # their sides


@dataclass(frozen=True)
class Trial:
    name: str  # participant/test/trial
    test: str
    rate_hz: float
    acc_m_s2: np.ndarray  # (n, 3) sensor frame
    gyr_rad_s: np.ndarray  # (n, 3) sensor frame
    sensor_height_m: float
    bouts: tuple[Bout, ...]


def _float(x: object) -> float:
    value = np.asarray(x, dtype=float)
    return float(value) if value.size == 1 else float("nan")


def _bout(wb: Any, rate: float) -> Bout:  # a MATLAB struct from scipy.io.loadmat
    start, end = round(float(wb.Start) * rate) - 1, round(float(wb.End) * rate)
    times = np.atleast_1d(np.asarray(wb.InitialContact_Event, dtype=np.float64))
    sides = np.array([str(x).lower() for x in np.atleast_1d(wb.InitialContact_LeftRight)])
    ok = np.isfinite(times)
    samples = np.round(times[ok] * rate).astype(int) - 1
    samples, first = np.unique(samples, return_index=True)
    keep = samples <= end
    return Bout(
        start=start,
        end=end,
        contacts=samples[keep],
        sides=tuple(sides[ok][first][keep]),
        cadence_steps_per_min=_float(wb.Cadence),
        stride_length_m=_float(wb.AverageStrideLength),
        speed_m_s=_float(wb.WalkingSpeed),
        turning=bool(_float(wb.Turning_Flag) == 1),
        untimed=int((~ok).sum()),
        listed_s=times,
        listed_sides=tuple(sides),
    )


def load_participant(folder: Path) -> list[Trial]:
    """Every test and trial of a Mobilise-D participant folder, with its INDIP walking bouts."""
    folder = Path(folder)
    for name in ("data.mat", "infoForAlgo.mat"):
        if not (folder / name).exists():
            raise FileNotFoundError(f"{folder}: no {name} (expected a Mobilise-D participant folder)")
    data = scipy.io.loadmat(folder / "data.mat", squeeze_me=True, struct_as_record=False)["data"]
    info = scipy.io.loadmat(folder / "infoForAlgo.mat", squeeze_me=True, struct_as_record=False)
    info = info["infoForAlgo"]
    trials = []
    for measure in data._fieldnames:
        sensor_height_m = float(getattr(info, measure).SensorHeight) / 100.0  # cm → m
        tests = getattr(data, measure)
        for test in tests._fieldnames:
            for trial in getattr(tests, test)._fieldnames:
                recording = getattr(getattr(tests, test), trial)
                sensor = recording.SU.LowerBack
                rate = float(sensor.Fs.Acc)
                walks = np.atleast_1d(recording.Standards.INDIP.ContinuousWalkingPeriod)
                trials.append(
                    Trial(
                        name=f"{folder.parent.name}/{folder.name}/{test}/{trial}",
                        test=test,
                        rate_hz=rate,
                        acc_m_s2=np.asarray(sensor.Acc, dtype=float) * MOBILISED_G,
                        gyr_rad_s=np.radians(np.asarray(sensor.Gyr, dtype=float)),
                        sensor_height_m=sensor_height_m,
                        bouts=_scorable(f"{folder}/{test}/{trial}", [_bout(wb, rate) for wb in walks]),
                    )
                )
    return trials


def _scorable(where: str, bouts: list[Bout]) -> tuple[Bout, ...]:
    """The bouts with at least two timed reference contacts; the others (nothing to score them
    against) are named on stderr and left out."""
    for k, bout in enumerate(bouts):
        if len(bout.contacts) < 2:
            print(
                f"{where}: walking bout {k} has {len(bout.contacts)} timed contacts; left out",
                file=sys.stderr,
            )
    return tuple(bout for bout in bouts if len(bout.contacts) >= 2)
