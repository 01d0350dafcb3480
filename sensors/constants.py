"""Physical constants shared by the simulator and the processing code."""

#: Magnitude of gravity used throughout, m/s².
GRAVITY_M_S2 = 9.81
