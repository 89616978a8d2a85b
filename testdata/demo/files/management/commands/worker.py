"""A stand-in for django-tasks' `db_worker`: a long-running process that
caddy-django supervises next to gunicorn.

It bumps a counter in HEARTBEAT_FILE every --interval seconds and exits 0 on
SIGTERM/SIGINT (after finishing the current beat) or after --max-tasks beats.
"""
import os
import signal
import tempfile
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Demo background worker: writes a heartbeat counter until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between beats")
        parser.add_argument("--max-tasks", type=int, default=0, help="exit after N beats (0 = run forever)")

    def handle(self, *args, interval, max_tasks, **options):
        self.stop_signal = None
        # The handlers only record the signal; the loop notices it between
        # beats, so a beat in progress is always completed.
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

        self.say(f"worker started pid={os.getpid()}")
        beats = 0
        while self.stop_signal is None:
            self.beat()
            beats += 1
            self.say(f"worker beat {beats}")
            if max_tasks and beats >= max_tasks:
                return
            self.sleep(interval)
        self.say(f"worker got {self.stop_signal}, exiting cleanly")

    def _on_signal(self, signum, frame):
        self.stop_signal = signal.Signals(signum).name

    def sleep(self, seconds):
        # Sleep in short slices so a signal stops the worker promptly.
        deadline = time.monotonic() + seconds
        while self.stop_signal is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 0.05))

    def beat(self):
        """Increment the counter in HEARTBEAT_FILE atomically (write a temp
        file in the same directory, then rename it over the old one)."""
        path = settings.HEARTBEAT_FILE
        try:
            count = int(path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            count = 0
        count += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".heartbeat-")
        os.fchmod(fd, 0o644)  # mkstemp creates 0600
        with os.fdopen(fd, "w") as f:
            f.write(f"{count}\n")
        os.replace(tmp, path)
        return count

    def say(self, message):
        self.stdout.write(message)
        self.stdout.flush()
