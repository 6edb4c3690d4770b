"""cocreate: live co-construction and democratic decisions."""

__version__ = "0.1.0"
