"""The routine core: per-person activity, streaming models of the person's normal, detectors, explanations.

Knows nothing of MQTT, HTTP or SQLite: it takes :class:`sensors.events.SensorEvent` objects and a
:class:`routines.home.Home`, and produces :class:`routines.alert.Alert` objects.
"""
