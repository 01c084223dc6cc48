"""A release `abmeter serve` on a free loopback port, for the benchmarks that talk HTTP."""
import os
import re
import subprocess


def start(target, workspace):
    """Starts the server on `workspace`; returns (process, base URL) once it listens."""
    server = subprocess.Popen([os.path.join(target, "release/abmeter"), "--workspace", workspace,
                               "serve", "--bind", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
    while True:
        line = server.stderr.readline()
        if not line:
            raise SystemExit("abmeter serve exited before listening")
        if line.startswith("abmeter serving on "):
            return server, re.search(r"http://\S+", line).group(0)
