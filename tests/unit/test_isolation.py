import socket

import pytest
from pytest_socket import SocketBlockedError


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_unit_tests_cannot_open_sockets() -> None:
    # Given the unit suite's network guard
    # When a test tries to open a socket
    # Then it is refused before any traffic leaves
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
