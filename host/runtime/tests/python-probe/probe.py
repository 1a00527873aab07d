"""A test guest, not an example: probes what a Python policy on the
deterministic WASI shim can see, for host/runtime/tests/all/python.rs.

`decide-fees` holds every fee. The first decision's `reason` is a JSON
report of the probes below; the guest also prints
`inputs[0].htlcs_in_flight` lines to stdout and one line to stderr.
Built by build.sh (componentize-py 0.25.1) like the Python example.
"""

import json
import os
import socket
import sys
import time

from wit_world import exports
from wit_world.imports.types import FeeDecision, PolicyMetadata, Role


def attempt(probe):
    """The probe's result, or the name of the exception it raised."""
    try:
        return probe()
    except BaseException as error:  # noqa: BLE001 - any refusal is a result
        return type(error).__name__


def connect():
    socket.create_connection(("127.0.0.1", 9735), timeout=1).close()
    return "connected"


def resolve():
    return str(socket.getaddrinfo("localhost", 9735))


def sleep_five_seconds():
    before = time.monotonic()
    time.sleep(5)
    return round(time.monotonic() - before, 3)


def report():
    return {
        "time": time.time(),
        "environ": len(os.environ),
        "root": attempt(lambda: os.listdir("/")),
        "cwd": attempt(lambda: os.listdir(".")),
        "passwd": attempt(lambda: open("/etc/passwd").read()[:16]),
        "write": attempt(lambda: open("/tmp/probe", "w").write("x")),
        "stdin": attempt(lambda: sys.stdin.read()),
        "connect": attempt(connect),
        "resolve": attempt(resolve),
        "slept": attempt(sleep_five_seconds),
        "urandom": os.urandom(8).hex(),
    }


class Metadata(exports.Metadata):
    def metadata(self) -> PolicyMetadata:
        return PolicyMetadata(
            name="python-probe",
            version="0.1.0",
            roles=[Role.FEE_STRATEGY],
            description="Test guest: reports what it can see through WASI.",
        )


class FeeStrategy(exports.FeeStrategy):
    def decide_fees(self, inputs):
        first = json.dumps(report(), sort_keys=True) if inputs else ""
        for line in range(inputs[0].htlcs_in_flight if inputs else 0):
            print(f"probe line {line}")
        print("probe stderr line", file=sys.stderr)
        return [
            FeeDecision(
                short_channel_id=channel.short_channel_id,
                fee_ppm=channel.fee_ppm,
                step="probe",
                reason=first if index == 0 else "probe",
                state=None,
            )
            for index, channel in enumerate(inputs)
        ]
