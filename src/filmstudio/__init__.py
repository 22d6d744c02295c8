"""FilmStudio: a local AI film studio — a written script in, a finished narrated film out."""

__version__ = "0.1.0"
