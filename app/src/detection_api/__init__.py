"""Detection API: geolocated AI detections from drone and fixed cameras, delivered to TAK."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("detection-api")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
