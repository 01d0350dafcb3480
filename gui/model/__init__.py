"""The dashboard's Qt-free model: protocols, the clinic session that runs them, live buffers,
cognitive tasks, biofeedback and settings. The Qt views only read from it and call its methods."""
