# caddy-django: run uvicorn's command line serving two sockets, fd 3 (the
# bind Caddy holds) and fd 4 (this generation's own, which django_files
# dials and the readiness probe uses). uvicorn's CLI takes one (--fd 3);
# its Server, Multiprocess and reloader (--reload) take a list, as under
# Gunicorn.
import socket
import sys

from uvicorn.main import main
from uvicorn.server import Server
from uvicorn.supervisors.basereload import BaseReload
from uvicorn.supervisors.multiprocess import Multiprocess

own = socket.socket(fileno=4)


def run(self, sockets=None, _run=Server.run):
    if sockets is None:  # one process: serve --fd and fd 4
        sockets = [socket.socket(fileno=self.config.fd), own]
    return _run(self, sockets=sockets)


def init(self, config, target, sockets, _init=Multiprocess.__init__):
    _init(self, config, target, sockets + [own])  # --workers: each serves both


def reload(self, config, target, sockets, _init=BaseReload.__init__):
    _init(self, config, target, sockets + [own])  # --reload: its child serves both


Server.run, Multiprocess.__init__, BaseReload.__init__ = run, init, reload
sys.exit(main(prog_name="uvicorn"))
