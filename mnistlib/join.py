"""The addresses students type to join this class — every IPv4 address of this machine's networks with the
server's port — and a QR code of one (segno), big enough for a projector. No Streamlit.

    join.addresses(listen_address="", port=8501)   # ["http://192.168.1.20:8501", ...]
    join.qr_png("http://192.168.1.20:8501")        # PNG bytes
"""

import fcntl
import io
import ipaddress
import socket
import struct

SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address
ANY = ("", "0.0.0.0", "::")


def interface_addresses() -> list[str]:
    """Every IPv4 address of this machine's network interfaces, loopback (127.x) left out, sorted."""
    found = set()
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
            except OSError:  # an interface without an IPv4 address
                continue
        found.add(socket.inet_ntoa(answer[20:24]))
    try:  # and whatever the host name resolves to (other systems, unusual set-ups)
        found.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET))
    except OSError:
        pass
    return sorted((address for address in found if not ipaddress.ip_address(address).is_loopback),
                  key=ipaddress.ip_address)


def addresses(listen_address: str | None, port: int, https: bool = False) -> list[str]:
    """The addresses other computers can open: every interface's when the server listens on all of them (the
    default), else the one it listens on; [] when it listens on this computer only (localhost)."""
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"The port must be a whole number from 1 to 65535, not {port!r}.")
    scheme = "https" if https else "http"
    listen = (listen_address or "").strip()
    if listen in ANY:
        hosts = interface_addresses()
    else:
        try:
            loopback = ipaddress.ip_address(listen).is_loopback
        except ValueError:  # a host name
            loopback = listen == "localhost"
        hosts = [] if loopback else [listen]
    return [f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}" for host in hosts]


def qr_png(text: str, scale: int = 12) -> bytes:
    """A QR code of text as PNG bytes (error correction M, a 4-module quiet zone), scale pixels per module."""
    import segno

    if not text:
        raise ValueError("A QR code needs an address to hold.")
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
