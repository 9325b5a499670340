#!/usr/bin/env python3
"""One guest connection to 169.254.169.254:80, relayed to 127.0.0.1:PORT.

QEMU's `guestfwd=tcp:169.254.169.254:80-cmd:md-relay.py PORT` runs this once per guest
connection with the connection on stdin/stdout (and stderr: never write there, it goes to the
guest). It connects only to the namespace's loopback, and gives up after a minute of silence.
"""
import os
import select
import socket
import sys

sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
guest_open = True
while True:
    watch = [sock] + ([0] if guest_open else [])
    ready, _, _ = select.select(watch, [], [], 60)
    if not ready:
        sys.exit(0)
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            sock.sendall(data)
        else:  # the guest closed its side: pass the EOF on, keep reading the answer
            guest_open = False
            sock.shutdown(socket.SHUT_WR)
    if sock in ready:
        data = sock.recv(65536)
        if not data:  # the server is done: exiting closes the guest's connection
            sys.exit(0)
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]
