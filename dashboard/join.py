"""Home's "Join this class": the addresses students type and a QR code of the first, for the projector."""

import streamlit as st

from mnistlib import join, names, students


def join_section() -> None:
    """The class's name (if the teacher gave one), every address of this server, and a QR code of the first."""
    st.subheader("Join this class")
    class_name = students.class_name()
    if class_name:
        st.markdown(names.markdown_escape(f"Class: {class_name}"))
    port = int(st.get_option("server.port"))
    found = join.addresses(st.get_option("server.address"), port, https=bool(st.get_option("server.sslCertFile")))
    if not found:
        st.info(f"This server listens on this computer only, so other computers cannot join. Start it with "
                f"`streamlit run app.py --server.address 0.0.0.0 --server.port {port}` to open it to the network.")
        return
    text_column, code_column = st.columns([3, 2])
    with text_column:
        st.markdown("On a computer or tablet in the same network, open this address in a browser"
                    + (" (any of them works):" if len(found) > 1 else ":"))
        for address in found:
            st.code(address, language=None)
        st.caption("Or point a phone's camera at the QR code. It holds the first address.")
    code_column.image(join.qr_png(found[0]), width=300, caption=f"QR code of {found[0]}", alt=f"QR code of {found[0]}")
