"""Qt dashboard (PySide6 + pyqtgraph). Arrives with the dashboard issue; nothing imports `gui`."""
