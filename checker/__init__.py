"""kata: algorithm katas checked by hidden property-based suites, attempts run in isolated workers."""
__version__ = "0.1.0"
