"""Sensors (物联感知): devices, readings over HTTP and MQTT, rules with hysteresis, offline detection."""
