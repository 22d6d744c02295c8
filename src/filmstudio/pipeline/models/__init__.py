"""Models a user downloads on purpose: the catalogue, hardware fit, the library on disk, pulls."""
