"""Motion simulator: scripted drills with ground truth and the IMU signals sensors would measure.

It is both the embedded default source (`SimulatedSource`) and the test oracle.
"""

from sensors.simulator.drills import DRILL_NAMES, Drill, DrillOptions, describe_drills, fresh_seed, make_drill
from sensors.simulator.errors_model import ImuErrorSettings
from sensors.simulator.imu import ideal_imu, sensor_orientation
from sensors.simulator.radio import ClockSettings, RadioSettings
from sensors.simulator.sensor import SensorTruth, SimulatedSensor, SimulatedSensorSettings
from sensors.simulator.source import SimulatedSource

__all__ = [
    "DRILL_NAMES",
    "ClockSettings",
    "Drill",
    "DrillOptions",
    "ImuErrorSettings",
    "RadioSettings",
    "SensorTruth",
    "SimulatedSensor",
    "SimulatedSensorSettings",
    "SimulatedSource",
    "describe_drills",
    "fresh_seed",
    "ideal_imu",
    "make_drill",
    "sensor_orientation",
]
