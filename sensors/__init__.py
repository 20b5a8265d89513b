"""Sensor adapters: every source of readings ends as one normalized :class:`SensorEvent`."""

from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind

__all__ = ["DeviceHealth", "Rejection", "SensorEvent", "SensorKind"]
