"""Models a user downloads on purpose: the catalogue, hardware fit, the library on disk, pulls.

    catalogue = load_catalogue()                  # the one shipped in filmstudio/assets/models.toml
    library = ModelLibrary(settings.models_dir)   # <FILMSTUDIO_HOME>/models
    ok, why = fits(catalogue.get(ID), detect_hardware())
    folder = pull(catalogue.get(ID), library, progress=..., cancel=...)

Importing this package fetches nothing and does not import huggingface_hub; only `pull` does.
"""

from filmstudio.pipeline.models.catalogue import Catalogue, Licence, ModelEntry, ModelFile, load_catalogue
from filmstudio.pipeline.models.download import check_disk_space, pull
from filmstudio.pipeline.models.hardware import Gpu, Hardware, detect_hardware, fits
from filmstudio.pipeline.models.library import InstalledModel, ModelLibrary, VerifyResult
from filmstudio.pipeline.models.progress import Cancel, CancelFlag, Progress

__all__ = [
    "Cancel", "CancelFlag", "Catalogue", "Gpu", "Hardware", "InstalledModel", "Licence", "ModelEntry",
    "ModelFile", "ModelLibrary", "Progress", "VerifyResult", "check_disk_space", "detect_hardware", "fits",
    "load_catalogue", "pull",
]
