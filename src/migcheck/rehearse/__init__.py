"""The rehearsal under load (``migcheck rehearse``), built on the live check's machinery."""
