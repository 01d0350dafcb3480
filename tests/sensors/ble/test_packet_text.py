"""bumble's packets are rendered (and coloured) into its debug messages only while its debug
logging is on."""

import logging

from bumble import att, controller, hci, host

from sensors.ble.virtual.packet_text import render_packets_only_for_debug


def test_packets_render_in_f_strings_only_while_bumbles_debug_log_is_on():
    render_packets_only_for_debug()
    notification = att.ATT_Handle_Value_Notification(attribute_handle=3, attribute_value=bytes(range(12)))
    event = hci.HCI_Number_Of_Completed_Packets_Event(connection_handles=[1], num_completed_packets=[2])
    bumble = logging.getLogger("bumble")
    level = bumble.level
    try:
        bumble.setLevel(logging.WARNING)
        assert f"{notification}" == "ATT_Handle_Value_Notification"
        assert f"{event}" == "HCI_Number_Of_Completed_Packets_Event"
        full = str(notification)  # str() is bumble's own, always
        assert "attribute_handle" in full and "0x0003" in full
        assert host.color("### HOST -> CONTROLLER", "blue") == "### HOST -> CONTROLLER"
        assert controller.color(">>>", "green") == ">>>"
        bumble.setLevel(logging.DEBUG)
        assert f"{notification}" == full
        assert "num_completed_packets" in f"{event}"
        assert host.color("### HOST -> CONTROLLER", "blue") == "\x1b[34m### HOST -> CONTROLLER\x1b[0m"
    finally:
        bumble.setLevel(level)
