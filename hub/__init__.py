"""``hearth hub``: the wellbeing team's hub, fed by the gateways' MQTT uplink (``docs/uplink.md``).

It never imports ``gateway``, ``sensors`` or ``routines``: what it shares with them (topic names, the
uplink's version) is kept in its own small modules, deliberately duplicated, and held equal by a test.
"""
