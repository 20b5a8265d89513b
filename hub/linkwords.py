"""Why the hub cannot reach its broker, in words a technician acts on (the hub's own copy of the
gateway's tables in gateway/mqtt.py: the hub imports nothing of the gateway, and its fields are
``broker.*`` of hub.yaml, not a home's).

>>> describe(ConnectionRefusedError(111, "Connection refused"), tls=False)
'connection refused (is the broker running, on that port?)'
>>> e = ssl.SSLCertVerificationError(1, "certificate verify failed"); e.verify_code = 20
>>> describe(e, tls=True)
'TLS handshake failed: its certificate is not signed by the CA in broker.ca_file (wrong CA file?)'
"""

from __future__ import annotations

import socket
import ssl

_WRONG_CA = "its certificate is not signed by the CA in broker.ca_file (wrong CA file?)"
_MISMATCH = "its certificate is not for the name in broker.host (connect by the name in its certificate)"
TLS_VERIFY = {2: _WRONG_CA, 18: _WRONG_CA, 19: _WRONG_CA, 20: _WRONG_CA, 62: _MISMATCH, 64: _MISMATCH,
              9: "its certificate is not valid yet (is this server's clock right?)",
              10: "its certificate has expired (or this server's clock is wrong)"}
NOT_TLS = "it did not answer in TLS (is broker.port its plain port? TLS is usually 8883)"
TLS_REASONS = {"WRONG_VERSION_NUMBER": NOT_TLS, "RECORD_LAYER_FAILURE": NOT_TLS}
OS_ERRORS: dict[type[OSError], str] = {
    ConnectionRefusedError: "connection refused (is the broker running, on that port?)",
    ConnectionResetError: "connection reset by the broker",
    TimeoutError: "no answer (timed out): wrong address, or a firewall?",
    socket.gaierror: "host name not found (broker.host)",
}
CONNACK = {  # paho's reason names -> words
    "Not authorized": "not authorised: check broker.username and its password file (hearth hub broker-config)",
    "Bad user name or password": "bad user name or password: check broker.username and its password file",
    "Client identifier not valid": "client id rejected (is another hub using broker.client_id?)",
    "Server unavailable": "broker unavailable",
}


def describe(exc: BaseException | None, *, tls: bool) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_code in TLS_VERIFY:
        return f"TLS handshake failed: {TLS_VERIFY[exc.verify_code]}"
    if tls and isinstance(exc, ConnectionResetError | ssl.SSLEOFError):
        return f"TLS handshake failed: {NOT_TLS}"  # a plain listener drops a TLS hello as garbage
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {TLS_REASONS.get(exc.reason or '', exc.reason or str(exc))}"
    for kind, words in OS_ERRORS.items():
        if isinstance(exc, kind):
            return words
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return "connection failed"


def refused(reason_name: str) -> str:
    return CONNACK.get(reason_name, reason_name)
