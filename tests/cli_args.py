"""Command lines the tests share."""

#: `stabmon record` on virtual sensors, faster than real time. The virtual sensors advertise once a
#: second on bumble's in-process link, so a 1.5 s scan finds them (as the dashboard's simulated
#: setup does); the 5 s default is for real sensors, and every recording in a test waited it out.
RECORD_SIMULATED = ["record", "--simulate", "--fast", "--scan-seconds", "1.5"]

#: `stabmon record` on the simulated body straight, without the virtual BLE link, faster than real
#: time: for fixtures whose tests are about what is done with a recording (reports, visits,
#: review), not about the link. A recording over the link costs about three times the CPU.
RECORD_NO_RADIO = ["record", "--simulate", "--no-radio", "--fast"]
